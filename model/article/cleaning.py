"""Strip scrape noise from a whole article while keeping offsets into the original text.

The text is never rewritten: cleaning classifies each line (headline, body paragraph, or a
kind of noise) and returns spans of the original string. Everything downstream (quotes,
sentences, evidence) therefore carries offsets that highlight correctly in the document the
user sent, noise included. :meth:`CleanedArticle.clean_text` gives a joined view with an
offset map back, for callers who want plain text.

Rules, line by line (a scraped article puts headline, dateline and paragraphs on lines):

- separator: no letter or digit at all (``###``, ``* * *``, ``-----``), or only hashtags;
- dateline: a date or time, and besides it only place/agency names and filler
  ("Published", "Updated", "GMT", "|") — "Baku, 12 March 2021, 14:35";
  a dateline prefix on the first body line ("BAKU, March 12 (AZERTAC) — ...") is cut off;
- boilerplate: short lines of site furniture ("Share this article", "Follow us on ...",
  "© 2021 ...", "Read more: ...", "Tags: ...", "Home | World | Politics");
- repeated: a short line equal (ignoring case and punctuation) to an earlier kept line —
  the headline printed twice, "Advertisement" between paragraphs;
- headline: the first remaining line if it is short and not a sentence (no final
  punctuation) or is repeated; it is reported, not analysed (headlines compress the body and
  often use "Speaker: claim" forms that read as the author's own words);
- everything else is a body paragraph.

Limits: a body sentence that happens to look like furniture ("Read more about it below")
is dropped only when it matches a boilerplate pattern on a short line; hard-wrapped text is
treated as one paragraph per line (quote finding copes, see quotes.py).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from model.article.lexicon import words
from model.types import Span

# Noise kinds, as reported to callers.
SEPARATOR = "separator"
DATELINE = "dateline"
BOILERPLATE = "boilerplate"
REPEATED = "repeated"

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    r"|\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
    r"|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day",
    re.IGNORECASE,
)
_DATELINE_FILLER = words(
    "published updated posted last modified on at by gmt utc bst cet msk edt est am pm "
    "local time date source news"
)
_BOILERPLATE_START = re.compile(
    # Phrases that only site furniture starts with.
    r"(?:share (?:this|on|via)|follow us|subscribe\b|sign up|read (?:more|also)|also read|"
    r"see also|related (?:articles?|news|stories)|advertisement|sponsored|click here|"
    r"copyright|loading\.*$|download (?:our|the) app|back to top|skip to content|most read|"
    r"recommended for you)"
    # Single words that are furniture only as a label ("Photo: AFP", "Tags: ...", "Share").
    r"|(?:share|tweet|tags?|related|photo|image|video|source|comments?|print|e-?mail|"
    r"advertisement|cookies?)\s*(?::|\||$)"
    # A row of sharing buttons: "Facebook Twitter WhatsApp".
    r"|(?:(?:facebook|twitter|whatsapp|telegram|linkedin|instagram|youtube|vk|email|print|"
    r"share)\W*){2,}$",
    re.IGNORECASE,
)
_BOILERPLATE_ANYWHERE = re.compile(
    r"all rights reserved|©|\(c\)\s*\d{4}|follow us on|sign up for our|subscribe to our|"
    r"click here|cookie policy|privacy policy|terms of (?:use|service)|"
    r"reproduction .{0,20}(?:prohibited|without)",
    re.IGNORECASE,
)
_DATELINE_PREFIX = re.compile(
    r"[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,2}"  # place, "BAKU" / "New York"
    r"(?:\s*,\s*[^—–\n]{0,40}?)?"  # ", March 12"
    r"(?:\s*\([A-Za-z][\w .&-]{0,30}\))?"  # "(Reuters)"
    r"\s*(?:—|–|--|-)\s+"
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)]*$")
_MAX_HEADLINE = 200
_MAX_NOISE_LINE = 300


@dataclass(frozen=True)
class Paragraph:
    """A kept body line: its span in the original text and whether a blank line precedes it."""

    start: int
    end: int
    blank_before: bool


@dataclass(frozen=True)
class NoiseSpan:
    """A span of the original text removed as noise, and why."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class CleanedArticle:
    """The original text, its headline span, body paragraphs and removed noise."""

    text: str
    headline: Span | None
    paragraphs: tuple[Paragraph, ...]
    noise: tuple[NoiseSpan, ...]

    def clean_text(self) -> tuple[str, list[int]]:
        """Body paragraphs joined by blank lines, and where each piece starts.

        Returns ``(clean, starts)``; map an offset of ``clean`` back with
        :meth:`to_original`. Kept as a function of the spans so nothing can drift.
        """
        pieces = [self.text[p.start : p.end] for p in self.paragraphs]
        starts: list[int] = []
        pos = 0
        for piece in pieces:
            starts.append(pos)
            pos += len(piece) + 2
        return "\n\n".join(pieces), starts

    def to_original(self, clean_offset: int) -> int:
        """The original-text offset of ``clean_offset`` in :meth:`clean_text`'s string."""
        _, starts = self.clean_text()
        if not starts:
            raise ValueError("the article has no body text, so no clean offset exists")
        i = max(0, bisect.bisect_right(starts, clean_offset) - 1)
        paragraph = self.paragraphs[i]
        return min(paragraph.start + clean_offset - starts[i], paragraph.end)


