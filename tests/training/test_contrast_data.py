"""The team-written speaker-contrast data: training parts d and e and the bench dev set stay
valid and disjoint (training/corpus/README.md, bench/data/README.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "training" / "corpus"
DEV = ROOT / "bench" / "data" / "contrast_dev.jsonl"
LABELS = {"negative", "neutral", "positive"}
# file, id prefix, distinct texts, pairs with a neutral side (as the corpus README states)
PARTS = [
    ("part_d_contrast.jsonl", "d", 150, 38),
    ("part_e_contrast.jsonl", "e", 200, 60),
    ("part_f_consequence.jsonl", "f", 117, 36),
    ("part_g_consequence.jsonl", "g", 118, 36),
    ("part_h_articles.jsonl", "h", 99, 31),
    ("part_i_consequence.jsonl", "i", 100, 30),
    ("part_j_plain.jsonl", "j", 117, 29),
    ("part_k_plain.jsonl", "k", 120, 30),
    ("part_l_plain.jsonl", "l", 117, 31),
    ("part_m_plain.jsonl", "m", 116, 31),
    ("part_n_quotes.jsonl", "n", 116, 33),
    ("part_o_quotes.jsonl", "o", 117, 34),
    ("part_p_quotes.jsonl", "p", 114, 33),
    ("part_q_quotes.jsonl", "q", 111, 31),
    ("part_r_facevalue.jsonl", "r", 67, 21),
    ("part_s_facevalue.jsonl", "s", 64, 24),
]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("name", "prefix", "texts", "neutral_pairs"), PARTS)
def test_training_contrasts_are_pairs_with_different_labels(
    name: str, prefix: str, texts: int, neutral_pairs: int
) -> None:
    rows = _rows(CORPUS / name)
    by_text: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        assert row["label"] in LABELS and row["kind"] == "speaker_contrast"
        assert row["speaker"].casefold() in row["text"].casefold(), row["id"]
        by_text[row["text"]].append(row)
    assert len(by_text) == texts and len(rows) == 2 * texts
    assert len({r["id"] for r in rows}) == 2 * texts
    for pair in by_text.values():
        assert len(pair) == 2 and pair[0]["target"] == pair[1]["target"]
        assert pair[0]["label"] != pair[1]["label"]
        assert pair[0]["speaker"] != pair[1]["speaker"]
        # ids d-0001a / d-0001b: one number per text, suffixes a and b
        assert sorted(r["id"] for r in pair) == [f"{pair[0]['id'][:-1]}{s}" for s in "ab"]
        assert pair[0]["id"].startswith(f"{prefix}-")
    assert sum(any(r["label"] == "neutral" for r in p) for p in by_text.values()) == neutral_pairs


def test_training_contrast_parts_share_no_text_or_target() -> None:
    parts = [_rows(CORPUS / name) for name, *_ in PARTS]
    for i, first in enumerate(parts):
        for second in parts[i + 1 :]:
            assert not {r["text"] for r in first} & {r["text"] for r in second}
            targets = {r["target"].casefold() for r in second}
            assert not {r["target"].casefold() for r in first} & targets


def test_dev_set_pairs_and_no_overlap_with_training() -> None:
    pairs = _rows(DEV)
    assert len(pairs) == 104 and len({p["id"] for p in pairs}) == 104
    for pair in pairs:
        labels = [s["label"] for s in pair["speakers"]]
        assert len(labels) == 2 and labels[0] != labels[1] and set(labels) <= LABELS
    assert sum("neutral" in [s["label"] for s in p["speakers"]] for p in pairs) == 29
    trained = [r for path in CORPUS.glob("*.jsonl") for r in _rows(path)]
    assert not {r["text"] for r in trained} & {p["text"] for p in pairs}
    # Contrast rows share no target with the dev set either (texts alone could differ by a word).
    contrast_targets = {r["target"].casefold() for r in trained if r["kind"] == "speaker_contrast"}
    assert not contrast_targets & {p["target"].casefold() for p in pairs}
