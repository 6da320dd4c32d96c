"""Classification metrics and calibration: macro-F1, F_avg, per-class scores, ECE, temperature.

Averages run over the model's labels that occur in the gold data: a label with no gold
example has no defined F1, and counting it as 0 deflates the average (a three-class model
scored on binary data). ``f_avg`` is the mean F1 of the labels meaning positive and
negative (FAVOR / AGAINST), the SemEval-2016 and P-Stance measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from model.labels import default_stance

ECE_BINS = 15


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: mean |accuracy - confidence| over equal-width confidence bins, weighted by
    bin size. ``probs`` (N, K), ``gold`` (N,) class indices."""
    if len(gold) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == gold).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i+1]]; confidence is always >= 1/K > 0.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def reliability_bins(
    probs: np.ndarray, gold: np.ndarray, bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """Per-bin confidence, accuracy and count, for the reliability diagram."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == gold).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        in_bin = which == b
        rows.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": int(in_bin.sum()),
                "confidence": float(confidence[in_bin].mean()) if in_bin.any() else 0.0,
                "accuracy": float(correct[in_bin].mean()) if in_bin.any() else 0.0,
            }
        )
    return rows


def classification_metrics(
    probs: np.ndarray, gold: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """n, macro_f1 (over ``labels_scored``: the labels with gold examples), f_avg (when the
    model has a positive and a negative label, both with gold examples), accuracy, ece,
    per_class {precision, recall, f1, support} for every label, and the confusion matrix.
    ``probs`` (N, K) in the order of ``labels``; ``gold`` (N,) label indices."""
    pred = probs.argmax(axis=1)
    idx = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=idx, zero_division=0
    )
    scored = [i for i in idx if support[i] > 0]
    extra: dict[str, Any] = {}
    stance_index = {default_stance(label): i for i, label in enumerate(labels)}
    polar = [stance_index.get("positive"), stance_index.get("negative")]
    if all(i is not None and support[i] > 0 for i in polar):
        extra["f_avg"] = float(np.mean([f1[i] for i in polar if i is not None]))
    return {
        "n": len(gold),
        "macro_f1": float(np.mean(f1[scored])) if scored else 0.0,
        "labels_scored": [labels[i] for i in scored],
        **extra,
        "accuracy": float(accuracy_score(gold, pred)) if len(gold) else 0.0,
        "ece": expected_calibration_error(probs, gold),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": confusion_matrix(gold, pred, labels=idx).tolist(),
    }


def fit_temperature(logits: np.ndarray, gold: np.ndarray, max_iter: int = 200) -> float:
    """Temperature T > 0 minimising the NLL of softmax(logits / T) on held-out data.

    Optimises log T (so T stays positive) with L-BFGS; ``logits`` (N, K), ``gold`` (N,).
    Clamped to [0.05, 20] so a degenerate dev set cannot produce an absurd value.
    """
    if len(gold) == 0:
        return 1.0
    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(gold, dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), y)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))
