"""Targets of an article: given by the caller or discovered, with mentions grouped.

Discovery reads the body paragraphs (and the headline, for counting) for two kinds of
candidate, without a tagger:

- named entities: runs of capitalised words (entities.name_runs), e.g. "Nagorno-Karabakh",
  "OSCE Minsk Group", "Ilham Aliyev" (roles dropped: "President Ilham Aliyev" -> the name);
  a lone capitalised word opening a sentence is kept only when it is a place, an
  organisation word, an acronym or a known surname;
- noun phrases: a determiner ("the", "this", "its", ...), a possessive name ("Russia's") or
  a demonym ("Russian") followed by up to five lower-case words (demonyms allowed), stopping
  at function words, cue verbs, common verbs, "-ly" adverbs, "-ed" words after the first, a
  word followed by a determiner ("The agreement | ignores the people") and after a plural
  head ("Russia's peacekeeping forces | set up posts"). The determiner is not part of the
  mention but is remembered: an indefinite phrase ("a statement") introduces something new.

Where candidates overlap the longest wins. Each candidate gets a key: its countries
(demonyms and capitals map to one: "Russian", "Russia's", "Moscow" -> russia), its core (the
stems of its content words minus generic heads such as forces / mission / troops) and its
head. Grouping, in order:

1. people by surname ("Ilham Aliyev", "Mr. Aliyev", "Aliyev");
2. phrases with a country and a core by both ("Russian peacekeepers" = "Russia's
   peacekeeping forces"); a country alone, or with a state head ("the Armenian side",
   "Russian authorities"), is the country;
3. phrases with a core and no country join the one country group with that core, if exactly
   one exists ("the peacekeeping mission" -> Russian peacekeepers);
3b. a definite phrase joins the one group whose core contains its core and whose head is the
   same ("the agreement" -> "the visa facilitation agreement");
4. a bare generic head ("the mission") joins the one group whose members share that head.

Automatic targets are concrete groups with at least ``min_mentions`` mentions (headline
included, at least one in the body), most mentioned first, then named entities mentioned
once inside what a speaker said (``single``: analyze.py keeps one only when a speaker takes
a clear, non-neutral stance toward it, e.g. the "Joint Monitoring Center" praised once in a
quote); at most ``max_targets``. Concrete means what a reader would name as a target: a
named entity (person, organisation, country, "Joint Monitoring Center"), or a noun phrase
whose head is a concrete thing (lexicon.CONCRETE_HEADS: forces, missions, agreements, laws,
institutions, places, projects: "Russian peacekeepers", "the visa facilitation agreement");
abstract heads ("activity", "goal", "position") and groups made only of words a stance is
never about ("the press conference", "the same time") are not targets.
A caller's target gets its literal mentions (model.text.find_mentions) plus the mentions of
the discovered group with a matching key, so "Russian peacekeepers" also finds "the
peacekeeping mission". Mentions inside attribution cues ("Mr. Aliyev said") do not count.

Limits: pronouns ("it", "they") are not target mentions; a noun phrase followed by an
unlisted verb may absorb it ("the troops withdrew"), which only splits a group; two
different things with the same core and no country in the text stay merged; when a rule
finds two possible groups it does not guess, so the mention stays on its own.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from model.article.cleaning import CleanedArticle
from model.article.entities import EntityRegistry, Token, TokenIndex, parse_run
from model.article.lexicon import (
    CONCRETE_HEADS,
    DEMONYMS,
    GENERIC_HEADS,
    GEO,
    NON_TARGETS,
    ORG_HEADS,
    ORG_NOUNS,
    PREPOSITIONS,
    STATE_HEADS,
    STOP_WORDS,
    VERB_RE,
    bare,
    stem,
    words,
)
from model.article.spans import Areas
from model.text import find_mentions
from model.types import Span

_NP_DETERMINERS = words("the a an this these those its their his her our")
_COMMON_VERBS = words(
    "remain remains continue continues seem seems appear appears become becomes include "
    "includes need needs want wants plan plans hope hopes know knows go goes get gets make "
    "makes take takes give gives come comes show shows begin begins help helps keep keeps "
    "face faces mean means stay stays"
)
_MAX_NP_WORDS = 5
# Plural-looking words that modify a following noun ("arms deal", "news agency").
_PLURAL_MODIFIERS = words("news arms sports goods customs savings affairs rights")
_OBJECT_STARTS = _NP_DETERMINERS | words("them it him us me that")


@dataclass(frozen=True)
class PhraseKey:
    """What a phrase refers to, for grouping (see the module docstring)."""

    geo: frozenset[str]
    core: frozenset[str]
    head: str
    raw: frozenset[str]
    person: str | None = None
    indefinite: bool = False  # "a statement" introduces something new, never refers back


@dataclass(frozen=True)
class Candidate:
    """One mention found in the body, with its surface form and key."""

    start: int
    end: int
    surface: str
    key: PhraseKey


@dataclass
class TargetGroup:
    """Mentions that refer to one thing; ``name`` is what the classifier is asked about."""

    name: str
    mentions: list[Span] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    source: str = "auto"
    headline_mentions: int = 0
    person: str | None = None  # the person's full name when the target is a person
    # A named entity mentioned once, inside someone's speech: kept as a target only when a
    # speaker takes a clear (not neutral) stance toward it (analyze.py decides).
    single: bool = False


def phrase_key(tokens: Sequence[str], registry: EntityRegistry | None = None) -> PhraseKey:
    """The grouping key of a phrase given as words (determiners are ignored).

    A phrase ending in the surname of a known person is that person, unless it is a common
    noun with a preposition before the name: "takeover of Granlund Dairies" is about the
    takeover ("President of Azerbaijan Ilham Aliyev" is still the person).
    """
    cut = next((k for k, w in enumerate(tokens) if k > 0 and w.lower() in PREPOSITIONS), 0)
    about = any(w[:1].islower() and w.lower() not in _NP_DETERMINERS for w in tokens[:cut])
    if registry is not None and tokens and tokens[-1][:1].isupper() and not about:
        person = registry.person(bare(tokens[-1]))
        if person is not None:
            last = bare(tokens[-1])
            return PhraseKey(frozenset(), frozenset({last}), last, frozenset({last}), person.name)
    return _plain_key(tuple(tokens))


@functools.lru_cache(maxsize=16384)
def _plain_key(tokens: tuple[str, ...]) -> PhraseKey:
    ws = [bare(w) for w in tokens if bare(w) and bare(w) not in _NP_DETERMINERS]
    geo = frozenset(GEO[w] for w in ws if w in GEO)
    rest = [w for w in ws if w not in GEO]
    content = [w for w in rest if w not in STOP_WORDS]
    head = stem(rest[-1]) if rest else ""
    core = {stem(w) for w in content if w not in GENERIC_HEADS}
    if not core and rest and geo and rest[-1] not in STATE_HEADS:
        core = {stem(rest[-1])}  # "Russian forces": the forces themselves, not Russia
    indefinite = bool(tokens) and tokens[0].lower() in {"a", "an"}
    return PhraseKey(geo, frozenset(core), head, frozenset(content), indefinite=indefinite)


def _sentence_initial(tokens: Sequence[Token], i: int) -> bool:
    return i == 0 or tokens[i - 1].text in {".", "!", "?", ":", "“", '"', "«", "„", "—", "–"}


def _ne_candidates(
    tokens: Sequence[Token], runs: Sequence[tuple[int, int]], registry: EntityRegistry
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i, j in runs:
        run = tokens[i:j]
        phrase = parse_run(run)
        if phrase is None or phrase.kind != "name":
            continue  # "the President": a role, resolved as a speaker, not a target
        if j - i == 1:
            tok = run[0]
            known = (
                tok.lower in GEO
                or tok.lower in ORG_HEADS
                or (tok.text.isupper() and len(tok.text) > 1)
                or registry.person(tok.lower) is not None
            )
            if _sentence_initial(tokens, i) and not known:
                continue
        # Titles are not part of the target: "President Ilham Aliyev" -> "Ilham Aliyev".
        k = j - len(phrase.name)
        out.append((k, j))
    return out


def _np_candidates(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    n = len(tokens)
    for k, tok in enumerate(tokens):
        lower = tok.text.lower()
        possessive = tok.capitalised and tok.text.endswith(("'s", "’s"))
        demonym = tok.capitalised and tok.lower in DEMONYMS
        if lower in _NP_DETERMINERS or possessive or demonym:
            first = k + 1  # "the mission", "Russia's peacekeeping forces", "Russian peacekeepers"
        else:
            continue
        j = first
        while j < n and j - first < _MAX_NP_WORDS and _np_word(tokens[j], j - first):
            # A word followed by a determiner or object pronoun is a verb, not part of the
            # phrase: "The agreement | ignores the people".
            if j > first and j + 1 < n and tokens[j + 1].text.lower() in _OBJECT_STARTS:
                break
            j += 1
            # A plural is the head; what follows is the verb: "Russia's peacekeeping forces
            # | set up posts", "the peacekeepers | met".
            if _plural(tokens[j - 1].text):
                break
        # A noun phrase needs a lower-case word; capitalised runs are named entities.
        if j > first and any(not t.capitalised for t in tokens[first:j]):
            out.append((first if lower in _NP_DETERMINERS else k, j))
    return out


def _plural(word: str) -> bool:
    lower = word.lower()
    if lower in _PLURAL_MODIFIERS or len(lower) <= 3:
        return False
    return lower.endswith("s") and not lower.endswith(("ss", "us", "is"))


def _np_word(tok: Token, position: int) -> bool:
    """Whether ``tok`` can continue a noun phrase at ``position`` (0 = first word).

    Capitalised words only as demonyms ("the Russian peacekeepers"): a name after a
    determiner is a named entity of its own.
    """
    word = tok.text
    if not word[:1].isalpha():
        return False
    if tok.capitalised:
        return tok.lower in GEO and not word.endswith(("'s", "’s"))
    lower = word.lower()
    if lower in STOP_WORDS or lower in _COMMON_VERBS or VERB_RE.fullmatch(word):
        return False
    return not (lower.endswith("ly") or (position > 0 and lower.endswith("ed")))


def discover(
    article: CleanedArticle,
    registry: EntityRegistry,
    excluded: Sequence[Span] = (),
    index: TokenIndex | None = None,
) -> list[Candidate]:
    """All candidate mentions in the body (and headline), longest first where they overlap.

    Mentions starting inside ``excluded`` spans (attribution cues: "Mr. Aliyev said") are
    left out: naming a speaker is not talking about him.
    """
    text = article.text
    spans = [(p.start, p.end) for p in article.paragraphs]
    if article.headline is not None:
        spans.insert(0, article.headline)
    index = index or TokenIndex(text, spans)
    found: list[tuple[int, int, str]] = []
    for lo, hi in spans:
        tokens, runs = index.runs(lo, hi)
        for i, j in _ne_candidates(tokens, runs, registry):
            found.append((tokens[i].start, tokens[j - 1].end, ""))
        for i, j in _np_candidates(tokens):
            # The determiner is not part of the mention but says whether it refers back.
            det = (
                tokens[i - 1].text
                if i > 0 and tokens[i - 1].text.lower() in _NP_DETERMINERS
                else ""
            )
            found.append((tokens[i].start, tokens[j - 1].end, det))
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[Candidate] = []
    last_end = -1
    cues = Areas(excluded)
    for start, end, det in found:
        if start < last_end or cues.holds(start):
            continue
        surface = text[start:end]
        words_ = re.findall(r"[^\W\d_][\w'’.-]*", surface)
        key = phrase_key([det, *words_] if det else words_, registry)
        if key.person is None and not key.geo and not key.core and not key.head:
            continue
        out.append(Candidate(start, end, surface, key))
        last_end = end
    return out


class Label(NamedTuple):
    """A group's identity: a person, a country, a bare head, or (countries, core)."""

    kind: str  # "person" | "geo" | "head" | "core"
    geo: frozenset[str] = frozenset()
    core: frozenset[str] = frozenset()
    name: str = ""


