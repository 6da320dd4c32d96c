"""Scoring news archives: streaming, resumable, exactly-once; in-process, over HTTP or on Ray.

``run_scoring`` reads an archive (see :mod:`service.readers`), scores every (record, target)
and writes one output row per pair, or one error row per bad record, to OUTPUT (JSONL or
Parquet) and ``OUTPUT.errors.jsonl``.

With ``--analyze-articles`` (``ReadOptions.analyze_articles``) a record without a target is
analysed as a whole article (:func:`model.article.analyze_article`, targets found in the text):
one row per (speaker, target) stance found, in the same columns, possibly none at all. Parts
count records, not rows, so an article without stances is still committed exactly once.

Exactly-once, whatever kills the run (SIGKILL included):

* Records are numbered in input order; part ``k`` covers records ``[k*N, (k+1)*N)``.
* Work goes to ``OUTPUT.parts/``. A part is committed by writing its rows, its error rows
  and finally a small ``part-K.done.json`` marker, each to a temporary name, fsynced, then
  atomically renamed. Only the marker makes a part count: a half-written part is redone.
* ``manifest.json`` records the arguments that decide the output (input fingerprint, field
  mapping, limits, part size, model or service). A restart with the same arguments skips
  committed parts (their records are counted, not decoded) and scores the rest; different
  arguments are refused with the differences listed.
* At the end the parts are concatenated in order into temporary files renamed onto
  ``OUTPUT.errors.jsonl`` and OUTPUT, and the work folder is removed. Until then OUTPUT does
  not exist (or still holds the previous complete result), so a partial output is never
  visible as complete; a run killed during this step redoes it from the parts.

Memory stays flat: records stream from the reader, at most one part of results (plus what an
engine has in flight) is held, and the final files are written part by part.

Engines (all produce the same rows; they differ in where the model runs):

* ``local``: in this process; chunks of ``batch_size`` queries go to
  ``StanceClassifier.predict``, which length-buckets all their windows.
* ``http``: batches are POSTed to a running service's ``/predict_batch``; 503/429/502/504 and
  connection errors are retried with exponential backoff. Requests are pure predictions and a
  part is committed only after all of its batches succeeded, so retries never duplicate rows.
* ``ray``: Ray Data; see :func:`score_with_ray`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from model.config import DEFAULT_LABELS, LOAD_BACKEND_CHOICES
from model.types import QueryError, StancePrediction, StanceQuery
from service.readers import (
    DEFAULT_MAX_CHARS,
    ArchiveError,
    ArchiveFile,
    ArchiveRecord,
    ReadOptions,
    ScoringError,
    count_records,
    input_fingerprint,
    iter_records,
    plan_archive,
    read_file,
)

if TYPE_CHECKING:
    # Imported where used: loading model.article compiles its rules (~0.1 s), which runs
    # without --analyze-articles and the http engine never need.
    from model.article import ArticleStance

ENGINES = ("local", "http", "ray")
OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_PART_SIZE = 1000
DEFAULT_BATCH = {"local": 256, "ray": 256, "http": 64}
# Statuses that mean "busy or briefly unavailable, try again": never a verdict on the input.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MANIFEST_VERSION = 1
OUTPUT_COLUMNS = ("id", "target", "speaker", "label", "probabilities", "evidence", "model")
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
        output_format(self.output)

    @property
    def batch(self) -> int:
        """Effective batch size for the engine."""
        return self.batch_size or DEFAULT_BATCH[self.engine]


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


# ------------------------------------------------------------------------------- results
@dataclass
class RecordResult:
    """Output rows (one per target) and error rows of one input record."""

    index: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        """Compact JSON (how Ray actors hand results back to the driver)."""
        return json.dumps(
            {"index": self.index, "rows": self.rows, "errors": self.errors}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> RecordResult:
        """Inverse of :meth:`to_json`."""
        obj = json.loads(text)
        return cls(index=int(obj["index"]), rows=list(obj["rows"]), errors=list(obj["errors"]))


def prediction_row(prediction: StancePrediction, model_tag: str) -> dict[str, Any]:
    """The output row for one (record, target)."""
    return {
        "id": prediction.id,
        "target": prediction.target,
        "speaker": prediction.speaker,
        "label": prediction.label,
        "probabilities": dict(prediction.probabilities),
        "evidence": [e.to_dict() for e in prediction.evidence],
        "model": model_tag,
    }


def article_row(record_id: str, stance: ArticleStance, model_tag: str) -> dict[str, Any]:
    """The output row for one (speaker, target) stance found in a whole article.

    Same columns and evidence fields as :func:`prediction_row`, so JSONL and Parquet outputs
    (whose evidence struct is fixed) hold the same rows. An evidence sentence's ``weight`` is
    null: the article aggregation does not expose per-sentence weights, and its ``kind`` and
    ``label`` (derivable from its probabilities) have no column.
    """
    return {
        "id": record_id,
        "target": stance.target,
        "speaker": stance.speaker,
        "label": stance.label,
        "probabilities": dict(stance.probabilities),
        "evidence": [
            {
                "text": e.text,
                "start": e.start,
                "end": e.end,
                "probabilities": dict(e.probabilities),
                "weight": None,
            }
            for e in stance.evidence
        ],
        "model": model_tag,
    }


@dataclass(frozen=True)
class _Job:
    """One (record, target) to score."""

    record: ArchiveRecord
    target: str
    query: StanceQuery


def _jobs(
    records: Sequence[ArchiveRecord],
) -> tuple[dict[int, RecordResult], list[_Job], list[ArchiveRecord]]:
    """Results pre-filled with record errors, the queries left to score, in order, and the
    good records without targets (articles to analyse whole; see ``analyze_articles``)."""
    results: dict[int, RecordResult] = {}
    jobs: list[_Job] = []
    articles: list[ArchiveRecord] = []
    for record in records:
        result = results.setdefault(record.index, RecordResult(record.index))
        if record.error is not None:
            result.errors.append(record.error_row(record.error))
            continue
        if not record.targets:
            articles.append(record)
            continue
        for target in record.targets:
            query = StanceQuery(
                text=record.text, target=target, speaker=record.speaker, id=record.id
            )
            try:
                query.validate()
            except QueryError as err:
                result.errors.append(record.error_row(str(err), target))
                continue
            jobs.append(_Job(record, target, query))
    return results, jobs, articles


def _chunks(items: Sequence[_Job], size: int) -> Iterator[Sequence[_Job]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ------------------------------------------------------------------------------- engines
class Engine(Protocol):
    """Scores records. ``scorer`` identifies the model/service in the run's fingerprint."""

    scorer: str

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """One result per record, in the order given."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class LocalEngine:
    """Scores in this process with a loaded :class:`~model.classifier.StanceClassifier`.

    ``max_chars`` is the archive's ``--max-chars``, handed to the article analysis so that it
    accepts every text the reader let through.
    """

    def __init__(
        self,
        classifier: Any,
        tag: str,
        batch_size: int = 256,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.classifier = classifier
        self.tag = tag
        self.scorer = f"model:{tag}"
        self.batch_size = batch_size
        self.max_chars = max_chars

    @classmethod
    def load(
        cls,
        folder: str | Path,
        tag: str,
        batch_size: int = 256,
        backend: str = "auto",
        num_threads: int | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> LocalEngine:
        """Load the model folder once, with the inference backend asked for."""
        from model.classifier import StanceClassifier

        _quiet_transformers()
        classifier = StanceClassifier.load(folder, backend=backend, num_threads=num_threads)
        return cls(classifier, tag, batch_size, max_chars)

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's label names."""
        labels: tuple[str, ...] = self.classifier.labels
        return labels

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """Predict every target of every good record, analyse good records without targets
        as whole articles; bad ones become error rows."""
        results, jobs, articles = _jobs(records)
        for chunk in _chunks(jobs, self.batch_size):
            for job, outcome in zip(chunk, self._predict([j.query for j in chunk]), strict=True):
                result = results[job.record.index]
                if isinstance(outcome, str):
                    result.errors.append(job.record.error_row(outcome, job.target))
                else:
                    result.rows.append(prediction_row(outcome, self.tag))
        for record in articles:
            self._analyze(record, results[record.index])
        return [results[r.index] for r in records]

    def _analyze(self, record: ArchiveRecord, result: RecordResult) -> None:
        """One row per (speaker, target) stance of the article; none found is no row and no
        error (the record still counts as scored: parts count records, not rows)."""
        from model.article import analyze_article

        try:
            analysis = analyze_article(
                record.text, self.classifier, targets=None, max_chars=self.max_chars
            )
        except QueryError as err:
            # ArticleError (a QueryError) or a sentence the model refused: this article
            # fails alone, the rest of the part goes on.
            result.errors.append(record.error_row(f"article analysis: {err}"))
            return
        result.rows.extend(article_row(record.id, s, self.tag) for s in analysis.stances)

    def _predict(self, queries: list[StanceQuery]) -> list[StancePrediction | str]:
        try:
            predictions: list[StancePrediction] = self.classifier.predict(queries)
            return list(predictions)
        except QueryError:
            # One bad query fails the whole call: score them one by one so that only the
            # bad one becomes an error row and the rest of the chunk still succeeds.
            pass
        outcomes: list[StancePrediction | str] = []
        for query in queries:
            try:
                outcomes.append(self.classifier.predict([query])[0])
            except QueryError as err:
                outcomes.append(str(err).removeprefix("query 0: "))
        return outcomes

    def close(self) -> None:
        """Nothing to release."""


