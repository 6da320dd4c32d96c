"""Tests for model/text.py: sentence splitting with offsets and target-mention finding."""

from __future__ import annotations

import pytest

from model.text import Sentence, find_mentions, split_sentences


def _texts(text: str) -> list[str]:
    spans = split_sentences(text)
    for s in spans:
        assert isinstance(s, Sentence)
        assert 0 <= s.start < s.end <= len(text)
        piece = text[s.start : s.end]
        assert piece == piece.strip(), "spans exclude surrounding white space"
    return [text[s.start : s.end] for s in spans]


# --------------------------------------------------------------------------- split_sentences


def test_simple_split_offsets_point_into_text() -> None:
    text = "The port reopened. Traders cheered!  Will prices fall? Nobody knows."
    spans = split_sentences(text)
    assert [(s.start, s.end) for s in spans] == [(0, 18), (19, 35), (37, 54), (55, 68)]
    assert _texts(text) == [
        "The port reopened.",
        "Traders cheered!",
        "Will prices fall?",
        "Nobody knows.",
    ]


def test_leading_and_trailing_white_space_excluded() -> None:
    text = "   Rain fell.   Roads flooded.   "
    assert split_sentences(text) == [Sentence(3, 13), Sentence(16, 30)]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Alder met Dr. Brandt at noon.",
        "Mrs. Cole and Prof. Diaz disagreed.",
        "The U.S. Senate passed the bill.",
        "Officials from the U.N. Security Council arrived.",
        "J. Smith wrote the report.",
        "The memo was signed by A. B. Carter.",
        "He lives at No. 12 Elm Street.",
        "Sen. Ward and Gov. Price spoke.",
        "Costs rose, e.g. Fuel and rent.",
    ],
)
def test_abbreviations_and_initials_do_not_split(text: str) -> None:
    assert _texts(text) == [text]


def test_abbreviation_inside_longer_text() -> None:
    text = "Mr. Alder arrived late. Dr. Brandt had left. The U.S. Navy stayed."
    assert _texts(text) == [
        "Mr. Alder arrived late.",
        "Dr. Brandt had left.",
        "The U.S. Navy stayed.",
    ]


def test_lower_case_after_period_does_not_split() -> None:
    text = "Prices rose 3.5 percent. in March, said the bank. Then they fell."
    assert _texts(text) == ["Prices rose 3.5 percent. in March, said the bank.", "Then they fell."]


def test_digit_starts_a_new_sentence() -> None:
    text = "The vote was close. 52 senators agreed."
    assert _texts(text) == ["The vote was close.", "52 senators agreed."]


def test_newlines_split_even_without_punctuation() -> None:
    text = "HARBOUR DEAL SIGNED\nBy a staff reporter\n\nThe deal was signed. Unions objected.\n"
    assert _texts(text) == [
        "HARBOUR DEAL SIGNED",
        "By a staff reporter",
        "The deal was signed.",
        "Unions objected.",
    ]


def test_carriage_returns_and_blank_lines() -> None:
    text = "First line\r\n\r\n   \r\nSecond line.\r\n"
    assert _texts(text) == ["First line", "Second line."]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = 'She said "we will win." Then she left. \u201cNever again.\u201d He nodded.'
    assert _texts(text) == [
        'She said "we will win."',
        "Then she left.",
        "\u201cNever again.\u201d",
        "He nodded.",
    ]


def test_opening_quote_or_bracket_starts_next_sentence() -> None:
    text = 'The minister resigned. "It is over," she said. (Details were scarce.) Aid continued.'
    assert _texts(text) == [
        "The minister resigned.",
        '"It is over," she said.',
        "(Details were scarce.)",
        "Aid continued.",
    ]


def test_ellipsis_and_multiple_marks() -> None:
    text = "Wait... Then what?! Nothing."
    assert _texts(text) == ["Wait...", "Then what?!", "Nothing."]


def test_empty_and_white_space_only() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t \n") == []


def test_no_terminal_punctuation() -> None:
    assert _texts("a headline without a period") == ["a headline without a period"]


def test_offsets_with_noise_characters() -> None:
    text = "\u00a0\u00a0Caf\u00e9 owners \U0001f600 protested. Police watched."
    assert _texts(text) == ["Caf\u00e9 owners \U0001f600 protested.", "Police watched."]


# --------------------------------------------------------------------------- find_mentions


def test_whole_word_case_insensitive() -> None:
    text = "Brexit, brexit and BREXIT; but not Brexiteers or antibrexit."
    spans = find_mentions(text, "Brexit")
    assert spans == [(0, 6), (8, 14), (19, 25)]
    assert [text[a:b] for a, b in spans] == ["Brexit", "brexit", "BREXIT"]


def test_multi_word_target_tolerates_white_space() -> None:
    text = "The European\n  Union said so; the european union agreed."
    spans = find_mentions(text, "European  Union")
    assert [text[a:b] for a, b in spans] == ["European\n  Union", "european union"]


def test_last_name_fallback() -> None:
    text = "Trump said the wall would be built. Critics mocked trump."
    spans = find_mentions(text, "Donald Trump")
    assert spans == [(0, 5), (51, 56)]


def test_full_name_preferred_over_last_name() -> None:
    text = "Donald Trump spoke; later Trump left."
    assert find_mentions(text, "Donald Trump") == [(0, 12)]


def test_last_name_fallback_needs_a_capitalised_word() -> None:
    # "the mission" must not fall back to "mission"
    assert find_mentions("The mission failed.", "space mission") == []
    # short last words are not used either
    assert find_mentions("Li spoke today.", "Wei Li") == []


def test_leading_article_fallback() -> None:
    text = "Labour leaders said White House officials lied."
    spans = find_mentions(text, "the White House")
    assert [text[a:b] for a, b in spans] == ["White House"]
    text = "Voters backed Referendum Party candidates."
    assert [text[a:b] for a, b in find_mentions(text, "A Referendum Party")] == ["Referendum Party"]


def test_article_kept_when_present() -> None:
    text = "The Guardian reported it; Guardian staff agreed."
    assert find_mentions(text, "The Guardian") == [(0, 12)]


def test_special_characters_are_escaped() -> None:
    text = "Shares of AT&T rose; C++ fans (and U.S. officials) cheered."
    assert [text[a:b] for a, b in find_mentions(text, "AT&T")] == ["AT&T"]
    assert [text[a:b] for a, b in find_mentions(text, "C++")] == ["C++"]
    assert [text[a:b] for a, b in find_mentions(text, "U.S.")] == ["U.S."]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("The senate debated the budget.", "Angela Merkel"),
        ("Nothing relevant here.", "NATO"),
        ("Natorp wrote it.", "NATO"),
        ("Anything at all.", ""),
        ("Anything at all.", "   "),
    ],
)
def test_no_match_returns_empty_list(text: str, target: str) -> None:
    assert find_mentions(text, target) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("." * 100_000, [(0, 100_000)]),
        ("!?" * 50_000 + " Next one.", [(0, 100_000), (100_001, 100_010)]),
        ("Wait" + "." * 50_000 + "\u201d" * 50_000 + " Then.", [(0, 100_004), (100_005, 100_010)]),
        (" " * 50_000 + "a" + " " * 50_000, [(50_000, 50_001)]),
    ],
)
def test_long_runs_of_punctuation_or_space_split_in_linear_time(text, expected) -> None:
    # A regex that backtracks over a run retried from each of its positions took minutes here.
    import time

    started = time.perf_counter()
    spans = [(s.start, s.end) for s in split_sentences(text)]
    assert time.perf_counter() - started < 0.5
    assert spans == expected
