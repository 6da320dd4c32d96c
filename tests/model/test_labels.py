"""Tests for model/labels.py: normalize_label and the alias table."""

from __future__ import annotations

import math

import pytest

from model.config import DEFAULT_LABELS
from model.labels import ALIAS_TO_LABEL, normalize_label

CUSTOM = ("support", "deny", "query", "comment")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("positive", "positive"),
        ("Negative", "negative"),
        ("  NEUTRAL  ", "neutral"),
    ],
)
def test_exact_match_is_case_insensitive_without_aliases(raw: str, expected: str) -> None:
    assert normalize_label(raw, DEFAULT_LABELS) == expected
    assert normalize_label(raw, DEFAULT_LABELS, aliases=True) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # SemEval-2016
        ("FAVOR", "positive"),
        ("AGAINST", "negative"),
        ("NONE", "neutral"),
        ("favour", "positive"),
        # pro / con
        ("pro", "positive"),
        ("Con", "negative"),
        ("neither", "neutral"),
        ("support", "positive"),
        ("oppose", "negative"),
        # numeric strings and numbers
        ("1", "positive"),
        ("+1", "positive"),
        ("-1", "negative"),
        ("0", "neutral"),
        (" -1 ", "negative"),
        ("1.0", "positive"),
        ("-1.0", "negative"),
        ("0.0", "neutral"),
        (1, "positive"),
        (-1, "negative"),
        (0, "neutral"),
        (1.0, "positive"),
        (-1.0, "negative"),
        # NewsMTSC polarities
        ("6.0", "positive"),
        ("2.0", "negative"),
        ("4.0", "neutral"),
        (6.0, "positive"),
        (2.0, "negative"),
        (4.0, "neutral"),
        ("6", "positive"),
        ("+6", "positive"),
    ],
)
def test_aliases_map_onto_default_labels(raw: object, expected: str) -> None:
    assert normalize_label(raw, DEFAULT_LABELS, aliases=True) == expected


@pytest.mark.parametrize("raw", ["FAVOR", "pro", "1", "-1", "6.0", 2.0, 0])
def test_aliases_are_off_by_default(raw: object) -> None:
    assert normalize_label(raw, DEFAULT_LABELS) is None


@pytest.mark.parametrize(
    "raw",
    [
        "maybe",
        "",
        "   ",
        "3",
        "5.0",
        2.5,
        "2.5",
        "-2",
        math.nan,
        math.inf,
        "nan",
        None,
        True,
        False,
    ],
)
def test_unknown_values_give_none(raw: object) -> None:
    assert normalize_label(raw, DEFAULT_LABELS, aliases=True) is None


def test_alias_only_applies_when_target_set_has_the_label() -> None:
    # "favor" means positive, but this label set has no "positive".
    assert normalize_label("favor", ("negative", "neutral"), aliases=True) is None
    assert normalize_label("against", ("negative", "neutral"), aliases=True) == "negative"


def test_custom_label_set_keeps_its_labels() -> None:
    for label in CUSTOM:
        assert normalize_label(label.upper(), CUSTOM) == label
        assert normalize_label(label, CUSTOM, aliases=True) == label
    # "support" is also an alias of positive, but the exact match wins and aliases of the
    # default stances never map into a set that lacks them.
    assert normalize_label("FAVOR", CUSTOM, aliases=True) is None
    assert normalize_label("1", CUSTOM, aliases=True) is None


def test_result_uses_the_spelling_of_the_label_set() -> None:
    labels = ("Negative", "Neutral", "Positive")
    assert normalize_label("positive", labels) == "Positive"
    assert normalize_label("FAVOR", labels, aliases=True) == "Positive"
    assert normalize_label("2.0", labels, aliases=True) == "Negative"


def test_numeric_label_sets_match_numerically() -> None:
    labels = ("0", "1", "2")
    assert normalize_label(1, labels) == "1"
    assert normalize_label("2.0", labels) == "2"
    assert normalize_label(" 0 ", labels) == "0"
    assert normalize_label("3", labels) is None


def test_alias_table_is_consistent() -> None:
    assert set(ALIAS_TO_LABEL.values()) == set(DEFAULT_LABELS)
    for alias, label in ALIAS_TO_LABEL.items():
        assert alias == alias.lower().strip()
        assert normalize_label(alias, DEFAULT_LABELS, aliases=True) == label
