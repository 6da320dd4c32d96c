"""`stance score`: score a news archive into JSONL or Parquet (resumable, exactly-once).

A `stance` subcommand (composed with the others in the ``stance`` command); also runnable on
its own: ``python -m scoring.cli INPUT OUTPUT --model ...``.

Exit codes: 0 done (also: OUTPUT was already complete for the same command); 1 done but every
record failed (one line names the most common reason), or some failed and --fail-on-error
was given; 2 the run could not start or stopped (bad arguments or input, model not found,
service unreachable).
A run that stopped keeps its committed parts: run the same command again to resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from model.limits import MAX_ARTICLE_CHARS, MAX_TEXT_CHARS
from records.columns import ColumnMap
from scoring.archive import FORMATS, ReadOptions, ScoringError

_HELP_ENGINE = (
    "local: in this process; http: a running service's /predict_batch (--url); "
    "ray: Ray Data actors (--workers, --ray-address)"
)


def score(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="JSONL, CSV/TSV or Parquet file, or a folder of .txt/.jsonl files",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            metavar="OUTPUT",
            help="result file, .jsonl or .parquet (errors go to OUTPUT.errors.jsonl)",
            show_default=False,
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(help="BentoML tag (stance:latest) or model folder; not used by http"),
    ] = None,
    engine: Annotated[str, typer.Option(help=_HELP_ENGINE)] = "local",
    url: Annotated[str | None, typer.Option(help="service base URL for --engine http")] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster for --engine ray, e.g. ray://head:10001 (default: local)"),
    ] = None,
    workers: Annotated[int, typer.Option(help="Ray actors (one model copy each)")] = 2,
    backend: Annotated[
        str,
        typer.Option(
            help="local/ray inference backend: auto (onnx when exported, else torch) | torch | "
            "onnx | onnx-int8"
        ),
    ] = "auto",
    cpus_per_worker: Annotated[float, typer.Option(help="CPUs reserved per Ray actor")] = 1.0,
    fmt: Annotated[
        str, typer.Option("--format", help=f"input format: {', '.join(FORMATS)}")
    ] = "auto",
    encoding: Annotated[str, typer.Option(help="text encoding of JSONL/CSV/TSV/.txt")] = "utf-8",
    text_col: Annotated[str, typer.Option(help="field/column holding the text")] = "text",
    target_col: Annotated[
        str | None,
        typer.Option(
            help="field/column holding a target or a list ('a; b' or JSON in CSV) "
            "[default: 'target', else 'targets']",
            show_default=False,
        ),
    ] = None,
    speaker_col: Annotated[
        str, typer.Option(help="field/column holding the speaker ('' = none)")
    ] = "speaker",
    id_col: Annotated[
        str, typer.Option(help="field/column holding the id ('' = none; ids are generated)")
    ] = "id",
    target: Annotated[
        list[str] | None,
        typer.Option(help="target for records without one (needed for .txt); repeatable"),
    ] = None,
    max_chars: Annotated[
        int | None,
        typer.Option(
            help="longer texts become error rows (default: the service's limits, "
            f"{MAX_TEXT_CHARS} for a text scored toward targets, {MAX_ARTICLE_CHARS} for an "
            "article analysed whole; STANCE_MAX_TEXT_CHARS / STANCE_MAX_ARTICLE_CHARS)",
            show_default=False,
        ),
    ] = None,
    analyze_articles: Annotated[
        bool,
        typer.Option(
            "--analyze-articles",
            help="records without a target are analysed as whole articles: one row per "
            "(speaker, target) stance found (local/ray only)",
        ),
    ] = False,
    keep_fields: Annotated[
        str | None,
        typer.Option(
            help="input fields copied into each output row, comma-separated (e.g. date,source); "
            "null where a record lacks one; Parquet output stores them as strings",
            show_default=False,
        ),
    ] = None,
    part_size: Annotated[
        int, typer.Option(help="records per committed part (the most a kill can lose)")
    ] = 1000,
    batch_size: Annotated[
        int | None,
        typer.Option(help="queries per model call (local/ray: 256) or per request (http: 64)"),
    ] = None,
    retries: Annotated[int, typer.Option(help="http: retries on 503/429/connection errors")] = 8,
    timeout: Annotated[float, typer.Option(help="http: seconds per request")] = 300.0,
    fail_on_error: Annotated[
        bool, typer.Option("--fail-on-error", help="exit 1 when any record failed")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="replace a finished OUTPUT / discard an unfinished run with other arguments",
        ),
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Score every (record, target) of an archive; resumable: rerun the same command to go on.

    With --analyze-articles, records without a target are analysed as whole articles instead
    of becoming error rows (speakers and targets are found in the text).
    """
    from model.config import ConfigError
    from scoring.options import ScoringOptions, split_names
    from scoring.run import error_digest, run_scoring

    options = ScoringOptions(
        input=input_path,
        output=output,
        model=model,
        engine=engine,
        read=ReadOptions(
            fmt=fmt,
            fields=ColumnMap(
                text=text_col,
                target=target_col or "target",
                speaker=speaker_col or None,
                id=id_col or None,
            ),
            encoding=encoding,
            default_targets=tuple(target or ()),
            max_chars=max_chars,
            analyze_articles=analyze_articles,
            # An explicit --target-col is used alone; the default also accepts `targets`.
            target_fallbacks=() if target_col else ("targets",),
            keep_fields=() if keep_fields is None else split_names(keep_fields),
        ),
        part_size=part_size,
        batch_size=batch_size,
        url=url,
        retries=retries,
        timeout=timeout,
        ray_address=ray_address,
        workers=workers,
        cpus_per_worker=cpus_per_worker,
        backend=backend,
        overwrite=overwrite,
        progress=progress,
    )
    try:
        summary = run_scoring(options)
    except (ScoringError, ConfigError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(summary.describe(), err=True)
    typer.echo(
        json.dumps(
            {
                "records": summary.records,
                "rows": summary.rows,
                "errors": summary.errors,
                "resumed": summary.resumed,
                "seconds": round(summary.seconds, 3),
                "output": str(summary.output),
                "errors_file": str(summary.errors_path),
            }
        )
    )
    if summary.records and not summary.rows and summary.errors:
        failed, reason, count = error_digest(summary.errors_path)
        if failed == summary.records:
            # Nothing usable came out: a wrong column mapping or encoding, usually.
            typer.echo(
                f"error: every record failed ({failed} of {summary.records}); most common "
                f"({count}): {reason}; see {summary.errors_path}",
                err=True,
            )
            raise typer.Exit(code=1)
    if fail_on_error and summary.errors:
        typer.echo(
            f"error: {summary.errors} error row(s) (--fail-on-error); see {summary.errors_path}",
            err=True,
        )
        raise typer.Exit(code=1)


def main() -> None:
    """``python -m scoring.cli``: the score command alone."""
    typer.run(score)


if __name__ == "__main__":
    main()
