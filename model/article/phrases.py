"""Tokens and speaker phrases: "Azerbaijani President Ilham Aliyev", "the daily", "he".

Phrases are parsed from tokens with closed word lists (lexicon.py), not a trained parser:

- a *name* phrase is a run of capitalised tokens, optionally with role words and "of"
  complements: "Azerbaijani President Ilham Aliyev", "President of Azerbaijan Ilham Aliyev",
  "Kremlin spokesman Dmitry Peskov", "Mr. Aliyev", "Russia's Defense Ministry";
  the tokens after the last role word (and its "of X" complement) are the name, the rest is
  the role. Role words include lower-case roles before a name ("Acme attorney Paul Reed",
  "Halberd chief executive Nadia Ferreira"), abbreviated titles ("Sen.", "Rep.", "Gov.",
  "the Rev.") and party words ("Republican Ward Pemberton"); suffixes ("Jr.", "II") stay in
  the name but are never the surname; an affiliation after the name is not part of it
  ("Marcus Obi of Fenwick Research"). A name ending in an organisation head ("Ministry",
  "Foods", "Review") or shaped "Ministry of X" / "Foundation for X" is an organisation;
- a *nominal* phrase is a determiner plus modifiers and a role or organisation word:
  "the president", "the foreign minister", "a ministry spokesman", "the ministry", "the
  influential daily", and "Mr. President" / "the head of state" / "the leader";
- a *role* phrase describes someone by whom they serve: "a spokesman for the residents'
  group", "a lawyer for Roth", "the mayor of Tarvik" (:func:`role_at`);
- a *pronoun* is he / she / they / it.

Gender comes from honorifics, gendered roles and a short list of common given names
(lexicon.FEMALE_NAMES / MALE_NAMES); an unknown name leaves it open.

Limits: no syntax, so a name that is not a speaker-phrase subject ("Aliyev's critics
said") can be misread; a company name without an organisation word ("Crispin") is taken
for a person.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from model.article.lexicon import (
    DEMONYMS,
    FEMALE_NAMES,
    FEMALE_TITLES,
    GEO,
    GROUP_NOUNS,
    GROUP_QUANTIFIERS,
    HONORIFICS,
    MALE_NAMES,
    MALE_TITLES,
    NAME_SUFFIXES,
    NOT_NAMES,
    ORG_HEADS,
    ORG_NOUNS,
    PRONOUNS,
    STOP_WORDS,
    TITLE_ABBREVIATIONS,
    TITLE_WORDS,
    bare,
)

# Honorifics, abbreviated titles and suffixes ("Sen.", "Rev.", "Jr."), "U.S.", initials
# before a name ("I. Aliyev"), words, numbers, punctuation.
_TOKEN = re.compile(
    r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Rev|Lt|Gen|Col|Capt|Sgt|Maj|Adm|Cmdr|Prof|Atty|Supt|Det"
    r"|Insp|Pres|Amb|Jr|Sr|St)\.|U\.[SNK]\.|[A-Z]\.(?=\s+[A-Z])"
    # A word; a plural possessive keeps its apostrophe ("Officers' Association", "the
    # teachers' union").
    r"|[^\W\d_](?:[\w'’-]*\w)?(?:(?<=s)['’](?=\s+[^\W\d_]))?"
    r"|\d+(?:[.,]\d+)*|[^\w\s]"
)
DETERMINERS = frozenset({"the", "a", "an", "its", "his", "her", "their", "our", "this", "that"})


class Token(NamedTuple):
    """A word or punctuation mark with its span in the original text.

    A NamedTuple, not a dataclass: a megabyte of text is ~200,000 tokens, and tuples are
    several times cheaper to create.
    """

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        """Lower-cased text without a possessive ending."""
        return bare(self.text)

    @property
    def capitalised(self) -> bool:
        """Starts with an upper-case letter (honorifics like "Mr." included)."""
        return self.text[:1].isupper()


def tokenize(text: str, start: int, end: int) -> list[Token]:
    """Tokens of ``text[start:end]`` with original offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]


