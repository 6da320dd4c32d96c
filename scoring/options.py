"""Options of one ``stance score`` run, its summary, and the engine-independent constants."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.config import LOAD_BACKEND_CHOICES
from scoring.archive import ReadOptions, ScoringError

ENGINES = ("local", "http", "ray")
OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_PART_SIZE = 1000
DEFAULT_BATCH = {"local": 256, "ray": 256, "http": 64}
# Statuses that mean "busy or briefly unavailable, try again": never a verdict on the input.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MANIFEST_VERSION = 1
# Whether the speaker asked about was found in the text, whether they refer to the target, and
# how many of their statements the answer rests on (null when no speaker was asked about).
SPEAKER_COLUMNS = ("speaker_found", "speaker_mentions_target", "speaker_statements")
OUTPUT_COLUMNS = (
    "id",
    "target",
    "speaker",
    "label",
    "probabilities",
    "evidence",
    "model",
    *SPEAKER_COLUMNS,
)
ARTICLES_NEED_MODEL = (
    "--analyze-articles needs --engine local or ray; the service's POST /analyze_article "
    "endpoint analyses one article per request"
)

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class ScoringOptions:
    """Everything one ``stance score`` run needs.

    Attributes:
        input / output: the archive and the result file (``.jsonl`` or ``.parquet``).
        model: BentoML tag or model folder (``local``/``ray``; unused by ``http``).
        engine: ``local``, ``http`` or ``ray``.
        read: how to read the archive.
        part_size: records per committed part (the most work a kill can lose).
        batch_size: queries per model call (``local``/``ray``) or items per request
            (``http``); None picks the engine's default.
        url: base URL of the service (``http``).
        retries / timeout: ``http``: attempts after the first, and seconds per request.
        ray_address: Ray cluster to join (``ray``); None starts a local one.
        workers: Ray actors, each holding one copy of the model.
        cpus_per_worker: CPUs each Ray actor reserves (and compute threads it uses).
        backend: inference backend of ``local``/``ray`` (``torch``, ``onnx``, ``onnx-int8``;
            the model must have been exported for the ONNX ones).
        overwrite: replace a finished OUTPUT, and discard a work folder that was started
            with other arguments (a work folder with the same arguments is still resumed).
        progress: show a progress bar on stderr.
    """

    input: Path
    output: Path
    model: str | None = None
    engine: str = "local"
    read: ReadOptions = field(default_factory=ReadOptions)
    part_size: int = DEFAULT_PART_SIZE
    batch_size: int | None = None
    url: str | None = None
    retries: int = 8
    timeout: float = 300.0
    ray_address: str | None = None
    workers: int = 2
    cpus_per_worker: float = 1.0
    backend: str = "auto"
    overwrite: bool = False
    progress: bool = True

    def validate(self) -> None:
        """Raise ScoringError naming the first bad option."""
        self.read.validate()
        if self.engine not in ENGINES:
            raise ScoringError(
                f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}"
            )
        if self.backend not in LOAD_BACKEND_CHOICES:
            raise ScoringError(
                f"unknown backend {self.backend!r}; choose one of {', '.join(LOAD_BACKEND_CHOICES)}"
            )
        if self.engine == "http" and not self.url:
            raise ScoringError(
                "--engine http needs --url (the service, e.g. http://127.0.0.1:3000)"
            )
        if self.engine == "http" and self.read.analyze_articles:
            raise ScoringError(ARTICLES_NEED_MODEL)
        if self.engine != "http" and not self.model:
            raise ScoringError(f"--engine {self.engine} needs --model (a BentoML tag or a folder)")
        if self.part_size < 1:
            raise ScoringError(f"--part-size must be at least 1, found {self.part_size}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ScoringError(f"--batch-size must be at least 1, found {self.batch_size}")
        if self.retries < 0 or self.timeout <= 0:
            raise ScoringError("--retries must be >= 0 and --timeout > 0")
        if self.workers < 1 or self.cpus_per_worker <= 0:
            raise ScoringError("--workers must be >= 1 and --cpus-per-worker > 0")
        check_keep_fields(self.read.keep_fields)
        output_format(self.output)

    @property
    def batch(self) -> int:
        """Effective batch size for the engine."""
        return self.batch_size or DEFAULT_BATCH[self.engine]


def split_names(text: str) -> tuple[str, ...]:
    """``--keep-fields date, source`` -> ``("date", "source")``; empty pieces are kept so
    that :func:`check_keep_fields` can say where they are."""
    return tuple(name.strip() for name in text.split(","))


def check_keep_fields(names: tuple[str, ...]) -> None:
    """Raise ScoringError unless ``names`` are non-empty, distinct and no output column."""
    if not names:
        return
    given = ",".join(names)
    if not any(names):
        raise ScoringError(
            "--keep-fields is empty; name the input fields to copy into the output rows, "
            "e.g. --keep-fields date,source"
        )
    for number, name in enumerate(names, start=1):
        if not name:
            raise ScoringError(
                f"--keep-fields {given!r}: name {number} is empty; separate the field names "
                "with single commas, e.g. --keep-fields date,source"
            )
        if name in names[: number - 1]:
            raise ScoringError(f"--keep-fields {given!r}: {name!r} is listed twice; name it once")
        if name in OUTPUT_COLUMNS:
            raise ScoringError(
                f"--keep-fields {given!r}: {name!r} is an output column of stance score "
                f"({', '.join(OUTPUT_COLUMNS)}); rename that field in the input to keep it"
            )


def output_format(path: Path) -> str:
    """``jsonl`` or ``parquet`` from OUTPUT's extension."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ScoringError(f"{path}: OUTPUT must end in .jsonl or .parquet (found {path.suffix!r})")
    return fmt


@dataclass(frozen=True)
class ScoringSummary:
    """What a run produced. ``resumed`` records were committed by earlier runs."""

    records: int
    rows: int
    errors: int
    resumed: int
    seconds: float
    output: Path
    errors_path: Path

    @property
    def records_per_second(self) -> float:
        """Records scored by this run per second of wall time."""
        return (self.records - self.resumed) / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        """One line for the terminal."""
        resumed = f" ({self.resumed} from earlier runs)" if self.resumed else ""
        return (
            f"scored {self.records} records{resumed}: {self.rows} rows, {self.errors} errors "
            f"in {self.seconds:.1f} s ({self.records_per_second:.1f} records/s) -> {self.output}"
            + (f"; errors in {self.errors_path}" if self.errors else "")
        )
