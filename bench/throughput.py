"""Inference throughput on NewsMTSC dev sentences, measured against the FLOP bound.

Usage:
    python bench/throughput.py --model FOLDER [--data ../shared/data/newsmtsc/dev_rw.jsonl]
        [--limit N] [--batch-size 32] [--threads N] [--rounds 3] [--out results.json]

In ONE run, on the same queries (the dev file read at run time: its real length
distribution) and the same fine-tuned weights:

    (a) hf-pipeline        transformers pipeline("text-classification"), one call per item
    (b) hf-pipeline-batch  the same pipeline called on the whole list with batch_size
    (c) torch              StanceClassifier.predict, torch backend
    (d) onnx               StanceClassifier.predict, ONNX Runtime fp32
    (e) onnx-int8          StanceClassifier.predict, ONNX Runtime dynamic int8
    (c') torch/ops, (d') onnx/ops
                           (c), (d) with parallel="ops": one batch at a time, each operation
                           split over the threads (the service's default), for comparison

(c)-(e) use the default parallel="batches": one batch per core at once (model/runner.py).
Systems are timed in alternating rounds (--rounds), each with its own bound measurement;
the table shows medians of per-round numbers and ratios.

Every number is end to end (tokenization, batching, model, aggregation), items per second.
The pipeline runs the encoder of the fine-tuned folder under a sequence-classification head
(a new, untrained one: the pipeline cannot run the target-pooling head), on the same token
sequences (query segment + sentence with the target markers), so its cost is comparable but
its labels are not: macro-F1 is reported for (c)-(e) only.

FLOP bound: a matrix-multiply measurement in this run (the six weight matrices of one
encoder layer, fp32, the same threads) gives GFLOP/s; the encoder's linear layers cost
2 * L * (4 H^2 + 2 H I) FLOP per token (21.2 MFLOP for MiniLM-L6); with the tokens actually
processed per item (unpadded) that gives the most items/s fp32 linear layers allow.

A model folder without ONNX exports is copied to a temporary folder and exported there; the
folder given is never modified.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from model.backends import physical_cores
from model.classifier import StanceClassifier
from model.config import StanceConfig
from model.encoding import SPEAKER_JOINER
from model.types import StanceQuery

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "newsmtsc" / "dev_rw.jsonl"
DEFAULT_CALIBRATION = DEFAULT_DATA.with_name("train.jsonl")
CALIBRATION_ITEMS = 400
OURS = ("torch", "onnx", "onnx-int8")
# The same backends running one batch at a time, every operation split over the threads
# (parallel="ops", the service's default): how much running whole batches per core gains.
OPS_VARIANTS = ("torch/ops", "onnx/ops")


def linear_flops_per_token(encoder_config: Any) -> float:
    """FLOP per token of the encoder's linear layers: Q, K, V, output (H x H) and the
    feed-forward pair (H x I, I x H), 2 FLOP per multiply-add, times the layers."""
    h = int(encoder_config.hidden_size)
    i = int(encoder_config.intermediate_size)
    layers = int(encoder_config.num_hidden_layers)
    return float(2 * layers * (4 * h * h + 2 * h * i))


def matmul_gflops(hidden: int, intermediate: int, rows: int = 2048, repeat: int = 7) -> float:
    """fp32 GFLOP/s of one encoder layer's weight matmuls on ``rows`` tokens, best of runs."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, hidden, generator=gen)  # (M, H) activations
    square = [torch.randn(hidden, hidden, generator=gen) for _ in range(4)]  # Q K V O
    up = torch.randn(hidden, intermediate, generator=gen)  # (H, I)
    down = torch.randn(intermediate, hidden, generator=gen)  # (I, H)
    flops = 2 * rows * (4 * hidden * hidden + 2 * hidden * intermediate)

    def layer() -> None:
        for w in square:
            x @ w
        (x @ up) @ down

    with torch.inference_mode():
        layer()
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for _ in range(4):
                layer()
            best = min(best, (time.perf_counter() - started) / 4)
    return flops / best / 1e9


