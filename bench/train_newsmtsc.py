"""Train the default encoder on NewsMTSC train, early-stop on dev_rw; report dev numbers.

Usage:
    STANCE_NEWSMTSC_DIR=../shared/data/newsmtsc python bench/train_newsmtsc.py \
        [--set model.pooling=mean] [--set training.epochs=1] [--bundled] [--out DIR]

Prints macro-F1 / accuracy on dev_rw and dev_mt, ECE before and after temperature scaling,
wall time and peak RSS, and writes the full metadata JSON under bench/results/.
Goes through training.pipeline.run_training, the same code path as `stance train`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.args import load_run_config
from training.pipeline import run_training

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "training" / "configs" / "default.toml"


def _parse_set(items: list[str]) -> dict[str, dict[str, object]]:
    overrides: dict[str, dict[str, object]] = {"model": {}, "training": {}, "data": {}}
    for item in items:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides[section][name] = value
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", action="append", default=[], help="section.key=value override")
    parser.add_argument("--bundled", action="store_true", help="also train on the bundled corpus")
    parser.add_argument("--out", default=None, help="output folder (default bench/results/RUN)")
    opts = parser.parse_args()
    overrides = _parse_set(opts.set)
    overrides["data"].setdefault(
        "train", ["newsmtsc-train", *(["bundled"] if opts.bundled else [])]
    )
    run = load_run_config(DEFAULT_CONFIG, overrides)
    name = "train_" + time.strftime("%Y%m%d_%H%M%S")
    out = Path(opts.out or Path(__file__).resolve().parent / "results" / name)
    started = time.perf_counter()
    outcome = run_training(run, out, do_register=False)
    wall = time.perf_counter() - started
    meta = outcome.metadata
    rows = [
        ("dev_rw macro-F1", meta["eval_metrics"]["newsmtsc-dev-rw"]["macro_f1"]),
        ("dev_rw accuracy", meta["eval_metrics"]["newsmtsc-dev-rw"]["accuracy"]),
        ("dev_mt macro-F1", meta["eval_metrics"]["newsmtsc-dev-mt"]["macro_f1"]),
        ("dev_mt accuracy", meta["eval_metrics"]["newsmtsc-dev-mt"]["accuracy"]),
        ("dev_rw ECE before temperature", meta["dev_metrics_uncalibrated"]["ece"]),
        ("dev_rw ECE after temperature", meta["dev_metrics"]["ece"]),
        ("temperature", meta["temperature"]),
        ("steps (best)", f"{meta['steps']} ({meta['best_step']})"),
        ("train wall time, min", meta["train_seconds"] / 60),
        ("total wall time, min", wall / 60),
        ("peak RSS, MiB", meta["peak_rss_mib"]),
    ]
    summary = {
        "config": {
            "model": run.model.to_dict(),
            "training": run.training.to_dict(),
            "data": run.data,
        },
        "results": dict((k, v) for k, v in rows),
    }
    (out / "bench_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print("\n| metric | value |\n|---|---|")
    for key, value in rows:
        print(f"| {key} | {value:.4f} |" if isinstance(value, float) else f"| {key} | {value} |")


if __name__ == "__main__":
    main()
