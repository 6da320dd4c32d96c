"""Evaluation reports: metrics.json, predictions.jsonl, confusion matrix and reliability PNGs,
and a short report.md."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.classifier import StanceClassifier
from model.types import StanceQuery
from training.metrics import classification_metrics, reliability_bins


def evaluate_model(
    classifier: StanceClassifier,
    pairs: Sequence[tuple[StanceQuery, int]],
    report_dir: str | Path | None = None,
    batch_size: int = 64,
    title: str = "evaluation",
) -> dict[str, Any]:
    """Score labelled queries; write the report folder when ``report_dir`` is given."""
    queries = [q for q, _ in pairs]
    gold = [g for _, g in pairs]
    encoded = classifier.encode(queries)
    windows = [w for e in encoded for w in e.windows]
    logits = classifier.window_logits(windows, batch_size)
    predictions = classifier.combine(queries, encoded, logits)
    probs = np.array([[p.probabilities[lab] for lab in classifier.labels] for p in predictions])
    gold_arr = np.asarray(gold, dtype=np.int64)
    metrics = classification_metrics(probs, gold_arr, classifier.labels)
    spoken = [p for q, p in zip(queries, predictions, strict=True) if q.speaker]
    if spoken:
        # How often the speaker path could answer from the speaker's own statements.
        metrics["speaker_queries"] = {
            "n": len(spoken),
            "found": sum(bool(p.speaker_found) for p in spoken),
            "mentions_target": sum(bool(p.speaker_mentions_target) for p in spoken),
            "whole_text_fallback": sum(not p.speaker_statements for p in spoken),
        }
    if report_dir is not None:
        folder = Path(report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        with (folder / "predictions.jsonl").open("w", encoding="utf-8") as out:
            for query, pred, g in zip(queries, predictions, gold, strict=True):
                row = {
                    "id": query.id,
                    "target": query.target,
                    "speaker": query.speaker,
                    "label": pred.label,
                    "gold": classifier.labels[g],
                    "probabilities": pred.probabilities,
                    "evidence": [e.to_dict() for e in pred.evidence],
                    "speaker_found": pred.speaker_found,
                    "speaker_mentions_target": pred.speaker_mentions_target,
                    "speaker_statements": pred.speaker_statements,
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        labels = list(classifier.labels)
        _plot_confusion(np.array(metrics["confusion"]), labels, folder / "confusion_matrix.png")
        bins = reliability_bins(probs, gold_arr)
        _plot_reliability(bins, metrics["ece"], folder / "reliability.png")
        (folder / "report.md").write_text(
            _markdown(title, metrics, labels, classifier), encoding="utf-8"
        )
    return metrics


def _plot_confusion(matrix: np.ndarray, labels: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    peak = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            color = "white" if matrix[i, j] > peak / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    ax.set_title("Confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_reliability(bins: list[dict[str, float]], ece: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    centers = [(b["lower"] + b["upper"]) / 2 for b in bins if b["count"]]
    accuracy = [b["accuracy"] for b in bins if b["count"]]
    width = bins[0]["upper"] - bins[0]["lower"]
    ax.bar(centers, accuracy, width=width * 0.9, label="accuracy", color="#4c72b0")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {ece:.3f})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown(
    title: str, metrics: dict[str, Any], labels: list[str], model: StanceClassifier
) -> str:
    lines = [
        f"# {title}",
        "",
        f"- examples: {metrics['n']}",
        *headline_lines(metrics, labels),
        f"- accuracy: {metrics['accuracy']:.4f}",
        f"- ECE: {metrics['ece']:.4f} (temperature {model.config.temperature:.3f})",
        f"- base model: {model.config.base_model}, pooling {model.config.pooling}",
        "",
        "| label | precision | recall | f1 | support |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        c = metrics["per_class"][label]
        lines.append(
            f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} "
            f"| {c['support']} |"
        )
    lines += ["", "![confusion](confusion_matrix.png) ![reliability](reliability.png)", ""]
    return "\n".join(lines)


def headline_lines(metrics: dict[str, Any], labels: Sequence[str]) -> list[str]:
    """Markdown bullets: the headline macro-F1, over which labels and why; F_avg if given."""
    scored = metrics["labels_scored"]
    absent = [label for label in labels if label not in scored]
    why = (
        f"over the {len(scored)} labels of the model that occur in this data ({', '.join(scored)})"
    )
    if absent:
        why += (
            f"; {', '.join(absent)} {'has' if len(absent) == 1 else 'have'} no gold examples "
            "here and so no defined F1, and averaging in a 0 would understate the model"
        )
    lines = [f"- **headline: macro-F1 {metrics['macro_f1']:.4f}**, {why}"]
    if "f_avg" in metrics:
        lines.append(
            f"- F_avg (mean F1 of positive and negative, the SemEval-2016 / P-Stance measure, "
            f"for comparison with published numbers): {metrics['f_avg']:.4f}"
        )
    return lines
