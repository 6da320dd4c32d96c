"""Tests for training/metrics.py: ECE, reliability bins, classification metrics, temperature."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import (
    ECE_BINS,
    classification_metrics,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)

LABELS = ["negative", "neutral", "positive"]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


# --------------------------------------------------------------------------- ECE


def test_ece_empty_is_zero() -> None:
    assert expected_calibration_error(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 0.0


def test_ece_confident_and_right_is_zero_confident_and_wrong_is_one() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert expected_calibration_error(probs, np.array([0, 2])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 1])) == pytest.approx(1.0)


def test_ece_two_samples_in_different_bins() -> None:
    # confidences 0.9 (right) and 0.8 (wrong, predicts class 1) fall in different 1/15 bins:
    # ECE = 1/2 * |1 - 0.9| + 1/2 * |0 - 0.8| = 0.45
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert expected_calibration_error(probs, np.array([0, 0])) == pytest.approx(0.45)


def test_ece_two_samples_in_the_same_bin() -> None:
    # both confidences 0.9, one right one wrong: accuracy 0.5 -> |0.5 - 0.9| = 0.4
    probs = np.array([[0.9, 0.1], [0.1, 0.9]])
    assert expected_calibration_error(probs, np.array([0, 0])) == pytest.approx(0.4)


def test_ece_weighted_by_bin_size_with_two_bins() -> None:
    # bins (0, 0.5] and (0.5, 1]:
    #   bin 0: conf 0.40 right, 0.45 wrong -> acc 0.5, conf 0.425 -> 0.075, weight 1/2
    #   bin 1: conf 0.60 right, 0.70 wrong -> acc 0.5, conf 0.650 -> 0.150, weight 1/2
    probs = np.array(
        [[0.40, 0.35, 0.25], [0.30, 0.45, 0.25], [0.60, 0.30, 0.10], [0.20, 0.10, 0.70]]
    )
    gold = np.array([0, 0, 0, 0])
    assert expected_calibration_error(probs, gold, bins=2) == pytest.approx(0.1125)
    # one bin: |acc 0.5 - mean conf 0.5375|
    assert expected_calibration_error(probs, gold, bins=1) == pytest.approx(0.0375)


def test_ece_bins_are_closed_on_the_right() -> None:
    # 0.5 belongs to bin (0, 0.5], not (0.5, 1]:
    # separate bins: 1/2 * |1 - 0.5| + 1/2 * |0 - 0.75| = 0.625 (same bin would give 0.125)
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert expected_calibration_error(probs, np.array([0, 0]), bins=2) == pytest.approx(0.625)


def test_reliability_bins_match_ece() -> None:
    rng = np.random.default_rng(0)
    probs = _softmax(rng.normal(size=(200, 3)) * 2)
    gold = rng.integers(0, 3, size=200)
    rows = reliability_bins(probs, gold)
    assert len(rows) == ECE_BINS
    assert rows[0]["lower"] == 0.0 and rows[-1]["upper"] == 1.0
    assert sum(r["count"] for r in rows) == 200
    ece = sum(r["count"] / 200 * abs(r["accuracy"] - r["confidence"]) for r in rows)
    assert expected_calibration_error(probs, gold) == pytest.approx(ece)
    # 3 classes: confidence >= 1/3, so the lowest bins (upper <= 1/3) are empty
    assert all(r["count"] == 0 and r["confidence"] == 0.0 for r in rows if r["upper"] < 1 / 3)


# --------------------------------------------------------------------------- classification_metrics


def test_classification_metrics_small_example() -> None:
    gold = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 2, 0])
    probs = np.full((6, 3), 0.2)
    probs[np.arange(6), pred] = 0.6
    metrics = classification_metrics(probs, gold, LABELS)

    assert set(metrics) == {
        "n",
        "macro_f1",
        "labels_scored",
        "f_avg",
        "accuracy",
        "ece",
        "per_class",
        "confusion",
    }
    assert metrics["labels_scored"] == LABELS
    assert metrics["n"] == 6
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    per = metrics["per_class"]
    assert list(per) == LABELS
    assert per["negative"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert per["neutral"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    )
    assert per["positive"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert metrics["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert metrics["f_avg"] == pytest.approx((0.5 + 0.8) / 2)
    assert metrics["confusion"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    # every confidence is 0.6 in one bin, accuracy 4/6
    assert metrics["ece"] == pytest.approx(abs(4 / 6 - 0.6))
    assert isinstance(metrics["macro_f1"], float) and isinstance(per["neutral"]["support"], int)


def test_classification_metrics_class_never_predicted_or_present() -> None:
    gold = np.array([0, 0, 2])
    probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.8, 0.1, 0.1]])
    metrics = classification_metrics(probs, gold, LABELS)
    assert metrics["per_class"]["neutral"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }
    assert metrics["per_class"]["positive"]["recall"] == 0.0
    assert metrics["per_class"]["negative"]["precision"] == pytest.approx(2 / 3)
    # neutral has no gold example: it is left out of the average, not counted as 0.
    assert metrics["labels_scored"] == ["negative", "positive"]
    assert metrics["macro_f1"] == pytest.approx((0.8 + 0) / 2)
    assert metrics["f_avg"] == pytest.approx((0.8 + 0) / 2)
    assert metrics["confusion"] == [[2, 0, 0], [0, 0, 0], [1, 0, 0]]


def test_three_class_model_on_binary_data_is_not_deflated() -> None:
    # A P-Stance-like case: gold has only negative / positive, all predicted right.
    gold = np.array([0, 2, 2, 0])
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.2, 0.1, 0.7], [0.6, 0.3, 0.1]])
    metrics = classification_metrics(probs, gold, LABELS)
    assert metrics["macro_f1"] == 1.0 and metrics["f_avg"] == 1.0


def test_f_avg_needs_both_polar_labels_and_reads_named_spellings() -> None:
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    # FAVOR / AGAINST are spellings of positive / negative.
    metrics = classification_metrics(probs, np.array([0, 1]), ["AGAINST", "FAVOR"])
    assert metrics["f_avg"] == 1.0
    # only one polar label in the gold data: no f_avg
    metrics = classification_metrics(probs, np.array([0, 0]), ["AGAINST", "FAVOR"])
    assert "f_avg" not in metrics and metrics["labels_scored"] == ["AGAINST"]
    # a custom label set has no f_avg
    metrics = classification_metrics(probs, np.array([0, 1]), ["deny", "query"])
    assert "f_avg" not in metrics and metrics["macro_f1"] == 1.0


# --------------------------------------------------------------------------- temperature


def _synthetic(t_true: float, n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=4.0, size=(n, 3))
    p = _softmax(logits / t_true)
    gold = np.array([rng.choice(3, p=row) for row in p])
    return logits, gold


def test_fit_temperature_recovers_known_temperature() -> None:
    logits, gold = _synthetic(2.5)
    assert fit_temperature(logits, gold) == pytest.approx(2.5, abs=0.2)


def test_fit_temperature_near_one_for_calibrated_logits() -> None:
    logits, gold = _synthetic(1.0, seed=1)
    assert fit_temperature(logits, gold) == pytest.approx(1.0, abs=0.1)


def test_fit_temperature_lowers_nll() -> None:
    logits, gold = _synthetic(2.5, n=1000, seed=2)

    def nll(t: float) -> float:
        p = _softmax(logits / t)
        return float(-np.log(p[np.arange(len(gold)), gold]).mean())

    t = fit_temperature(logits, gold)
    assert nll(t) < nll(1.0)
    assert nll(t) <= min(nll(t * 0.9), nll(t * 1.1))


def test_fit_temperature_empty_and_clamped() -> None:
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0
    # labels unrelated to strong logits: the best T is huge, clamped to 20
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=10.0, size=(500, 3))
    gold = rng.integers(0, 3, size=500)
    assert fit_temperature(logits, gold) == 20.0
