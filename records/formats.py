"""Input file formats: JSONL, CSV/TSV and Parquet read into located raw records.

Every reader is streaming and deterministic: it yields one item per record, in file order,
and what counts as a record is decided here once (JSONL: a non-blank line; CSV/TSV: a
non-blank data row, located at the physical line where it starts; Parquet: a row). A record
that cannot be read comes back as a :class:`RawRecord` with ``error`` set, so a caller can
report it (file, line, why) and go on; a file that cannot be read at all raises
:class:`InputError`.

``skip(position)`` (0-based record number in the file) lets a caller step over records it
has already handled: they are counted (``None`` is yielded in their place) but neither
decoded nor parsed. Resumable archive scoring relies on this.

Adding a format: a reader below, its extension(s) in :data:`EXTENSIONS`, a branch in
:func:`iter_file` (and :func:`read_columns` when it has a schema), a test in
``tests/records/test_formats.py``. Training and scoring pick it up from there.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from records.columns import type_name

# File extension -> format: the one map both training and scoring go by.
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = ("jsonl", "csv", "tsv", "parquet")

Skip = Callable[[int], bool]
# Called with a CSV/TSV header or a Parquet schema's column names; raises when one is missing.
CheckColumns = Callable[[list[str]], None]


class InputError(ValueError):
    """A whole file is unusable (not Parquet, unreadable header); the message names it."""


class RecordError(ValueError):
    """One record (or one field of it) is unusable; the message says why."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: its location and its fields, or why it cannot be read.

    ``line`` (1-based) is set for JSONL and CSV/TSV, ``row`` (1-based) for Parquet.
    ``fields`` may be set alongside ``error`` (a CSV row whose id cell is still readable).
    """

    line: int | None = None
    row: int | None = None
    fields: dict[str, Any] | None = None
    error: str | None = None


def never(_: int) -> bool:
    """The default ``skip``: read every record."""
    return False


def format_of(path: Path) -> str | None:
    """The format of a file from its extension, or None when the extension is unknown."""
    return EXTENSIONS.get(path.suffix.lower())


def decode(raw: bytes, encoding: str) -> str:
    """Bytes to text; RecordError naming the first bad byte and the fix otherwise."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise RecordError(
            f"bytes not valid {encoding} at byte {err.start + 1} "
            "(pass --encoding, e.g. --encoding cp1252)"
        ) from None


def has_undecodable(cell: str) -> bool:
    """Bytes that did not decode come back from surrogateescape as U+DC80..U+DCFF."""
    return any("\udc80" <= ch <= "\udcff" for ch in cell)


def max_line_bytes(max_chars: int) -> int:
    """Longest JSONL line worth parsing for texts of at most ``max_chars`` characters:
    JSON-escaped (6 bytes for a \\uXXXX escape) plus room for the other fields."""
    return max_chars * 6 + (1 << 20)


