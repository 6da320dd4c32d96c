"""The run loop: plan the archive, open the work folder, score what is left, finalize."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scoring.archive import (
    ArchiveError,
    ArchiveFile,
    ArchiveRecord,
    ScoringError,
    input_fingerprint,
    plan_archive,
)
from scoring.engines import Engine, HttpEngine, LocalEngine
from scoring.options import Log, ScoringOptions, ScoringSummary, _stderr, output_format
from scoring.ray_engine import score_with_ray
from scoring.readers import count_records, iter_records
from scoring.workfolder import PartAssembler, PartInfo, WorkFolder


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
            "target": " or ".join(read.target_fields),
            "speaker": read.fields.speaker,
            "id": read.fields.id,
        },
        "encoding": read.encoding,
        "targets": list(read.default_targets),
        "max_chars": read.text_limit,
        "part_size": options.part_size,
        "output": output_format(options.output),
        "scorer": scorer,
    }
    if read.analyze_articles:
        # Only when given: work folders started before the option existed still resume.
        arguments["analyze_articles"] = True
        arguments["max_article_chars"] = read.article_limit
    if read.keep_fields:
        # Only when given, like analyze_articles. The rows of every part must carry the same
        # fields, so a resumed run with other --keep-fields is refused.
        arguments["keep_fields"] = list(read.keep_fields)
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
        from model.store import resolve_model

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
    if work.finished is not None:
        records = work.finished["records"]
        log(
            f"{output} is complete: the same command already scored its {records} records; "
            "nothing to do (pass --overwrite to score again)"
        )
        return ScoringSummary(
            records=records,
            rows=work.finished["rows"],
            errors=work.finished["errors"],
            resumed=records,
            seconds=time.monotonic() - started,
            output=work.output,
            errors_path=work.errors_path,
        )
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
                    engine = _build_engine(options, model_dir, tag, log)
                labels = tuple(getattr(engine, "labels", ()))
                _score_in_process(files, options, done, engine, assembler, bar.update)
            assembler.finish(total)
        elif model_dir is not None:
            labels = _model_labels(model_dir)
    finally:
        bar.close()
        if own_engine and engine is not None:
            engine.close()
    totals = work.finalize(
        total, part_size, output_format(work.output), labels, options.read.keep_fields
    )
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


def _build_engine(options: ScoringOptions, model_dir: Path | None, tag: str, log: Log) -> Engine:
    if options.engine == "http":
        return HttpEngine(
            options.url or "",
            options.batch,
            retries=options.retries,
            timeout=options.timeout,
            log=log,
        )
    assert model_dir is not None  # resolved in run_scoring for model engines
    return LocalEngine.load(
        model_dir, tag, options.batch, backend=options.backend, max_chars=options.read.article_limit
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


def error_digest(errors_path: Path) -> tuple[int, str, int]:
    """``(records with an error, most common reason, records with that reason)`` from an
    errors file (streamed; a record counts once per reason however many targets failed)."""
    from collections import Counter

    failed: set[int] = set()
    reasons: Counter[str] = Counter()
    seen: set[tuple[int, str]] = set()
    with errors_path.open("r", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            index, reason = int(row["index"]), str(row["reason"])
            failed.add(index)
            if (index, reason) not in seen:
                seen.add((index, reason))
                reasons[reason] += 1
    if not reasons:
        return 0, "", 0
    reason, count = reasons.most_common(1)[0]
    return len(failed), reason, count
