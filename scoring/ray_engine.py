"""The ``ray`` engine: Ray Data reads the archive and an actor pool scores it."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from model.limits import MAX_ARTICLE_CHARS
from scoring.archive import ArchiveFile, ArchiveRecord, ReadOptions, ScoringError
from scoring.engines import LocalEngine
from scoring.options import ScoringOptions
from scoring.readers import read_file
from scoring.rows import RecordResult
from scoring.workfolder import PartAssembler


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
        max_chars: int = MAX_ARTICLE_CHARS,
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
            # Kept input fields as one JSON object: any names and JSON types, one schema.
            pa.field("kept", pa.string()),
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
                "kept": json.dumps(r.kept, ensure_ascii=False),
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
            kept=json.loads(r["kept"]) if r["kept"] else {},
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
    """A Ray file datasource that streams records with :mod:`scoring.readers`.

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
    dependencies (same image or ``pip install``); the ``model`` and ``scoring`` packages are
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
            import scoring as scoring_package

            ray.init(
                address=options.ray_address,
                runtime_env={
                    "py_modules": [
                        str(Path(model_package.__file__).parent),
                        str(Path(scoring_package.__file__).parent),
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
                "max_chars": options.read.article_limit,
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
