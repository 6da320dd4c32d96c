"""Find direct quotes in article paragraphs, including quotes that run across paragraphs.

A scan over the quotation marks of each body paragraph with one bit of state (inside a
quote or not), carried from paragraph to paragraph:

- curly marks (“ ” « » „) say which way they face; a straight ``"`` opens when it follows
  white space or an opening bracket and precedes a non-space, otherwise it closes;
- news style for a quote that continues into the next paragraph leaves the closing mark off
  and reopens the next paragraph with an opening mark: when a paragraph ends inside a quote
  and the next one starts with the same opening mark, both parts belong to one quote;
- a paragraph that ends inside a quote and is followed by one whose first mark closes (a
  hard-wrapped line, or a quote that runs on into the next paragraph without the reopening
  mark, as in ``...the battlefield: "The activity ... / Other forces ... group."``): the
  quote continues into it, so its content is not the author's;
- otherwise the quote is unbalanced: it is closed at the paragraph end and reported
  (``closed=False``), so one missing mark never swallows the rest of the article;
- ``“We welcome it,” he said, “and we hope ...”``: two quotes of one paragraph separated only
  by a short attribution clause are one quote with two parts;
- quotes of fewer than ``min_words`` words are speech when they are a sentence of their own
  (“This is unacceptable.”, capitalised and ending in punctuation) or when a speech or
  evaluative verb stands shortly before them in their sentence (called the plan
  “illogical”, said it had been “difficult but honest”); otherwise ("scare quotes" such as
  the so-called “mission”) they stay in the sentence around them;
- titles are not speech, whatever their length: a quote whose words are all capitalised
  (book and film titles: “The Salt Orchard,”) or all in capitals (“LOST AT SEA”).

Single quotation marks are not scanned: in English news they are apostrophes or nested
quotes inside a double-quoted quote, which belong to the outer quote's speaker anyway.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from model.article.cleaning import Paragraph
from model.article.lexicon import VERB_RE

_MARK = re.compile('[“”«»„"]')
_OPENERS = "“«„"
# Closing marks accepted for each opening mark (scraped text mixes styles).
_CLOSERS = {"“": '”"', "«": "»", "„": '“”"', '"': '"”'}
# Every mark that can open a quote (a quote's span starts right after it).
OPENING_MARKS = "".join(_CLOSERS)
_OPEN_CONTEXT = " \t([{—–-/:"
# The longest clause between two quote parts that can be an interrupting attribution.
_MAX_INTERRUPTION = 80
_WORD = re.compile(r"\w+")
_MAX_TITLE_WORDS = 8
_TITLE_MINOR = frozenset(
    ["a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with", "from", "by"]
)
# How far before a short quote its cue verb may stand ("called the plan “...”").
_SHORT_CUE_CHARS = 120
_MAX_SHORT_CUE_GAP = 8


@dataclass(frozen=True)
class QuotePart:
    """A run of quoted text inside one paragraph (offsets into the original text).

    ``open_mark``/``close_mark`` are the positions of the marks, or None where the part
    starts a hard-wrapped line or runs to the paragraph end without a closing mark.
    """

    start: int
    end: int
    open_mark: int | None
    close_mark: int | None
    paragraph: int


@dataclass(frozen=True)
class Quote:
    """One quotation, possibly in several parts (across paragraphs or interrupted)."""

    parts: tuple[QuotePart, ...]
    closed: bool = True

    @property
    def start(self) -> int:
        """Start of the first part's text."""
        return self.parts[0].start

    @property
    def end(self) -> int:
        """End of the last part's text."""
        return self.parts[-1].end


@dataclass
class QuoteScan:
    """What the scan found: quotes, and the positions of marks it could not pair."""

    quotes: list[Quote] = field(default_factory=list)
    unclosed: list[int] = field(default_factory=list)
    stray: list[int] = field(default_factory=list)


def _straight_opens(text: str, i: int, lo: int, hi: int) -> bool:
    """Whether the straight quote at ``i`` faces right (opens) in its context."""
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    return (before in _OPEN_CONTEXT or before.isspace()) and not after.isspace()


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