class HttpEngine:
    """Scores through a running service's ``POST {url}/predict_batch``.

    Request ``{"items": [{"text", "target", "speaker", "id"}, ...]}``; response
    ``{"results": [...]}`` in the same order, each either a full row (``error`` null) or
    ``{"id", "target", "error": reason}`` (that pair becomes an error row).
    """

    def __init__(
        self,
        url: str,
        batch_size: int = 64,
        retries: int = 8,
        timeout: float = 300.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.endpoint = url.rstrip("/") + "/predict_batch"
        self.scorer = f"http:{url.rstrip('/')}"
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout)
        self.requests = 0  # attempts made, retries included (reported in tests and logs)

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """Send the good records' targets in batches; bad records never reach the service."""
        results, jobs, articles = _jobs(records)
        if articles:
            # ScoringOptions.validate refuses this first; an engine passed in directly
            # must not silently turn those articles into zero rows.
            raise ScoringError(f"{articles[0].where}: no target; {ARTICLES_NEED_MODEL}")
        for chunk in _chunks(jobs, self.batch_size):
            items = [
                {
                    "text": j.query.text,
                    "target": j.target,
                    "speaker": j.query.speaker,
                    "id": j.record.id,
                }
                for j in chunk
            ]
            for job, item, answer in zip(chunk, items, self._post(items), strict=True):
                result = results[job.record.index]
                row = self._row(item, answer)
                if isinstance(row, str):
                    result.errors.append(job.record.error_row(f"service: {row}", job.target))
                else:
                    result.rows.append(row)
        return [results[r.index] for r in records]

    def _post(self, items: list[dict[str, Any]]) -> list[Any]:
        import httpx

        reason = ""
        for attempt in range(self.retries + 1):
            self.requests += 1
            retry_after: float | None = None
            try:
                response = self._client.post(self.endpoint, json={"items": items})
            except httpx.TransportError as err:
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    return self._results(response, len(items))
                if response.status_code not in RETRY_STATUSES:
                    raise ScoringError(
                        f"POST {self.endpoint} answered HTTP {response.status_code}: "
                        f"{response.text[:300]!r}; check --url and the service logs"
                    )
                reason = f"HTTP {response.status_code}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.retries:
                break
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            # Jitter spreads the retries of many clients hitting one recovering service.
            delay = delay * (0.5 + random.random() / 2)
            if retry_after is not None:
                delay = min(self.max_backoff, max(delay, retry_after))
            self._sleep(delay)
        raise ScoringError(
            f"POST {self.endpoint} failed {self.retries + 1} times (last: {reason}); committed "
            "parts are kept: run the same command again to resume"
        )

    def _results(self, response: Any, expected: int) -> list[Any]:
        try:
            body = response.json()
        except ValueError:
            raise ScoringError(
                f"POST {self.endpoint} answered 200 but not with JSON: {response.text[:300]!r}"
            ) from None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != expected:
            found = len(results) if isinstance(results, list) else type(results).__name__
            raise ScoringError(
                f"POST {self.endpoint}: expected {{'results': [...]}} with {expected} items, "
                f"found {found}; is {self.endpoint} a stance service?"
            )
        return results

    def _row(self, item: dict[str, Any], answer: Any) -> dict[str, Any] | str:
        """An output row, or the service's reason for failing this item."""
        if not isinstance(answer, dict):
            raise ScoringError(
                f"POST {self.endpoint}: a result is {type(answer).__name__}, not an object"
            )
        if answer.get("id") != item["id"] or answer.get("target") != item["target"]:
            # Rows are matched to records by position: a reordered answer would mislabel them.
            raise ScoringError(
                f"POST {self.endpoint}: results are not in request order (sent id "
                f"{item['id']!r} / target {item['target']!r}, got {answer.get('id')!r} / "
                f"{answer.get('target')!r})"
            )
        if answer.get("error") is not None:
            return str(answer["error"])
        missing = [k for k in OUTPUT_COLUMNS if k not in answer]
        if missing:
            raise ScoringError(
                f"POST {self.endpoint}: a result lacks {missing}; found {sorted(answer)}"
            )
        return {k: answer[k] for k in OUTPUT_COLUMNS}

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