class TokenIndex:
    """The tokens of an article's spans (headline, paragraphs), tokenized once.

    :meth:`between` returns the tokens inside any window by binary search, so the rules
    that look at a clause around a quote or a verb never re-tokenize or scan the article.
    """

    def __init__(self, text: str, spans: Sequence[tuple[int, int]]) -> None:
        self.tokens: list[Token] = []
        for lo, hi in sorted(spans):
            self.tokens.extend(tokenize(text, lo, hi))
        self.starts = [t.start for t in self.tokens]
        self._runs: dict[tuple[int, int], tuple[list[Token], list[tuple[int, int]]]] = {}

    def runs(self, lo: int, hi: int) -> tuple[list[Token], list[tuple[int, int]]]:
        """Tokens of [lo, hi) and their name runs; cached, as attribution and target
        discovery both read the runs of every paragraph."""
        key = (lo, hi)
        if key not in self._runs:
            tokens = self.between(lo, hi)
            self._runs[key] = (tokens, name_runs(tokens))
        return self._runs[key]

    def between(self, lo: int, hi: int) -> list[Token]:
        """Tokens that lie entirely within [lo, hi)."""
        i = bisect.bisect_left(self.starts, lo)
        j = bisect.bisect_left(self.starts, hi)
        while j > i and self.tokens[j - 1].end > hi:
            j -= 1
        return self.tokens[i:j]


