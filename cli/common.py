"""What every `stance` command shares: option types, known errors, loading a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import training
from model.config import ConfigError
from model.types import QueryError
from training.args import ArgsError
from training.data import FORMATS, DataError

# The default training preset ships inside the training package (package data).
DEFAULT_CONFIG = Path(training.__file__).resolve().parent / "configs" / "default.toml"
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


def fail(err: Exception) -> None:
    """Print ``error: ...`` on stderr and exit 2 (a known, explained error)."""
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=2)


def quiet_transformers() -> None:
    """Silence transformers' progress bars and warnings on the terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def load_classifier(model: str, backend: str = "auto") -> Any:
    """The classifier of a BentoML tag or model folder, with the backend asked for."""
    from model.classifier import StanceClassifier
    from model.store import resolve_model

    quiet_transformers()
    return StanceClassifier.load(resolve_model(model)[0], backend=backend)
