"""The attribution dev set: gold offsets are exact and the JSONL matches its marked source."""

from __future__ import annotations

import itertools

import pytest

from bench.attribution import name_tokens, same_speaker
from bench.attribution_data import SETS, build, load, parse_marked

_MARKS = '“”"«»'


@pytest.mark.parametrize("name", SETS)
def test_jsonl_is_built_from_the_marked_source(name: str) -> None:
    assert load(name) == build(name), "run `python -m bench.attribution_data` after editing"


@pytest.mark.parametrize("name", SETS)
def test_gold_quotes_sit_between_quotation_marks(name: str) -> None:
    for art in load(name):
        text = art["text"]
        spans = sorted((q["start"], q["end"]) for q in art["quotes"])
        for (_, a_end), (b_start, _) in itertools.pairwise(spans):
            assert a_end <= b_start, (art["id"], a_end, b_start)
        for q in art["quotes"]:
            said = text[q["start"] : q["end"]]
            assert said == said.strip() and said, (art["id"], said)
            assert text[q["start"] - 1] in _MARKS, (art["id"], said[:40])
            # American style puts the full stop inside the marks: called it "reckless."
            closing = text[q["end"] : q["end"] + 2].lstrip(".,!?")
            assert closing[:1] in _MARKS, (art["id"], said[-40:])
            assert q["speaker"].strip() == q["speaker"], art["id"]


def test_dev_set_size() -> None:
    dev = load("dev")
    assert len(dev) >= 40
    assert sum(len(a["quotes"]) for a in dev) >= 400


def test_parse_marked_offsets() -> None:
    source = '### a1\nHead\n\n"{{Jane Doe|We won,|pron}}" she said of "{{-|The Book|title}}."\n'
    [art] = parse_marked(source)
    assert art["text"] == 'Head\n\n"We won," she said of "The Book."'
    [q] = art["quotes"]
    assert art["text"][q["start"] : q["end"]] == "We won,"
    assert (q["speaker"], q["org"], q["tags"]) == ("Jane Doe", False, ["pron"])
    [n] = art["non_quotes"]
    assert art["text"][n["start"] : n["end"]] == "The Book"


def test_parse_marked_rejects_text_before_the_first_article() -> None:
    with pytest.raises(ValueError, match="text before the first"):
        parse_marked("stray\n### a1\nText\n")


def test_speaker_matching() -> None:
    assert name_tokens("Samuel Okonkwo Jr.") == ["samuel", "okonkwo"]
    assert same_speaker("Okonkwo", "Samuel Okonkwo Jr.", org=False)
    assert not same_speaker("Samuel Whitford", "Maya Lindgren", org=False)
    assert not same_speaker(None, "Maya Lindgren", org=False)
    assert same_speaker("The Morning Standard", "Morning Standard", org=True)
    assert same_speaker("Agriculture Ministry", "Ministry of Agriculture", org=True) is False
    assert same_speaker("Ministry of Agriculture", "Ministry of Agriculture", org=True)
    assert not same_speaker("ministry", "Ministry of Agriculture", org=True)
