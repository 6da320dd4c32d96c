"""Streaming readers for unlabelled news archives: JSONL, CSV/TSV, Parquet, folders of .txt/.jsonl.

An archive is a list of :class:`ArchiveFile` (one for a single file; a folder becomes its
supported files sorted by relative path). Its records are numbered 0, 1, 2, ... in that
order; the number (``index``) is what resumable scoring cuts into parts, so every reader here
is deterministic and counts exactly the records it would yield:

* JSONL: one record per non-blank line (the line number is kept for error rows);
* CSV/TSV: one record per non-blank data row (the physical line where the row starts);
* Parquet: one record per row (1-based row number);
* ``.txt`` inside a folder: one record per file, the whole file is the text.

With ``analyze_articles`` a record without a target is not an error: it is read with
``targets=()`` and the scorer analyses the whole article instead (speakers and targets found
in the text).

Nothing is loaded whole: files are read line by line (a line longer than any record allowed
by ``max_chars`` is skipped without being kept in memory), Parquet row group by row group.
Records already scored can be skipped cheaply (no decoding, no JSON parsing). Only a folder's
file list (names, sizes, times: a few hundred bytes per file) is held, never the texts.

Bad records never stop a read: they come back as records with ``error`` set (where and why),
so the caller can write them to an errors file and go on. Problems that make a whole file
unusable (no such file, a CSV header or Parquet schema without the text column) raise
:class:`ArchiveError` before anything is scored.

The file formats themselves (extensions, decoding, JSONL/CSV/TSV/Parquet parsing, located
raw records) are :mod:`records.formats`, shared with the training loaders; this module
decides what a raw record means for scoring (text, targets, speaker, id; error rows).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from records.columns import is_missing, type_name
from records.formats import (
    InputError,
    RecordError,
    decode,
    has_undecodable,
    iter_file,
    open_parquet,
)
from scoring.archive import (
    ArchiveError,
    ArchiveFile,
    ArchiveRecord,
    ReadOptions,
    generated_id,
    require_columns,
)

# ------------------------------------------------------------------------------- reading
Skip = Callable[[int], bool]


def _never(_: int) -> bool:
    return False


def _always(_: int) -> bool:
    return True


def iter_records(
    files: list[ArchiveFile], options: ReadOptions, skip: Skip = _never
) -> Iterator[ArchiveRecord]:
    """Records of the whole archive in order; indices for which ``skip`` is true are counted
    but neither decoded nor yielded (resuming past work that is already committed)."""
    offset = 0
    for archive_file in files:
        count = 0
        for position, record in read_file(archive_file, options, offset, skip):
            count = position + 1
            if record is not None:
                yield record
        offset += count


def count_records(archive_file: ArchiveFile, options: ReadOptions) -> int:
    """Number of records in a file, counted by the very reader that yields them."""
    if archive_file.kind == "txt":
        return 1
    if archive_file.kind == "parquet":
        try:
            return int(open_parquet(archive_file.path).metadata.num_rows)
        except InputError as err:
            raise ArchiveError(str(err)) from None
    count = 0
    for position, _ in read_file(archive_file, options, 0, _always):
        count = position + 1
    return count


def read_file(
    archive_file: ArchiveFile,
    options: ReadOptions,
    offset: int,
    skip: Skip = _never,
    source: IO[bytes] | Any | None = None,
) -> Iterator[tuple[int, ArchiveRecord | None]]:
    """``(position in file, record)`` for every record of one file; record is None when
    ``skip(offset + position)`` is true. ``source`` is an open binary stream to read instead
    of opening ``archive_file.path`` (Ray hands its readers an Arrow stream); for Parquet it
    must allow random access."""
    if archive_file.kind == "txt":
        yield 0, None if skip(offset) else _read_txt(archive_file, options, offset, source)
        return
    where = str(archive_file.path)
    if archive_file.kind in ("csv", "tsv"):
        where += ":line 1"
    fields = options.fields
    raw_records = iter_file(
        archive_file.path,
        archive_file.kind,
        options.encoding,
        check_columns=lambda names: require_columns(names, options, where),
        columns=[
            c
            for c in (
                fields.text,
                *options.target_fields,
                fields.speaker,
                fields.id,
                *options.keep_fields,
            )
            if c
        ],
        max_chars=options.record_limit,
        skip=lambda position: skip(offset + position),
        source=source,
    )
    split_strings = archive_file.kind in ("csv", "tsv")
    try:
        for position, raw in enumerate(raw_records):
            if raw is None:
                yield position, None
                continue
            base = _located(archive_file, offset + position, line=raw.line, row=raw.row)
            if raw.error is None and raw.fields is not None:
                yield position, _from_mapping(base, raw.fields, options, split_strings)
                continue
            # Keep the record's own id on its error row when that field itself is readable.
            ident = _safe_identifier(raw.fields or {}, fields.id)
            if ident is not None and has_undecodable(ident):
                ident = None
            record = base if ident is None else _replace_id(base, ident)
            yield position, _with_error(record, raw.error or "unreadable record")
    except InputError as err:
        raise ArchiveError(str(err)) from None


def _read_txt(
    archive_file: ArchiveFile, options: ReadOptions, index: int, source: Any | None
) -> ArchiveRecord:
    ident = archive_file.name[: -len(Path(archive_file.name).suffix) or None]
    base = ArchiveRecord(index=index, file=archive_file.name, id=ident)
    # Cheapest check first: a file this large cannot be under the limit in any encoding we
    # read (4 bytes per character at most), so it is never read into memory.
    limit = options.text_limit if options.default_targets else options.article_limit
    if archive_file.size > limit * 4:
        return _with_error(
            base,
            f"file is {archive_file.size} bytes, longer than --max-chars {limit} "
            "allows; split the article or raise --max-chars",
        )
    raw = archive_file.path.read_bytes() if source is None else source.read()
    try:
        text = decode(raw, options.encoding)
    except RecordError as err:
        return _with_error(base, str(err))
    return _text_record(base, text.lstrip("\ufeff"), options)


def _with_error(record: ArchiveRecord, reason: str) -> ArchiveRecord:
    return ArchiveRecord(
        index=record.index,
        file=record.file,
        id=record.id,
        line=record.line,
        row=record.row,
        error=reason,
    )


def _located(
    archive_file: ArchiveFile, index: int, line: int | None = None, row: int | None = None
) -> ArchiveRecord:
    """An empty record at a line (JSONL, CSV/TSV) or a row (Parquet) of ``archive_file``;
    its generated id is stable: the file name plus that location."""
    location = f"line {line}" if line is not None else f"row {row}"
    return ArchiveRecord(
        index=index,
        file=archive_file.name,
        id=generated_id(archive_file.name, location),
        line=line,
        row=row,
    )


# ------------------------------------------------------------------------------- fields
class _FieldError(ValueError):
    """One field of a record is unusable."""


def _from_mapping(
    base: ArchiveRecord, obj: dict[str, Any], options: ReadOptions, split_strings: bool
) -> ArchiveRecord:
    fields = options.fields
    try:
        text = _text(obj, fields.text, options.record_limit)
        target_field = options.target_field(obj)
        absent = target_field not in obj
        if absent and not options.default_targets and not options.analyze_articles:
            raise _FieldError(_no_target_field(obj, options))
        targets = _targets(
            obj, target_field, options.default_targets, split_strings, options.analyze_articles
        )
        if targets:
            # Scored toward targets like a service request: the same limit as POST /predict.
            _check_length(text, fields.text, options.text_limit)
        speaker = _optional_string(obj, fields.speaker) if fields.speaker else None
        ident = _identifier(obj, fields.id) if fields.id else None
        kept = {name: _kept_value(obj.get(name), name) for name in options.keep_fields}
    except _FieldError as err:
        reason = str(err)
        ident = _safe_identifier(obj, fields.id)
        record = base if ident is None else _replace_id(base, ident)
        return _with_error(record, reason)
    return ArchiveRecord(
        index=base.index,
        file=base.file,
        id=ident if ident is not None else base.id,
        line=base.line,
        row=base.row,
        text=text,
        targets=targets,
        speaker=speaker,
        kept=kept,
    )


def _replace_id(record: ArchiveRecord, ident: str) -> ArchiveRecord:
    return ArchiveRecord(
        index=record.index, file=record.file, id=ident, line=record.line, row=record.row
    )


def _safe_identifier(obj: dict[str, Any], name: str | None) -> str | None:
    """The record's own id for its error row when it is usable, else None (generated id)."""
    if not name:
        return None
    try:
        return _identifier(obj, name)
    except _FieldError:
        return None