class _Scanner:
    """The mark-by-mark state machine; one instance scans one article."""

    def __init__(self, text: str, paragraphs: Sequence[Paragraph]) -> None:
        self.text = text
        self.paragraphs = paragraphs
        self.scan = QuoteScan()
        self.parts: list[QuotePart] = []
        self.opener: str | None = None
        self.open_mark: int | None = None
        self.content_start = 0

    def run(self) -> QuoteScan:
        skip_to = -1  # a continuation's opening mark, already consumed
        for index, para in enumerate(self.paragraphs):
            for match in _MARK.finditer(self.text, para.start, para.end):
                if match.start() > skip_to:
                    self._mark(match.start(), index, para)
            if self.opener is not None:
                skip_to = self._paragraph_end(index, para)
        return self.scan

    def _open(self, char: str, at: int) -> None:
        self.opener, self.open_mark, self.content_start = char, at, at + 1

    def _add_part(self, end: int, close_mark: int | None, index: int) -> None:
        start, end = _trimmed(self.text, self.content_start, end)
        if end > start:
            self.parts.append(QuotePart(start, end, self.open_mark, close_mark, index))

    def _finish(self, closed: bool) -> None:
        if self.parts:
            self.scan.quotes.append(Quote(tuple(self.parts), closed))
        self.parts, self.opener, self.open_mark = [], None, None

    def _mark(self, i: int, index: int, para: Paragraph) -> None:
        char = self.text[i]
        if self.opener is None:
            if char in _OPENERS or (
                char == '"' and _straight_opens(self.text, i, para.start, para.end)
            ):
                self._open(char, i)
            else:
                self.scan.stray.append(i)
            return
        if char in _CLOSERS[self.opener]:
            self._add_part(i, i, index)
            self._finish(closed=True)
        elif char == self.opener:
            # The same opening mark again while open: the closing mark was lost. Close the
            # quote here (reported) rather than pair marks wrongly from now on.
            self.scan.unclosed.append(self.open_mark if self.open_mark is not None else i)
            self._add_part(i, None, index)
            self._finish(closed=False)
            self._open(char, i)

    def _paragraph_end(self, index: int, para: Paragraph) -> int:
        """Decide what an open quote at a paragraph end does; returns a mark to skip."""
        self._add_part(para.end, None, index)
        nxt = self.paragraphs[index + 1] if index + 1 < len(self.paragraphs) else None
        if nxt is not None:
            first = self.text[nxt.start]
            if first == self.opener:
                # News-style continuation, reopened with the same kind of mark; a paragraph
                # opening with another kind is a new quote after a lost closing mark.
                self._open(first, nxt.start)
                return nxt.start
            if self._first_mark_closes(nxt):
                self.open_mark, self.content_start = None, nxt.start  # hard-wrapped line
                return -1
        if self.open_mark is not None:
            self.scan.unclosed.append(self.open_mark)
        else:
            self.scan.unclosed.append(self.parts[0].start if self.parts else para.start)
        self._finish(closed=False)
        return -1

    def _first_mark_closes(self, para: Paragraph) -> bool:
        match = _MARK.search(self.text, para.start, para.end)
        if match is None or self.opener is None:
            return False
        char = match.group()
        if char == '"':
            return not _straight_opens(self.text, match.start(), para.start, para.end)
        return char in _CLOSERS[self.opener] and char not in _OPENERS


def _merge_interrupted(text: str, quotes: list[Quote]) -> list[Quote]:
    """Join ``“A,” he said, “B”`` into one quote of two parts."""
    merged: list[Quote] = []
    for quote in quotes:
        if merged:
            prev = merged[-1]
            last, first = prev.parts[-1], quote.parts[0]
            if (
                last.close_mark is not None
                and first.open_mark is not None
                # "“A,” he said, “B.”": a sentence-final part ("illogical.") ends the quote.
                and text[last.end - 1] not in ".!?"
                and last.paragraph == first.paragraph
                and first.open_mark - last.close_mark <= _MAX_INTERRUPTION
            ):
                gap = text[last.close_mark + 1 : first.open_mark]
                # The clause between is an attribution set off by punctuation: ", he said, ".
                clause = gap.strip().endswith((",", ":", "—", "–"))
                if clause and VERB_RE.search(gap) and not re.search(r"[.!?]", gap):
                    merged[-1] = Quote(prev.parts + quote.parts, prev.closed and quote.closed)
                    continue
        merged.append(quote)
    return merged


def find_quotes(text: str, paragraphs: Sequence[Paragraph], min_words: int = 4) -> QuoteScan:
    """All direct quotes in ``paragraphs`` of ``text``, in order (see the module docstring)."""
    scan = _Scanner(text, paragraphs).run()
    quotes = _merge_interrupted(text, scan.quotes)
    scan.quotes = [q for q in quotes if _is_speech(text, q, min_words)]
    return scan


def _is_speech(text: str, quote: Quote, min_words: int) -> bool:
    """Speech, not a title or a scare quote (see the module docstring)."""
    words = [w for p in quote.parts for w in _WORD.findall(text, p.start, p.end)]
    if _is_title(words):
        return False
    if len(words) >= min_words:
        return True
    first, last = quote.parts[0], quote.parts[-1]
    if text[first.start].isupper() and text[last.end - 1] in ".!?,":
        return True
    return first.open_mark is not None and _verb_before(text, first.open_mark)


def _is_title(words: Sequence[str]) -> bool:
    """All capitalised ("The Salt Orchard") or all capitals ("LOST AT SEA"), 2-8 words."""
    if not 2 <= len(words) <= _MAX_TITLE_WORDS:
        return False
    if all(w.isupper() for w in words if w.isalpha()) and any(len(w) > 1 for w in words):
        return True
    return all(w[:1].isupper() or w in _TITLE_MINOR for w in words) and words[0][:1].isupper()


def _verb_before(text: str, open_mark: int) -> bool:
    """A cue verb within a few words before ``open_mark``, in the same sentence and with
    no other quotation mark between: called the plan “illogical”."""
    lo = max(0, open_mark - _SHORT_CUE_CHARS)
    window = text[lo:open_mark]
    cut = max(window.rfind(c) for c in '.!?\n“”«»"')
    window = window[cut + 1 :]
    verbs = list(VERB_RE.finditer(window))
    if not verbs:
        return False
    return len(_WORD.findall(window, verbs[-1].end())) <= _MAX_SHORT_CUE_GAP