# ------------------------------------------------------------------------------- files
def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself is atomic
    finally:
        os.close(fd)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only complete: temp file, fsync, rename."""
    temp = _temp_name(path)
    try:
        with temp.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _json_lines(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class PartInfo:
    """What a committed part holds (its ``done`` marker)."""

    part: int
    records: int
    rows: int
    errors: int


class WorkFolder:
    """``OUTPUT.parts/``: manifest, committed parts, and the final assembly."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.dir = output.with_name(output.name + ".parts")
        self.errors_path = output.with_name(output.name + ".errors.jsonl")
        self.manifest_path = self.dir / "manifest.json"
        self._lock: IO[str] | None = None
        self.manifest: dict[str, Any] = {}

    # -- lifecycle
    def open(self, arguments: dict[str, Any], overwrite: bool) -> None:
        """Create or resume the work folder; refuse other arguments unless ``overwrite``."""
        fresh = not self.manifest_path.is_file()
        if fresh and self.output.exists() and not overwrite:
            raise ScoringError(
                f"{self.output} already exists and there is no unfinished run to resume "
                f"({self.dir} is absent); pass --overwrite to score again, or choose another "
                "OUTPUT"
            )
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.dir.mkdir(exist_ok=True)
        self._acquire()
        try:
            self._start(arguments, fresh, overwrite)
        except BaseException:
            self.release()
            raise

    def _start(self, arguments: dict[str, Any], fresh: bool, overwrite: bool) -> None:
        self._remove_temp_files()
        wanted = json.loads(json.dumps(arguments))  # the form it takes in the manifest
        if not fresh:
            self.manifest = self._read_manifest()
            if self.manifest.get("arguments") != wanted:
                if not overwrite:
                    raise ScoringError(self._mismatch(self.manifest.get("arguments"), wanted))
                self._clear()
                fresh = True
        if fresh:
            self.manifest = {"version": MANIFEST_VERSION, "arguments": wanted}
            self._write_manifest()

    def _acquire(self) -> None:
        """One writer per work folder; the OS drops the lock if the process dies."""
        handle = (self.dir / ".lock").open("a+", encoding="utf-8")
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass  # no fcntl (Windows): concurrent runs on one OUTPUT are not detected
        except OSError:
            handle.close()
            raise ScoringError(
                f"another `stance score` is writing {self.output} (lock {self.dir / '.lock'} "
                "is held); wait for it or stop it"
            ) from None
        self._lock = handle

    def release(self) -> None:
        """Drop the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _remove_temp_files(self) -> None:
        # Left by a killed run: never renamed, so never part of any result.
        for temp in self.dir.glob(".*.tmp-*"):
            temp.unlink(missing_ok=True)
        for name in (self.output.name, self.errors_path.name):
            for temp in self.output.parent.glob(f".{name}.tmp-*"):
                temp.unlink(missing_ok=True)

    def _read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ScoringError(
                f"{self.manifest_path} is unreadable ({err}); delete {self.dir} to start over"
            ) from None
        if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
            raise ScoringError(
                f"{self.manifest_path} was written by another version of stance score; delete "
                f"{self.dir} to start over"
            )
        return manifest

    def _write_manifest(self) -> None:
        with _atomic(self.manifest_path) as handle:
            handle.write(json.dumps(self.manifest, indent=2, sort_keys=True).encode("utf-8"))
        _fsync_dir(self.dir)

    def update_manifest(self, **values: Any) -> None:
        """Record facts learnt during the run (record counts)."""
        self.manifest.update(values)
        self._write_manifest()

    def _mismatch(self, before: Any, now: dict[str, Any]) -> str:
        old = before if isinstance(before, dict) else {}
        lines = [
            f"  {key}: {old.get(key)!r} (then) vs {now.get(key)!r} (now)"
            for key in sorted(set(old) | set(now))
            if old.get(key) != now.get(key)
        ]
        return (
            f"cannot resume {self.dir}: it was started with different arguments:\n"
            + "\n".join(lines)
            + f"\nRerun with the original arguments to resume, or pass --overwrite (or delete "
            f"{self.dir}) to start over."
        )

    def _clear(self) -> None:
        for path in self.dir.glob("part-*"):
            path.unlink()
        self.manifest_path.unlink(missing_ok=True)

    # -- parts
    def _part_path(self, part: int, suffix: str) -> Path:
        return self.dir / f"part-{part:05d}{suffix}"

    def committed(self) -> dict[int, PartInfo]:
        """Parts whose ``done`` marker exists."""
        parts: dict[int, PartInfo] = {}
        for marker in self.dir.glob("part-*.done.json"):
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
                part = PartInfo(
                    int(info["part"]), int(info["records"]), int(info["rows"]), int(info["errors"])
                )
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise ScoringError(
                    f"{marker} is unreadable ({err}); delete it to redo that part"
                ) from None
            parts[part.part] = part
        return parts

    def commit(self, part: int, results: list[RecordResult]) -> PartInfo:
        """Write one part's rows and errors, then its marker; each atomically."""
        results = sorted(results, key=lambda r: r.index)  # input order within the part
        rows = [row for r in results for row in r.rows]
        errors = [row for r in results for row in r.errors]
        with _atomic(self._part_path(part, ".errors.jsonl")) as handle:
            handle.writelines(_json_lines(errors))
        with _atomic(self._part_path(part, ".jsonl")) as handle:
            handle.writelines(_json_lines(rows))
        # The marker must not become durable before the files it vouches for.
        _fsync_dir(self.dir)
        info = PartInfo(part, len(results), len(rows), len(errors))
        with _atomic(self._part_path(part, ".done.json")) as handle:
            handle.write(json.dumps(info.__dict__).encode("utf-8"))
        _fsync_dir(self.dir)
        return info

    # -- final assembly
    def finalize(
        self, total: int, part_size: int, fmt: str, labels: Sequence[str]
    ) -> dict[str, int]:
        """Concatenate every part into OUTPUT and its errors file, then remove the folder.

        Returns the totals (records, rows, errors), also kept in the manifest until the
        folder is gone: a run killed while tidying up finds them there and only tidies up.
        """
        count = math.ceil(total / part_size)
        parts = self.committed()
        missing = sorted(set(range(count)) - set(parts))
        if missing:
            raise ScoringError(
                f"internal error: parts {missing[:10]} of {count} are not committed; run the "
                "same command again to redo them"
            )
        with _atomic(self.errors_path) as handle:
            for part in range(count):
                _copy(self._part_path(part, ".errors.jsonl"), handle)
        if fmt == "jsonl":
            with _atomic(self.output) as handle:
                for part in range(count):
                    _copy(self._part_path(part, ".jsonl"), handle)
        else:
            self._write_parquet(count, labels)
        _fsync_dir(self.output.parent)
        totals = {
            "records": total,
            "rows": sum(parts[k].rows for k in range(count)),
            "errors": sum(parts[k].errors for k in range(count)),
        }
        self.update_manifest(complete=totals)
        self.cleanup()
        return totals

    def cleanup(self) -> None:
        """Remove the work folder of a complete run (parts first, the manifest last)."""
        for path in self.dir.glob("part-*"):
            path.unlink()
        self.manifest_path.unlink(missing_ok=True)
        self.release()
        (self.dir / ".lock").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.dir.rmdir()  # not empty: the user put something there; leave it

    def _part_rows(self, part: int) -> Iterator[dict[str, Any]]:
        with self._part_path(part, ".jsonl").open("r", encoding="utf-8") as handle:
            for line in handle:
                row: dict[str, Any] = json.loads(line)
                yield row

    def _write_parquet(self, count: int, model_labels: Sequence[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        labels = self._first_labels(count) or tuple(model_labels) or DEFAULT_LABELS
        schema = parquet_schema(labels)
        temp = _temp_name(self.output)
        try:
            with pq.ParquetWriter(temp, schema) as writer:
                for part in range(count):
                    batch: list[dict[str, Any]] = []
                    for row in self._part_rows(part):
                        if list(row["probabilities"]) != list(labels):
                            raise ScoringError(
                                f"{self._part_path(part, '.jsonl')}: row {row['id']!r} has "
                                f"probabilities for {list(row['probabilities'])}, earlier rows "
                                f"for {list(labels)}: the parts come from different models; "
                                f"delete {self.dir} and score again"
                            )
                        batch.append(row)
                        if len(batch) >= 2048:
                            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                            batch = []
                    if batch:
                        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            with temp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, self.output)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def _first_labels(self, count: int) -> tuple[str, ...] | None:
        for part in range(count):
            for row in self._part_rows(part):
                return tuple(row["probabilities"])
        return None


def _copy(source: Path, target: IO[bytes]) -> None:
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            target.write(chunk)


def parquet_schema(labels: Sequence[str]) -> Any:
    """Arrow schema of the Parquet output: probabilities as a struct with one field per label."""
    import pyarrow as pa

    probabilities = pa.struct([pa.field(label, pa.float64()) for label in labels])
    evidence = pa.struct(
        [
            pa.field("text", pa.string()),
            pa.field("start", pa.int64()),
            pa.field("end", pa.int64()),
            pa.field("probabilities", probabilities),
            pa.field("weight", pa.float64()),
        ]
    )
    return pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("target", pa.string()),
            pa.field("speaker", pa.string()),
            pa.field("label", pa.string()),
            pa.field("probabilities", probabilities),
            pa.field("evidence", pa.list_(evidence)),
            pa.field("model", pa.string()),
        ]
    )


