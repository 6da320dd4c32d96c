"""Benchmark archive scoring (`stance score`): throughput per engine and memory vs archive size.

    python bench/score_archive.py --model runs/X/model [--records 5000] [--big-records 50000]

One run builds a synthetic archive from the NewsMTSC dev sentences (read at run time from
``--newsmtsc-dir``, default ../shared/data/newsmtsc; repeated with fresh ids to the sizes
asked for; written to a temporary folder, never into the repository), then measures, each in
its own subprocess so that nothing is warm or shared:

1. ``local`` engine: records/s and (record, target) queries/s, end to end and without the
   model load;
2. a naive loop calling a Hugging Face ``pipeline("text-classification")`` one item at a time
   on the same encoder weights (AutoModelForSequenceClassification from the model folder, so
   a random head: the point is the per-item cost, not the labels), on ``--naive-items`` items;
3. ``ray`` engine (local Ray, ``--workers`` actors) on the same archive, end to end;
4. peak RSS of the local engine on ``--records`` vs ``--big-records`` records (a flat memory
   profile means the ratio stays near 1), from each child's ``getrusage`` high-water mark.

Then prints the numbers and the ratios. ``--skip-ray`` / ``--skip-naive`` / ``--skip-rss`` drop
parts; the 50,000-record run is the slow one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NEWSMTSC = ROOT.parent / "shared" / "data" / "newsmtsc"
DEV_FILES = ("dev_rw.jsonl", "dev_mt.jsonl")


# ----------------------------------------------------------------------------- archive
def newsmtsc_items(folder: Path) -> list[dict[str, Any]]:
    """(sentence, distinct target mentions) of the NewsMTSC dev files."""
    items: list[dict[str, Any]] = []
    for name in DEV_FILES:
        path = folder / name
        if not path.is_file():
            raise SystemExit(f"{path} not found; pass --newsmtsc-dir (the folder with {DEV_FILES})")
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                mentions = [t.get("mention") for t in record.get("targets", [])]
                targets = list(dict.fromkeys(m for m in mentions if isinstance(m, str) and m))
                text = record.get("sentence_normalized")
                if isinstance(text, str) and text.strip() and targets:
                    items.append({"text": text, "target": targets})
    if not items:
        raise SystemExit(f"no usable sentences in {folder}")
    return items


def write_archive(items: list[dict[str, Any]], records: int, path: Path) -> int:
    """``records`` records cycling through ``items`` (unique ids); returns the query count."""
    queries = 0
    with path.open("w", encoding="utf-8") as handle:
        for i in range(records):
            item = items[i % len(items)]
            queries += len(item["target"])
            handle.write(json.dumps({"id": f"r{i}", **item}, ensure_ascii=False) + "\n")
    return queries


# ----------------------------------------------------------------------------- children
def child_local(args: dict[str, Any]) -> dict[str, Any]:
    """Score with the local engine; timings and this process's peak RSS."""
    from scoring.engines import LocalEngine
    from scoring.options import ScoringOptions
    from scoring.run import run_scoring

    start = time.perf_counter()
    engine = LocalEngine.load(args["model"], args["model"], batch_size=256)
    loaded = time.perf_counter()
    options = ScoringOptions(
        input=Path(args["input"]), output=Path(args["output"]), model=args["model"], progress=False
    )
    summary = run_scoring(options, engine=engine, log=lambda _: None)
    end = time.perf_counter()
    return {
        "records": summary.records,
        "rows": summary.rows,
        "errors": summary.errors,
        "load_s": loaded - start,
        "score_s": end - loaded,
        "total_s": end - start,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_ray(args: dict[str, Any]) -> dict[str, Any]:
    """Score with the ray engine (local Ray, ``workers`` actors), end to end."""
    from scoring.options import ScoringOptions
    from scoring.run import run_scoring

    start = time.perf_counter()
    options = ScoringOptions(
        input=Path(args["input"]),
        output=Path(args["output"]),
        model=args["model"],
        engine="ray",
        workers=int(args["workers"]),
        progress=False,
    )
    summary = run_scoring(options, log=lambda _: None)
    return {
        "records": summary.records,
        "rows": summary.rows,
        "total_s": time.perf_counter() - start,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_naive(args: dict[str, Any]) -> dict[str, Any]:
    """One ``pipeline`` call per (text, target): the per-item cost without batching."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    folder = args["model"]
    labels = json.loads((Path(folder) / "stance_config.json").read_text())["labels"]
    start = time.perf_counter()
    # The folder's encoder weights under a randomly initialised classification head.
    net = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=len(labels))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    classify = pipeline("text-classification", model=net, tokenizer=tokenizer, device=-1)
    loaded = time.perf_counter()
    queries: list[tuple[str, str]] = []
    with Path(args["input"]).open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            queries.extend((record["text"], t) for t in record["target"])
            if len(queries) >= int(args["items"]):
                break
    queries = queries[: int(args["items"])]
    classify({"text": queries[0][1], "text_pair": queries[0][0]}, truncation=True)  # warm-up
    timed = time.perf_counter()
    for text, target in queries:
        classify({"text": target, "text_pair": text}, truncation=True)
    end = time.perf_counter()
    return {
        "queries": len(queries),
        "load_s": loaded - start,
        "score_s": end - timed,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


CHILDREN = {"local": child_local, "ray": child_ray, "naive": child_naive}


def run_child(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(args)]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ----------------------------------------------------------------------------- main
def main() -> None:
    """Parse arguments, run the measurements, print the report."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(CHILDREN[sys.argv[2]](json.loads(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="stance model folder")
    parser.add_argument("--records", type=int, default=5000, help="archive size (>= 5000)")
    parser.add_argument("--big-records", type=int, default=50000, help="RSS comparison size")
    parser.add_argument("--naive-items", type=int, default=500, help="items for the naive loop")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors")
    parser.add_argument("--newsmtsc-dir", type=Path, default=None)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    opts = parser.parse_args()
    model = str(Path(opts.model).resolve())
    if not (Path(model) / "stance_config.json").is_file():
        raise SystemExit(f"{model} is not a stance model folder (no stance_config.json)")
    source = opts.newsmtsc_dir or Path(os.environ.get("STANCE_NEWSMTSC_DIR", DEFAULT_NEWSMTSC))
    items = newsmtsc_items(source)
    results: dict[str, Any] = {"records": opts.records, "newsmtsc_sentences": len(items)}
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        work = Path(tmp)
        archive = work / "archive.jsonl"
        queries = write_archive(items, opts.records, archive)
        results["queries"] = queries
        print(f"archive: {opts.records} records, {queries} (record, target) queries", flush=True)

        local = run_child(
            "local", {"model": model, "input": str(archive), "output": str(work / "local.jsonl")}
        )
        results["local"] = local
        local_rps = local["records"] / local["score_s"]
        local_qps = local["rows"] / local["score_s"]
        print(
            f"local : {local_rps:8.1f} records/s, {local_qps:8.1f} queries/s scoring "
            f"({local['records'] / local['total_s']:.1f} records/s end to end incl. "
            f"{local['load_s']:.1f} s load); peak RSS {local['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        if not opts.skip_naive:
            naive = run_child(
                "naive", {"model": model, "input": str(archive), "items": opts.naive_items}
            )
            results["naive"] = naive
            naive_qps = naive["queries"] / naive["score_s"]
            results["local_vs_naive_queries_per_s"] = local_qps / naive_qps
            print(
                f"naive : {naive_qps:8.1f} queries/s (HF pipeline, one item per call, "
                f"{naive['queries']} items)",
                flush=True,
            )
        if not opts.skip_ray:
            ray = run_child(
                "ray",
                {
                    "model": model,
                    "input": str(archive),
                    "output": str(work / "ray.parquet"),
                    "workers": opts.workers,
                },
            )
            results["ray"] = ray
            results["ray_vs_local_end_to_end"] = (ray["records"] / ray["total_s"]) / (
                local["records"] / local["total_s"]
            )
            print(
                f"ray   : {ray['records'] / ray['total_s']:8.1f} records/s end to end "
                f"({opts.workers} actors, local Ray, incl. start-up)",
                flush=True,
            )
        if not opts.skip_rss:
            big_archive = work / "big.jsonl"
            write_archive(items, opts.big_records, big_archive)
            big = run_child(
                "local",
                {
                    "model": model,
                    "input": str(big_archive),
                    "output": str(work / "big.jsonl.out.jsonl"),
                },
            )
            results["local_big"] = big
            results["rss_big_vs_small"] = big["peak_rss_mb"] / local["peak_rss_mb"]
            print(
                f"rss   : {local['peak_rss_mb']:.0f} MB for {opts.records} records, "
                f"{big['peak_rss_mb']:.0f} MB for {opts.big_records}",
                flush=True,
            )
    print("\nratios")
    if "local_vs_naive_queries_per_s" in results:
        print(
            f"  local / naive pipeline (queries/s): {results['local_vs_naive_queries_per_s']:.2f}x"
        )
    if "ray_vs_local_end_to_end" in results:
        print(f"  ray / local (records/s, end to end): {results['ray_vs_local_end_to_end']:.2f}x")
    if "rss_big_vs_small" in results:
        print(
            f"  peak RSS {opts.big_records} / {opts.records} records: "
            f"{results['rss_big_vs_small']:.2f} (flat = 1.0)"
        )
    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
