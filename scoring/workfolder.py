"""The work folder of a run and its commit protocol: parts, markers, manifest, final files.

See :mod:`scoring` for the exactly-once guarantees this implements.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from model.config import DEFAULT_LABELS
from scoring.archive import ScoringError
from scoring.options import MANIFEST_VERSION
from scoring.rows import RecordResult


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
        # Left beside OUTPUT by a finished run (hidden): its arguments and totals, so that
        # the same command run again can say "complete" instead of refusing to overwrite.
        self.receipt_path = output.with_name(f".{output.name}.complete.json")
        self._lock: IO[str] | None = None
        self.manifest: dict[str, Any] = {}
        # Set by open() when OUTPUT is already the complete result of these arguments.
        self.finished: dict[str, int] | None = None

    # -- lifecycle
    def open(self, arguments: dict[str, Any], overwrite: bool) -> None:
        """Create or resume the work folder; refuse other arguments unless ``overwrite``.

        When OUTPUT is already the untouched result of a finished run with the same
        arguments, nothing is opened and :attr:`finished` holds that run's totals.
        """
        fresh = not self.manifest_path.is_file()
        if fresh and self.output.exists() and not overwrite:
            self.finished = self._finished(json.loads(json.dumps(arguments)))
            if self.finished is not None:
                return
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

    def _finished(self, wanted: dict[str, Any]) -> dict[str, int] | None:
        """The totals of the finished run that wrote OUTPUT, if it had these arguments and
        OUTPUT has not changed since (size and modification time)."""
        try:
            receipt = json.loads(self.receipt_path.read_text(encoding="utf-8"))
            stat = self.output.stat()
            same = (
                receipt["arguments"] == wanted
                and receipt["output"] == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
                and self.errors_path.is_file()
            )
            complete = receipt["complete"]
            totals = {k: int(complete[k]) for k in ("records", "rows", "errors")}
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no receipt (or an unreadable one): not provably complete
        return totals if same else None

    def _write_receipt(self, totals: dict[str, int]) -> None:
        stat = self.output.stat()
        receipt = {
            "version": MANIFEST_VERSION,
            "arguments": self.manifest.get("arguments"),
            "complete": totals,
            "output": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        }
        with _atomic(self.receipt_path) as handle:
            handle.write(json.dumps(receipt, indent=2, sort_keys=True).encode("utf-8"))

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
        self,
        total: int,
        part_size: int,
        fmt: str,
        labels: Sequence[str],
        keep_fields: Sequence[str] = (),
    ) -> dict[str, int]:
        """Concatenate every part into OUTPUT and its errors file, then remove the folder.

        ``keep_fields`` are the kept input fields every row carries (Parquet columns).

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
            self._write_parquet(count, labels, keep_fields)
        _fsync_dir(self.output.parent)
        totals = {
            "records": total,
            "rows": sum(parts[k].rows for k in range(count)),
            "errors": sum(parts[k].errors for k in range(count)),
        }
        self._write_receipt(totals)
        _fsync_dir(self.output.parent)
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

    def _write_parquet(
        self, count: int, model_labels: Sequence[str], keep_fields: Sequence[str]
    ) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        labels = self._first_labels(count) or tuple(model_labels) or DEFAULT_LABELS
        schema = parquet_schema(labels, keep_fields)
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
                        for name in keep_fields:
                            row[name] = kept_text(row.get(name))
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


def kept_text(value: Any) -> str | None:
    """A kept field's value in a Parquet column: a string as it is, null as null, any other
    JSON value as its JSON text (``2024`` -> ``"2024"``, ``["a"]`` -> ``'["a"]'``)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parquet_schema(labels: Sequence[str], keep_fields: Sequence[str] = ()) -> Any:
    """Arrow schema of the Parquet output: probabilities as a struct with one field per label,
    then one string column per kept input field.

    Kept fields are strings whatever their input type (see :func:`kept_text`): a column's
    type must be known before the first row is written, and one record's number next to
    another's text would otherwise break the file; a fixed type keeps every output valid.
    """
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
            pa.field("speaker_found", pa.bool_()),
            pa.field("speaker_mentions_target", pa.bool_()),
            pa.field("speaker_statements", pa.int64()),
            *(pa.field(name, pa.string()) for name in keep_fields),
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
