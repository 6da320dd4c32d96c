"""Sentence splitting and target-mention finding, both with character offsets.

Offsets always point into the caller's original text (noise included), so evidence returned
to a user can be highlighted in the document they sent. Nothing here rewrites the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

# Abbreviations after which a period does not end a sentence (lower-cased, without the dot).
# Words that are also common sentence-final words ("sun", "no", "mar") are left out.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sen",
        "rep",
        "gov",
        "gen",
        "col",
        "lt",
        "maj",
        "capt",
        "sgt",
        "adm",
        "cmdr",
        "pres",
        "amb",
        "jr",
        "sr",
        "inc",
        "ltd",
        "corp",
        "co",
        "nos",
        "vs",
        "etc",
        "al",
        "fig",
        "approx",
        "dept",
        "univ",
        "jan",
        "feb",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "thu",
        "fri",
        "u.s",
        "u.n",
        "u.k",
        "e.u",
        "a.m",
        "p.m",
        "i.e",
        "e.g",
    }
)
_BEFORE_NUMERAL = frozenset({"no", "nos", "art", "vol"})
# A candidate sentence end: terminal punctuation, optional closing quotes/brackets, then space.
# Linear time on hostile input: a match only starts at the first mark of a run, and the
# possessive quantifiers never backtrack (a plain ``[.!?]+`` retried from every position of
# a 100,000-character run of dots, which took minutes).
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?=\s)")
# What may start the next sentence: an upper-case letter, digit, or opening quote/bracket.
_NEXT_START = re.compile(r"\s++[\"'“‘(\[]*+[A-Z0-9]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


@dataclass(frozen=True)
class Sentence:
    """A sentence as a character span of the original text."""

    start: int
    end: int


def _is_abbreviation(text: str, period_pos: int) -> bool:
    """True when the period at ``period_pos`` closes an abbreviation or an initial."""
    match = _WORD_BEFORE.search(text, max(0, period_pos - 12), period_pos + 1)
    if match is None or match.end() != period_pos + 1:
        return False
    word = match.group(1)
    # A single capital letter ("J. Smith") is an initial, not a sentence end.
    if len(word) == 1 and word.isupper():
        return True
    lowered = word.lower().rstrip(".")
    # "No." abbreviates "number" only before a numeral ("No. 12"); elsewhere it is a word.
    if lowered in _BEFORE_NUMERAL:
        return text[period_pos + 1 : period_pos + 3].strip()[:1].isdigit()
    return lowered in _ABBREVIATIONS


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; spans exclude surrounding white space.

    Lines are split first (scraped articles put headlines, datelines and paragraphs on
    their own lines, often without terminal punctuation), then each line at sentence
    punctuation followed by white space and a capitalised word, skipping abbreviations.
    """
    sentences: list[Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        line_start, line_end = line.span()
        cut = line_start
        for boundary in _BOUNDARY.finditer(text, line_start, line_end):
            end = boundary.end()
            if not _NEXT_START.match(text, end, line_end):
                continue
            lone_period = text[boundary.start()] == "." and boundary.end() - boundary.start() == 1
            if lone_period and _is_abbreviation(text, boundary.start()):
                continue
            _append_stripped(text, cut, end, sentences)
            cut = end
        _append_stripped(text, cut, line_end, sentences)
    return sentences


def _append_stripped(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end))


def _target_variants(target: str) -> list[str]:
    """Surface forms to look for, most specific first."""
    target = " ".join(target.split())
    variants = [target]
    lowered = target.lower()
    for article in ("the ", "a ", "an "):
        if lowered.startswith(article) and len(target) > len(article) + 2:
            variants.append(target[len(article) :])
    words = target.split()
    # A multi-word name is often referred to by its last word ("Donald Trump" -> "Trump"),
    # but only when that word looks like a name, not "the mission" -> "mission".
    if len(words) > 1 and words[-1][:1].isupper() and len(words[-1]) >= 3:
        variants.append(words[-1])
    return variants


def find_mentions(text: str, target: str) -> list[Span]:
    """Character spans where ``target`` is mentioned in ``text`` (whole words, any case).

    Tries the full target first; only if it never occurs, shorter variants (without a
    leading article, then the last word of a multi-word name). Returns sorted spans.
    """
    for variant in _target_variants(target):
        if not variant.strip():
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in variant.split()) + r"(?!\w)"
        spans = [m.span() for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
        if spans:
            return spans
    return []