def load_items(
    path: Path, labels: Sequence[str], limit: int | None
) -> list[tuple[StanceQuery, int]]:
    """(query, gold index) pairs from a NewsMTSC-style file, in file order."""
    from training.data import load_examples, resolve_labels

    report = load_examples(path)
    pairs, problems = resolve_labels(report.examples, tuple(labels))
    if problems:
        print(f"skipped {len(problems)} unusable records, first: {problems[0]}", file=sys.stderr)
    return pairs[:limit] if limit else pairs


def pipeline_inputs(queries: Sequence[StanceQuery], config: StanceConfig) -> list[dict[str, str]]:
    """The same text pair the stance encoder builds: query segment, sentence with markers."""
    from model.text import find_mentions

    inputs = []
    for q in queries:
        first = q.target + (SPEAKER_JOINER + q.speaker if q.speaker else "")
        spans = sorted(q.mentions) if q.mentions is not None else find_mentions(q.text, q.target)
        text, last = [], 0
        for start, end in spans:
            text += [q.text[last:start], config.target_start, q.text[start:end], config.target_end]
            last = end
        text.append(q.text[last:])
        inputs.append({"text": first, "text_pair": "".join(text)})
    return inputs


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def ensure_exported(
    folder: Path, scratch: Path, calibration: Path | None, labels: Sequence[str]
) -> tuple[Path, dict[str, Any] | None]:
    """The folder if it has both ONNX backends, else an exported copy in ``scratch``.

    The export is verified and its int8 smoothing calibrated on the built-in sample plus the
    first CALIBRATION_ITEMS queries of ``calibration`` (a training file: never the dev set
    the table reports on).
    """
    config = StanceConfig.load(folder)
    if {"onnx", "onnx-int8"} <= set(config.backends):
        return folder, None
    copy = scratch / "model"
    shutil.copytree(folder, copy)
    print(f"{folder} has no ONNX export: exporting a copy in {copy}", file=sys.stderr)
    started = time.perf_counter()
    from model.export.onnx import export_folder
    from model.export.verify import DEFAULT_SAMPLE

    sample = list(DEFAULT_SAMPLE)
    if calibration is not None:
        sample += [q for q, _ in load_items(calibration, labels, CALIBRATION_ITEMS)]
    report = export_folder(copy, sample_queries=sample)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return copy, report


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """All measurements; returns the results dict (also printed as a table).

    Every system is loaded once, then timed in ``opts.rounds`` rounds; each round measures
    the FLOP bound and every system back to back, so each ratio compares numbers taken
    within seconds of each other. The report gives per-system medians over rounds: this
    machine's speed drifts by 20-30% between minutes (other tenants), which single
    measurements taken minutes apart would turn into fake gains or losses.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from model.batching import length_buckets
    from training.metrics import classification_metrics

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    threads = opts.threads or physical_cores()
    scratch = Path(tempfile.mkdtemp(prefix="stance-bench-"))
    try:
        labels = StanceConfig.load(Path(opts.model)).labels
        calibration = Path(opts.calibration) if opts.calibration else None
        folder, export_report = ensure_exported(Path(opts.model), scratch, calibration, labels)
        config = StanceConfig.load(folder)
        pairs = load_items(Path(opts.data), config.labels, opts.limit)
        queries = [q for q, _ in pairs]
        gold = np.array([g for _, g in pairs])
        n = len(queries)
        bs = opts.batch_size
        results: dict[str, Any] = {
            "model": str(opts.model),
            "data": str(opts.data),
            "items": n,
            "threads": threads,
            "batch_size": bs,
            "rounds": opts.rounds,
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "export": export_report,
            "systems": {},
        }

        # --- (c), (d), (e) and the one-batch-at-a-time variants: load, warm up, F1 -------
        timers: dict[str, Callable[[], Any]] = {}
        reference: np.ndarray | None = None
        for key in OURS + OPS_VARIANTS:
            backend, _, parallel = key.partition("/")
            clf = StanceClassifier.load(
                folder, backend=backend, num_threads=threads, parallel=parallel or "batches"
            )
            preds = clf.predict(queries, batch_size=bs)  # also the warm-up: pools, arenas
            probs = np.array([[p.probabilities[k] for k in clf.labels] for p in preds])
            reference = probs if reference is None else reference
            metrics = classification_metrics(probs, gold, clf.labels)
            results["systems"][key] = {
                "macro_f1": metrics["macro_f1"],
                "accuracy": metrics["accuracy"],
                "label_agreement_with_torch": float(
                    (probs.argmax(axis=1) == reference.argmax(axis=1)).mean()
                ),
                "max_abs_prob_diff_to_torch": float(np.abs(probs - reference).max()),
            }
            timers[key] = partial(clf.predict, queries, batch_size=bs)
            if key == "torch":
                flat = [w for e in clf.encode(queries) for w in e.windows]
                windows = len(flat)
                tokens = sum(len(w.input_ids) for w in flat)
                padded = sum(
                    len(idx) * max(len(flat[i].input_ids) for i in idx)
                    for idx in length_buckets(flat, bs, 8192)
                )
                enc_cfg = clf.network.encoder.config
                flops_per_token = linear_flops_per_token(enc_cfg)
        for key in timers:
            results["systems"][key].update(tokens=tokens, padded_tokens=padded)

        # --- (a), (b): the Hugging Face pipeline on the same encoder weights ------------
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        hf_model = AutoModelForSequenceClassification.from_pretrained(
            str(folder), num_labels=config.num_labels, use_safetensors=True
        ).eval()
        pipe = pipeline("text-classification", model=hf_model, tokenizer=tokenizer, device="cpu")
        inputs = pipeline_inputs(queries, config)
        kwargs = {"truncation": True, "max_length": config.max_length}
        lengths = [len(tokenizer(i["text"], i["text_pair"], **kwargs)["input_ids"]) for i in inputs]
        hf_tokens = sum(lengths)
        hf_padded = sum(
            len(lengths[s : s + bs]) * max(lengths[s : s + bs]) for s in range(0, n, bs)
        )
        hf_timers: dict[str, Callable[[], Any]] = {
            "hf-pipeline-batch": lambda: pipe(inputs, batch_size=bs, **kwargs),
        }
        if not opts.skip_naive:
            hf_timers["hf-pipeline"] = lambda: [pipe(item, **kwargs) for item in inputs]
            results["systems"]["hf-pipeline"] = {"tokens": hf_tokens, "padded_tokens": hf_tokens}
        results["systems"]["hf-pipeline-batch"] = {"tokens": hf_tokens, "padded_tokens": hf_padded}
        pipe(inputs[: min(n, bs)], batch_size=bs, **kwargs)  # warm-up

        # --- rounds: the bound and every system, back to back --------------------------
        samples: dict[str, list[float]] = {key: [] for key in [*hf_timers, *timers]}
        bounds: list[float] = []
        gflops_seen: list[float] = []
        tokens_per_item = tokens / n
        for r in range(opts.rounds):
            # the pipeline sets torch's thread count per call site; give it the same threads
            torch.set_num_threads(threads)
            gflops = matmul_gflops(int(enc_cfg.hidden_size), int(enc_cfg.intermediate_size))
            gflops_seen.append(gflops)
            bounds.append(gflops * 1e9 / (flops_per_token * tokens_per_item))
            for key, fn in [*hf_timers.items(), *timers.items()]:
                if key.startswith("hf-"):
                    torch.set_num_threads(threads)
                seconds, _ = timed(fn, 1)
                samples[key].append(n / seconds)
            print(
                f"round {r + 1}: bound {bounds[-1]:.1f} items/s; "
                + ", ".join(f"{k} {v[-1]:.1f}" for k, v in samples.items()),
                file=sys.stderr,
            )
        naive = samples.get("hf-pipeline")

        def median_ratio(values: list[float], base: list[float]) -> float:
            """Median over rounds of value / base, both taken in the same round."""
            return float(np.median([v / b for v, b in zip(values, base, strict=True)]))

        for key, values in samples.items():
            entry = results["systems"][key]
            entry["items_per_s_rounds"] = values
            entry["items_per_s"] = float(np.median(values))
            entry["x_bound"] = median_ratio(values, bounds)
            if naive:
                entry["x_naive"] = median_ratio(values, naive)
            if key != "torch":
                entry["x_torch"] = median_ratio(values, samples["torch"])
        results["bound"] = {
            "matmul_gflops": float(np.median(gflops_seen)),
            "matmul_gflops_rounds": gflops_seen,
            "linear_mflop_per_token": flops_per_token / 1e6,
            "tokens_per_item": tokens_per_item,
            "windows": windows,
            "items_per_s": float(np.median(bounds)),
            "seq_per_s_at_64_tokens": float(np.median(gflops_seen)) * 1e9 / (flops_per_token * 64),
        }
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(results: dict[str, Any]) -> list[str]:
    """The table and the target checks, as printed lines (medians over the rounds)."""
    systems = results["systems"]
    bound = results["bound"]
    order = ["hf-pipeline", "hf-pipeline-batch", *OURS, *OPS_VARIANTS]
    names = dict(zip(order, ["a", "b", "c", "d", "e", "c'", "d'"], strict=True))
    lines = [
        f"{results['items']} items from {results['data']}, {results['threads']} threads, "
        f"batch size {results['batch_size']}, medians of {results['rounds']} alternating rounds",
        f"matmul {bound['matmul_gflops']:.1f} GFLOP/s; linear layers "
        f"{bound['linear_mflop_per_token']:.1f} MFLOP/token; {bound['tokens_per_item']:.1f} "
        f"tokens/item ({bound['windows']} windows) -> fp32 bound {bound['items_per_s']:.1f} "
        f"items/s ({bound['seq_per_s_at_64_tokens']:.1f} seq/s at 64 tokens)",
        "",
        "| system | items/s | x (a) | x bound | tokens (padded) | macro-F1 | agree w/ torch |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in order:
        if key not in systems:
            continue
        s = systems[key]
        vs_naive = f"{s['x_naive']:.2f}" if "x_naive" in s else "-"
        f1 = f"{100 * s['macro_f1']:.2f}" if "macro_f1" in s else "-"
        agree = (
            f"{100 * s['label_agreement_with_torch']:.1f}%"
            if "label_agreement_with_torch" in s
            else "-"
        )
        lines.append(
            f"| ({names[key]}) {key} | {s['items_per_s']:.1f} | {vs_naive} | "
            f"{s['x_bound']:.2f} | {s['tokens']} ({s['padded_tokens']}) | {f1} | {agree} |"
        )
    lines.append("")
    best_fp32 = max(systems[k]["x_bound"] for k in ("torch", "onnx"))
    int8_vs_torch = systems["onnx-int8"]["x_torch"]
    checks = [
        (f"(c) or (d) >= 0.8 of the fp32 bound: {best_fp32:.2f}", best_fp32 >= 0.8),
        (f"(e) >= 1.5x (c): {int8_vs_torch:.2f}x", int8_vs_torch >= 1.5),
    ]
    if "hf-pipeline" in systems:
        for key in OURS:
            x = systems[key]["x_naive"]
            checks.append((f"{key} >= 4x (a): {x:.2f}x", x >= 4))
    f1_gap = 100 * (systems["torch"]["macro_f1"] - systems["onnx-int8"]["macro_f1"])
    checks.append(
        (
            f"onnx-int8 macro-F1 within 0.5 points of torch: {f1_gap:+.2f} points below",
            f1_gap <= 0.5,
        )
    )
    lines += [f"[{'PASS' if ok else 'FAIL'}] {text}" for text, ok in checks]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", required=True, help="trained model folder")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="NewsMTSC-style JSONL")
    parser.add_argument("--limit", type=int, default=None, help="first N items only")
    parser.add_argument(
        "--calibration",
        default=str(DEFAULT_CALIBRATION),
        help="training file whose first 400 queries verify the export and calibrate int8 "
        "smoothing when the model has no export ('' = the built-in sample only)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="0 = physical cores")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--skip-naive", action="store_true", help="skip (a), the slowest")
    parser.add_argument("--out", default=None, help="results JSON (default bench/results/)")
    opts = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = run(opts)
    lines = report(results)
    print("\n".join(lines))
    out = Path(
        opts.out or ROOT / "bench" / "results" / f"throughput_{time.strftime('%Y%m%d_%H%M%S')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "report": lines}, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