class PartAssembler:
    """Collects record results and commits each part as soon as all its records are in.

    Results may arrive in any order (Ray does not preserve it); a part is written sorted.
    """

    def __init__(
        self, work: WorkFolder, part_size: int, on_commit: Callable[[PartInfo], None]
    ) -> None:
        self.work = work
        self.part_size = part_size
        self.on_commit = on_commit
        self.pending: dict[int, dict[int, RecordResult]] = {}
        self.done: set[int] = set()

    def add(self, results: Iterable[RecordResult]) -> None:
        """Take results; commit the parts they complete."""
        for result in results:
            part = result.index // self.part_size
            if part in self.done:
                # A re-executed task (Ray retries) recomputed a committed record: the part
                # on disk already has it, and writing it again would duplicate it.
                continue
            bucket = self.pending.setdefault(part, {})
            bucket[result.index] = result
            if len(bucket) == self.part_size:
                self._commit(part)

    def finish(self, total: int) -> None:
        """End of input: commit what is left, checking that no record went missing."""
        for part in sorted(self.pending):
            expected = min(self.part_size, total - part * self.part_size)
            if len(self.pending[part]) != expected:
                raise ScoringError(
                    f"internal error: part {part} received {len(self.pending[part])} of "
                    f"{expected} records; nothing of it was committed, run the same command "
                    "again to redo it"
                )
            self._commit(part)

    def _commit(self, part: int) -> None:
        info = self.work.commit(part, list(self.pending.pop(part).values()))
        self.done.add(part)
        self.on_commit(info)


