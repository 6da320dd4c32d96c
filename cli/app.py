"""The `stance` command: every subcommand, composed here and only here.

Each command lives in the module of its job (:mod:`cli.train`, :mod:`cli.predict`,
:mod:`cli.export`, :mod:`cli.up`; `score` in :mod:`scoring.cli`, the archive-scoring package;
`report` in :mod:`cli.report`)
and is a plain function; this module registers them. A new command is a function in one of
those modules (or a new one) plus one line below. Every command validates its inputs and
turns known errors into one clear line on stderr and exit code 2; unexpected errors keep
their traceback.
"""

from __future__ import annotations

import typer

from cli.export import export
from cli.predict import analyze, predict
from cli.report import report_command
from cli.teacher import record_teacher
from cli.train import evaluate, train
from cli.up import up
from scoring.cli import score

app = typer.Typer(
    help="Stance of a speaker toward an entity in news text: train, evaluate, predict, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts name config tables ("[training]"): print them, not read them as markup.
    rich_markup_mode=None,
)

for command in (train, evaluate, predict, analyze, export, up, score, record_teacher):
    app.command()(command)
app.command(name="report")(report_command)


def main() -> None:
    """Console-script entry point (``stance``)."""
    app()


if __name__ == "__main__":
    main()
