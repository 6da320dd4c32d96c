"""`stance train` and `stance evaluate`: fine-tune a model, score a labelled dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import (
    DEFAULT_CONFIG,
    KNOWN_ERRORS,
    BackendOpt,
    EncodingOpt,
    FormatOpt,
    IdCol,
    LabelCol,
    LabelMapOpt,
    SkipBad,
    SpeakerCol,
    TargetCol,
    TextCol,
    fail,
    load_classifier,
    quiet_transformers,
)
from training.args import ArgsError


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
        str | None,
        typer.Option(
            help="dev file or source name (early stopping, calibration), or holdout:F to hold "
            "out a fraction F of the training texts"
        ),
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
    average_last: Annotated[
        float | None,
        typer.Option(
            help="keep the average of the checkpoints in this last fraction of the steps "
            "instead of the best one (0 = best checkpoint, early stopping)"
        ),
    ] = None,
    class_weights: Annotated[
        bool | None, typer.Option("--class-weights/--no-class-weights")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    teacher: Annotated[
        list[str] | None,
        typer.Option(
            "--teacher",
            help="model folder, store tag or recorded soft-label file (.jsonl, from `stance "
            "record-teacher`) whose probabilities are soft labels (distillation); repeatable: "
            "the teachers' mean is used",
        ),
    ] = None,
    distill_weight: Annotated[
        float | None, typer.Option(help="share of the loss from the teachers' soft labels")
    ] = None,
    further_mentions: Annotated[
        bool | None,
        typer.Option(
            "--further-mentions/--no-further-mentions",
            help="also mark NewsMTSC's further_mentions (coreferent mentions of the target)",
        ),
    ] = None,
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

    quiet_transformers()
    try:
        label_options = (label_map_arg(label_map, "--label-map"), labels_arg(labels, "--labels"))
    except ArgsError as err:
        fail(err)
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
            "average_last": average_last,
            "class_weights": class_weights,
            "seed": seed,
            "progress": progress,
            "export_onnx": export_onnx,
            "teachers": teacher or None,
            "distill_weight": distill_weight,
        },
        "data": {
            "train": train_data or None,
            "dev": dev,
            "eval": eval_data or None,
            "newsmtsc_dir": newsmtsc_dir,
            "skip_bad": skip_bad or None,
            "label_map": label_options[0],
            "further_mentions": further_mentions,
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
        fail(err)
        return
    typer.echo(f"model folder: {outcome.output_dir / 'model'}", err=True)
    typer.echo(outcome.tag or str(outcome.output_dir / "model"))


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
        classifier = load_classifier(model, backend)
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
        fail(err)
        return
    headline = {
        k: metrics[k] for k in ("n", "macro_f1", "f_avg", "accuracy", "ece") if k in metrics
    }
    typer.echo(json.dumps(headline))