# ------------------------------------------------------------------------------- ray
class RayScorer:
    """Ray Data actor: loads the model once per actor, then scores batches of records.

    The model reaches the actor as a folder path, so the folder must be readable at that path
    on every worker node (shared storage); see :func:`score_with_ray`.
    """

    def __init__(
        self,
        model_dir: str,
        tag: str,
        batch_size: int,
        threads: int,
        backend: str = "auto",
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        # Each actor owns only its reserved CPUs: more compute threads (torch or ONNX
        # Runtime) would just fight the other actors.
        self.engine = LocalEngine.load(
            model_dir,
            tag,
            batch_size,
            backend=backend,
            num_threads=max(1, threads),
            max_chars=max_chars,
        )

    def __call__(self, batch: Any) -> Any:
        """A pyarrow table of records -> a table of ``index`` and JSON ``result``."""
        import pyarrow as pa

        results = self.engine.score(records_from_table(batch))
        return pa.table(
            {
                "index": pa.array([r.index for r in results], type=pa.int64()),
                "result": pa.array([r.to_json() for r in results], type=pa.string()),
            }
        )


def _record_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("index", pa.int64()),
            pa.field("file", pa.string()),
            pa.field("id", pa.string()),
            pa.field("line", pa.int64()),
            pa.field("row", pa.int64()),
            pa.field("text", pa.string()),
            pa.field("targets", pa.list_(pa.string())),
            pa.field("speaker", pa.string()),
            pa.field("error", pa.string()),
        ]
    )


