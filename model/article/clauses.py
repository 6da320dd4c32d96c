"""Clauses: a sentence cut at its contrast connectors, outside quotation marks.

One sentence of news prose often carries two speakers: "X said A, while Y said B", "X
defended A, but Y warned B". Both the article analysis (attribution.py: each clause may
have its own reported-speech speaker) and the classifier path (model/speaker.py: each
clause gets an owner) cut sentences here, so the connector rule is written once.

The connector itself (", while", ", whereas", ", but", " although", " though", "; ")
belongs to neither clause: evidence reads "the mayor ... called the line ...", not
"while the mayor ...". A connector inside a quote is the quoted speaker's words, not a
cut; a connector within the first three characters of a clause is not a cut either (the
clause would be empty). Without a comma, a connector starts a clause only when a subject
follows it (a capitalised word, a determiner or a pronoun): "a sad but necessary saving"
and "slowly but surely" are one clause, "X praised it but the mayor said ..." is two. One
regex pass per sentence: linear in the text.
"""

from __future__ import annotations

import re

from model.article.spans import Areas
from model.types import Span

CONNECTOR = re.compile(r",?\s+(?:while|whereas|but|although|though)\s+|;\s+", re.I)
# A cut closer than this to the clause start would leave an empty clause.
_MIN_CLAUSE_CHARS = 3
# What may open a clause after a comma-less connector (its subject); lower-cased words.
_SUBJECT_START = re.compile(
    r"[A-Z\u201c\"]|(?:the|a|an|his|her|its|their|our|my|your|this|that|these|those|"
    r"he|she|they|it|we|i|you|there|some|many|most|critics|officials)\b"
)


def clause_spans(text: str, lo: int, hi: int, quoted: Areas) -> list[Span]:
    """The clauses of the sentence ``text[lo:hi]``, in order, connectors left out.

    ``quoted``: where quotes (marks included) lie; connectors inside them are not cuts.
    """
    out: list[Span] = []
    cut = lo
    for match in CONNECTOR.finditer(text, lo, hi):
        if quoted.holds(match.start()) or match.start() - cut < _MIN_CLAUSE_CHARS:
            continue
        bare = not match.group().startswith((",", ";"))
        if bare and not _SUBJECT_START.match(text, match.end()):
            continue  # "sad but necessary": adjectives joined, no new subject
        out.append((cut, match.start()))
        cut = match.end()
    out.append((cut, hi))
    return out