def _key(line: str) -> str:
    """Comparison key for repeated lines: letters and digits only, case-folded."""
    return " ".join(re.sub(r"[^\w]+", " ", line.casefold()).split())


def _is_separator(line: str) -> bool:
    if not any(c.isalnum() for c in line):
        return True
    words = line.split()
    return all(w.startswith("#") for w in words)


def _is_dateline(line: str) -> bool:
    if len(line) > 120 or not _DATE_TIME.search(line) or any(q in line for q in '"“”«»'):
        return False
    rest = _DATE_TIME.sub(" ", line)
    words = re.findall(r"[^\W\d_][\w.'-]*", rest)
    leftover = [w for w in words if w.lower().strip(".") not in _DATELINE_FILLER]
    # Only a few capitalised words (place, agency) may remain: "Baku", "AZERTAC".
    return len(leftover) <= 3 and all(w[0].isupper() for w in leftover)


def _is_boilerplate(line: str) -> bool:
    if len(line) > _MAX_NOISE_LINE:
        return False
    if _BOILERPLATE_ANYWHERE.search(line):
        return True
    # Navigation crumbs: "Home | World | Politics", with no sentence in them.
    if line.count("|") + line.count("›") + line.count("»") >= 2 and not _SENTENCE_END.search(line):
        return True
    return len(line) <= 80 and _BOILERPLATE_START.match(line) is not None


def _is_repeat(key: str, seen: set[str], top: list[str] | None) -> bool:
    if not key or len(key) > _MAX_NOISE_LINE:
        return False
    if key in seen:
        return True
    # Near the top, a headline is often repeated with a site suffix or prefix added.
    return (
        top is not None
        and len(key) >= 20
        and any(len(k) >= 20 and (key.startswith(k) or k.startswith(key)) for k in top)
    )


def clean_article(text: str) -> CleanedArticle:
    """Classify every line of ``text`` as headline, body or noise; offsets are original."""
    paragraphs: list[Paragraph] = []
    noise: list[NoiseSpan] = []
    headline: Span | None = None
    seen: set[str] = set()
    top: list[str] = []  # keys of the first lines, for near-duplicate headlines
    prev_end = 0  # end of the previous non-blank line
    after_noise = True  # the article start counts as a break, like a noise line
    index = 0
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        if raw.isspace():
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        end = match.start() + len(raw.rstrip())
        line = text[start:end]
        # A paragraph break: a blank line or a removed line before this one.
        blank_before = after_noise or text.count("\n", prev_end, start) >= 2
        prev_end = end
        key = _key(line)
        kind = _noise_kind(line, key, seen, top if index < 5 else None)
        index += 1
        after_noise = kind is not None
        if kind is not None:
            noise.append(NoiseSpan(start, end, kind))
        elif headline is None and not paragraphs and _looks_like_headline(text, line, end):
            headline = (start, end)
            seen.add(key)
            top.append(key)
            after_noise = True  # the headline ends a block too
        else:
            if len(paragraphs) < 2:  # datelines open the first body line, not later ones
                cut = _dateline_prefix(line)
                if cut:
                    noise.append(NoiseSpan(start, start + cut, DATELINE))
                    start += cut
            paragraphs.append(Paragraph(start, end, blank_before))
            if len(key) <= _MAX_NOISE_LINE:
                seen.add(key)
                if index <= 5:
                    top.append(key)
    return CleanedArticle(text, headline, tuple(paragraphs), tuple(noise))


def _noise_kind(line: str, key: str, seen: set[str], top: list[str] | None) -> str | None:
    """The noise kind of a line, or None for content. ``top``: early keys, near the top."""
    if _is_separator(line):
        return SEPARATOR
    if _is_repeat(key, seen, top):
        return REPEATED
    if _is_dateline(line):
        return DATELINE
    if _is_boilerplate(line):
        return BOILERPLATE
    return None


def _looks_like_headline(text: str, line: str, end: int) -> bool:
    """The first content line is a headline if short and not a sentence, or repeated later."""
    if len(line) > _MAX_HEADLINE:
        return False
    if not _SENTENCE_END.search(line):
        return True
    key = _key(line)
    following = text[end : end + 2000]
    return any(_key(x) == key for x in following.split("\n")[:6])


def _dateline_prefix(line: str) -> int:
    """Length of a leading "PLACE, date (Agency) — " dateline, or 0 when there is none."""
    match = _DATELINE_PREFIX.match(line)
    if match is None or match.end() >= len(line):
        return 0
    prefix = match.group()
    place = prefix.split(",")[0].split("(")[0].strip(" —–-")
    # Only a real dateline: an upper-case place ("BAKU"), a date, or an agency in brackets.
    has_caps_place = len(place) >= 3 and place.replace(" ", "").replace(".", "").isupper()
    if has_caps_place or _DATE_TIME.search(prefix) or "(" in prefix:
        return match.end()
    return 0
