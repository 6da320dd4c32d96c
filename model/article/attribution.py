"""Who said it: attribute quotes and reported speech to speakers; the rest is the author's.

For each direct quote (quotes.py) the attribution cue is looked for, in this order:

1. right after a part's closing mark: ``,” Aliyev said.``, ``,” said Dmitry Peskov, the
   Kremlin spokesman.``, ``,” he added.``, ``,” according to the ministry.``, a signature
   ``” — Sam Kent, attorney`` (not after a
   sentence-final quote that has a cue before it: ``called the plan “illogical.” Marsh
   said ...`` starts the next sentence);
2. right before the first opening mark: ``Aliyev said: “``, ``Aliyev told reporters on
   Tuesday that “``, ``According to Aliyev, “`` (or, for a quote opening a paragraph, a
   previous paragraph ending in a colon);
3. a colon with no cue verb: the verbless round-up and interview format (``Jane Doe, The
   Daily Planet: “...”``, ``Abernathy: “...”``), or a sentence whose subject is a speaker
   (``The president then turned to the battlefield: “...``);
4. between two parts of an interrupted quote: ``“A,” he said, “B.”``;
5. none: a quote opening a paragraph, or following an attributed quote of the same
   paragraph, continues the speaker of the speech just before it (news convention); a quote
   inside someone's reported speech is theirs.

Reported speech is a clause with a speech or evaluative verb whose subject is a speaker
phrase: "Mr. President emphasized that ...", "Aliyev welcomed the decision", "The mission is
important, the president said.", "According to the ministry, ...", or a participle after a
comma whose clause opens with a speaker ("Solberg signed the pact, calling it ...").
Sentences are cut into clauses at contrast connectors outside quotes (clauses.py), so "X
said A, while Y said B" gives X and Y one speech each. The speech runs from the subject (and
the lower-case role words before it) to the clause end (the whole clause when the
attribution trails or sits in the middle between commas); a following clause with no cue of
its own continues it ("X said A, but added B"), and clauses before a trailing cue belong to
it ("A, but B, the minister said."). Speaker phrases are resolved in document order by
:class:`~model.article.entities.EntityRegistry`.

The speaker phrase of a cue is read by cues.py (party affiliations, appositives, roles
described by whom they serve: "a lawyer for Roth", "a spokesman for the ministry", round-up
leads, lone words that are never speakers). A group of people ("residents said", "“...,”
the protesters said", "said local farmers") is a speaker of its own, and so is a lower-case
institution ("the national grid said", "the teachers' union said").

Text that is not inside any attributed speech belongs to the author (speaker None),
including quotes nobody could be found for, as the product defines it.

Why rules and word lists rather than a learned attributor: the cues are few and formulaic,
every decision can be explained from the text, and the team's dev set
(bench/data/attribution_dev.jsonl, 404 quotes) is too small to train a model that would
generalise better than the rules it would have to learn; bench/attribution.py measures them.

Limits: reported speech ends at its sentence (a following sentence without its own verb is
the author's again); a clause with two speakers ("X said A and Y said B", no contrast
connector) is the first one's; a cue farther than one clause from its quote is not seen; nested
reported speech inside a quote stays with the quoted speaker; an uncued quote after a
paragraph that only introduces someone ("X sat down with the Gazette.") stays the author's.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from model.article.clauses import clause_spans
from model.article.cleaning import CleanedArticle
from model.article.cues import (
    according_to,
    dash_signature,
    ends_phrase,
    is_sentence_subject,
    is_speaker,
    roundup_speaker,
    subject,
    verb_tokens,
)
from model.article.entities import (
    MENTION,
    QUOTED,
    SUBJECT,
    Entity,
    EntityRegistry,
    Phrase,
    Token,
    TokenIndex,
    is_antecedent,
    parse_run,
    phrase_after,
    token_at,
    with_text,
)
from model.article.lexicon import (
    EVALUATIVE_VERBS,
    NOT_NAMES,
    PARTICIPLE_RE,
    VERB_RE,
    bare,
)
from model.article.quotes import Quote, QuotePart
from model.article.spans import Areas
from model.text import split_sentences
from model.types import Span

QUOTE = "quote"
REPORTED = "reported"
AUTHOR = "author"

# How much text around a quote may hold its attribution cue.
_CUE_WINDOW = 200
# Words allowed between a cue verb and the quote it introduces ("told reporters on Tuesday").
_MAX_CUE_GAP_WORDS = 10
# Words after a verb that still make the attribution "trailing" ("..., he said on Tuesday.").
_MAX_TRAILING_WORDS = 3
# Words before a speaker phrase that still describe the speaker ("Fishing cooperative" in
# "Fishing cooperative chairman Erik Vang said"): a few words, no punctuation.
_ROLE_LEAD = re.compile(r"(?:[^\W\d_][\w'’-]*\s+){0,3}[^\W\d_][\w'’-]*|")
_SENTENCE_STARTS = frozenset({".", "!", "?", "”", '"', ":"})
# The longest round-up lead before a colon: "Beatrice Lund, Riverside Tenants Union:".
_MAX_ROUNDUP_CHARS = 160


@dataclass(frozen=True)
class Speech:
    """Words of one speaker: direct quote parts or a reported-speech span.

    ``speaker`` is the resolved display name (None: nobody could be found, so the text is
    the author's); ``cue`` the attribution phrase that named the speaker, when there is one.
    """

    speaker: str | None
    entity: int | None
    kind: str
    spans: tuple[Span, ...]
    cue: Span | None = None
    closed: bool = True

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "speaker": self.speaker,
            "kind": self.kind,
            "spans": [list(s) for s in self.spans],
            "cue": list(self.cue) if self.cue else None,
            "closed": self.closed,
        }


@dataclass(frozen=True)
class Unit:
    """A sentence (or the part of one) spoken by one speaker: what gets classified."""

    start: int
    end: int
    speaker: str | None
    kind: str


@dataclass
class _Candidate:
    """A speech before resolution: where it is and the phrase (if any) naming its speaker."""

    kind: str
    spans: list[Span]
    paragraph: int
    last_paragraph: int
    phrase: Phrase | None
    cue: Span | None
    closed: bool = True
    opens_paragraph: bool = False
    entity: Entity | None = None


@dataclass
class Attribution:
    """Speeches, the author's units and everything learned about speakers."""

    speeches: list[Speech]
    units: list[Unit]
    registry: EntityRegistry
    sentences: list[Span]
    index: TokenIndex


_NO_AREAS = Areas()


_EDGE = ' \t\n“”"«»„,;:—–-'


def _trim(text: str, lo: int, hi: int) -> Span:
    while lo < hi and text[lo] in _EDGE:
        lo += 1
    while hi > lo and text[hi - 1] in _EDGE:
        hi -= 1
    return lo, hi


class _Attributor:
    """One article's attribution; see the module docstring for the rules."""

    def __init__(self, article: CleanedArticle, quotes: Sequence[Quote]) -> None:
        self.text = article.text
        self.paragraphs = article.paragraphs
        self.quotes = quotes
        self.registry = EntityRegistry()
        spans = [(p.start, p.end) for p in article.paragraphs]
        if article.headline is not None:
            spans.append(article.headline)
        self.index = TokenIndex(self.text, spans)
        self.sentences: list[Span] = []
        self.by_paragraph: list[list[Span]] = []
        for para in self.paragraphs:
            found = [
                (para.start + s.start, para.start + s.end)
                for s in split_sentences(self.text[para.start : para.end])
            ]
            self.by_paragraph.append(found)
            self.sentences.extend(found)
        self.cues: list[Span] = []
        self.cue_areas = Areas()
        # Where quotes (marks included) sit, per paragraph: verbs inside them are not cues.
        quoted: dict[int, list[Span]] = {}
        for quote in quotes:
            for part in quote.parts:
                lo = part.open_mark if part.open_mark is not None else part.start
                hi = part.close_mark + 1 if part.close_mark is not None else part.end
                quoted.setdefault(part.paragraph, []).append((lo, hi))
        self.quoted = {index: Areas(spans) for index, spans in quoted.items()}

    # ------------------------------------------------------------------ pre-scan
    def prescan(self) -> None:
        """Register named people and organisations as antecedents for later references,
        noting which mentions are sentence subjects and which sit inside quotes."""
        for index, para in enumerate(self.paragraphs):
            tokens, runs = self.index.runs(para.start, para.end)
            quoted = self.quoted.get(index, _NO_AREAS)
            for i, j in runs:
                phrase = parse_run(tokens[i:j])
                if phrase is not None and (
                    is_antecedent(phrase) or self._known_single(phrase, tokens, i)
                ):
                    role = (
                        QUOTED
                        if quoted.holds(tokens[i].start)
                        else SUBJECT
                        if is_sentence_subject(tokens, i, j)
                        else MENTION
                    )
                    self.registry.observe(with_text(phrase, self.text), role=role)

    def _known_single(self, phrase: Phrase, tokens: Sequence[Token], i: int) -> bool:
        """A lone name word worth recording: the surname of a person met before ("Sterling,
        asked about it, shrugged."), or an organisation word not opening a sentence ("The
        left-leaning Citizen")."""
        if phrase.kind != "name" or len(phrase.name) != 1 or phrase.titles:
            return False
        if phrase.org:
            return i > 0 and tokens[i - 1].text not in _SENTENCE_STARTS
        return self.registry.person(bare(phrase.name[0])) is not None

    # ------------------------------------------------------------------ quotes
    def quote_candidate(self, quote: Quote) -> _Candidate:
        """A quote with the phrase naming its speaker, if a cue is found (rules 1-3).

        Cues are tried after the first part (the usual ``“...,” X said.``), before it,
        between parts, then after later parts; every cue found is remembered so its verb is
        not read again as reported speech.
        """
        first = quote.parts[0]
        after, before = self._cue_after(first), self._cue_before(quote)
        if before is not None and self.text[first.end - 1] in ".!?":
            # A sentence-final quote (called the plan “illogical.”) is cued before it; what
            # follows its closing mark starts the next sentence, and maybe the next cue.
            after = None
        found = [
            after,
            before,
            self._cue_roundup(quote),
            *(self._cue_between(a, b) for a, b in zip(quote.parts, quote.parts[1:], strict=False)),
            *(self._cue_after(part) for part in quote.parts[1:]),
        ]
        cues = [f for f in found if f is not None]
        self.cues.extend(cue for _, cue in cues)
        phrase, cue = cues[0] if cues else (None, None)
        return _Candidate(
            kind=QUOTE,
            spans=[(p.start, p.end) for p in quote.parts],
            paragraph=first.paragraph,
            last_paragraph=quote.parts[-1].paragraph,
            phrase=phrase,
            cue=cue,
            closed=quote.closed,
            opens_paragraph=first.open_mark == self.paragraphs[first.paragraph].start,
        )

    def _cue_after(self, part: QuotePart) -> tuple[Phrase, Span] | None:
        """``,” Aliyev said.`` / ``,” said Aliyev.`` right after the part's closing mark."""
        if part.close_mark is None:
            return None
        para = self.paragraphs[part.paragraph]
        hi = min(para.end, part.close_mark + 1 + _CUE_WINDOW)
        tokens = self.index.between(part.close_mark + 1, hi)
        signed = dash_signature(self.text, tokens)
        if signed is not None and is_speaker(signed):
            return signed, (tokens[0].start, signed.end)
        k = 1 if tokens and tokens[0].text == "," else 0
        return self._speaker_verb_at(tokens, k) if k < len(tokens) else None

    def _cue_between(self, prev: QuotePart, part: QuotePart) -> tuple[Phrase, Span] | None:
        """``“A,” he said, “B”``: the clause between two parts of one paragraph."""
        if prev.close_mark is None or part.open_mark is None:
            return None
        tokens = self.index.between(prev.close_mark + 1, part.open_mark)
        k = 1 if tokens and tokens[0].text == "," else 0
        return self._speaker_verb_at(tokens, k) if k < len(tokens) else None

    def _speaker_verb_at(self, tokens: Sequence[Token], k: int) -> tuple[Phrase, Span] | None:
        """``said X`` / ``X said`` / ``according to X`` starting at ``tokens[k]``."""
        by = according_to(self.text, tokens, k)
        if by is not None:
            return by, (tokens[k].start, by.end)
        verb = VERB_RE.match(self.text, tokens[k].start)
        if verb is not None:
            edges = verb_tokens(tokens, verb)
            phrase = phrase_after(self.text, tokens, edges[1]) if edges else None
            if phrase is not None and is_speaker(phrase) and ends_phrase(tokens, phrase):
                return phrase, (tokens[k].start, phrase.end)
            return None
        # Subject first: the first verb within a few tokens, whose subject starts at k.
        limit = tokens[min(k + 12, len(tokens) - 1)].end
        match = VERB_RE.search(self.text, tokens[k].start, limit)
        edges = verb_tokens(tokens, match) if match else None
        if match is None or edges is None:
            return None
        phrase = subject(self.text, tokens, edges[0])
        if phrase is not None and is_speaker(phrase) and phrase.start == tokens[k].start:
            return phrase, (phrase.start, match.end())
        return None

    def _cue_before(self, quote: Quote) -> tuple[Phrase, Span] | None:
        first = quote.parts[0]
        if first.open_mark is None:
            return None
        para = self.paragraphs[first.paragraph]
        lo, hi = max(para.start, first.open_mark - _CUE_WINDOW), first.open_mark
        # The cue lies after the previous quote of the paragraph, if any.
        quoted = self.quoted.get(first.paragraph, _NO_AREAS)
        for _, q_hi in quoted.overlapping(lo, first.open_mark):
            if q_hi <= first.open_mark:
                lo = max(lo, q_hi)
        if hi == para.start and first.paragraph > 0:
            # "The president said:" closing the previous paragraph.
            prev = self.paragraphs[first.paragraph - 1]
            if self.text[prev.end - 1] != ":":
                return None
            lo, hi = max(prev.start, prev.end - _CUE_WINDOW), prev.end
        tokens = self.index.between(lo, hi)
        for k, tok in enumerate(tokens):
            by = according_to(self.text, tokens, k) if tok.lower == "according" else None
            if by is not None and self._gap_ok(by.end, hi):
                return by, (tok.start, by.end)
        matches = list(VERB_RE.finditer(self.text, lo, hi))
        if not matches or not self._gap_ok(matches[-1].end(), hi):
            return None
        match = matches[-1]
        edges = verb_tokens(tokens, match)
        if edges is None:
            return None
        phrase = subject(self.text, tokens, edges[0])
        if phrase is None or not is_speaker(phrase):
            after = phrase_after(self.text, tokens, edges[1])  # "said Aliyev: “..."
            phrase = after if after is not None and ends_phrase(tokens, after) else None
        if phrase is None or not is_speaker(phrase):
            return None
        return phrase, (min(phrase.start, match.start()), max(phrase.end, match.end()))

    def _cue_roundup(self, quote: Quote) -> tuple[Phrase, Span] | None:
        """A quote after a colon with no cue verb before it.

        - The verbless round-up and interview format, a paragraph that opens with a speaker
          and a colon (``Jane Doe, The Daily Planet: “...”``, ``Abernathy: “...”``): the
          person named in the lead (the fullest name of the first comma-separated segment
          that has one: "Harmon's attorney, Blake Cordero:" is Cordero), else the
          organisation it names. A lone unknown word ("Asked") is not a name.
        - A sentence whose subject is a speaker ends in the colon: ``The president then
          turned to the battlefield: “...``: the subject.
        """
        first = quote.parts[0]
        if first.open_mark is None:
            return None
        para = self.paragraphs[first.paragraph]
        tokens = self.index.between(para.start, first.open_mark)
        if not tokens or tokens[-1].text != ":":
            return None
        # The lead's last sentence: after a sentence end followed by a capital.
        start = 0
        for k in range(1, len(tokens) - 1):
            if tokens[k].text in {".", "!", "?"} and tokens[k + 1].capitalised:
                start = k + 1
        lead = tokens[start:-1]
        if start == 0 and first.open_mark - para.start <= _MAX_ROUNDUP_CHARS:
            found = roundup_speaker(self.text, lead, self.registry)
            if found is not None:
                return found, (found.start, found.end)
        subject = phrase_after(self.text, lead, 0) if lead else None
        if subject is None or not is_speaker(subject) or subject.kind == "name":
            return None  # names are handled above; here only "the president", "he"
        k = token_at(lead, subject.end)
        if k < len(lead) and lead[k].text[:1].islower():
            return subject, (subject.start, subject.end)
        return None

    def _gap_ok(self, start: int, end: int) -> bool:
        """Whether the text between a cue and its quote is a short adjunct, not a sentence."""
        gap = self.text[start:end]
        if re.search(r"[.!?;“”\"«»]", gap):
            return False
        return len(re.findall(r"\w+", gap)) <= _MAX_CUE_GAP_WORDS

    # ------------------------------------------------------------------ reported speech
    def reported_candidates(self) -> list[_Candidate]:
        """Reported speech per clause (clauses.py): "X said A, while Y said B" gives one
        candidate to X and one to Y. A clause with no cue of its own continues the speech
        before it in its sentence ("X said A, but added B"), unless a cue verb in it has a
        subject that is no speaker ("..., while critics complained"); clauses before a
        trailing cue ("A, but B, the minister said.") belong to that cue's speaker."""
        out: list[_Candidate] = []
        self.cue_areas = Areas(self.cues)
        for index, sentences in enumerate(self.by_paragraph):
            quoted = self.quoted.get(index, _NO_AREAS)
            for lo, hi in sentences:
                if quoted.covers((lo, hi)):
                    continue  # a sentence inside a quote is the quoted speaker's
                last: _Candidate | None = None
                uncued: int | None = None  # where leading clauses without a cue start
                for c_lo, c_hi in clause_spans(self.text, lo, hi, quoted):
                    found = (
                        None if quoted.covers((c_lo, c_hi)) else self._reported(c_lo, c_hi, quoted)
                    )
                    if found is None:
                        if self._someone_else(c_lo, c_hi, quoted):
                            last = None  # "..., while gun rights groups complained ..."
                        elif last is not None:
                            last.spans[0] = (last.spans[0][0], c_hi)
                        elif uncued is None:
                            uncued = c_lo
                        continue
                    (s_lo, s_hi), phrase, cue, whole = found
                    if whole and uncued is not None:
                        s_lo = uncued
                    last = _Candidate(REPORTED, [(s_lo, s_hi)], index, index, phrase, cue)
                    out.append(last)
        return out

    def _someone_else(self, lo: int, hi: int, quoted: Areas) -> bool:
        """Whether a clause without a speaker cue has a cue verb with a subject of its own
        ("gun rights groups complained"): the words of someone who is not a speaker, so
        not a continuation of the speech before ("but added that ..." is one)."""
        for match in VERB_RE.finditer(self.text, lo, hi):
            if not quoted.holds(match.start()):
                return re.search(r"\w", self.text[lo : match.start()]) is not None
        return False

    def _reported(self, lo: int, hi: int, quoted: Areas) -> tuple[Span, Phrase, Span, bool] | None:
        """The reported speech of one clause: its span, speaker phrase, cue, and whether
        the span is the whole clause because the cue trails or is parenthetical."""
        tokens = self.index.between(lo, hi)
        for k, tok in enumerate(tokens):
            # "According to X, ..." opening the sentence or ", according to X." closing it.
            if tok.lower == "according" and (k == 0 or tokens[k - 1].text == ","):
                by = according_to(self.text, tokens, k)
                taken = quoted.holds(tok.start) or self.cue_areas.holds(tok.start)
                if by is not None and not taken:
                    return (lo, hi), by, (tok.start, by.end), True
        for match in VERB_RE.finditer(self.text, lo, hi):
            if quoted.holds(match.start()) or self.cue_areas.holds(match.start()):
                continue
            edges = verb_tokens(tokens, match)
            if edges is None:
                continue
            phrase = subject(self.text, tokens, edges[0])
            inverted = False
            unnamed = phrase is None or not is_speaker(phrase)
            if unnamed and edges[0] > 0 and tokens[edges[0] - 1].text == ",":
                # "..., said the minister."
                after = phrase_after(self.text, tokens, edges[1])
                if after is not None and ends_phrase(tokens, after):
                    phrase, inverted = after, True
            if phrase is None or not is_speaker(phrase) or quoted.holds(phrase.start):
                continue
            cue = (min(phrase.start, match.start()), max(phrase.end, match.end()))
            span, whole = self._reported_span(lo, hi, phrase, match, inverted, quoted)
            return span, phrase, cue, whole
        return self._participle(lo, hi, tokens, quoted)

    def _participle(
        self, lo: int, hi: int, tokens: Sequence[Token], quoted: Areas
    ) -> tuple[Span, Phrase, Span, bool] | None:
        """ "Prime Minister Katrin Solberg signed the pact, calling it a new chapter": a
        participle after a comma takes its stance from the clause's subject, a speaker
        phrase that opens the clause and is followed by its (lower-case) verb."""
        for match in PARTICIPLE_RE.finditer(self.text, lo, hi):
            if quoted.holds(match.start()) or self.cue_areas.holds(match.start()):
                continue
            edges = verb_tokens(tokens, match)
            if edges is None or edges[0] == 0 or tokens[edges[0] - 1].text != ",":
                continue
            phrase = phrase_after(self.text, tokens, 0)
            k = token_at(tokens, phrase.end) if phrase is not None else len(tokens)
            if phrase is None or not is_speaker(phrase) or k >= edges[0]:
                return None
            if not tokens[k].text[:1].islower():
                return None
            return (phrase.start, hi), phrase, (phrase.start, phrase.end), False
        return None

    def _reported_span(
        self,
        lo: int,
        hi: int,
        phrase: Phrase,
        verb: re.Match[str],
        inverted: bool,
        quoted: Areas,
    ) -> tuple[Span, bool]:
        """From the subject to the clause end, or the whole clause (True) when the
        attribution trails ("..., he said.") or is parenthetical ("X, he said, is ...")."""
        tail_start = max(verb.end(), phrase.end)
        tail = "".join(self.text[a:b] for a, b in quoted.subtract_from((tail_start, hi)))
        trailing = len(re.findall(r"\w+", tail)) <= _MAX_TRAILING_WORDS
        evaluative = verb.group().lower() in EVALUATIVE_VERBS
        before = self.text[lo : phrase.start].rstrip()
        parenthetical = before.endswith(",") and tail.lstrip().startswith(",")
        if inverted or parenthetical or (trailing and not evaluative and phrase.start > lo):
            return (lo, hi), True
        # Not an opening adverb or conjunction ("Meanwhile", "And"); an article is fine.
        opener = bare(before.split()[0]) if before else ""
        described = opener in {"the", "a", "an"} or opener not in NOT_NAMES
        if _ROLE_LEAD.fullmatch(before) and described and not VERB_RE.search(before):
            # "Fishing cooperative chairman Erik Vang said": the role's first words too.
            return (lo, hi), False
        return (phrase.start, hi), False

    # ------------------------------------------------------------------ resolution
    def resolve(self, candidates: list[_Candidate]) -> None:
        """Resolve speaker phrases in document order; unnamed quotes inherit (rule 4)."""
        candidates.sort(key=lambda c: c.spans[0][0])
        last: _Candidate | None = None
        for cand in candidates:
            if cand.phrase is not None:
                floor = self.paragraphs[cand.paragraph].start
                cand.entity = self.registry.resolve(cand.phrase, floor=floor)
            elif cand.kind == QUOTE and last is not None and last.entity is not None:
                same = last.last_paragraph == cand.paragraph
                follows = cand.opens_paragraph and last.last_paragraph == cand.paragraph - 1
                if same or follows:
                    cand.entity = last.entity
            if cand.entity is not None:
                last = cand
        # A quote nobody was named for, inside someone's reported speech, is theirs.
        reported = sorted(
            (c for c in candidates if c.kind == REPORTED and c.entity is not None),
            key=lambda c: c.spans[0],
        )
        starts = [c.spans[0][0] for c in reported]
        for cand in candidates:
            if cand.kind == QUOTE and cand.entity is None:
                lo, hi = cand.spans[0][0], cand.spans[-1][1]
                k = bisect.bisect_right(starts, lo) - 1
                if k >= 0 and hi <= reported[k].spans[0][1]:
                    cand.entity = reported[k].entity

    # ------------------------------------------------------------------ units
    def units(self, candidates: Sequence[_Candidate]) -> list[Unit]:
        """Sentence pieces per speaker: attributed quotes, then reported speech minus those
        quotes, then the author's remainder."""
        owned: list[tuple[Span, str | None, str]] = []
        quotes = Areas(s for c in candidates if c.kind == QUOTE and c.entity for s in c.spans)
        for cand in candidates:
            if cand.entity is None:
                continue
            for span in cand.spans:
                pieces = [span] if cand.kind == QUOTE else quotes.subtract_from(span)
                owned.extend((p, cand.entity.name, cand.kind) for p in pieces)
        taken = Areas(span for span, _, _ in owned)
        for para in self.paragraphs:
            pieces = taken.subtract_from((para.start, para.end))
            owned.extend((p, None, AUTHOR) for p in pieces)
        units: list[Unit] = []
        ends = [e for _, e in self.sentences]  # sentences are sorted and disjoint
        for (lo, hi), speaker, kind in owned:
            k = bisect.bisect_right(ends, lo)  # the first sentence ending after lo
            while k < len(self.sentences) and self.sentences[k][0] < hi:
                s_lo, s_hi = self.sentences[k]
                k += 1
                a, b = _trim(self.text, max(lo, s_lo), min(hi, s_hi))
                if b > a and any(c.isalpha() for c in self.text[a:b]):
                    units.append(Unit(a, b, speaker, kind))
        units.sort(key=lambda u: (u.start, u.end))
        return units


def attribute(article: CleanedArticle, quotes: Sequence[Quote]) -> Attribution:
    """Attribute every quote and reported-speech sentence of ``article``; see module doc."""
    worker = _Attributor(article, quotes)
    worker.prescan()
    candidates = [worker.quote_candidate(q) for q in quotes]
    candidates += worker.reported_candidates()
    worker.resolve(candidates)
    speeches = [
        Speech(
            speaker=c.entity.name if c.entity else None,
            entity=c.entity.id if c.entity else None,
            kind=c.kind,
            spans=tuple(c.spans),
            cue=c.cue,
            closed=c.closed,
        )
        for c in candidates
    ]
    return Attribution(
        speeches, worker.units(candidates), worker.registry, worker.sentences, worker.index
    )