def _text(obj: dict[str, Any], name: str, max_chars: int) -> str:
    if name not in obj:
        raise _FieldError(f"field '{name}' is missing (map the text field with --text-col)")
    value = obj[name]
    if is_missing(value):
        raise _FieldError(f"field '{name}' is empty")
    if not isinstance(value, str):
        raise _FieldError(f"field '{name}': expected a string, found {type_name(value)}")
    _check_encodable(value, name)
    _check_length(value, name, max_chars)
    return value


def _check_length(value: str, name: str, max_chars: int) -> None:
    if len(value) > max_chars:
        raise _FieldError(
            f"field '{name}' has {len(value)} characters, over --max-chars {max_chars}; "
            "split the article or raise --max-chars"
        )


def _no_target_field(obj: dict[str, Any], options: ReadOptions) -> str:
    """What was expected, what the record has, and the ways out."""
    expected = " or ".join(f"'{n}'" for n in options.target_fields)
    return (
        f"no target field {expected}; the record has {sorted(obj)}. Map it with --target-col, "
        "pass --target to score every record against fixed targets, or --analyze-articles "
        "to analyse records without targets as whole articles"
    )


def _targets(
    obj: dict[str, Any],
    name: str,
    defaults: tuple[str, ...],
    split_strings: bool,
    allow_none: bool = False,
) -> tuple[str, ...]:
    """The record's targets; ``()`` (whole-article analysis) when it has none and
    ``allow_none`` is set, else a missing or empty target is an error."""
    value = obj.get(name)
    if is_missing(value):
        if defaults:
            return defaults
        if allow_none:
            return ()
        raise _FieldError(
            f"field '{name}' is missing or empty (map it with --target-col, or pass --target "
            "to score every record against fixed targets)"
        )
    items: list[Any]
    if isinstance(value, str):
        stripped = value.strip()
        if split_strings and stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError as err:
                raise _FieldError(
                    f"field '{name}': looks like a JSON list but is not valid JSON ({err.msg} at "
                    f"column {err.colno})"
                ) from None
            if not isinstance(parsed, list):
                raise _FieldError(
                    f"field '{name}': expected a JSON list, found {type_name(parsed)}"
                )
            items = parsed
        elif split_strings:
            # CSV cells hold several targets as 'a; b'; empty pieces (a trailing ';') are noise.
            items = [piece for piece in stripped.split(";") if piece.strip()]
        else:
            items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _FieldError(
            f"field '{name}': expected a string or a list of strings, found {type_name(value)}"
        )
    if not items:
        if allow_none:
            return ()  # an explicit empty list means the same as no target
        raise _FieldError(f"field '{name}': the list of targets is empty")
    targets: list[str] = []
    for k, item in enumerate(items, start=1):
        if not isinstance(item, str) or not item.strip():
            raise _FieldError(
                f"field '{name}': target {k} must be a non-empty string, found {item!r}"
            )
        _check_encodable(item, name)
        targets.append(item.strip())
    # A target listed twice would give two identical rows: keep the first, in order.
    return tuple(dict.fromkeys(targets))


