"""The team-written speaker-contrast data: training part d and the bench dev set stay valid
and disjoint (training/corpus/README.md, bench/data/README.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PART_D = ROOT / "training" / "corpus" / "part_d_contrast.jsonl"
DEV = ROOT / "bench" / "data" / "contrast_dev.jsonl"
LABELS = {"negative", "neutral", "positive"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_training_contrasts_are_pairs_with_different_labels() -> None:
    rows = _rows(PART_D)
    by_text: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        assert row["label"] in LABELS and row["kind"] == "speaker_contrast"
        assert row["speaker"].casefold() in row["text"].casefold(), row["id"]
        by_text[row["text"]].append(row)
    assert len(by_text) == 150 and len(rows) == 300
    assert len({r["id"] for r in rows}) == 300
    for pair in by_text.values():
        assert len(pair) == 2 and pair[0]["target"] == pair[1]["target"]
        assert pair[0]["label"] != pair[1]["label"]
    assert sum(any(r["label"] == "neutral" for r in p) for p in by_text.values()) == 38


def test_dev_set_pairs_and_no_overlap_with_training() -> None:
    pairs = _rows(DEV)
    assert len(pairs) == 104 and len({p["id"] for p in pairs}) == 104
    for pair in pairs:
        labels = [s["label"] for s in pair["speakers"]]
        assert len(labels) == 2 and labels[0] != labels[1] and set(labels) <= LABELS
    assert sum("neutral" in [s["label"] for s in p["speakers"]] for p in pairs) == 29
    trained = {r["text"] for path in PART_D.parent.glob("*.jsonl") for r in _rows(path)}
    assert not trained & {p["text"] for p in pairs}
