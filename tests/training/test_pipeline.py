"""Tests for training/pipeline.py's DataOptions: the [data] label map, validated where it
enters and applied to the user's files only (named sources are read in their own format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.args import ArgsError, load_run_config
from training.data import DataError
from training.pipeline import DataOptions


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _vast(tmp_path: Path) -> Path:
    rows = [
        {"text": "Taxing sugar will make children healthier.", "target": "sugar tax", "label": 1},
        {"text": "The sugar tax punishes the poor.", "target": "sugar tax", "label": 0},
        {"text": "Parliament debates the sugar tax today.", "target": "sugar tax", "label": 2},
    ]
    path = tmp_path / "vast.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "table",
    [
        '[data]\nlabel_map = { 0 = "con", 1 = "pro", 2 = "neutral" }',
        '[data]\nlabel_map = "0=con,1=pro,2=neutral"',
    ],
)
def test_toml_label_map_table_or_text(tmp_path: Path, table: str) -> None:
    run = load_run_config(_toml(tmp_path, table), {})
    options = DataOptions.from_dict({**run.data, "train": [str(_vast(tmp_path))]})
    assert options.label_map == {"0": "con", "1": "pro", "2": "neutral"}
    report = options.load(str(_vast(tmp_path)))
    assert [e.label for e in report.examples] == ["positive", "negative", "neutral"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '{ 0 = "con", "0.0" = "pro" }',
            "[data].label_map: value '0.0' is mapped more than once; map each value once",
        ),
        (
            '["0=con"]',
            "[data].label_map: expected a table or text such as "
            "'0=negative,1=positive,2=neutral', found ['0=con']",
        ),
    ],
)
def test_toml_label_map_errors(tmp_path: Path, value: str, message: str) -> None:
    run = load_run_config(_toml(tmp_path, f"[data]\nlabel_map = {value}"), {})
    with pytest.raises(ArgsError) as info:
        DataOptions.from_dict(run.data)
    assert str(info.value) == message


def test_labels_outside_the_model_are_an_error(tmp_path: Path) -> None:
    options = DataOptions.from_dict({"label_map": "0=con,1=pro,2=neutral"})
    with pytest.raises(DataError) as info:
        options.load(str(_vast(tmp_path)), ("negative", "positive"))
    assert str(info.value) == (
        f"{tmp_path / 'vast.jsonl'}: label(s) 'neutral' (1 record) not among the model's labels "
        "['negative', 'positive']; map them onto those with --label-map, or remove those records"
    )


def test_label_map_is_not_applied_to_named_sources() -> None:
    # The bundled corpus is read in its own format: a map meant for the user's file
    # (here one that would rename "positive") leaves it alone.
    options = DataOptions.from_dict({"label_map": "positive=renamed"})
    labels = {e.label for e in options.load("bundled").examples}
    assert labels == {"negative", "neutral", "positive"}


def test_holdout_dev_is_validated_where_the_config_enters() -> None:
    with pytest.raises(ArgsError) as info:
        DataOptions.from_dict({"dev": "holdout:2"})
    assert str(info.value) == (
        "[data].dev: 'holdout:2' needs a fraction in (0, 0.5] after 'holdout:', e.g. 'holdout:0.1'"
    )
    assert DataOptions.from_dict({"dev": "holdout:0.1"}).dev == "holdout:0.1"
