"""Whose stance: what one named speaker says in a text, and where they refer to the target.

``speaker_statements(text, speaker, target)`` answers "which parts of this text are
``speaker``'s words, and where in them is ``target`` referred to?". The classifier path
(model/classifier.py) then decides from those statements only, so "Ruiz praised the line,
while Eklund called it a mistake" gets a different answer for each speaker.

How (rules, linear in the text; see model/article for why rules and not a parser):

1. The article machinery runs first: cleaning, quotes (also across paragraphs) and
   attribution with its coreference of names, titles and pronouns (model/article). The
   requested speaker is matched to one of attribution's entities (full name, surname with a
   compatible first name, or an alias such as "the mayor of Tarvik").
2. The text is cut into *clauses*: sentences, further cut (outside quotation marks) at
   contrast connectors ("while", "whereas", "but", "although") and semicolons, because one
   sentence often carries two speakers ("X said A, while Y said B"); the cut is
   model/article/clauses.py, shared with the article analysis.
3. Each clause gets an owner. Its cue is "according to X" or the subject (or inverted
   subject: ``said X``) of its first cue verb, compared with the requested speaker's
   surface forms and the role they were introduced with ("the minister"). A cue naming the
   requested speaker wins; else the speaker attribution resolved for a cue inside the
   clause (it knows genders and earlier names); else the cue found here ("he"/"she"/"they"
   take the last owner). Every clause of a quote gets the owner of the clause holding the
   quote's cue; a clause without a cue continues the previous clause of its sentence ("X
   said A, but warned B"), else the attribution unit it lies in, else it is the author's.
4. Target references inside the statements: model/article/references.py (literal
   mentions, short names such as "the line", and "it" / "that decision" in a statement that
   names the target no other way).

Limits: a clause with two cue verbs is owned by the first; a pronoun speaker is the last
owner, whatever its gender; "it" may refer to something other than the target; a speaker
named only by a role the text words differently ("the protesters' spokesman" for "a
spokesman for the protesters") is not found.

This module imports model.article and model.text only (never the classifier, training or
service code).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from model.article.attribution import Attribution, attribute
from model.article.clauses import clause_spans
from model.article.cleaning import clean_article
from model.article.entities import Entity
from model.article.lexicon import (
    NOT_NAMES,
    ORG_HEADS,
    PARTICIPLES,
    TITLE_WORDS,
    VERB_RE,
    words,
)
from model.article.quotes import Quote, find_quotes
from model.article.references import target_references
from model.article.spans import Areas
from model.text import split_sentences
from model.types import Span

# Stance verbs the article lexicon (VERB_RE) leaves out because they are as often nouns
# ("the questions", "attacks on"), read here only as a clause's verb, and the participles
# ("X signed the pact, calling it ...").
_EXTRA_VERBS = words("attacks celebrates questions supports") | PARTICIPLES
_EXTRA_RE = re.compile(r"(?<![\w-])(?:" + "|".join(sorted(_EXTRA_VERBS)) + r")(?![\w-])", re.I)
_PRONOUN_SPEAKERS = frozenset({"he", "she", "they"})
_PRONOUN = "pronoun"  # a cue whose subject is he/she/they
_ACCORDING_TO = re.compile(r"(?<!\w)according\s+to\s+([^,.;:“”\"]+)", re.IGNORECASE)
_HONORIFIC_DOT = re.compile(r"\b(Mr|Mrs|Ms|Dr|Prof|Rev|St)\.")
# Where an inverted subject ends: "said Maud Ellery | after the court upheld the ban".
_AFTER_SUBJECT = re.compile(
    r"\s+(?=(?:after|before|when|during|as|while|who|which|that|adding|saying|on|in|at|to)\s)"
)
_ROLE_REACH = 4  # words before a speaker's name that may be their role
_ANALYSIS_CACHE = 4  # texts whose attribution is kept (a text's targets share one)
_SUBJECT_REACH = 300  # characters before a cue verb searched for its subject
_DETERMINERS = frozenset({"the", "a", "an"})
_LEADING = frozenset({"while", "whereas", "but", "although", "though", "and", "also"})
# Longest subject (in words) a cue verb may have; longer text before a verb is a clause.
_MAX_SUBJECT_WORDS = 12
_MAX_INVERTED_WORDS = 12
# A clause opening: leading words skipped before looking for the speaker as its subject.
_OPENING_REACH = 200
_OPENING_ADVERBIAL = re.compile(
    r"^\s*(?:(?:but|and|although|though|however|meanwhile|also|yet)\b,?\s*"
    r"|(?:in|at|on|during|after|before)\s[^,]{1,40},\s*)",
    re.IGNORECASE,
)
_NOT_A_VERB = words("of and or for in at on to with from by who which whose 's")
_TITLES_AND_RANKS = TITLE_WORDS | words(
    "mr mrs ms dr prof rev colonel lieutenant major captain sergeant admiral brigadier"
)
_AUXILIARIES = words(
    "is are was were will would has have had be been being can could should must may might"
)
_WORD = re.compile(r"[^\W_][\w'’.-]*")
_PARTICIPLE_SUBJECT_WORDS = 6


@dataclass(frozen=True)
class SpeakerStatements:
    """What one speaker says in a text.

    Attributes:
        speaker: the speaker as asked.
        found: whether the speaker is named or referred to in the text at all.
        name: the display name attribution resolved them to, when one matched.
        statements: the clauses that are the speaker's words (sorted character spans).
        mentions: target references inside those statements (sorted spans): literal
            mentions, short names ("the line") and indirect references ("it").
    """

    speaker: str
    found: bool
    name: str | None
    statements: tuple[Span, ...]
    mentions: tuple[Span, ...]

    @property
    def mentions_target(self) -> bool:
        """Whether any statement of the speaker refers to the target."""
        return bool(self.mentions)


@dataclass
class _Clause:
    start: int
    end: int
    sentence: int
    owner: str | None = None  # "S" (the requested speaker), "other:<who>", or None
    cued: bool = False


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).casefold()


def _strip_determiner(text: str) -> str:
    parts = text.split(maxsplit=1)
    if len(parts) == 2 and parts[0].lower() in _DETERMINERS:
        return parts[1]
    return text


def _name_part(speaker: str) -> list[str]:
    """The words of a person's or organisation's name in ``speaker``: its trailing run of
    capitalised words without leading titles and ranks ("Mopti regional governor Amadou
    Sissoko" -> Amadou Sissoko, "Mayor Jonas Eklund" -> Jonas Eklund). The whole phrase when
    it has no such run, or when the run is the object of a role ("a lawyer for Roth")."""
    ws = _strip_determiner(" ".join(speaker.split())).split()
    k = len(ws)
    while k > 0 and ws[k - 1][:1].isupper():
        k -= 1
    if k == len(ws) or (k > 0 and ws[k - 1].lower() in _NOT_A_VERB | _DETERMINERS):
        return ws
    run = ws[k:]
    while len(run) > 1 and run[0].lower().rstrip(".") in _TITLES_AND_RANKS:
        run = run[1:]
    return run


def speaker_forms(speaker: str, entity: Entity | None = None) -> list[str]:
    """Surface forms (case-insensitive) that name ``speaker``: as asked, without its
    determiner, the name without titles, the surname of a person's name, and the aliases
    attribution learned for the matched entity (pronouns excluded). Longest first."""
    forms = {_norm(speaker), _norm(_strip_determiner(speaker))}
    name = _name_part(speaker)
    capitalised = [w for w in name if w[:1].isupper()]
    if len(capitalised) == len(name) >= 2:
        forms.add(_norm(" ".join(name)))
        if len(name[-1]) >= 3:
            forms.add(_norm(name[-1]))
    elif len(capitalised) == len(name) == 1 and len(name[0]) >= 4 and len(speaker.split()) > 1:
        forms.add(_norm(name[0]))  # "Ratings agency Keystone" -> Keystone
    if entity is not None:
        forms.add(_norm(entity.name))
        if entity.kind == "person" and entity.surname and len(entity.surname) >= 3:
            forms.add(_norm(entity.surname))
        for alias in entity.aliases:
            if alias.lower() not in _PRONOUN_SPEAKERS | {"it"}:
                forms.add(_norm(alias))
                forms.add(_norm(_strip_determiner(alias)))
    return sorted((f for f in forms if len(f) >= 2), key=lambda f: (-len(f), f))


def match_speaker(speaker: str, entities: Sequence[Entity]) -> Entity | None:
    """The entity ``speaker`` names: same full name, else same surname with a compatible
    first name, else an alias equal to the speaker as asked (determiners ignored)."""
    asked = _norm(_strip_determiner(speaker))
    name = [_norm(w) for w in _name_part(speaker)]
    for entity in entities:
        if _norm(entity.name) == asked or (name and _norm(entity.name) == " ".join(name)):
            return entity
    if len(name) >= 1 and name[-1][:1].isalpha():
        for entity in entities:
            if entity.kind != "person" or not entity.surname:
                continue
            first = tuple(_norm(w).rstrip(".") for w in entity.first)
            if _norm(entity.surname) == name[-1] and (
                len(name) == 1 or not first or first[0][:1] == name[0][:1]
            ):
                return entity
    for entity in entities:
        if any(_norm(_strip_determiner(a)) == asked for a in entity.aliases):
            return entity
    return None


def _contains(haystack: str, forms: Sequence[str]) -> bool:
    low = _norm(haystack)
    return any(re.search(r"(?<!\w)" + re.escape(f) + r"(?!\w)", low) for f in forms)


def _speaker_like(chunk: str, strict: bool = False) -> bool:
    """Whether a subject chunk can name someone ("the minister", "Dr. Kiel", "the union").

    ``strict`` (an inverted subject, "said X"): a role, organisation or name word is needed,
    a determiner alone is not ("said the line was late" has no inverted subject).
    """
    ws = _WORD.findall(chunk)
    if not ws or len(ws) > (_MAX_INVERTED_WORDS if strict else _MAX_SUBJECT_WORDS):
        return False
    lower = [w.lower() for w in ws]
    if any(w in _AUXILIARIES for w in lower):
        return False  # "the line will be built": a clause, not a speaker
    if any(w in TITLE_WORDS or w in ORG_HEADS for w in lower):
        return True
    if any(w[:1].isupper() and w.lower() not in NOT_NAMES for w in ws):
        return True
    return not strict and lower[0] in _DETERMINERS and len(ws) <= 6


class _Owners:
    """Decides the owner of every clause for one requested speaker (rule 3 of the doc)."""

    def __init__(
        self,
        text: str,
        forms: Sequence[str],
        entity: Entity | None,
        found: Attribution,
        quotes: Sequence[Quote],
    ) -> None:
        self.text = text
        self.forms = forms
        self.entity = entity
        self.found = found
        self.quotes = quotes
        self.quoted = Areas(_quote_areas(quotes))
        cues = [(s.cue, s.speaker) for s in found.speeches if s.cue is not None and s.speaker]
        cues.sort(key=lambda c: c[0][0])
        self.cues = cues
        self.cue_starts = [cue[0] for cue, _ in cues]
        # Who attribution named for each quote, by where the quote starts.
        self.quote_speakers = {
            s.spans[0][0]: s.speaker for s in found.speeches if s.kind == "quote" and s.speaker
        }
        self.roles = _role_words(text, forms)

    def _who(self, name: str) -> str:
        if self.entity is not None and name == self.entity.name:
            return "S"
        return "S" if _contains(name, self.forms) else f"other:{name}"

    def _classify(self, chunk: str, strict: bool = False) -> str | None:
        words_ = [w.lower() for w in _WORD.findall(chunk)]
        if words_ and words_[-1] in _PRONOUN_SPEAKERS and len(words_) <= 2:
            return _PRONOUN  # resolved by the caller: attribution's gendered guess first
        if not _speaker_like(chunk, strict):
            return None
        if _contains(chunk, self.forms):
            return "S"
        # "the minister" after "Aviation Minister Dominic Achterberg" introduced the speaker.
        if 2 <= len(words_) <= 3 and words_[0] == "the" and words_[-1] in self.roles:
            return "S"
        return f"other:{_norm(chunk)}"

    def own_cue(self, clause: _Clause, last: str | None) -> str | None:
        """The owner named by a cue inside the clause, or None when it has no cue.

        The clause's own subject naming the requested speaker wins; else attribution's
        resolved cue (it knows genders and earlier names); else the subject as found here.
        """
        own = self._according_to(clause)
        matches = [
            m
            for regex in (VERB_RE, _EXTRA_RE)
            for m in regex.finditer(self.text, clause.start, clause.end)
            if not self.quoted.holds(m.start())
        ]
        for match in sorted(matches, key=lambda m: m.start()):
            if own is not None:
                break
            own = self._subject_owner(clause, match)
        if own == "S":
            return own
        k = bisect.bisect_left(self.cue_starts, clause.start)
        if k < len(self.cues) and self.cue_starts[k] < clause.end:
            return self._who(self.cues[k][1])
        if own is None and self._opens_with_speaker(clause):
            return "S"  # "The minister conceded that ...": the speaker acts, so it is theirs
        return last if own == _PRONOUN else own

    def _opens_with_speaker(self, clause: _Clause) -> bool:
        """Whether the clause's subject is the requested speaker: it opens (after "But",
        "Although", "In his address,") with one of their forms followed by a word that is
        not a preposition or conjunction ("the minister of X" is not the subject)."""
        head = self.text[clause.start : min(clause.end, clause.start + _OPENING_REACH)]
        head = _norm(_OPENING_ADVERBIAL.sub("", head, count=1))
        for form in self.forms:
            rest = head[len(form) :] if head.startswith(form) else ""
            nxt = rest[1:].split(" ", 1)[0] if rest[:1] == " " else ""
            if nxt[:1].isalpha() and nxt not in _NOT_A_VERB:
                return True
        return False

    def _according_to(self, clause: _Clause) -> str | None:
        for match in _ACCORDING_TO.finditer(self.text, clause.start, clause.end):
            if not self.quoted.holds(match.start()):
                return self._classify(match.group(1))
        return None

    def _subject_owner(self, clause: _Clause, verb: re.Match[str]) -> str | None:
        # A subject is a few words: looking further back than _SUBJECT_REACH characters
        # would make a long unpunctuated clause with many verbs quadratic.
        lo = max(clause.start, verb.start() - _SUBJECT_REACH)
        for _, q_hi in self.quoted.overlapping(lo, verb.start()):
            lo = max(lo, min(q_hi, verb.start()))
        before = self.text[lo : verb.start()]
        ws = before.split()
        while ws and ws[0].lower().strip(",") in _LEADING:
            ws = ws[1:]
        before = " ".join(ws)
        chunks = [c.strip() for c in before.split(",")]
        named = [c for c in chunks if c]
        candidates = named[-1:]
        if before.rstrip().endswith(",") and len(named) >= 2:
            candidates.append(named[-2])  # "Jonas Eklund, the mayor of Tarvik, said"
        if verb.group().lower() in PARTICIPLES and named:
            candidates = [" ".join(named[0].split()[:_PARTICIPLE_SUBJECT_WORDS])]
        owners = [self._classify(chunk) for chunk in candidates]
        if "S" in owners:
            return "S"  # "the mayor of Tarvik, Jonas Eklund, called": either names them
        owner = next((o for o in owners if o is not None), None)
        if owner is not None:
            return owner
        if named and not before.rstrip().endswith(","):
            return None  # the verb has a subject, and it is not a speaker
        # Inverted: "“...,” said Environment Commissioner Lars Eide."
        tail = _HONORIFIC_DOT.sub(r"\1", self.text[verb.end() : clause.end])
        after = re.split(r"[,.;:!?“”\"«»]", tail, maxsplit=1)[0]
        after = _AFTER_SUBJECT.split(after, maxsplit=1)[0]
        return self._classify(after, strict=True) if after.strip() else None

    def assign(self, clauses: list[_Clause]) -> None:
        """Set ``owner`` on every clause (rules in the module docstring)."""
        last: str | None = None
        for clause in clauses:
            owner = self.own_cue(clause, last)
            if owner is not None:
                clause.owner, clause.cued = owner, True
                last = owner
        # Clauses are sorted and disjoint, so their ends are sorted too: every lookup below
        # is a bisection, keeping the whole pass O(n log n) in the number of clauses.
        starts = [c.start for c in clauses]
        ends = [c.end for c in clauses]
        for quote in self.quotes:
            first, final = quote.parts[0], quote.parts[-1]
            lo = first.open_mark if first.open_mark is not None else first.start
            hi = final.close_mark + 1 if final.close_mark is not None else final.end
            inside = clauses[bisect.bisect_right(ends, lo) : bisect.bisect_left(starts, hi)]
            # The cue clause: one holding the quote with its own cue, else the clause
            # right after the quote (the cue may sit in the next clause: "..." | "she said").
            owner = next((c.owner for c in inside if c.cued), None)
            if owner is None:
                k = bisect.bisect_left(starts, hi)
                if k < len(clauses) and clauses[k].cued and clauses[k].start - hi <= 3:
                    owner = clauses[k].owner
            if owner is None:
                owner = self._attributed_quote(quote)
            for clause in inside:
                if not clause.cued and owner is not None:
                    clause.owner = owner
        units = self.found.units  # sorted by start, disjoint
        unit_starts = [u.start for u in units]
        for i, clause in enumerate(clauses):
            if clause.owner is not None:
                continue
            prev = clauses[i - 1] if i > 0 else None
            if prev is not None and prev.sentence == clause.sentence and prev.owner:
                clause.owner = prev.owner
                continue
            k = bisect.bisect_right(unit_starts, clause.start) - 1
            speaker = units[k].speaker if k >= 0 and clause.start < units[k].end else None
            if speaker:
                clause.owner = self._who(speaker)

    def _attributed_quote(self, quote: Quote) -> str | None:
        speaker = self.quote_speakers.get(quote.start)
        return self._who(speaker) if speaker else None


def _role_words(text: str, forms: Sequence[str]) -> frozenset[str]:
    """Lower-case words right before the first occurrence of the speaker's longest form:
    the role the text introduced them with ("Mental health commissioner Dr. Ingrid Solheim")."""
    for form in forms:
        match = re.search(r"(?<!\w)" + re.escape(form) + r"(?!\w)", _norm_keep(text))
        if match is None:
            continue
        before = re.split(r"[,.;:“”\"«»]", text[: match.start()].replace("Dr.", "Dr"))[-1]
        ws = [w.lower() for w in _WORD.findall(before)][-_ROLE_REACH:]
        return frozenset(
            w for w in ws if w not in _DETERMINERS and w not in {"mr", "mrs", "ms", "dr"}
        )
    return frozenset()


def _norm_keep(text: str) -> str:
    """Case-folded text with the same length (offsets stay valid), curly apostrophes straight."""
    return text.replace("’", "'").casefold() if len(text.casefold()) == len(text) else text.lower()


def _quote_areas(quotes: Sequence[Quote]) -> list[Span]:
    out: list[Span] = []
    for quote in quotes:
        for part in quote.parts:
            lo = part.open_mark if part.open_mark is not None else part.start
            hi = part.close_mark + 1 if part.close_mark is not None else part.end
            out.append((lo, hi))
    return out


def _clauses(text: str, blocks: Sequence[Span], quoted: Areas) -> list[_Clause]:
    """Sentences of each block, cut at contrast connectors outside quotes (rule 2)."""
    out: list[_Clause] = []
    sentence = 0
    for b_lo, b_hi in blocks:
        for s in split_sentences(text[b_lo:b_hi]):
            lo, hi = b_lo + s.start, b_lo + s.end
            out.extend(
                _Clause(c_lo, c_hi, sentence) for c_lo, c_hi in clause_spans(text, lo, hi, quoted)
            )
            sentence += 1
    out.sort(key=lambda c: c.start)  # the headline block may come first in the list only
    return out


@functools.lru_cache(maxsize=_ANALYSIS_CACHE)
def analyse_text(text: str) -> tuple[Attribution, tuple[Quote, ...], tuple[Span, ...]]:
    """Attribution of ``text`` (model/article), its quotes, and its body blocks (headline
    first, then paragraphs) as spans of the original text.

    Cached for the last few texts: several targets or speakers of one text arrive as
    consecutive queries. Callers must not modify what it returns.
    """
    article = clean_article(text)
    scan = find_quotes(text, article.paragraphs)
    found = attribute(article, scan.quotes)
    blocks = [(p.start, p.end) for p in article.paragraphs]
    if article.headline is not None:
        blocks.insert(0, article.headline)
    return found, tuple(scan.quotes), tuple(blocks)


def speaker_statements(
    text: str, speaker: str, target: str, mentions: Sequence[Span] | None = None
) -> SpeakerStatements:
    """What ``speaker`` says in ``text`` and where in it ``target`` is referred to.

    ``mentions``: the caller's target mentions (None: found by string matching). A speaker
    who is not in the text gives ``found=False`` and no statements; one who is but says
    nothing about the target gives statements and no mentions.
    """
    found, quotes, blocks = analyse_text(text)
    entity = match_speaker(speaker, found.registry.entities)
    forms = speaker_forms(speaker, entity)
    present = entity is not None or _contains(text, forms)
    if not present:
        return SpeakerStatements(speaker, False, None, (), ())
    owners = _Owners(text, forms, entity, found, quotes)
    clauses = _clauses(text, blocks, owners.quoted)
    owners.assign(clauses)
    trimmed = (_trimmed(text, c.start, c.end) for c in clauses if c.owner == "S")
    statements = tuple((lo, hi) for lo, hi in trimmed if hi > lo)
    refs = target_references(text, target, mentions, statements)
    inside = Areas(statements)
    spoken = tuple(r for r in refs if inside.covers(r))
    return SpeakerStatements(
        speaker=speaker,
        found=True,
        name=entity.name if entity is not None else None,
        statements=statements,
        mentions=spoken,
    )


def _trimmed(text: str, lo: int, hi: int) -> Span:
    while lo < hi and text[lo] in " \t\n,;":
        lo += 1
    while hi > lo and text[hi - 1] in " \t\n,;":
        hi -= 1
    return lo, hi