def records_to_table(records: Sequence[ArchiveRecord]) -> Any:
    """Records as a pyarrow table (a Ray block)."""
    import pyarrow as pa

    return pa.Table.from_pylist(
        [
            {
                "index": r.index,
                "file": r.file,
                "id": r.id,
                "line": r.line,
                "row": r.row,
                "text": r.text,
                "targets": list(r.targets),
                "speaker": r.speaker,
                "error": r.error,
            }
            for r in records
        ],
        schema=_record_schema(),
    )


def records_from_table(table: Any) -> list[ArchiveRecord]:
    """Inverse of :func:`records_to_table`."""
    return [
        ArchiveRecord(
            index=int(r["index"]),
            file=r["file"],
            id=r["id"],
            line=r["line"],
            row=r["row"],
            text=r["text"] or "",
            targets=tuple(r["targets"] or ()),
            speaker=r["speaker"],
            error=r["error"],
        )
        for r in table.to_pylist()
    ]


# Ray blocks of records: small enough to keep actors evenly fed, bounded in bytes for long texts.
_BLOCK_RECORDS = 256
_BLOCK_CHARS = 32 << 20


def _archive_datasource(
    files: Sequence[ArchiveFile],
    offsets: Sequence[int],
    read: ReadOptions,
    committed: frozenset[int],
    part_size: int,
) -> Any:
    """A Ray file datasource that streams records with :mod:`service.readers`.

    Ray's own text/JSON/CSV readers fail a whole file on one bad line (and read it into memory
    whole); this one keeps the per-record error rows, line numbers and stable ids of the local
    engine, and skips committed parts. Ray distributes the files over read tasks.
    """
    import ray
    from ray.data.datasource import FileBasedDatasource

    by_path = {
        os.path.abspath(f.path): (f, offset) for f, offset in zip(files, offsets, strict=True)
    }
    # The table goes to the object store once; a closure would be pickled into every read
    # task (a folder of a million articles makes that a large table).
    table_ref = ray.put(by_path)
    paths = list(by_path)
    del by_path

    def skip(index: int) -> bool:
        return index // part_size in committed

    class ArchiveDatasource(FileBasedDatasource):
        def _lookup(self, path: str) -> tuple[ArchiveFile, int]:
            entry: tuple[ArchiveFile, int] = _path_table(table_ref)[os.path.abspath(path)]
            return entry

        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            if self._lookup(path)[0].kind == "parquet":
                return filesystem.open_input_file(path)  # Parquet needs random access
            return super()._open_input_source(filesystem, path, **open_args)

        def _read_stream(self, f: Any, path: str) -> Iterator[Any]:
            archive_file, offset = self._lookup(path)
            block: list[ArchiveRecord] = []
            chars = 0
            for _, record in read_file(archive_file, read, offset, skip, source=f):
                if record is None:
                    continue
                block.append(record)
                chars += len(record.text)
                if len(block) >= _BLOCK_RECORDS or chars >= _BLOCK_CHARS:
                    yield records_to_table(block)
                    block, chars = [], 0
            if block:
                yield records_to_table(block)

    return ArchiveDatasource(paths)


# Per worker process: path tables fetched from the object store, by object id.
_PATH_TABLES: dict[str, dict[str, tuple[ArchiveFile, int]]] = {}


def _path_table(ref: Any) -> dict[str, tuple[ArchiveFile, int]]:
    key = ref.hex()
    table = _PATH_TABLES.get(key)
    if table is None:
        import ray

        table = _PATH_TABLES[key] = ray.get(ref)
    return table


