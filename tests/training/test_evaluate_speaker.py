"""evaluate_model reports how the speaker path answered (training/evaluate.py)."""

from __future__ import annotations

import json

from model import StanceQuery
from training.evaluate import evaluate_model

TEXT = (
    "Transport Minister Elena Ruiz said the new high-speed rail line would transform the "
    "region, while the mayor of Tarvik, Jonas Eklund, called the line a costly mistake."
)


def test_speaker_queries_are_counted_and_flagged(base_classifier, tmp_path) -> None:
    pairs = [
        (StanceQuery(text=TEXT, target="high-speed rail line", speaker="Jonas Eklund", id="a"), 0),
        (StanceQuery(text=TEXT, target="high-speed rail line", speaker="Greta Lind", id="b"), 1),
        (StanceQuery(text=TEXT, target="high-speed rail line", id="c"), 2),
    ]
    metrics = evaluate_model(base_classifier, pairs, report_dir=tmp_path)
    assert metrics["speaker_queries"] == {
        "n": 2,
        "found": 1,
        "mentions_target": 1,
        "whole_text_fallback": 1,
    }
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [
        (r["id"], r["speaker_found"], r["speaker_mentions_target"], r["speaker_statements"])
        for r in rows
    ] == [("a", True, True, 1), ("b", False, False, 0), ("c", None, None, None)]


def test_no_speaker_queries_add_no_speaker_section(base_classifier) -> None:
    pairs = [(StanceQuery(text=TEXT, target="high-speed rail line"), 0)]
    assert "speaker_queries" not in evaluate_model(base_classifier, pairs)
