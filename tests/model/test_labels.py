"""Tests for model/labels.py: reading label values, label maps, label lists, label sets."""

from __future__ import annotations

import math

import pytest

from model.config import DEFAULT_LABELS
from model.labels import (
    ALIAS_TO_LABEL,
    LabelError,
    LabelRules,
    check_label_list,
    check_label_map,
    default_stance,
    is_number,
    label_set,
    newsmtsc_label,
    parse_label_list,
    parse_label_map,
    read_labels,
)

# --------------------------------------------------------------------------- spellings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FAVOR", "positive"),
        ("AGAINST", "negative"),
        ("NONE", "neutral"),
        ("favour", "positive"),
        ("pro", "positive"),
        ("Con", "negative"),
        ("neither", "neutral"),
        (" Positive ", "positive"),
        ("oppose", "negative"),
    ],
)
def test_named_spellings_have_a_default_stance(raw: str, expected: str) -> None:
    assert default_stance(raw) == expected


@pytest.mark.parametrize("raw", ["1", "-1", "0", "2", "6.0", "+1", "maybe", ""])
def test_numbers_and_unknown_words_have_no_stance(raw: str) -> None:
    assert default_stance(raw) is None


def test_alias_table_has_no_numbers() -> None:
    assert set(ALIAS_TO_LABEL.values()) == set(DEFAULT_LABELS)
    assert not any(is_number(alias) for alias in ALIAS_TO_LABEL)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2", True), ("-1", True), ("+1", True), ("2.0", True), (".5", True), ("1e0", True)],
)
def test_is_number(raw: str, expected: bool) -> None:
    assert is_number(raw) is expected


@pytest.mark.parametrize("raw", ["nan", "inf", "one", "", "1-2", "FAVOR"])
def test_is_not_number(raw: str) -> None:
    assert not is_number(raw)


@pytest.mark.parametrize(
    ("polarity", "expected"),
    [(2.0, "negative"), (4.0, "neutral"), (6.0, "positive"), (6, "positive")],
)
def test_newsmtsc_polarity(polarity: object, expected: str) -> None:
    assert newsmtsc_label(polarity) == expected


@pytest.mark.parametrize("polarity", [3.0, "6.0", None, True, math.nan, 0, 1])
def test_newsmtsc_polarity_other_values(polarity: object) -> None:
    assert newsmtsc_label(polarity) is None


# --------------------------------------------------------------------------- read_labels


def test_read_labels_maps_a_file_of_named_spellings() -> None:
    assert read_labels(["FAVOR", "AGAINST", "NONE"]) == ["positive", "negative", "neutral"]


def test_read_labels_keeps_a_custom_set_that_is_not_all_spellings() -> None:
    assert read_labels(["support", "deny", "FAVOR"]) == ["support", "deny", "FAVOR"]


def test_read_labels_refuses_numbers_with_counts_and_the_fix() -> None:
    with pytest.raises(LabelError) as info:
        read_labels(["2", "0", "1", "0", "10"])
    assert str(info.value) == (
        "label values are numbers, whose meaning differs between datasets (VAST: 0 = con; "
        "TweetEval: 0 = none), so they are not guessed: '0' (2 records), '1' (1 record), "
        "'2' (1 record), '10' (1 record); say what each number means with --label-map (or "
        "label_map in the [data] table), e.g. --label-map '0=NAME,1=NAME,2=NAME,10=NAME'"
    )


def test_read_labels_shows_at_most_ten_values() -> None:
    with pytest.raises(LabelError, match=r"'9' \(1 record\), \.\.\. and 2 more; say what"):
        read_labels([str(i) for i in range(12)])


def test_read_labels_with_map_then_spellings() -> None:
    tweeteval = {"0": "none", "1": "against", "2": "favor"}
    assert read_labels(["0", "1", "2", "2.0"], tweeteval) == [
        "neutral",
        "negative",
        "positive",
        "positive",
    ]
    # Map keys and values are taken as given when they are custom names.
    assert read_labels(["a", "B"], {"a": "left", "b": "right"}) == ["left", "right"]