def score_with_ray(
    options: ScoringOptions,
    files: Sequence[ArchiveFile],
    counts: Sequence[int],
    committed: frozenset[int],
    model_dir: Path,
    tag: str,
    assembler: PartAssembler,
    on_records: Callable[[int], None],
) -> None:
    """Score the uncommitted records with Ray Data; results are committed by ``assembler``.

    Pipeline: a file datasource reads the archive (one read task per group of files; records
    of committed parts are skipped), ``map_batches`` sends batches of records to an actor pool
    of ``options.workers`` :class:`RayScorer` actors (``ActorPoolStrategy``), each loading
    the model once, and the results stream back to this driver, which commits them part by
    part exactly like the local engine. Results are not written with ``Dataset.write_parquet``
    on purpose: its files are neither aligned with input ranges nor committed atomically, so a
    killed run could leave duplicated rows; here the driver only receives small result rows
    while the reading and the model run on the workers.

    Running on a cluster: ``stance score ... --engine ray --ray-address ray://HEAD:10001``.
    The model must reach the workers as a folder they can all read at the same path (an
    exported model folder on shared storage, e.g. ``/mnt/models/stance-v3``; pass that path to
    ``--model``, not a store tag, because a BentoML store lives on the driver's disk). The
    archive must also be on shared storage at the same path. The workers need this project's
    dependencies (same image or ``pip install``); the ``model`` and ``service`` packages are
    shipped with the job (``runtime_env`` ``py_modules``). Without ``--ray-address`` a local
    Ray instance is started with one CPU per worker.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise ScoringError(
            "--engine ray needs Ray Data: pip install 'stance-service[ray]' (or 'ray[data]')"
        ) from None

    started = False
    if not ray.is_initialized():
        if options.ray_address:
            import model as model_package
            import service as service_package

            ray.init(
                address=options.ray_address,
                runtime_env={
                    "py_modules": [
                        str(Path(model_package.__file__).parent),
                        str(Path(service_package.__file__).parent),
                    ]
                },
                log_to_driver=False,
            )
        else:
            cpus = max(1, math.ceil(options.workers * options.cpus_per_worker))
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        from ray.data import DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False  # ours shows records/s and ETA
        context.print_on_execution_start = False
        offsets = [sum(counts[:i]) for i in range(len(counts))]
        size = options.part_size
        # Files whose every part is committed are not even handed to Ray.
        todo = [
            (f, offset)
            for f, offset, n in zip(files, offsets, counts, strict=True)
            if n
            and any(p not in committed for p in range(offset // size, (offset + n - 1) // size + 1))
        ]
        if not todo:
            return
        datasource = _archive_datasource(
            [f for f, _ in todo], [o for _, o in todo], options.read, committed, options.part_size
        )
        # Reading is light next to the model: read tasks reserve no CPU so that every CPU
        # can hold an actor (otherwise 2 CPUs and 2 actors would starve the readers).
        dataset = ray.data.read_datasource(datasource, num_cpus=0)
        scored = dataset.map_batches(
            RayScorer,
            fn_constructor_kwargs={
                "model_dir": str(model_dir),
                "tag": tag,
                "batch_size": options.batch,
                "threads": max(1, int(options.cpus_per_worker)),
                "backend": options.backend,
                "max_chars": options.read.max_chars,
            },
            batch_size=options.batch,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=options.workers),
            num_cpus=options.cpus_per_worker,
        )
        for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
            results = [RecordResult.from_json(t) for t in batch.column("result").to_pylist()]
            assembler.add(results)
            on_records(len(results))
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------------------- running
def _fingerprint_arguments(
    options: ScoringOptions, files: Sequence[ArchiveFile], scorer: str
) -> dict[str, Any]:
    """The arguments that decide the output; a resumed run must match them exactly.

    Speed knobs (batch size, workers, retries, progress) are left out, and so is the engine
    itself: ``local`` and ``ray`` with one model give the same rows, so a run may switch.
    """
    read = options.read
    arguments: dict[str, Any] = {
        "input": str(Path(options.input).expanduser().resolve()),
        "input_files": len(files),
        "input_fingerprint": input_fingerprint(files),
        "format": sorted({f.kind for f in files}),
        "fields": {
            "text": read.fields.text,
            "target": read.fields.target,
            "speaker": read.fields.speaker,
            "id": read.fields.id,
        },
        "encoding": read.encoding,
        "targets": list(read.default_targets),
        "max_chars": read.max_chars,
        "part_size": options.part_size,
        "output": output_format(options.output),
        "scorer": scorer,
    }
    if read.analyze_articles:
        # Only when given: work folders started before the option existed still resume.
        arguments["analyze_articles"] = True
    return arguments


def _check_paths(options: ScoringOptions) -> None:
    source = Path(options.input).expanduser().resolve()
    target = Path(options.output).expanduser().resolve()
    if target == source:
        raise ArchiveError(f"OUTPUT {target} is the input; choose another OUTPUT")
    if source.is_dir() and source in target.parents:
        # The work folder and output would be read back as input on the next run.
        raise ArchiveError(
            f"OUTPUT {target} is inside the input folder {source}; write it elsewhere"
        )


def run_scoring(
    options: ScoringOptions, engine: Engine | None = None, log: Log = _stderr
) -> ScoringSummary:
    """Score an archive into OUTPUT (resuming an unfinished run); see the module docstring.

    ``engine`` overrides the engine built from ``options`` (tests pass a loaded one).
    Raises ScoringError (ArchiveError for input problems) or FileNotFoundError (model).
    """
    started = time.monotonic()
    options.validate()
    _check_paths(options)
    files, skipped = plan_archive(options.input, options.read)
    if skipped:
        log(
            f"note: {len(skipped)} file(s) in the input folder are not .txt/.jsonl and are "
            f"skipped (first: {skipped[0]})"
        )
    model_dir: Path | None = None
    tag = ""
    if engine is not None:
        scorer = engine.scorer
    elif options.engine == "http":
        scorer = f"http:{(options.url or '').rstrip('/')}"
    else:
        from service.store import resolve_model

        model_dir, tag = resolve_model(options.model or "")
        if (
            options.engine == "ray"
            and options.ray_address
            and not Path(options.model or "").is_dir()
        ):
            raise ScoringError(
                f"--engine ray with --ray-address needs --model as a model folder on storage "
                f"every worker can read; {options.model!r} is a store tag (its folder "
                f"{model_dir} is on this machine only). Copy it to shared storage and pass "
                "that path"
            )
        scorer = f"model:{tag}"
    output = Path(options.output).expanduser()
    work = WorkFolder(output)
    work.open(_fingerprint_arguments(options, files, scorer), options.overwrite)
    try:
        return _run(options, engine, files, work, model_dir, tag, started, log)
    finally:
        work.release()


def _run(
    options: ScoringOptions,
    engine: Engine | None,
    files: list[ArchiveFile],
    work: WorkFolder,
    model_dir: Path | None,
    tag: str,
    started: float,
    log: Log,
) -> ScoringSummary:
    complete = work.manifest.get("complete")
    if isinstance(complete, dict):
        # Killed after OUTPUT was complete, while removing the parts: only tidy up.
        work.cleanup()
        return ScoringSummary(
            records=int(complete["records"]),
            rows=int(complete["rows"]),
            errors=int(complete["errors"]),
            resumed=int(complete["records"]),
            seconds=time.monotonic() - started,
            output=work.output,
            errors_path=work.errors_path,
        )
    counts = work.manifest.get("counts")
    if not isinstance(counts, list) or len(counts) != len(files):
        # Counted once per run folder (the input cannot change: it is fingerprinted).
        counts = [count_records(f, options.read) for f in files]
        work.update_manifest(counts=counts)
    total = sum(counts)
    part_size = options.part_size
    committed = work.committed()
    resumed = sum(info.records for info in committed.values())
    if committed:
        log(f"resuming: {len(committed)} part(s), {resumed} records already committed")
    errors_so_far = {"errors": sum(i.errors for i in committed.values())}
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        initial=resumed,
        unit="rec",
        desc="scoring",
        file=sys.stderr,
        disable=not options.progress,
        dynamic_ncols=True,
        smoothing=0.05,
    )

    def on_commit(info: PartInfo) -> None:
        errors_so_far["errors"] += info.errors
        bar.set_postfix(errors=errors_so_far["errors"], refresh=False)

    assembler = PartAssembler(work, part_size, on_commit)
    labels: tuple[str, ...] = ()
    parts_needed = math.ceil(total / part_size)
    own_engine = engine is None
    try:
        if len(committed) < parts_needed:
            done = frozenset(committed)
            if options.engine == "ray" and engine is None:
                assert model_dir is not None  # set above for every non-http engine
                score_with_ray(options, files, counts, done, model_dir, tag, assembler, bar.update)
                labels = _model_labels(model_dir)
            else:
                if engine is None:
                    engine = _build_engine(options, model_dir, tag)
                labels = tuple(getattr(engine, "labels", ()))
                _score_in_process(files, options, done, engine, assembler, bar.update)
            assembler.finish(total)
        elif model_dir is not None:
            labels = _model_labels(model_dir)
    finally:
        bar.close()
        if own_engine and engine is not None:
            engine.close()
    totals = work.finalize(total, part_size, output_format(work.output), labels)
    return ScoringSummary(
        records=totals["records"],
        rows=totals["rows"],
        errors=totals["errors"],
        resumed=resumed,
        seconds=time.monotonic() - started,
        output=work.output,
        errors_path=work.errors_path,
    )


def _model_labels(model_dir: Path) -> tuple[str, ...]:
    from model.config import StanceConfig

    return StanceConfig.load(model_dir).labels


def _build_engine(options: ScoringOptions, model_dir: Path | None, tag: str) -> Engine:
    if options.engine == "http":
        return HttpEngine(
            options.url or "", options.batch, retries=options.retries, timeout=options.timeout
        )
    assert model_dir is not None  # resolved in run_scoring for model engines
    return LocalEngine.load(
        model_dir, tag, options.batch, backend=options.backend, max_chars=options.read.max_chars
    )


def _score_in_process(
    files: list[ArchiveFile],
    options: ScoringOptions,
    committed: frozenset[int],
    engine: Engine,
    assembler: PartAssembler,
    on_records: Callable[[int], None],
) -> None:
    """Stream uncommitted records through ``engine`` in chunks cut at part boundaries."""
    part_size = options.part_size

    def skip(index: int) -> bool:
        return index // part_size in committed

    chunk: list[ArchiveRecord] = []
    queries = 0

    def flush() -> None:
        nonlocal chunk, queries
        if chunk:
            assembler.add(engine.score(chunk))
            on_records(len(chunk))
        chunk, queries = [], 0

    for record in iter_records(files, options.read, skip):
        if chunk and record.index // part_size != chunk[-1].index // part_size:
            flush()  # commit each part as soon as it is complete
        chunk.append(record)
        queries += max(1, len(record.targets))
        if queries >= options.batch:
            flush()
    flush()