def token_at(tokens: Sequence[Token], pos: int) -> int:
    """Index of the first token of ``tokens`` (sorted) that starts at or after ``pos``."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start < pos:
            lo = mid + 1
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class Phrase:
    """A parsed reference to a speaker or entity.

    ``kind``: ``name`` (has name tokens), ``nominal`` (role or organisation word only),
    ``role`` (a role described by whom it serves: "a lawyer for the city", see
    :func:`role_at`) or ``pronoun``. ``titles`` are role words, ``modifiers`` the other
    words of the role part ("foreign", "kremlin") and, for a role, of whom it serves;
    ``org`` marks organisations; ``owner`` is whom a role serves ("the city").
    """

    start: int
    end: int
    text: str
    kind: str
    name: tuple[str, ...] = ()
    titles: frozenset[str] = frozenset()
    modifiers: frozenset[str] = frozenset()
    gender: str | None = None
    org: bool = False
    role: str = ""
    owner: Phrase | None = None
    group: bool = False


def _is_name_token(tok: Token) -> bool:
    return tok.capitalised and (tok.lower not in NOT_NAMES or _is_honorific(tok))


def _is_honorific(tok: Token) -> bool:
    return tok.text.rstrip(".").lower() in HONORIFICS and tok.text[:1].isupper()


def _title_word(word: str) -> str:
    """The lower-case role word of ``word``, abbreviations expanded ("Sen." -> senator)."""
    low = bare(word)
    return TITLE_ABBREVIATIONS.get(low, low) if word.endswith(".") else low


def _is_role_word(tok: Token) -> bool:
    return tok.text[:1].isalpha() and (
        _title_word(tok.text) in TITLE_WORDS or tok.lower in ORG_NOUNS
    )


class _Shape(NamedTuple):
    """A parsed run without positions (so parses of repeated names can be cached)."""

    kind: str
    name: tuple[str, ...]
    titles: frozenset[str]
    modifiers: frozenset[str]
    gender: str | None
    org: bool
    role: str


def parse_run(tokens: Sequence[Token]) -> Phrase | None:
    """Parse a run of name/role tokens ("Foreign Minister Ana Petrova") into a Phrase."""
    if not tokens:
        return None
    shape = _parse_words(tuple(t.text for t in tokens))
    return Phrase(
        start=tokens[0].start,
        end=tokens[-1].end,
        text="",
        kind=shape.kind,
        name=shape.name,
        titles=shape.titles,
        modifiers=shape.modifiers,
        gender=shape.gender,
        org=shape.org,
        role=shape.role,
    )


@functools.lru_cache(maxsize=16384)
def _parse_words(words: tuple[str, ...]) -> _Shape:
    gender: str | None = None
    k0 = 0
    while (
        k0 < len(words) and words[k0][:1].isupper() and words[k0].rstrip(".").lower() in HONORIFICS
    ):
        gender = HONORIFICS[words[k0].rstrip(".").lower()] or gender
        k0 += 1
    rest = words[k0:]
    lowers = [_title_word(w) for w in rest]
    # A possessive is an owner, not a role: "Sheriff's Deputies Association".
    last_title = max(
        (
            i
            for i, w in enumerate(lowers)
            if w in TITLE_WORDS and not rest[i].endswith(("'s", "’s"))
        ),
        default=-1,
    )
    k = last_title + 1
    # "President of (the Republic of) Azerbaijan Ilham Aliyev": skip the "of" complements.
    while last_title >= 0 and k < len(rest) and lowers[k] == "of":
        k += 1
        if k < len(rest) and lowers[k] == "the":
            k += 1
        k += 1
    k = min(k, len(rest))
    titles = frozenset(w for w in lowers[:k] if w in TITLE_WORDS)
    modifiers = {w for w in lowers[:k] if w not in TITLE_WORDS and w not in {"of", "the"}}
    for title in titles:
        gender = gender or ("female" if title in FEMALE_TITLES else None)
        gender = gender or ("male" if title in MALE_TITLES else None)
    if k < len(rest) and not any(w[:1].isupper() for w in rest[k:]):
        # Only lower-case words ("the peacekeeping mission"): a description, not a name.
        modifiers |= set(lowers[k:-1])
        k = len(rest)
    name, role = rest[k:], rest[:k]
    names = lowers[k:]
    cut = next((n for n, w in enumerate(names) if w in {"of", "for"}), None)
    if cut is not None and cut > 0 and not any(w in ORG_HEADS for w in names[:cut]):
        # "Marcus Obi of Fenwick Research": the person, then the affiliation.
        modifiers |= set(names[cut + 1 :])
        name, names = name[:cut], names[:cut]
    # "Halberd Foods", "Ministry of Agriculture", "Bank of Valdria": an organisation.
    org_of = any(
        w in ORG_HEADS and ({"of", "for"} & set(names[n + 1 :])) for n, w in enumerate(names)
    )
    # "Ledger Economica", "Club Atletico": an organisation word first (not a given name).
    org_first = len(names) > 1 and names[0] in ORG_HEADS and names[0] not in MALE_NAMES
    org = bool(name) and (
        names[-1] in ORG_HEADS or org_of or org_first or all(w in GEO for w in names)
    )
    if not name and not titles and role and lowers[-1] in ORG_NOUNS:
        org = True
    core = name_core(name)
    if gender is None and not org and len(core) > 1:
        first = bare(core[0])
        gender = "female" if first in FEMALE_NAMES else "male" if first in MALE_NAMES else None
    return _Shape(
        kind="name" if name else "nominal",
        name=name,
        titles=titles,
        modifiers=frozenset(modifiers),
        gender=gender,
        org=org or (not name and not titles),
        role=" ".join(role) if titles else "",
    )


def with_text(phrase: Phrase, text: str) -> Phrase:
    """``phrase`` with its ``text`` filled in from the article."""
    return replace(phrase, text=text[phrase.start : phrase.end])


def _run_left(tokens: Sequence[Token], i: int) -> int:
    """Index of the first token of the name/role run that ends at ``tokens[i]``."""
    j = i
    while j >= 0:
        tok = tokens[j]
        # "of" / "of the" only inside a run: "President of the Republic of Azerbaijan".
        inner_of = (
            (tok.lower == "of" or (tok.lower == "for" and tokens[j - 1].lower in ORG_HEADS))
            and 0 < j < i
            and _is_name_token(tokens[j - 1])
        )
        inner_the = tok.lower == "the" and 0 < j < i and tokens[j - 1].lower == "of"
        if not (_is_name_token(tok) or _is_role_word(tok) or inner_of or inner_the):
            break
        j -= 1
    j += 1
    while j <= i and tokens[j].lower in {"of", "the"}:
        j += 1
    return j


def phrase_before(text: str, tokens: Sequence[Token], i: int) -> Phrase | None:
    """The speaker phrase that ends at ``tokens[i]`` (the token before a speech verb)."""
    if i < 0:
        return None
    tok = tokens[i]
    if tok.text.lower() in PRONOUNS:
        g = PRONOUNS[tok.text.lower()]
        return Phrase(tok.start, tok.end, tok.text, "pronoun", gender=g)
    group = group_at(tokens, i)
    if group is not None:
        return group
    # "the head of state" is the president ("the leader" matches any leader, see below).
    head_of_state = [t.lower for t in tokens[max(0, i - 2) : i + 1]] == ["head", "of", "state"]
    lead = _determiner_left(tokens, i - 3) if head_of_state else None
    if lead is not None:
        start = tokens[lead].start
        president = frozenset({"president"})
        return Phrase(start, tok.end, text[start : tok.end], "nominal", titles=president)
    j = _run_left(tokens, i)
    run = tokens[j : i + 1]
    if run and any(_is_name_token(t) and not _is_honorific(t) for t in run):
        of = next((k for k, t in enumerate(run) if t.lower in {"of", "for"}), None)
        if of is not None and not any(_is_role_word(t) for t in run[:of]):
            return None  # "Critics of Aliyev said": the critics speak, not Aliyev
        parsed = parse_run(run)
        return with_text(parsed, text) if parsed is not None else None
    if j <= i and _is_role_word(tok):
        # Lower-case role: "the foreign minister", "a ministry spokesman".
        lead = _determiner_left(tokens, i - 1)
        if lead is not None and i - lead <= 4:
            parsed = parse_run(tokens[lead + 1 : i + 1])
            if parsed is not None:
                org = parsed.org or not parsed.titles
                start = tokens[lead].start
                nominal = replace(parsed, start=start, kind="nominal", name=(), org=org)
                return with_text(nominal, text)
    return None


# Words before a group noun: "the local residents", "City officials" opening a sentence.
_MAX_GROUP_MODIFIERS = 2
_SENTENCE_ENDS = frozenset({".", "!", "?", "”", '"'})
# A sentence's first word that keeps its capital in a group's name ("Russian officials").
_PROPER_ADJECTIVES = DEMONYMS | frozenset(GEO)


def group_at(tokens: Sequence[Token], i: int, floor: int = 0) -> Phrase | None:
    """A group of people as a speaker, its noun at ``tokens[i]`` ("residents", "the
    protesters", "Many local farmers", "City officials" opening a sentence).

    At most two modifiers, after a determiner, a quantifier or the clause start; the phrase
    starts at ``floor`` or later (after a verb: "said local farmers"). The name has no
    determiner or quantifier, and a sentence's capital only on a proper adjective ("local
    farmers", "Russian officials"). "Ministry officials" in mid-sentence are the ministry's
    people and are not read here."""
    if not 0 <= i < len(tokens) or tokens[i].lower not in GROUP_NOUNS:
        return None
    first = i
    while (
        first > floor
        and i - first < _MAX_GROUP_MODIFIERS
        and tokens[first - 1].text[:1].isalpha()
        and tokens[first - 1].lower not in STOP_WORDS
        and tokens[first - 1].lower not in GROUP_QUANTIFIERS
        and (tokens[first - 1].text[:1].islower() or _opens_sentence(tokens, first - 1))
    ):
        first -= 1
    k = first
    if k > floor and (
        tokens[k - 1].lower in DETERMINERS or tokens[k - 1].lower in GROUP_QUANTIFIERS
    ):
        k -= 1
    if k > floor and tokens[k - 1].text[:1].isalnum():
        return None  # mid-clause: "hurt local farmers said" is no subject
    words = [t.text for t in tokens[first : i + 1]]
    if words[0][:1].isupper() and words[0].lower() not in _PROPER_ADJECTIVES:
        # A capital opening the sentence or clause: "City officials" -> "city officials",
        # "Courier: Critics say" -> "critics"; "Russian officials" stays.
        words[0] = words[0].lower()
    name = " ".join(words)
    modifiers = frozenset(t.lower for t in tokens[first:i])
    return Phrase(
        tokens[k].start, tokens[i].end, name, "nominal", modifiers=modifiers, org=True, group=True
    )


def _opens_sentence(tokens: Sequence[Token], k: int) -> bool:
    return k == 0 or tokens[k - 1].text in _SENTENCE_ENDS


def _ends_at(tokens: Sequence[Token], j: int) -> bool:
    """Whether a phrase ending at ``tokens[j]`` ends there (text end or punctuation)."""
    return j + 1 >= len(tokens) or not tokens[j + 1].text[:1].isalnum()


# A role phrase: at most this many modifiers before the role word ("a senior defence
# lawyer for") and words after "for"/"of" ("the travel agents' association").
_MAX_ROLE_MODIFIERS = 3
_MAX_ROLE_OBJECT = 6
_ROLE_LINKS = frozenset({"for", "of"})
_ARTICLES = frozenset({"a", "an", "the"})


def role_at(text: str, tokens: Sequence[Token], k: int, end: int | None = None) -> Phrase | None:
    """A role described by whom it serves, starting at ``tokens[k]``: "a spokesman for the
    residents' group", "A lawyer for Roth", "the mayor of Tarvik".

    The phrase is an article (or nothing), up to three modifiers, a lower-case role word
    (TITLE_WORDS; a capitalised one starts a name: "President of Azerbaijan Ilham
    Aliyev"), "for" or "of", and up to six plain words (an article, "of" and "and" allowed
    inside) ending at ``tokens[end]``, or, when ``end`` is None, before the first token that
    is not a plain word. Its modifiers are the lower-case words of both sides, so "the
    mayor of Tarvik" can match "Tarvik mayor Jonas Eklund" in the registry.
    """
    n = len(tokens)
    last = n - 1 if end is None else min(end, n - 1)
    i = k + 1 if k <= last and tokens[k].lower in _ARTICLES else k
    link = next(
        (t for t in range(i + 1, min(last, i + _MAX_ROLE_MODIFIERS + 1) + 1)
         if tokens[t].lower in _ROLE_LINKS),
        None,
    )  # fmt: skip
    if link is None or link >= last:
        return None
    role = tokens[link - 1]
    if not role.text[:1].islower() or _title_word(role.text) not in TITLE_WORDS:
        return None
    if any(not t.text[:1].isalpha() or t.lower in STOP_WORDS for t in tokens[i : link - 1]):
        return None
    j = link + 1
    if tokens[j].lower in _ARTICLES:
        j += 1
    stop = j
    while stop <= last and stop - link <= _MAX_ROLE_OBJECT and _plain_word(tokens, stop, j):
        stop += 1
    if stop == j or (end is not None and stop != last + 1):
        return None
    words_ = [bare(t.text) for t in tokens[i : link - 1]] + [bare(t.text) for t in tokens[j:stop]]
    title = _title_word(role.text)
    owner = phrase_after(text, tokens[:stop], link + 1)
    if owner is None or owner.end != tokens[stop - 1].end:
        o_lo, o_hi = tokens[link + 1].start, tokens[stop - 1].end
        head = tokens[stop - 1].lower
        owner = Phrase(o_lo, o_hi, text[o_lo:o_hi], "nominal", org=head in ORG_NOUNS)
    start, finish = tokens[k].start, tokens[stop - 1].end
    return Phrase(
        start=start,
        end=finish,
        text=text[start:finish],
        kind="role",
        titles=frozenset({title}),
        modifiers=frozenset(
            w for w in words_ if w[:1].isalpha() and w not in _ARTICLES | {"of", "and"}
        ),
        gender="female" if title in FEMALE_TITLES else "male" if title in MALE_TITLES else None,
        role=text[tokens[i].start : finish],
        owner=owner,
    )


def _plain_word(tokens: Sequence[Token], t: int, first: int) -> bool:
    """Whether ``tokens[t]`` continues the object of a role phrase that starts at ``first``:
    a word that is not a function word ("of", "and" and an article after them allowed)."""
    tok = tokens[t]
    if tok.text in {"'", "’"}:
        # "the residents' group": the plural possessive's apostrophe is its own token.
        return t > first and tokens[t - 1].text.endswith("s") and tokens[t - 1].end == tok.start
    if not tok.text[:1].isalpha():
        return False
    if tok.lower in {"of", "and"}:
        return t > first
    if tok.lower in _ARTICLES:
        return t > first and tokens[t - 1].lower in {"of", "and"}
    return tok.lower not in STOP_WORDS


def role_before(text: str, tokens: Sequence[Token], i: int) -> Phrase | None:
    """The role phrase (:func:`role_at`) that ends at ``tokens[i]``, opening at an article
    or at the clause start; the longest one when several fit."""
    reach = 2 + _MAX_ROLE_MODIFIERS + _MAX_ROLE_OBJECT + 1
    found: Phrase | None = None
    for k in range(i - 2, max(-1, i - reach), -1):
        opens = tokens[k].lower in _ARTICLES or k == 0 or not tokens[k - 1].text[:1].isalnum()
        role = role_at(text, tokens, k, i) if opens else None
        if role is not None:
            found = role
    return found


def _determiner_left(tokens: Sequence[Token], i: int) -> int | None:
    """Index of the determiner that opens a nominal ending after ``tokens[i]``."""
    j = i
    while j >= 0 and i - j < 5:
        tok = tokens[j]
        # A named owner is the determiner ("Voss' campaign manager"); a common noun owner is
        # part of the phrase ("the county health officers' association").
        possessive = tok.text.endswith(("'s", "’s", "s'", "s’"))
        if tok.lower in DETERMINERS or (possessive and tok.capitalised):
            return j
        if not tok.text[:1].isalpha() or tok.lower in STOP_WORDS:
            return None
        j -= 1
    return None


def phrase_after(text: str, tokens: Sequence[Token], i: int) -> Phrase | None:
    """The speaker phrase that starts at ``tokens[i]`` ("said Dmitry Peskov, the ...")."""
    if i >= len(tokens):
        return None
    tok = tokens[i]
    if tok.text.lower() in PRONOUNS:
        return Phrase(tok.start, tok.end, tok.text, "pronoun", gender=PRONOUNS[tok.text.lower()])
    for j in range(i, min(i + 4, len(tokens))):
        # "said local farmers." ("said farmers union leader Tom Hale" is Hale, below)
        group = group_at(tokens, j, floor=i)
        if group is not None and group.start == tok.start and _ends_at(tokens, j):
            return group
    role = role_at(text, tokens, i)
    if role is not None:
        k = token_at(tokens, role.end)
        if k >= len(tokens) or not tokens[k].text[:1].isalnum():
            return role  # "according to a spokesman for the prison service, ..."
    start = i + 1 if tok.lower in DETERMINERS else i
    # Lower-case modifiers before a role and a name: "said beach warden Tessa Moyo".
    lead = start
    while (
        lead < len(tokens)
        and lead - start < _MAX_ROLE_MODIFIERS
        and tokens[lead].text[:1].islower()
        and tokens[lead].text[:1].isalpha()
        and tokens[lead].lower not in STOP_WORDS
        and not _is_role_word(tokens[lead])
    ):
        lead += 1
    if lead > start and lead < len(tokens) and _is_name_token(tokens[lead]):
        start = lead
    elif lead > start and lead < len(tokens) and _is_role_word(tokens[lead]):
        named = any(_is_name_token(t) for t in tokens[lead + 1 : lead + 4])
        start = lead if named else start
    skipped = frozenset(bare(t.text) for t in tokens[i:start] if t.lower not in DETERMINERS)
    j = start
    while j < len(tokens) and (
        _is_name_token(tokens[j])
        or _is_role_word(tokens[j])
        or (tokens[j].lower == "of" and j + 1 < len(tokens) and _is_name_token(tokens[j + 1]))
    ):
        j += 1
    if j == start:
        return None
    phrase = parse_run(tokens[start:j])
    if phrase is None:
        return None
    titles, modifiers, role_text = set(phrase.titles), set(phrase.modifiers) | skipped, phrase.role
    # An appositive after a name adds roles: "said Dmitry Peskov, the Kremlin spokesman".
    if phrase.kind == "name" and j + 1 < len(tokens) and tokens[j].text == ",":
        k = j + 1
        if tokens[k].lower in DETERMINERS:
            k += 1
        run_end = k
        while run_end < len(tokens) and run_end - k < 5 and tokens[run_end].text[:1].isalpha():
            run_end += 1
        role = parse_run(tokens[k:run_end])
        if role is not None and role.titles:
            titles |= role.titles
            modifiers |= role.modifiers
            role_text = role_text or role.role
    widened = replace(
        phrase,
        start=tokens[i].start,
        titles=frozenset(titles),
        modifiers=frozenset(modifiers),
        role=role_text,
    )
    return with_text(widened, text)


def clean_name(words: tuple[str, ...]) -> tuple[str, ...]:
    out = list(words)
    if out:
        last = out[-1]
        if last.endswith(("'s", "’s")):
            out[-1] = last[:-2]
    return tuple(out)


def name_core(words: Sequence[str]) -> tuple[str, ...]:
    """A name without its suffixes: ("Samuel", "Okonkwo", "Jr.") -> ("Samuel", "Okonkwo")."""
    out = list(words)
    while len(out) > 1 and bare(out[-1]) in NAME_SUFFIXES:
        out.pop()
    return tuple(out)


def name_runs(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Token ranges [i, j) of capitalised runs: "Foreign Minister Ana Petrova",
    "President of the Republic of Azerbaijan Ilham Aliyev", "Kremlin spokesman Dmitry Peskov".

    Lower-case role words join a run only before a capitalised word; "of" / "of the" only
    between capitalised words.
    """
    runs: list[tuple[int, int]] = []
    n = len(tokens)

    def joins(j: int, i: int) -> bool:
        tok = tokens[j]
        if _is_name_token(tok) and tok.text[:1].isalpha():
            return True
        if tok.lower in TITLE_WORDS:
            # Lower-case roles before a name: "Halberd chief executive Nadia Ferreira".
            k = j + 1
            while k < n and k - j <= 3 and tokens[k].lower in TITLE_WORDS:
                if _is_name_token(tokens[k]):
                    return True
                k += 1
            return k < n and _is_name_token(tokens[k])
        nxt = tokens[j + 1] if j + 1 < n else None
        if nxt is None or not _is_name_token(nxt):
            return False
        if j == i:
            return False
        # "of" only after a role or an organisation: "President of Azerbaijan", "Ministry of
        # Defence", but not "Critics of Aliyev" (a sentence-initial word, then a name);
        # "for" only after an organisation: "Foundation for Campus Speech".
        if tok.lower == "of":
            return any(t.lower in TITLE_WORDS or t.lower in ORG_HEADS for t in tokens[i:j])
        if tok.lower == "for":
            return tokens[j - 1].lower in ORG_HEADS and tokens[j - 1].capitalised
        return tok.lower == "the" and tokens[j - 1].lower == "of"

    i = 0
    while i < n:
        first = tokens[i].text
        # Fast path: most tokens are lower-case words that can neither start nor join a run.
        if not first[:1].isupper() and bare(first) not in TITLE_WORDS:
            i += 1
            continue
        j = i
        while j < n and joins(j, i):
            j += 1
        if j > i:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def is_antecedent(phrase: Phrase) -> bool:
    """Whether a name phrase found anywhere is worth remembering for later references.

    People introduced with a role or honorific, or by two or more name words; organisations
    whose name ends in an organisation word. Lone capitalised words are left out: they are
    too often sentence-initial common words or places.
    """
    if phrase.kind != "name":
        return False
    if phrase.org:
        return phrase.name[-1].lower() not in GEO and len(phrase.name) + len(phrase.modifiers) > 1
    named_geo = any(bare(w) in GEO for w in phrase.name)
    return not named_geo and (
        bool(phrase.titles) or phrase.gender is not None or len(phrase.name) > 1
    )