def test_read_labels_against_labels_matches_exactly_then_by_spelling() -> None:
    labels = ("negative", "positive")
    assert read_labels(["AGAINST", "favor", "Positive"], labels=labels) == [
        "negative",
        "positive",
        "positive",
    ]
    # The model's own names win over spellings (support is not positive here).
    custom = ("comment", "deny", "query", "support")
    assert read_labels(["support"], labels=custom) == ["support"]
    with pytest.raises(LabelError) as info:
        read_labels(["favor", "none", "none"], labels=labels)
    assert str(info.value) == (
        "label(s) 'none' (2 records) not among the model's labels ['negative', 'positive']; "
        "map them onto those with --label-map, or remove those records"
    )


def test_read_labels_numeric_model_labels_match_exactly() -> None:
    # A model whose labels are numbers (named so explicitly) reads its own numbers.
    assert read_labels(["1", "0"], labels=("0", "1")) == ["1", "0"]


def test_label_rules_read() -> None:
    rules = LabelRules(label_map={"x": "pro"}, labels=("negative", "positive"))
    assert rules.read(["x", "con"]) == ["positive", "negative"]
    assert LabelRules(aliases=False).read(["FAVOR"]) == ["FAVOR"]


# --------------------------------------------------------------------------- label_set


def test_label_set_order() -> None:
    assert label_set(["positive", "negative", "neutral"]) == DEFAULT_LABELS
    assert label_set(["positive", "negative"]) == ("negative", "positive")
    assert label_set(["query", "deny"]) == ("deny", "query")


def test_label_set_needs_two_labels() -> None:
    with pytest.raises(LabelError) as info:
        label_set(["positive", "positive"])
    assert str(info.value) == (
        "the training data has only the label(s) ['positive']; a classifier needs at least 2 "
        "(check --label-col and --label-map)"
    )


# --------------------------------------------------------------------------- options


def test_parse_label_map() -> None:
    assert parse_label_map("0=negative, 1 = positive ,2=neutral") == {
        "0": "negative",
        "1": "positive",
        "2": "neutral",
    }
    assert check_label_map({0: "con", "1": "pro"}) == {"0": "con", "1": "pro"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "0:negative",
            "'0:negative' is not VALUE=LABEL; write e.g. '0=negative,1=positive,2=neutral'",
        ),
        ("0=a=b", "'0=a=b' is not VALUE=LABEL; write e.g. '0=negative,1=positive,2=neutral'"),
        ("=negative", "empty or invalid value ''; write e.g. '0=negative,1=positive,2=neutral'"),
        ("0=", "value '0' maps to ''; give a label name"),
        (
            "0=1",
            "value '0' maps to the number '1'; map it to a name such as "
            "negative, neutral, positive",
        ),
        ("1=pro,1.0=con", "value '1.0' is mapped more than once; map each value once"),
    ],
)
def test_parse_label_map_errors(text: str, message: str) -> None:
    with pytest.raises(LabelError) as info:
        parse_label_map(text)
    assert str(info.value) == message


def test_check_label_map_errors() -> None:
    with pytest.raises(LabelError, match=r"^the map is empty; write e\.g\. '0=negative"):
        check_label_map({})
    with pytest.raises(LabelError, match=r"^value '0' maps to 3; give a label name$"):
        check_label_map({"0": 3})


def test_parse_label_list() -> None:
    assert parse_label_list(" positive,negative ") == ("positive", "negative")
    assert check_label_list(["a", "b", "c"]) == ("a", "b", "c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("positive", "a classifier needs at least 2 labels, found ['positive']"),
        ("a,,b", "empty or non-text label in ['a', '', 'b']; write e.g. 'negative,positive'"),
        ("pos,Pos,neg", "label(s) ['Pos', 'pos'] given more than once (case is ignored)"),
    ],
)
def test_parse_label_list_errors(text: str, message: str) -> None:
    with pytest.raises(LabelError) as info:
        parse_label_list(text)
    assert str(info.value) == message