# ------------------------------------------------------------------------------- dispatch
def iter_file(
    path: Path,
    fmt: str,
    encoding: str = "utf-8",
    *,
    check_columns: CheckColumns | None = None,
    columns: list[str] | None = None,
    max_chars: int | None = None,
    skip: Skip = never,
    source: Any | None = None,
) -> Iterator[RawRecord | None]:
    """Every record of one file in order (``None`` for a skipped one).

    ``check_columns`` sees the CSV/TSV header or Parquet schema before any record;
    ``columns`` limits what is read from Parquet; ``max_chars`` turns JSONL lines too long
    to hold such a text into error records without keeping them in memory. ``source`` is
    an open binary stream to read instead of ``path`` (Ray hands its readers an Arrow
    stream; for Parquet it must allow random access).
    """
    if fmt == "jsonl":
        handle = source_bytes(path, source)
        try:
            limit = None if max_chars is None else max_line_bytes(max_chars)
            yield from iter_jsonl(handle, encoding, limit, max_chars, skip)
        finally:
            if source is None:
                handle.close()
    elif fmt in ("csv", "tsv"):
        text = open_text(path, encoding, source)
        try:
            yield from iter_delimited(text, fmt, encoding, check_columns, skip, str(path))
        finally:
            if source is None:
                text.close()
            else:
                text.detach()  # the caller (Ray) closes its own stream
    elif fmt == "parquet":
        parquet = open_parquet(source if source is not None else path)
        if check_columns is not None:
            check_columns(list(parquet.schema_arrow.names))
        yield from iter_parquet(parquet, columns, skip)
    else:
        raise InputError(f"{path}: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def read_columns(path: Path, fmt: str, encoding: str = "utf-8") -> list[str] | None:
    """The column names of a CSV/TSV header or a Parquet schema; None for an empty CSV file
    or a format without a schema (JSONL)."""
    if fmt in ("csv", "tsv"):
        with open_text(path, encoding) as handle:
            header = next(csv_reader(handle, fmt), None)
        return None if header is None else [h.lstrip("\ufeff").strip() for h in header]
    if fmt == "parquet":
        return list(open_parquet(path).schema_arrow.names)
    return None


def source_bytes(path: Path, source: Any | None) -> IO[bytes]:
    """A binary handle on ``path``, or on ``source`` buffered for ``readline(limit)``."""
    if source is None:
        return path.open("rb")
    return io.BufferedReader(source)


def open_text(path: Path, encoding: str, source: Any | None = None) -> io.TextIOWrapper:
    """A text handle that keeps undecodable bytes visible (surrogateescape) so that they
    fail their own record instead of the whole file."""
    if source is None:
        return path.open("r", encoding=encoding, errors="surrogateescape", newline="")
    return io.TextIOWrapper(
        io.BufferedReader(source), encoding=encoding, errors="surrogateescape", newline=""
    )


# ------------------------------------------------------------------------------- JSONL
def iter_jsonl(
    handle: IO[bytes],
    encoding: str,
    line_limit: int | None = None,
    max_chars: int | None = None,
    skip: Skip = never,
) -> Iterator[RawRecord | None]:
    """One record per non-blank line: a JSON object, or an error (bytes, JSON, not an
    object, longer than ``line_limit`` bytes)."""
    position = -1
    for number, raw, length in _lines(handle, line_limit):
        if raw is not None and not raw.strip():
            continue
        position += 1
        if skip(position):
            yield None
        elif raw is None:
            yield RawRecord(
                line=number,
                error=f"line is {length} bytes, longer than any record --max-chars "
                f"{max_chars} allows; split the article or raise --max-chars",
            )
        else:
            yield _jsonl_record(raw, number, encoding)


def _jsonl_record(raw: bytes, number: int, encoding: str) -> RawRecord:
    try:
        line = decode(raw, encoding)
    except RecordError as err:
        return RawRecord(line=number, error=str(err))
    if number == 1:
        line = line.lstrip("\ufeff")
    try:
        # Without the line break, an error at the end of the line gets its real column.
        obj = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as err:
        return RawRecord(line=number, error=f"invalid JSON ({err.msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return RawRecord(line=number, error=f"expected a JSON object, found {type_name(obj)}")
    return RawRecord(line=number, fields=obj)


def _lines(handle: IO[bytes], limit: int | None) -> Iterator[tuple[int, bytes | None, int]]:
    """``(line number, bytes, length)``; bytes is None for a line over ``limit``, whose
    rest is read and dropped piece by piece so one huge line never sits in memory."""
    number = 0
    while True:
        raw = handle.readline() if limit is None else handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if limit is None or len(raw) <= limit or raw.endswith(b"\n"):
            yield number, raw, len(raw)
            continue
        length = len(raw)
        while True:
            piece = handle.readline(1 << 20)
            length += len(piece)
            if not piece or piece.endswith(b"\n"):
                break
        yield number, None, length


# ------------------------------------------------------------------------------- CSV / TSV
def csv_reader(handle: IO[str], fmt: str) -> Any:
    """A csv reader for ``csv`` or ``tsv``."""
    # Long articles are legitimate; callers' limits (not the csv module) decide what is long.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    # TSV has no quoting convention: a text that starts with a quote mark is text, not a
    # quoted field (SemEval-2016 files are tab-separated with raw tweets).
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL
    return csv.reader(handle, delimiter="\t" if fmt == "tsv" else ",", quoting=quoting)


def iter_delimited(
    handle: IO[str],
    fmt: str,
    encoding: str,
    check_columns: CheckColumns | None = None,
    skip: Skip = never,
    name: str = "input",
) -> Iterator[RawRecord | None]:
    """One record per non-blank data row, keyed by the header; a row that does not parse,
    has another number of fields than the header, or holds undecodable bytes is an error.
    ``line`` is the physical line where the row starts (quoted fields may span lines)."""
    reader = csv_reader(handle, fmt)
    header: list[str] | None = None
    position = -1
    last_line = 0
    while True:
        start_line = last_line + 1
        try:
            row: list[str] | None = next(reader)
            problem = ""
        except StopIteration:
            return
        except csv.Error as err:
            row, problem = None, f"malformed CSV row ({err})"
        last_line = reader.line_num
        if header is None:
            if row is None:
                raise InputError(f"{name}: unreadable header row ({problem})")
            header = [h.lstrip("\ufeff").strip() for h in row]
            if check_columns is not None:
                check_columns(header)
            continue
        if row is not None and not any(cell.strip() for cell in row):
            continue
        position += 1
        if skip(position):
            yield None
        else:
            yield _delimited_record(header, row, problem, start_line, encoding)


def _delimited_record(
    header: list[str], row: list[str] | None, problem: str, line: int, encoding: str
) -> RawRecord:
    if row is None:
        return RawRecord(line=line, error=problem)
    if len(row) != len(header):
        return RawRecord(
            line=line, error=f"expected {len(header)} fields (as the header), found {len(row)}"
        )
    values = dict(zip(header, row, strict=True))
    for column, cell in values.items():
        if has_undecodable(cell):
            return RawRecord(
                line=line,
                fields=values,
                error=f"column '{column}': bytes not valid {encoding} "
                "(pass --encoding, e.g. --encoding cp1252)",
            )
    return RawRecord(line=line, fields=values)


# ------------------------------------------------------------------------------- Parquet
def open_parquet(source: Path | Any) -> Any:
    """A ``pyarrow.parquet.ParquetFile``; InputError when it is not one."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except Exception as err:  # pyarrow raises several error types for unreadable files
        raise InputError(f"{source}: not a readable Parquet file ({err})") from None


def iter_parquet(
    parquet: Any, columns: list[str] | None = None, skip: Skip = never
) -> Iterator[RawRecord | None]:
    """One record per row, row group by row group; ``columns`` (those present) limits what
    is decoded, and row groups wholly skipped are not decoded at all."""
    names = parquet.schema_arrow.names
    wanted = None if columns is None else list(dict.fromkeys(c for c in columns if c in names))
    position = 0
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        if all(skip(position + k) for k in range(rows)):
            for _ in range(rows):
                yield None
            position += rows
            continue
        for batch in parquet.iter_batches(batch_size=1024, row_groups=[group], columns=wanted):
            for values in batch.to_pylist():
                yield None if skip(position) else RawRecord(row=position + 1, fields=values)
                position += 1
