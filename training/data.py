"""Loading labelled stance data from NewsMTSC JSONL, flat JSONL, CSV/TSV and Parquet.

Files are read by :mod:`records.formats` (the same readers archive scoring uses); this
module turns their raw records into labelled examples. Every record is validated where it
enters. A bad record is reported with file, line (or
row) and field; bad records stop the load unless the caller allows skipping them, and
then they are counted and the first few shown.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.labels import LabelError, LabelRules, newsmtsc_label
from model.types import QueryError, Span, StanceQuery
from records.columns import ColumnMap, is_missing
from records.formats import EXTENSIONS, InputError, format_of, iter_file
from records.formats import FORMATS as FILE_FORMATS

# "newsmtsc" is JSONL with NewsMTSC's own schema (sentence + a list of targets).
FORMATS = ("auto", "newsmtsc", *FILE_FORMATS)


class DataError(ValueError):
    """Input data is unusable; the message names the file, line and field and how to fix it."""


@dataclass(frozen=True)
class StanceExample:
    """A labelled query. ``label`` is the label name read by :func:`model.labels.read_labels`."""

    query: StanceQuery
    label: str
    where: str


@dataclass
class LoadReport:
    """What a load produced: examples, bad records (with reasons) and the file's digest."""

    path: Path
    format: str
    examples: list[StanceExample] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    sha256: str = ""

    def summary(self, shown: int = 5) -> str:
        """One paragraph: counts and the first bad records."""
        text = f"{self.path}: {len(self.examples)} examples ({self.format})"
        if self.bad:
            text += f", {len(self.bad)} bad records skipped; first: " + " | ".join(self.bad[:shown])
        return text


def detect_format(path: Path, encoding: str = "utf-8") -> str:
    """Format from the extension; JSONL whose first record has NewsMTSC keys is 'newsmtsc'."""
    fmt = format_of(path)
    if fmt is None:
        raise DataError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"pass --format, one of {', '.join(FORMATS[1:])}"
        )
    if fmt == "jsonl":
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    try:
                        # Decode leniently: only the keys matter here, and undecodable
                        # bytes are reported per record by the reader.
                        first = json.loads(raw.decode(encoding, errors="replace").lstrip("\ufeff"))
                    except json.JSONDecodeError:
                        break
                    if (
                        isinstance(first, dict)
                        and "sentence_normalized" in first
                        and "targets" in first
                    ):
                        return "newsmtsc"
                    break
    return fmt


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (data fingerprint recorded with trained models)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_examples(
    path: str | Path,
    fmt: str = "auto",
    columns: ColumnMap | None = None,
    encoding: str = "utf-8",
    allow_bad: bool = False,
    require_examples: bool = True,
    label_rules: LabelRules | None = None,
    further_mentions: bool = False,
) -> LoadReport:
    """Read labelled examples from a file, or from every supported file in a folder.

    ``further_mentions``: in NewsMTSC files, also mark the target's other mentions in the
    sentence (its ``further_mentions``: pronouns and repeated names), as inference does
    with every mention it finds; without it only the annotated span is marked.

    Each file's label values are read once, under ``label_rules`` (default: no map, any
    label set): unmapped numbers and labels outside ``label_rules.labels`` stop the load.
    Raises DataError on the first problem that makes the file unusable, or listing the bad
    records when there are any and ``allow_bad`` is False.
    """
    path = Path(path)
    columns = columns or ColumnMap()
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; use e.g. utf-8 or cp1252") from None
    if path.is_dir():
        return _load_folder(path, fmt, columns, encoding, allow_bad, label_rules, further_mentions)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    real_fmt = detect_format(path, encoding) if fmt == "auto" else fmt
    report = LoadReport(path=path, format=real_fmt, sha256=file_sha256(path))
    parse = (
        functools.partial(_parse_newsmtsc, further=further_mentions)
        if real_fmt == "newsmtsc"
        else _flat_parser(columns)
    )
    file_format = "jsonl" if real_fmt == "newsmtsc" else real_fmt
    try:
        for raw in iter_file(
            path, file_format, encoding, check_columns=_column_check(path, real_fmt, columns)
        ):
            assert raw is not None  # nothing is skipped here
            where = f"{path}:{raw.line}" if raw.line is not None else f"{path}:row {raw.row}"
            if raw.error is not None or raw.fields is None:
                report.bad.append(f"{where}: {raw.error}")
                continue
            try:
                report.examples.extend(parse(where, raw.fields))
            except _RecordError as err:
                report.bad.append(f"{where}: {err}")
    except InputError as err:
        raise DataError(str(err)) from None
    if report.bad and not allow_bad:
        shown = "\n  ".join(report.bad[:5])
        more = f"\n  ... and {len(report.bad) - 5} more" if len(report.bad) > 5 else ""
        raise DataError(
            f"{path}: {len(report.bad)} bad record(s):\n  {shown}{more}\n"
            "Fix them, or pass --skip-bad to skip them."
        )
    if not report.examples and require_examples:
        raise DataError(f"{path}: no examples found")
    # The one place label values become label names (see model/labels.py).
    try:
        names = (label_rules or LabelRules()).read([e.label for e in report.examples])
    except LabelError as err:
        raise DataError(f"{path}: {err}") from None
    report.examples = [replace(e, label=n) for e, n in zip(report.examples, names, strict=True)]
    return report


