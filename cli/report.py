"""`stance report`: one self-contained HTML report of a scored archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from training.archive_report import ReportError, ReportOptions
from training.archive_report_html import write_report


def report_command(
    scored: Annotated[
        Path, typer.Argument(metavar="SCORED", help="`stance score` output (.jsonl/.parquet)")
    ],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT.html", help="report to write")],
    by: Annotated[
        str,
        typer.Option(
            help="group by: target | speaker | speaker,target | fields kept by "
            "`stance score --keep-fields` (e.g. source,target)"
        ),
    ] = "target",
    time_field: Annotated[
        str | None, typer.Option(help="date field for stance over time (ISO dates)")
    ] = None,
    freq: Annotated[str, typer.Option(help="time buckets: W (weeks) | M (months)")] = "M",
    min_mentions: Annotated[int, typer.Option(help="a group needs this many rows")] = 5,
    top: Annotated[int, typer.Option(help="groups shown (most rows first)")] = 15,
) -> None:
    """One self-contained HTML report of a scored archive: stance shares per group, over
    time, the most confident evidence, label distribution, confidence and errors."""
    options = ReportOptions(
        by=by, time_field=time_field or None, freq=freq, min_mentions=min_mentions, top=top
    )
    try:
        summary = write_report(scored, output, options)
    except (ReportError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(
        f"wrote {output}: {summary.rows:,} rows, {len(summary.top_groups)} groups shown",
        err=True,
    )
