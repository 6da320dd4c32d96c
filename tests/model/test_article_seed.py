"""The seed article the product was designed around, in a team-written version of the same
shape (issue 12): a press conference where the president's long quote opens after "...the
battlefield: \"" and closes at the end of the *next* paragraph without a reopening mark.

Stance labels depend on a trained model, so only attribution and targets are checked here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.article import (
    ArticleAnalysis,
    analyze_article,
    clean_article,
    find_quotes,
)
from model.article.attribution import AUTHOR, attribute
from tests.keyword_stub import KeywordStanceClassifier

SEED = (Path(__file__).parent / "data" / "seed_press_conference.txt").read_text(encoding="utf-8")


def test_every_sentence_of_the_long_quote_is_aliyevs() -> None:
    article = clean_article(SEED)
    scan = find_quotes(SEED, article.paragraphs)
    assert scan.unclosed == [] and scan.stray == []
    result = attribute(article, scan.quotes)
    quotes = [s for s in result.speeches if s.kind == "quote"]
    assert [s.speaker for s in quotes] == ["Ilham Aliyev"] * 3
    long_quote = quotes[-1]
    assert [SEED[a:b].split(".")[0] for a, b in long_quote.spans] == [
        "The activity of foreign soldiers on our territory is regulated strictly by the "
        "trilateral statement",
        "The presence of any other foreign forces in the region is not a subject of discussion "
        "and will not be",
    ]
    lo, hi = long_quote.spans[0][0], long_quote.spans[-1][1]
    inside = [u for u in result.units if lo <= u.start and u.end <= hi]
    assert len(inside) == 4  # its four sentences
    assert {u.speaker for u in inside} == {"Ilham Aliyev"}
    assert not any(u.kind == AUTHOR for u in inside)
    authors = [SEED[u.start : u.end] for u in result.units if u.speaker is None]
    assert not any("sabotage" in t or "foreign forces" in t for t in authors)


@pytest.fixture(scope="module")
def analysis() -> ArticleAnalysis:
    return analyze_article(SEED, KeywordStanceClassifier())


def test_auto_targets_name_the_monitoring_center_not_abstract_heads(
    analysis: ArticleAnalysis,
) -> None:
    names = [t.name for t in analysis.targets]
    assert "Turkish-Russian Joint Monitoring Center" in names
    assert "Russian peacekeepers" in names
    assert "Armenian sabotage group" in names
    lowered = {n.lower() for n in names}
    assert not lowered & {"activity", "activities", "goal"}
    assert analysis.warnings == ()


def test_speakers_are_aliyev_and_the_author_only(analysis: ArticleAnalysis) -> None:
    assert {s.speaker for s in analysis.stances} <= {"Ilham Aliyev", None}
    aliyev = {s.target for s in analysis.stances if s.speaker == "Ilham Aliyev"}
    assert {
        "Russian peacekeepers",
        "Turkish-Russian Joint Monitoring Center",
        "Armenian sabotage group",
    } <= aliyev
    # No author row about what only Aliyev said inside his quote.
    author = {s.target for s in analysis.stances if s.speaker is None}
    assert "Armenian sabotage group" not in author
    assert "Turkish-Russian Joint Monitoring Center" not in author