def _label(key: PhraseKey) -> Label:
    if key.person is not None:
        return Label("person", name=key.person)
    if not key.core:
        return Label("geo", geo=key.geo) if key.geo else Label("head", name=key.head)
    return Label("core", key.geo, key.core)


@dataclass
class Grouping:
    """Groups of candidates by label, and where merged labels went."""

    groups: dict[Label, list[Candidate]] = field(default_factory=dict)
    moved: dict[Label, Label] = field(default_factory=dict)

    def find(self, label: Label) -> list[Candidate]:
        """The members of the group ``label`` ended up in (empty when there is none)."""
        while label in self.moved:
            label = self.moved[label]
        return self.groups.get(label, [])


def group(candidates: Sequence[Candidate]) -> Grouping:
    """Group candidates by what they refer to (rules 1-4 of the module docstring).

    Indexes by core and head keep this close to linear in the number of candidates.
    """
    out = Grouping()
    groups = out.groups
    by_core: dict[frozenset[str], list[Label]] = {}

    def add(label: Label, cand: Candidate) -> None:
        if label not in groups:
            groups[label] = []
            if label.kind == "core" and cand.key.geo:
                by_core.setdefault(cand.key.core, []).append(label)
        groups[label].append(cand)

    anchored = [c for c in candidates if c.key.person is not None or c.key.geo]
    with_core = [c for c in candidates if c.key.person is None and not c.key.geo and c.key.core]
    head_only = [c for c in candidates if c.key.person is None and not c.key.geo and not c.key.core]
    for cand in anchored:
        add(_label(cand.key), cand)
    for cand in with_core:
        same = by_core.get(cand.key.core, [])
        add(same[0] if len(same) == 1 else _label(cand.key), cand)
    _merge_shorter(out)
    by_head: dict[str, list[Label]] = {}
    for label, members in groups.items():
        for m in members:
            heads = by_head.setdefault(m.key.head, [])
            if label not in heads:
                heads.append(label)
    for cand in head_only:
        heads = [] if cand.key.indefinite else by_head.get(cand.key.head, [])
        add(heads[0] if len(heads) == 1 else _label(cand.key), cand)
    return out


