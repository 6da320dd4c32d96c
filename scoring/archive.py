"""What an archive is: reading options, its files in record order, its records.

:func:`plan_archive` turns INPUT (a file or a folder) into :class:`ArchiveFile` s and checks
what can be checked before scoring (the path, the format, CSV headers and Parquet schemas);
:mod:`scoring.readers` reads them into :class:`ArchiveRecord` s. Errors that stop a run are
:class:`ScoringError` (:class:`ArchiveError` for the input).
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from model.limits import MAX_ARTICLE_CHARS, MAX_TEXT_CHARS
from records.columns import ColumnMap
from records.formats import FORMATS as FILE_FORMATS
from records.formats import (
    InputError,
    format_of,
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
        keep_fields: input fields copied into every output row of a record, after the
            output columns and in this order (``--keep-fields date,source``); a record
            without one gets null. Checked by ``ScoringOptions.validate`` (names that are
            output columns are refused).
    """

    fmt: str = "auto"
    fields: ColumnMap = field(default_factory=ColumnMap)
    encoding: str = "utf-8"
    default_targets: tuple[str, ...] = ()
    max_chars: int | None = None
    analyze_articles: bool = False
    target_fallbacks: tuple[str, ...] = ("targets",)
    keep_fields: tuple[str, ...] = ()

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
    yield those only with ``ReadOptions.analyze_articles``. ``kept`` maps every name of
    ``ReadOptions.keep_fields`` (in order) to the record's JSON-safe value or None; error
    records keep nothing (their rows go to the errors file).
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
    kept: dict[str, Any] = field(default_factory=dict)

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
    require_columns(names, options, where)


def require_columns(names: list[str], options: ReadOptions, where: str) -> None:
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