def _optional_string(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if is_missing(value):
        return None
    if not isinstance(value, str):
        raise _FieldError(f"field '{name}': expected a string or null, found {type_name(value)}")
    _check_encodable(value, name)
    return value.strip()


def _identifier(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _FieldError(
            f"field '{name}': expected a string or an integer, found {type_name(value)}"
        )
    if isinstance(value, str):
        _check_encodable(value, name)
    return str(value).strip()


def _kept_value(value: Any, name: str) -> Any:
    """A kept field's value as an output row holds it: null when missing (the one
    missing-value rule: absent, NaN, blank), JSON types as they are, Parquet dates and
    times as ISO strings, anything else JSON cannot hold as its text."""
    if is_missing(value):
        return None
    return _json_safe(value, name)


def _json_safe(value: Any, name: str) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # NaN/inf are not JSON
    if isinstance(value, str):
        _check_encodable(value, name)  # the part files are UTF-8
        return value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_safe(v, name) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v, name) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)  # Decimal, timedelta: their text


def _check_encodable(value: str, name: str) -> None:
    """JSON may escape a lone surrogate (\\ud800) that no UTF-8 output can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise _FieldError(
            f"field '{name}': contains an unpaired surrogate escape at character {err.start + 1}"
        ) from None


def _text_record(base: ArchiveRecord, text: str, options: ReadOptions) -> ArchiveRecord:
    """A record from a plain text (a .txt file): the default targets apply (none: the
    planner allowed that only for ``analyze_articles``)."""
    if not text.strip():
        return _with_error(base, "file is empty")
    limit = options.text_limit if options.default_targets else options.article_limit
    if len(text) > limit:
        return _with_error(
            base,
            f"text has {len(text)} characters, over --max-chars {limit}; "
            "split the article or raise --max-chars",
        )
    return ArchiveRecord(
        index=base.index,
        file=base.file,
        id=base.id,
        text=text,
        targets=options.default_targets,
        kept=dict.fromkeys(options.keep_fields),  # a .txt file has no fields to keep
    )
