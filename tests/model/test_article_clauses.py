"""Tests for clauses.py: sentences cut at contrast connectors, outside quotes."""

from __future__ import annotations

import pytest

from model.article.clauses import clause_spans
from model.article.spans import Areas


def _clauses(text: str, quoted: Areas | None = None) -> list[str]:
    return [text[lo:hi] for lo, hi in clause_spans(text, 0, len(text), quoted or Areas())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ruiz praised it, while Eklund called it a mistake.",
            ["Ruiz praised it", "Eklund called it a mistake."],
        ),
        ("Ruiz praised it, but Eklund objected.", ["Ruiz praised it", "Eklund objected."]),
        ("Ruiz praised it, whereas Eklund objected.", ["Ruiz praised it", "Eklund objected."]),
        ("Ruiz praised it although Eklund objected.", ["Ruiz praised it", "Eklund objected."]),
        ("Ruiz praised it; Eklund objected.", ["Ruiz praised it", "Eklund objected."]),
        # No connector: one clause; a connector word inside another word is no cut.
        ("Ruiz praised the butter market.", ["Ruiz praised the butter market."]),
        # A cut right at the start would leave an empty clause.
        (" but Eklund objected.", [" but Eklund objected."]),
        # Without a comma a connector cuts only before a subject: adjectives joined by
        # "but" are one clause; a determiner or a pronoun opens a new one.
        (
            "Durand called the closure a sad but necessary saving.",
            ["Durand called the closure a sad but necessary saving."],
        ),
        ("It works slowly but surely.", ["It works slowly but surely."]),
        ("Ruiz praised it but the mayor objected.", ["Ruiz praised it", "the mayor objected."]),
        ("Ruiz praised it though she had doubts.", ["Ruiz praised it", "she had doubts."]),
        # With a comma the connector always cuts, as before.
        ("Ruiz praised it, but privately objected.", ["Ruiz praised it", "privately objected."]),
    ],
)
def test_cuts_at_connectors(text: str, expected: list[str]) -> None:
    assert _clauses(text) == expected


def test_a_connector_inside_a_quote_is_not_a_cut() -> None:
    text = "“It is fast, but it is late,” Ruiz said, while Eklund objected."
    quoted = Areas([(0, text.index("”") + 1)])
    assert _clauses(text, quoted) == ["“It is fast, but it is late,” Ruiz said", "Eklund objected."]


def test_offsets_are_into_the_whole_text() -> None:
    text = "Intro. Ruiz praised it, but Eklund objected."
    lo = text.index("Ruiz")
    assert clause_spans(text, lo, len(text), Areas()) == [(7, 22), (28, 44)]