def _load_folder(
    folder: Path,
    fmt: str,
    columns: ColumnMap,
    encoding: str,
    allow_bad: bool,
    label_rules: LabelRules | None,
    further_mentions: bool,
) -> LoadReport:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
    if not files:
        raise DataError(f"{folder}: folder has no .jsonl/.csv/.tsv/.parquet files")
    merged = LoadReport(path=folder, format=fmt)
    digest = hashlib.sha256()
    for file in files:
        # One file of a folder may hold only skipped records; the folder as a whole may not.
        part = load_examples(
            file,
            fmt,
            columns,
            encoding,
            allow_bad,
            require_examples=False,
            label_rules=label_rules,
            further_mentions=further_mentions,
        )
        merged.examples.extend(part.examples)
        merged.bad.extend(part.bad)
        digest.update(f"{file.name}:{part.sha256}\n".encode())
    merged.sha256 = digest.hexdigest()
    merged.format = "folder"
    if not merged.examples:
        raise DataError(f"{folder}: no examples found")
    return merged


class _RecordError(ValueError):
    """A single record is bad; becomes 'file:line: message'."""


def _column_check(path: Path, fmt: str, columns: ColumnMap) -> Callable[[list[str]], None]:
    """Fails a CSV/TSV header or Parquet schema without the text, target or label column."""

    def check(names: list[str]) -> None:
        missing = [c for c in (columns.text, columns.target, columns.label) if c not in names]
        if not missing:
            return
        where = f"{path}:1: header has" if fmt in ("csv", "tsv") else f"{path}:"
        raise DataError(
            f"{where} no column(s) {missing}; found {names}. Map columns with --text-col / "
            "--target-col / --label-col"
        )

    return check


