"""`stance record-teacher`: save a teacher's soft labels so students train without it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import DEFAULT_CONFIG, KNOWN_ERRORS, fail, quiet_transformers


def record_teacher(
    teacher: Annotated[
        list[str],
        typer.Option(
            "--teacher",
            help="model folder or store tag; repeatable: the teachers' mean is recorded",
        ),
    ],
    out: Annotated[Path, typer.Option(help="soft-label file to write (.jsonl)")],
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML config whose [data].train queries are answered (default: the preset)"
        ),
    ] = None,
    newsmtsc_dir: Annotated[
        str | None, typer.Option(help="folder with NewsMTSC train.jsonl/dev_*.jsonl")
    ] = None,
) -> None:
    """Record the teachers' calibrated probabilities on the training queries of a config.

    A student then learns from the file without the teacher model: --teacher FILE.jsonl, or
    [training].teachers = ["recorded:NAME"] for training/teachers/NAME.jsonl. The file
    holds digests of the queries, not their text. Prints the number of queries written.
    """
    from training.args import load_run_config
    from training.pipeline import record_teacher as record
    from training.soft_labels import SUFFIX

    quiet_transformers()
    if out.suffix != SUFFIX:
        fail(ValueError(f"--out {out}: a soft-label file must end in {SUFFIX}"))
        return
    try:
        run = load_run_config(config or DEFAULT_CONFIG, {"data": {"newsmtsc_dir": newsmtsc_dir}})
        written = record(run, teacher, out, log=lambda m: typer.echo(m, err=True))
    except KNOWN_ERRORS as err:
        fail(err)
        return
    typer.echo(f"{written} queries -> {out}")
