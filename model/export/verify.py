"""Checking an exported graph against torch: the sample queries and the comparison."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.backends import LogitsBackend
from model.batching import length_buckets, pad_batch
from model.classifier import StanceClassifier, softmax
from model.encoding import EncodedWindow
from model.onnx_runtime import OnnxBackend
from model.types import StanceQuery

# Queries for the export check when the caller has none (written for this purpose, not taken
# from any dataset): short and long, with and without a speaker, a target that is only a
# topic, and an article long enough to be split into several windows.
_FILLER = "Officials toured the harbour and inspected the new ferry terminal on Monday. "
DEFAULT_SAMPLE: tuple[StanceQuery, ...] = (
    StanceQuery(
        text="The minister praised the monitoring mission for its calm, professional work.",
        target="the monitoring mission",
    ),
    StanceQuery(
        text="Critics accused the agency of hiding the true cost of the bridge project.",
        target="the agency",
    ),
    StanceQuery(
        text="The delegation arrived in Geneva on Tuesday for the second round of talks.",
        target="The delegation",
    ),
    StanceQuery(
        text="President Aliyev said the performance of the Russian peacekeepers can be "
        "considered satisfactory.",
        target="Russian peacekeepers",
        speaker="President Aliyev",
    ),
    StanceQuery(
        text="The union described the company's latest offer as an insult to its members.",
        target="the company",
        speaker="the union",
    ),
    StanceQuery(text="Residents blamed the utility for weeks of blackouts.", target="the utility"),
    StanceQuery(text="The court is expected to hear the case in March.", target="energy policy"),
    StanceQuery(
        text="Observers welcomed the ceasefire as a real chance for peace in the region, "
        "while the opposition called it a cynical pause that would let the army regroup.",
        target="the ceasefire",
    ),
    StanceQuery(
        text=_FILLER * 12
        + "The mayor called the ferry operator a disgrace to the city. "
        + _FILLER * 12
        + "Later the ferry operator was thanked by passengers for its quick response. "
        + _FILLER * 6,
        target="the ferry operator",
    ),
    StanceQuery(text=_FILLER * 20, target="the harbour"),
)


def window_logits(
    backend: LogitsBackend, windows: Sequence[EncodedWindow], pad_id: int, config: Any
) -> np.ndarray:
    """Logits (N, K) of ``windows`` in input order, batched as StanceClassifier does."""
    out = np.zeros((len(windows), config.num_labels), dtype=np.float32)
    for idx in length_buckets(windows, 32, 8192):
        out[idx] = backend.logits(pad_batch([windows[i] for i in idx], pad_id))
    return out


def check_graph(
    classifier: StanceClassifier,
    queries: Sequence[StanceQuery],
    encoded: Sequence[Any],
    reference: np.ndarray,
    path: Path,
    name: str,
    seconds: float,
) -> dict[str, Any]:
    """Run the graph at ``path`` on the sample windows and compare with torch."""
    windows = [w for e in encoded for w in e.windows]
    logits = window_logits(
        OnnxBackend(path, name=name), windows, classifier.pad_id, classifier.config
    )
    check = compare(classifier, queries, encoded, reference, logits)
    check.update(file=path.name, bytes=path.stat().st_size, export_seconds=round(seconds, 2))
    return check


def compare(
    classifier: StanceClassifier,
    queries: Sequence[StanceQuery],
    encoded: Sequence[Any],
    reference: np.ndarray,
    logits: np.ndarray,
) -> dict[str, Any]:
    """How far ``logits`` (N, K) lead from the torch ``reference`` (N, K)."""
    temperature = classifier.config.temperature
    window_diff = np.abs(softmax(reference / temperature) - softmax(logits / temperature))
    ref_preds = classifier.combine(queries, encoded, reference)
    new_preds = classifier.combine(queries, encoded, logits)
    labels = classifier.labels
    ref_probs = np.array([[p.probabilities[k] for k in labels] for p in ref_preds])
    new_probs = np.array([[p.probabilities[k] for k in labels] for p in new_preds])
    agree = [a.label == b.label for a, b in zip(ref_preds, new_preds, strict=True)]
    return {
        "max_abs_prob_diff": float(np.abs(ref_probs - new_probs).max()),
        "max_abs_window_prob_diff": float(window_diff.max()),
        "max_abs_logit_diff": float(np.abs(reference - logits).max()),
        "label_agreement": float(np.mean(agree)),
        "labels_changed": int(len(agree) - sum(agree)),
    }