def _field(record: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = record.get(name)
    if is_missing(value):
        if required:
            raise _RecordError(f"field '{name}': missing or empty")
        return None
    return str(value) if not isinstance(value, str) else value


def _flat_parser(columns: ColumnMap) -> Any:
    def parse(where: str, record: dict[str, Any]) -> list[StanceExample]:
        text = _field(record, columns.text)
        target = _field(record, columns.target)
        label = _field(record, columns.label)
        speaker = _field(record, columns.speaker, required=False) if columns.speaker else None
        ident = _field(record, columns.id, required=False) if columns.id else None
        query = StanceQuery(text=str(text), target=str(target), speaker=speaker, id=ident)
        return [StanceExample(query=query, label=str(label), where=where)]

    return parse


def _parse_newsmtsc(
    where: str, record: dict[str, Any], further: bool = False
) -> list[StanceExample]:
    text = _field(record, "sentence_normalized")
    targets = record.get("targets")
    if not isinstance(targets, list) or not targets:
        raise _RecordError("field 'targets': must be a non-empty list")
    examples = []
    base_id = record.get("primary_gid")
    for k, target in enumerate(targets):
        if not isinstance(target, dict):
            raise _RecordError(f"field 'targets[{k}]': expected an object")
        mention = _field(target, "mention")
        start, end = target.get("from"), target.get("to")
        if not isinstance(start, int) or not isinstance(end, int):
            raise _RecordError(f"field 'targets[{k}].from/to': must be integers")
        if not 0 <= start < end <= len(str(text)):
            raise _RecordError(
                f"field 'targets[{k}].from/to': span [{start}, {end}) is outside the sentence "
                f"(length {len(str(text))})"
            )
        polarity = target.get("polarity")
        label: str | None
        if isinstance(polarity, int | float) and not isinstance(polarity, bool):
            label = newsmtsc_label(polarity)
        else:
            label = str(polarity) if polarity is not None else None
        if label is None:
            raise _RecordError(
                f"field 'targets[{k}].polarity': {polarity!r} is not 2.0, 4.0 or 6.0"
            )
        ident = target.get("Input.gid") or (f"{base_id}#{k}" if base_id else None)
        spans = _with_further(target, (start, end), len(str(text))) if further else [(start, end)]
        query = StanceQuery(text=str(text), target=str(mention), mentions=tuple(spans), id=ident)
        examples.append(StanceExample(query=query, label=label, where=f"{where} targets[{k}]"))
    return examples


def _with_further(target: dict[str, Any], main: Span, length: int) -> list[Span]:
    """The annotated span plus the well-formed further mentions that do not overlap it or
    each other, sorted (the encoder's marker layout needs disjoint spans)."""
    spans = [main]
    extra = target.get("further_mentions")
    for item in extra if isinstance(extra, list) else []:
        lo = item.get("from") if isinstance(item, dict) else None
        hi = item.get("to") if isinstance(item, dict) else None
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi <= length):
            continue  # a malformed coreference span is skipped: the main span still counts
        if all(hi <= a or lo >= b for a, b in spans):
            spans.append((lo, hi))
    return sorted(spans)


def resolve_labels(
    examples: list[StanceExample], labels: tuple[str, ...]
) -> tuple[list[tuple[StanceQuery, int]], list[str]]:
    """(query, index in ``labels``) pairs of examples whose labels were read by
    :func:`load_examples`; returns (pairs, problems): invalid queries, unknown labels."""
    index = {label: i for i, label in enumerate(labels)}
    pairs: list[tuple[StanceQuery, int]] = []
    problems: list[str] = []
    for ex in examples:
        if ex.label not in index:
            problems.append(f"{ex.where}: label {ex.label!r} is not one of {list(labels)}")
            continue
        try:
            ex.query.validate()
        except QueryError as err:
            problems.append(f"{ex.where}: {err}")
            continue
        pairs.append((ex.query, index[ex.label]))
    return pairs, problems


HOLDOUT_PREFIX = "holdout:"
_HOLDOUT_BUCKETS = 10_000


def holdout_fraction(dev: str | None) -> float | None:
    """The fraction in a ``holdout:F`` dev source ("hold F of the training texts out for
    early stopping and calibration"), None for any other source.

    Raises:
        DataError: ``holdout:`` with a value that is not a number in (0, 0.5].
    """
    if dev is None or not dev.startswith(HOLDOUT_PREFIX):
        return None
    raw = dev[len(HOLDOUT_PREFIX) :]
    try:
        fraction = float(raw)
    except ValueError:
        fraction = -1.0
    if not 0.0 < fraction <= 0.5:
        raise DataError(
            f"[data].dev: {dev!r} needs a fraction in (0, 0.5] after 'holdout:', e.g. 'holdout:0.1'"
        )
    return fraction


def split_holdout(
    examples: list[StanceExample], fraction: float
) -> tuple[list[StanceExample], list[StanceExample]]:
    """(train, held out): about ``fraction`` of the distinct texts, with all their examples.

    Why by text: NewsMTSC has several targets per sentence and the contrast corpus two
    speakers per text; splitting examples would leak a text into both sides. The choice
    hashes the text, so it is the same for every seed and setting (settings stay comparable)
    and does not depend on file order.
    """
    cut = round(fraction * _HOLDOUT_BUCKETS)
    train: list[StanceExample] = []
    held: list[StanceExample] = []
    for ex in examples:
        digest = hashlib.sha1(" ".join(ex.query.text.split()).encode("utf-8")).digest()
        bucket = int.from_bytes(digest[:4], "big") % _HOLDOUT_BUCKETS
        (held if bucket < cut else train).append(ex)
    return train, held
