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

import codecs
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from model.limits import MAX_ARTICLE_CHARS, MAX_TEXT_CHARS
from records.columns import ColumnMap, is_missing, type_name
from records.formats import FORMATS as FILE_FORMATS
from records.formats import (
    InputError,
    RecordError,
    decode,
    format_of,
    has_undecodable,
    iter_file,
    open_parquet,
    read_columns,
)

FORMATS = ("auto", *FILE_FORMATS, "folder")
# Files a folder archive may hold (articles as .txt, records as JSONL; a folder's .json is
# usually metadata, so it is not read); anything else in the folder is reported and skipped.
_FOLDER_KINDS = {".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Length of generated ids in hex digits (80 bits: no collision in any realistic archive).
GENERATED_ID_HEX = 20

Kind = Literal["jsonl", "csv", "tsv", "parquet", "txt"]


class ScoringError(ValueError):
    """Scoring cannot go on; the message says what was found and how to fix it."""


class ArchiveError(ScoringError):
    """The input archive or a reading option is unusable as a whole."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read an archive.

    Attributes:
        fmt: one of :data:`FORMATS`; ``auto`` goes by the extension (a folder is ``folder``).
        fields: field mapping.
        encoding: text encoding of JSONL/CSV/TSV/.txt files.
        default_targets: targets for records that have none (required for .txt files
            unless ``analyze_articles``).
        max_chars: texts longer than this become error rows; None applies the limits of
            :mod:`model.limits` (the service's): ``MAX_TEXT_CHARS`` for a record scored
            toward targets, ``MAX_ARTICLE_CHARS`` for one analysed as a whole article.
        analyze_articles: records without a target (no field, an empty list, a .txt file
            without ``default_targets``) are read with ``targets=()`` for whole-article
            analysis instead of becoming error rows; records with targets are unchanged.
        target_fallbacks: fields tried, in order, when a record has no ``fields.target``
            field at all (the default ``target`` then ``targets``, the name archives often
            use for a list); empty when the caller named the target field explicitly.
    """

    fmt: str = "auto"
    fields: ColumnMap = field(default_factory=ColumnMap)
    encoding: str = "utf-8"
    default_targets: tuple[str, ...] = ()
    max_chars: int | None = None
    analyze_articles: bool = False
    target_fallbacks: tuple[str, ...] = ("targets",)

    def validate(self) -> None:
        """Raise ArchiveError naming the first bad option."""
        if self.fmt not in FORMATS:
            raise ArchiveError(f"unknown format {self.fmt!r}; choose one of {', '.join(FORMATS)}")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ArchiveError(
                f"unknown encoding {self.encoding!r}; use e.g. utf-8 or cp1252"
            ) from None
        if self.max_chars is not None and self.max_chars < 1:
            raise ArchiveError(f"--max-chars must be at least 1, found {self.max_chars}")
        if not self.fields.text or not self.fields.target:
            raise ArchiveError("--text-col and --target-col must not be empty")
        for target in self.default_targets:
            if not target.strip():
                raise ArchiveError("--target must not be empty")

    @property
    def text_limit(self) -> int:
        """Most characters of a text scored toward targets."""
        return self.max_chars if self.max_chars is not None else MAX_TEXT_CHARS

    @property
    def article_limit(self) -> int:
        """Most characters of an article analysed whole (``analyze_articles``)."""
        return self.max_chars if self.max_chars is not None else MAX_ARTICLE_CHARS

    @property
    def target_fields(self) -> tuple[str, ...]:
        """Every field a record's targets may be in, in the order they are tried."""
        return tuple(dict.fromkeys((self.fields.target, *self.target_fallbacks)))

    def target_field(self, names: Any) -> str:
        """The target field of a record or header with these field names: the first of
        :attr:`target_fields` present, else ``fields.target``."""
        return next((n for n in self.target_fields if n in names), self.fields.target)

    @property
    def record_limit(self) -> int:
        """Most characters any record of this archive may have."""
        if self.analyze_articles:
            return max(self.text_limit, self.article_limit)
        return self.text_limit


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One file of an archive.

    Attributes:
        path: where it is.
        name: how rows and errors refer to it (file name; path relative to a folder input).
        kind: how to read it.
        size / mtime_ns: part of the input fingerprint (a changed input refuses to resume).
    """

    path: Path
    name: str
    kind: Kind
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """One input record, or why it cannot be scored (``error`` set).

    ``line`` is set for JSONL/CSV/TSV, ``row`` for Parquet, neither for a .txt file. A good
    record (``error`` None) without ``targets`` is an article to analyse as a whole; readers
    yield those only with ``ReadOptions.analyze_articles``.
    """

    index: int
    file: str
    id: str
    line: int | None = None
    row: int | None = None
    text: str = ""
    targets: tuple[str, ...] = ()
    speaker: str | None = None
    error: str | None = None

    @property
    def where(self) -> str:
        """Human-readable location: ``file:line 12``, ``file:row 3`` or ``file``."""
        if self.line is not None:
            return f"{self.file}:line {self.line}"
        if self.row is not None:
            return f"{self.file}:row {self.row}"
        return self.file

    def error_row(self, reason: str, target: str | None = None) -> dict[str, Any]:
        """The errors-file row for this record (or for one of its targets)."""
        row: dict[str, Any] = {"index": self.index, "id": self.id, "file": self.file}
        if self.line is not None:
            row["line"] = self.line
        if self.row is not None:
            row["row"] = self.row
        if target is not None:
            row["target"] = target
        row["reason"] = reason
        return row


# ------------------------------------------------------------------------------- planning
def plan_archive(path: str | Path, options: ReadOptions) -> tuple[list[ArchiveFile], list[str]]:
    """The files of an archive in record order, and the names of folder files skipped.

    Checks what can be checked before scoring: the path exists, the format is known, CSV
    headers and Parquet schemas have the mapped columns. Raises ArchiveError otherwise.
    """
    options.validate()
    root = Path(path).expanduser()
    if root.is_dir():
        if options.fmt not in ("auto", "folder"):
            raise ArchiveError(
                f"{root} is a folder, but --format is {options.fmt!r}; use --format auto"
            )
        return _plan_folder(root, options)
    if not root.is_file():
        raise ArchiveError(f"{root}: no such file or folder")
    if options.fmt == "folder":
        raise ArchiveError(f"{root} is a file, but --format is 'folder'")
    kind = options.fmt if options.fmt != "auto" else format_of(root)
    if kind is None:
        raise ArchiveError(
            f"{root}: cannot tell the format from the extension {root.suffix!r}; pass --format, "
            f"one of {', '.join(FORMATS[1:-1])}"
        )
    stat = root.stat()
    archive_file = ArchiveFile(root, root.name, _as_kind(kind), stat.st_size, stat.st_mtime_ns)
    _check_columns(archive_file, options)
    return [archive_file], []


def _as_kind(kind: str) -> Kind:
    if kind == "jsonl":
        return "jsonl"
    if kind == "csv":
        return "csv"
    if kind == "tsv":
        return "tsv"
    if kind == "parquet":
        return "parquet"
    if kind == "txt":
        return "txt"
    raise ArchiveError(f"unknown format {kind!r}; choose one of {', '.join(FORMATS)}")


def _plan_folder(root: Path, options: ReadOptions) -> tuple[list[ArchiveFile], list[str]]:
    files: list[ArchiveFile] = []
    skipped: list[str] = []
    # os.walk order is arbitrary: sort names so record numbers (and thus parts) are stable.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            kind = _FOLDER_KINDS.get(path.suffix.lower())
            if kind is None:
                skipped.append(rel)
                continue
            stat = path.stat()
            files.append(ArchiveFile(path, rel, _as_kind(kind), stat.st_size, stat.st_mtime_ns))
    files.sort(key=lambda f: f.name)
    skipped.sort()
    if not files:
        raise ArchiveError(
            f"{root}: folder has no .txt or .jsonl files (one article per .txt file, or JSONL)"
        )
    if (
        any(f.kind == "txt" for f in files)
        and not options.default_targets
        and not options.analyze_articles
    ):
        raise ArchiveError(
            f"{root}: .txt files carry no target; pass the target(s) to score with --target, "
            "or --analyze-articles to find the speakers and targets in each article"
        )
    return files, skipped


def _check_columns(archive_file: ArchiveFile, options: ReadOptions) -> None:
    """Fail early when a CSV/TSV header or a Parquet schema lacks a mapped column."""
    if archive_file.kind not in ("csv", "tsv", "parquet"):
        return
    try:
        names = read_columns(archive_file.path, archive_file.kind, options.encoding)
    except InputError as err:
        raise ArchiveError(str(err)) from None
    if names is None:
        raise ArchiveError(f"{archive_file.path}: empty file (no header row)")
    where = str(archive_file.path)
    if archive_file.kind != "parquet":
        where += ":line 1"
    _require_columns(names, options, where)


def _require_columns(names: list[str], options: ReadOptions, where: str) -> None:
    fields = options.fields
    missing = [fields.text] if fields.text not in names else []
    # Without a target column every record is either scored against --target or, with
    # --analyze-articles, analysed as a whole article.
    has_target = any(n in names for n in options.target_fields)
    if not has_target and not options.default_targets and not options.analyze_articles:
        missing.append(" or ".join(options.target_fields))
    if missing:
        raise ArchiveError(
            f"{where}: no column(s) {missing}; found {names}. Map the columns with "
            "--text-col / --target-col, or pass --target to score every record against "
            "fixed targets"
        )


def input_fingerprint(files: Iterable[ArchiveFile]) -> str:
    """Digest of names, sizes and modification times: changes when the input changes.

    Cheap on purpose (no hashing of contents): archives are large, and a resumed run that
    read a different input would silently mix two archives in one output.
    """
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.name}\0{f.kind}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()


def generated_id(file_name: str, location: str) -> str:
    """Stable id of a record without one: hash of its file name and line/row."""
    digest = hashlib.sha1(f"{file_name}:{location}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:GENERATED_ID_HEX]


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
        check_columns=lambda names: _require_columns(names, options, where),
        columns=[c for c in (fields.text, *options.target_fields, fields.speaker, fields.id) if c],
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
    )
