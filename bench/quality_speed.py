"""What the quality preset's encoder costs: all-mpnet-base-v2 against the default MiniLM-L6.

Usage:
    python bench/quality_speed.py [--inference] [--training] [--newsmtsc-dir DIR]
        [--queries 200] [--train-examples 500] [--steps 30] [--threads N]

Both encoders, in ONE run, on the same data and settings (training/configs/default.toml's
[model] table with only base_model swapped; everything on the CPU):

    --inference  queries/s of an untrained classifier (StanceClassifier.from_base, torch
                 backend, predict with batch 32, after one warm-up batch) on the first
                 --queries NewsMTSC dev_rw queries; prints the MiniLM / mpnet ratio.
    --training   seconds per step of --steps training steps of batch 16 (training.trainer
                 Trainer, no dev set, no calibration) on the first --train-examples NewsMTSC
                 train examples, and the projected time of the quality preset's full run:
                 ceil(0.9 * 10,135 / 16) * 3 epochs = 1,713 steps (10,135 = NewsMTSC train
                 8,739 + bundled corpus 1,396 queries; 0.9: the 10% holdout; one window per
                 query, as these single sentences give). Evaluations on the holdout every
                 200 steps come on top. Slow for mpnet on a CPU (minutes).

Always printed first: each encoder's linear-layer FLOP per token, 2 * L * (4 H^2 + 2 H I)
(from its config.json), the cost ratio a CPU with nothing else running approaches.

Neither flag: both. Needs the mpnet parts installed (see README, quality preset); the first
run reassembles them once (model/network.py). Numbers on a shared machine vary with its
load: the load average is printed with them, and the ratios are the portable part.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from transformers import AutoConfig

from model.backends import physical_cores
from model.classifier import StanceClassifier
from model.config import DEFAULT_BASE_MODEL, StanceConfig
from model.network import resolve_base_model
from model.types import StanceQuery
from training.args import TrainingArgs, load_run_config
from training.data import load_examples, resolve_labels
from training.datasets import newsmtsc_file
from training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
QUALITY_BASE_MODEL = "all-mpnet-base-v2"
ENCODERS = (DEFAULT_BASE_MODEL, QUALITY_BASE_MODEL)
# The quality preset's full run: training queries, minus the 10% holdout, in batches of
# 16, for 3 epochs (training/configs/quality.toml).
PRESET_TRAIN_QUERIES = 10_135
PRESET_STEPS = math.ceil(0.9 * PRESET_TRAIN_QUERIES / 16) * 3


def load_pairs(
    name: str, folder: Path | None, labels: tuple[str, ...], limit: int
) -> list[tuple[StanceQuery, int]]:
    """The first ``limit`` (query, label index) pairs of NewsMTSC file ``name``, in order."""
    path = newsmtsc_file(name, folder, download=False)
    pairs, problems = resolve_labels(load_examples(path).examples, labels)
    if problems:
        print(f"skipped {len(problems)} unusable records, first: {problems[0]}", file=sys.stderr)
    return pairs[:limit]


def linear_flops_per_token(name: str) -> float:
    """FLOP of the encoder's linear layers per token: 2 * L * (4 H^2 + 2 H I)."""
    config = AutoConfig.from_pretrained(resolve_base_model(name), trust_remote_code=False)
    hidden, inner = int(config.hidden_size), int(config.intermediate_size)
    return 2.0 * int(config.num_hidden_layers) * (4 * hidden**2 + 2 * hidden * inner)


def inference_rate(config: StanceConfig, queries: list[StanceQuery]) -> float:
    """Queries per second of an untrained classifier on ``queries`` (after a warm-up)."""
    classifier = StanceClassifier.from_base(config, torch.device("cpu"))
    classifier.network.eval()
    classifier.predict(queries[:32], batch_size=32)  # warm-up: allocator, kernels
    started = time.perf_counter()
    classifier.predict(queries, batch_size=32)
    return len(queries) / (time.perf_counter() - started)


def step_seconds(
    config: StanceConfig, train: list[tuple[StanceQuery, int]], steps: int, threads: int
) -> float:
    """Seconds per training step (batch 16) over ``steps`` steps, loading excluded."""
    args = TrainingArgs(
        max_steps=steps, batch_size=16, progress=False, calibrate=False, num_threads=threads
    )
    result = Trainer(config, args, train).train()
    return result.seconds / result.steps


def main() -> None:
    """Parse flags, run the chosen measurements for both encoders, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inference", action="store_true", help="measure queries/s")
    parser.add_argument("--training", action="store_true", help="measure seconds/step")
    parser.add_argument(
        "--newsmtsc-dir", type=Path, help="NewsMTSC folder (default: $STANCE_NEWSMTSC_DIR)"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--train-examples", type=int, default=500)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=physical_cores())
    opts = parser.parse_args()
    both = not (opts.inference or opts.training)
    torch.set_num_threads(opts.threads)
    base = load_run_config(ROOT / "training" / "configs" / "default.toml", {}).model
    configs = {name: replace(base, base_model=name) for name in ENCODERS}
    print(f"threads {opts.threads}, load average {os.getloadavg()[0]:.2f} at start")
    flops = {name: linear_flops_per_token(name) for name in ENCODERS}
    for name, value in flops.items():
        print(f"  {name:<22} {value / 1e6:6.1f} MFLOP/token in linear layers")
    print(f"  ratio {flops[QUALITY_BASE_MODEL] / flops[DEFAULT_BASE_MODEL]:.2f}x")

    if opts.inference or both:
        pairs = load_pairs("dev_rw.jsonl", opts.newsmtsc_dir, base.labels, opts.queries)
        queries = [q for q, _ in pairs]
        rates = {name: inference_rate(configs[name], queries) for name in ENCODERS}
        print(f"\ninference, {len(queries)} dev_rw queries, torch backend, batch 32")
        for name, rate in rates.items():
            print(f"  {name:<22} {rate:8.1f} queries/s")
        ratio = rates[DEFAULT_BASE_MODEL] / rates[QUALITY_BASE_MODEL]
        print(f"  {QUALITY_BASE_MODEL} is {ratio:.2f}x slower than {DEFAULT_BASE_MODEL}")

    if opts.training or both:
        train = load_pairs("train.jsonl", opts.newsmtsc_dir, base.labels, opts.train_examples)
        seconds = {
            name: step_seconds(configs[name], train, opts.steps, opts.threads) for name in ENCODERS
        }
        print(f"\ntraining, {opts.steps} steps of batch 16 on {len(train)} train examples")
        for name, per_step in seconds.items():
            hours = per_step * PRESET_STEPS / 3600
            print(
                f"  {name:<22} {per_step:6.2f} s/step; full preset ({PRESET_STEPS} steps): "
                f"{hours:5.1f} h"
            )
        ratio = seconds[QUALITY_BASE_MODEL] / seconds[DEFAULT_BASE_MODEL]
        print(f"  {QUALITY_BASE_MODEL} steps take {ratio:.2f}x as long")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