def _merge_shorter(out: Grouping) -> None:
    """Rule 3b: "the agreement" joins the one group whose core contains its core and
    whose head is the same ("the visa facilitation agreement"); longest cores first so
    chains collapse ("agreement" -> "visa agreement" -> "visa facilitation agreement")."""
    groups = out.groups
    by_head: dict[str, list[Label]] = {}
    for label, members in groups.items():
        if label.kind == "core":
            by_head.setdefault(members[0].key.head, []).append(label)
    longest_first = sorted(
        (g for g in groups if g.kind == "core" and not g.geo), key=lambda g: -len(g.core)
    )
    for label in longest_first:
        if all(m.key.indefinite for m in groups[label]):
            continue
        head = groups[label][0].key.head
        wider = [
            g for g in by_head.get(head, []) if g != label and g in groups and label.core < g.core
        ]
        if len(wider) == 1:
            groups[wider[0]].extend(groups.pop(label))
            out.moved[label] = wider[0]


def _display(members: Sequence[Candidate]) -> str:
    """The group's name: a person's full name, else the most frequent of its most specific
    forms ("visa facilitation agreement" over the more frequent "agreement")."""
    person = members[0].key.person
    if person is not None:
        return person
    widest = max(len(m.key.core) for m in members)
    specific = [_strip_determiner(m.surface) for m in members if len(m.key.core) == widest]
    forms = Counter(specific)
    best = max(forms.values())
    return next(f for f in specific if forms[f] == best)


