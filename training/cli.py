"""`stance` command line: train, evaluate, predict, analyze, export (and the main job, `stance up`).

Every command validates its inputs and turns known errors into one clear line on stderr
and exit code 2; unexpected errors keep their traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from model.config import ConfigError
from model.types import QueryError, StanceQuery
from training.args import ArgsError
from training.data import FORMATS, DataError

app = typer.Typer(
    help="Stance of a speaker toward an entity in news text: train, evaluate, predict, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.toml"
KNOWN_ERRORS = (DataError, ArgsError, ConfigError, QueryError, FileNotFoundError)

FormatOpt = Annotated[str, typer.Option("--format", help=f"one of {', '.join(FORMATS)}")]
EncodingOpt = Annotated[
    str, typer.Option(help="text encoding of CSV/TSV/JSONL input (e.g. cp1252)")
]
TextCol = Annotated[str, typer.Option(help="column/field holding the text")]
TargetCol = Annotated[str, typer.Option(help="column/field holding the target")]
LabelCol = Annotated[str, typer.Option(help="column/field holding the label")]
SpeakerCol = Annotated[str, typer.Option(help="column/field holding the speaker ('' = none)")]
IdCol = Annotated[str, typer.Option(help="column/field holding the id ('' = none)")]
LabelMapOpt = Annotated[
    str | None,
    typer.Option(
        "--label-map",
        help="what each label value means, e.g. '0=negative,1=positive,2=neutral' (numbers "
        "are never guessed)",
    ),
]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="skip bad records instead of failing")]
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="what computes the logits: auto (onnx when exported, else torch) | torch | onnx | "
        "onnx-int8 (the last two once the model has been exported with `stance export`)",
    ),
]


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=2)


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def _load_classifier(model: str, backend: str = "auto") -> Any:
    from model.classifier import StanceClassifier
    from training.registry import resolve_model_path

    _quiet_transformers()
    return StanceClassifier.load(resolve_model_path(model), backend=backend)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="TOML config ([model], [training], [data])")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="run folder (default runs/TIMESTAMP)")] = None,
    train_data: Annotated[
        list[str] | None,
        typer.Option("--train", help="training file/folder or source name; repeatable"),
    ] = None,
    dev: Annotated[
        str | None, typer.Option(help="dev file or source name (early stopping, calibration)")
    ] = None,
    eval_data: Annotated[
        list[str] | None, typer.Option("--eval", help="extra evaluation file; repeatable")
    ] = None,
    newsmtsc_dir: Annotated[
        str | None, typer.Option(help="folder with NewsMTSC train.jsonl/dev_*.jsonl")
    ] = None,
    base_model: Annotated[str | None, typer.Option(help="HF model name or local folder")] = None,
    pooling: Annotated[str | None, typer.Option(help="cls | mean | target")] = None,
    max_length: Annotated[int | None, typer.Option(help="word pieces per window")] = None,
    epochs: Annotated[float | None, typer.Option()] = None,
    max_steps: Annotated[int | None, typer.Option(help="overrides epochs when > 0")] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    learning_rate: Annotated[float | None, typer.Option()] = None,
    eval_every: Annotated[int | None, typer.Option(help="steps between dev evaluations")] = None,
    patience: Annotated[int | None, typer.Option()] = None,
    class_weights: Annotated[
        bool | None, typer.Option("--class-weights/--no-class-weights")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    fmt: FormatOpt = "auto",
    encoding: EncodingOpt = "utf-8",
    text_col: TextCol = "text",
    target_col: TargetCol = "target",
    label_col: LabelCol = "label",
    speaker_col: SpeakerCol = "speaker",
    id_col: IdCol = "id",
    skip_bad: SkipBad = False,
    label_map: LabelMapOpt = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="the label set in logit order, e.g. 'negative,positive' (default: the labels "
            "in the training data)",
        ),
    ] = None,
    register_model: Annotated[
        bool, typer.Option("--register/--no-register", help="save to the BentoML store")
    ] = True,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    export_onnx: Annotated[
        bool | None,
        typer.Option(
            "--export-onnx/--no-export-onnx",
            help="also export the onnx and onnx-int8 backends (verified against torch)",
        ),
    ] = None,
) -> None:
    """Fine-tune a stance model; save it as a folder and in the BentoML store; print the tag."""
    from training.args import label_map_arg, labels_arg, load_run_config
    from training.pipeline import DEFAULT_DATA, run_training

    _quiet_transformers()
    try:
        label_options = (label_map_arg(label_map, "--label-map"), labels_arg(labels, "--labels"))
    except ArgsError as err:
        _fail(err)
        return
    overrides: dict[str, dict[str, Any]] = {
        "model": {
            "base_model": base_model,
            "pooling": pooling,
            "max_length": max_length,
            "labels": label_options[1],
        },
        "training": {
            "epochs": epochs,
            "max_steps": max_steps,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "eval_every": eval_every,
            "patience": patience,
            "class_weights": class_weights,
            "seed": seed,
            "progress": progress,
            "export_onnx": export_onnx,
        },
        "data": {
            "train": train_data or None,
            "dev": dev,
            "eval": eval_data or None,
            "newsmtsc_dir": newsmtsc_dir,
            "skip_bad": skip_bad or None,
            "label_map": label_options[0],
        },
    }
    # Format options only override the file when given (they are not the defaults).
    flat = {
        "format": fmt,
        "encoding": encoding,
        "text_col": text_col,
        "target_col": target_col,
        "label_col": label_col,
        "speaker_col": speaker_col,
        "id_col": id_col,
    }
    defaults = {k: DEFAULT_DATA[k] for k in flat}
    overrides["data"].update({k: v for k, v in flat.items() if v != defaults[k]})
    if train_data and dev is None:
        overrides["data"]["dev"] = ""  # custom training data: no implicit NewsMTSC dev
    if train_data and eval_data is None:
        overrides["data"]["eval"] = []
    try:
        run = load_run_config(config or DEFAULT_CONFIG, overrides)
        out = output or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        outcome = run_training(
            run, out, do_register=register_model, log=lambda m: typer.echo(m, err=True)
        )
    except KNOWN_ERRORS as err:
        _fail(err)
        return
    typer.echo(f"model folder: {outcome.output_dir / 'model'}", err=True)
    typer.echo(outcome.tag or str(outcome.output_dir / "model"))


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="BentoML tag (stance:latest) or model folder")],
    data: Annotated[str, typer.Option(help="labelled file, folder or source name")],
    report: Annotated[Path, typer.Option(help="folder for metrics.json, predictions.jsonl, plots")],
    fmt: FormatOpt = "auto",
    encoding: EncodingOpt = "utf-8",
    text_col: TextCol = "text",
    target_col: TargetCol = "target",
    label_col: LabelCol = "label",
    speaker_col: SpeakerCol = "speaker",
    id_col: IdCol = "id",
    skip_bad: SkipBad = False,
    label_map: LabelMapOpt = None,
    newsmtsc_dir: Annotated[str | None, typer.Option(help="folder with NewsMTSC files")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    backend: BackendOpt = "auto",
) -> None:
    """Score a labelled dataset and write a report folder; prints the headline metrics.

    Every label in the data must be one of the model's (after --label-map).
    """
    from training.args import label_map_arg
    from training.evaluate import evaluate_model
    from training.pipeline import DataOptions, labelled_pairs

    try:
        mapping = label_map_arg(label_map, "--label-map")
        classifier = _load_classifier(model, backend)
        options = DataOptions.from_dict(
            {
                "format": fmt,
                "encoding": encoding,
                "text_col": text_col,
                "target_col": target_col,
                "label_col": label_col,
                "speaker_col": speaker_col,
                "id_col": id_col,
                "skip_bad": skip_bad,
                "newsmtsc_dir": newsmtsc_dir,
                "label_map": mapping,
            }
        )
        loaded = options.load(data, classifier.labels)
        pairs = labelled_pairs(loaded.examples, classifier.labels, options, data)
        metrics = evaluate_model(
            classifier, pairs, report, batch_size, title=f"Evaluation on {data}"
        )
    except KNOWN_ERRORS as err:
        _fail(err)
        return
    headline = {
        k: metrics[k] for k in ("n", "macro_f1", "f_avg", "accuracy", "ece") if k in metrics
    }
    typer.echo(json.dumps(headline))


@app.command()
def predict(
    model: Annotated[str, typer.Option(help="BentoML tag (stance:latest) or model folder")],
    text: Annotated[str, typer.Option(help="a sentence, quote or article ('-' reads stdin)")],
    target: Annotated[list[str], typer.Option(help="target entity; repeat for several")],
    speaker: Annotated[str | None, typer.Option(help="whose stance (default: the author)")] = None,
    backend: BackendOpt = "auto",
) -> None:
    """Print the stance toward each target as JSON (one object, or a list for several)."""
    if text == "-":
        text = sys.stdin.read()
    try:
        classifier = _load_classifier(model, backend)
        queries = [StanceQuery(text=text, target=t, speaker=speaker) for t in target]
        predictions = classifier.predict(queries)
    except KNOWN_ERRORS as err:
        _fail(err)
        return
    out = [p.to_dict() for p in predictions]
    typer.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False))


def _read_article(path: str, encoding: str) -> str:
    """The article text from a file ('-': stdin); unreadable input names the fix."""
    from model.article import ArticleError

    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise ArticleError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise ArticleError(
            f"{path}: not {encoding} text ({err.reason} at byte {err.start}); "
            "pass --encoding (e.g. cp1252)"
        ) from None
    except LookupError:
        raise ArticleError(f"--encoding: unknown encoding {encoding!r}") from None
    except OSError as err:
        raise ArticleError(f"{path}: cannot be read ({err.strerror})") from None


@app.command()
def analyze(
    article_file: Annotated[
        str, typer.Argument(metavar="ARTICLE_FILE", help="article text file ('-' reads stdin)")
    ],
    target: Annotated[
        list[str] | None,
        typer.Option(help="target to ask about; repeat for several (default: found in the text)"),
    ] = None,
    model: Annotated[
        str, typer.Option(help="BentoML tag (stance:latest) or model folder")
    ] = "stance:latest",
    as_json: Annotated[
        bool, typer.Option("--json", help="print the whole analysis as JSON instead of a table")
    ] = False,
    max_chars: Annotated[int, typer.Option(min=1, help="refuse longer articles")] = 1_000_000,
    encoding: EncodingOpt = "utf-8",
    backend: BackendOpt = "auto",
) -> None:
    """Who says what about whom in one scraped article: (speaker, target, stance) + evidence.

    Quotes and reported speech are attributed to speakers, text outside them to the author;
    evidence offsets point into the file as given, noise included.
    """
    from model.article import analyze_article, render_table

    try:
        text = _read_article(article_file, encoding)
        classifier = _load_classifier(model, backend)
        analysis = analyze_article(text, classifier, target or None, max_chars)
    except KNOWN_ERRORS as err:
        _fail(err)
        return
    if as_json:
        typer.echo(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_table(analysis))


@app.command()
def export(
    model: Annotated[str, typer.Option(help="BentoML tag (stance:latest) or model folder")],
    int8: Annotated[
        bool, typer.Option("--int8/--no-int8", help="also write the int8-quantized graph")
    ] = True,
) -> None:
    """Export the ONNX backends (fp32, int8) into the model, verified against torch.

    A folder is exported in place; a store tag gets a NEW store version holding the export
    (its tag is the "model" field of the JSON report on stdout). Use the backends with
    --backend onnx / onnx-int8.
    """
    from model.onnx_backend import ExportError
    from training.registry import export_model

    _quiet_transformers()
    backends = ("onnx", "onnx-int8") if int8 else ("onnx",)
    try:
        where, report = export_model(model, backends)
    except (*KNOWN_ERRORS, ExportError) as err:
        _fail(err)
        return
    for name, check in report["backends"].items():
        typer.echo(
            f"{name}: {check['file']} ({check['bytes'] / 2**20:.0f} MiB), max probability "
            f"difference to torch {check['max_abs_prob_diff']:.2e}, label agreement "
            f"{check['label_agreement']:.1%} on {report['sample_queries']} sample queries",
            err=True,
        )
    typer.echo(json.dumps({"model": where, **report}, indent=2))


@app.command()
def up(
    port: Annotated[int, typer.Option(help="HTTP port of the service")] = 3000,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    newsmtsc_dir: Annotated[str | None, typer.Option(help="folder with NewsMTSC files")] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="start the service after training")
    ] = True,
) -> None:
    """Main job: train the default model if the BentoML store has none, then serve it."""
    from training.registry import MODEL_NAME, store_has_model

    if store_has_model(MODEL_NAME):
        typer.echo(f"model store already has {MODEL_NAME!r}; skipping training", err=True)
    else:
        typer.echo(f"no {MODEL_NAME!r} model in the store: training the default preset", err=True)
        from training.args import load_run_config
        from training.pipeline import run_training

        _quiet_transformers()
        try:
            run = load_run_config(DEFAULT_CONFIG, {"data": {"newsmtsc_dir": newsmtsc_dir}})
            out = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
            outcome = run_training(run, out, log=lambda m: typer.echo(m, err=True))
        except KNOWN_ERRORS as err:
            _fail(err)
            return
        typer.echo(f"trained and registered {outcome.tag}", err=True)
    example = StanceQuery(
        text="President Aliyev said the performance of the Russian peacekeepers can be "
        "considered satisfactory.",
        target="Russian peacekeepers",
        speaker="President Aliyev",
    )
    classifier = _load_classifier(MODEL_NAME)
    typer.echo(json.dumps(classifier.predict([example])[0].to_dict(), indent=2), err=True)
    if not serve:
        return
    root = Path(__file__).resolve().parent.parent
    command = [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "service.service:StanceService",
        "--host",
        host,
        "--port",
        str(port),
    ]
    typer.echo(f"serving on http://{host}:{port} ({' '.join(command[2:])})", err=True)
    raise typer.Exit(subprocess.call(command, cwd=root, env=os.environ.copy()))


PLUGIN_GROUP = "stance.commands"


def _register_plugins() -> None:
    """Add commands that other packages declare under the ``stance.commands`` entry-point group.

    The serving package contributes `score` (and more) this way, so this module never imports
    it: imports flow service -> model <- training, and the CLI stays one `stance` command.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        app.command(name=entry.name)(entry.load())


def main() -> None:
    """Console-script entry point."""
    _register_plugins()
    app()


if __name__ == "__main__":
    main()