def _strip_determiner(surface: str) -> str:
    parts = surface.split(maxsplit=1)
    if len(parts) == 2 and parts[0].lower() in _NP_DETERMINERS:
        return parts[1]
    return surface


def _is_salient(members: Sequence[Candidate]) -> bool:
    """A group worth a stance: not only words like "time", "press conference", "reporters"."""
    if members[0].key.person is not None or members[0].key.geo:
        return True
    return any(not (m.key.raw <= NON_TARGETS) for m in members)


_NAME_GLUE = frozenset({"of", "the", "and", "for"})


def _is_named(members: Sequence[Candidate]) -> bool:
    """A person, or a group with a capitalised name ("Joint Monitoring Center", "OSCE")."""
    if members[0].key.person is not None:
        return True
    return any(all(w[:1].isupper() or w in _NAME_GLUE for w in m.surface.split()) for m in members)


def _is_concrete(members: Sequence[Candidate]) -> bool:
    """Something a reader would name as a target: a named entity, a country, or a noun
    phrase whose head is a concrete thing (lexicon.CONCRETE_HEADS, organisation words);
    not an abstract head such as "activity" or "goal"."""
    if _is_named(members) or (members[0].key.geo and not members[0].key.core):
        return True
    heads = {bare(m.surface.split()[-1]) for m in members if m.surface.split()}
    return any(h in CONCRETE_HEADS or h in ORG_NOUNS for h in heads)


def auto_targets(
    article: CleanedArticle,
    candidates: Sequence[Candidate],
    min_mentions: int = 2,
    max_targets: int = 10,
    spoken: Sequence[Span] = (),
) -> list[TargetGroup]:
    """Salient, concrete groups as targets, most mentioned first (ties: first mention
    first); then named entities mentioned once inside ``spoken`` spans (what speakers said),
    marked ``single`` so the caller can keep only those a speaker takes a stance on."""
    body = Areas([(p.start, p.end) for p in article.paragraphs])
    voiced = Areas(spoken)
    ranked: list[tuple[int, int, TargetGroup]] = []
    singles: list[tuple[int, int, TargetGroup]] = []
    for members in group(candidates).groups.values():
        in_body = [m for m in members if body.covers((m.start, m.end))]
        if not in_body or not _is_salient(members) or not _is_concrete(members):
            continue
        many = len(members) >= min_mentions
        said = any(voiced.covers((m.start, m.end)) for m in in_body) and _is_named(members)
        if not many and not said:
            continue
        target = TargetGroup(name=_display(members), source="auto", person=members[0].key.person)
        target.mentions = sorted((m.start, m.end) for m in in_body)
        target.headline_mentions = len(members) - len(in_body)
        target.single = not many
        for m in members:
            if m.surface not in target.aliases:
                target.aliases.append(m.surface)
        (ranked if many else singles).append((-len(members), in_body[0].start, target))
    ranked.sort(key=lambda r: (r[0], r[1]))
    singles.sort(key=lambda r: r[1])
    return [t for _, _, t in (ranked + singles)[:max_targets]]


def caller_targets(
    article: CleanedArticle,
    targets: Sequence[str],
    candidates: Sequence[Candidate],
    registry: EntityRegistry,
    excluded: Sequence[Span] = (),
) -> list[TargetGroup]:
    """The caller's targets with literal mentions plus those of matching discovered groups."""
    text = article.text
    body = Areas([(p.start, p.end) for p in article.paragraphs])
    cues = Areas(excluded)
    groups = group(candidates)
    out: list[TargetGroup] = []
    for target in targets:
        key = phrase_key(re.findall(r"[^\W\d_][\w'’.-]*", target), registry)
        members = list(groups.find(_label(key)))
        if not members and not key.geo and key.core and key.person is None:
            # "the peacekeeping mission" asked for, text says "Russian peacekeepers".
            same = [g for g in groups.groups if g.kind == "core" and g.core == key.core]
            members = list(groups.groups[same[0]]) if len(same) == 1 else []
        spans = {(m.start, m.end) for m in members}
        spans |= set(find_mentions(text, target))
        kept = sorted(s for s in spans if body.covers(s) and not cues.holds(s[0]))
        group_ = TargetGroup(name=target, source="caller", person=key.person)
        group_.mentions = _drop_nested(kept)
        for lo, hi in group_.mentions:
            if text[lo:hi] not in group_.aliases:
                group_.aliases.append(text[lo:hi])
        out.append(group_)
    return out


def _drop_nested(spans: Sequence[Span]) -> list[Span]:
    """Sorted spans without those inside (or overlapping) an earlier, longer one."""
    out: list[Span] = []
    for lo, hi in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if out and lo < out[-1][1]:
            continue
        out.append((lo, hi))
    return out
