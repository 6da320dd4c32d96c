"""Coreference: who "the president", "Mr. Aliyev", "the company" and "he" are.

Phrases come from phrases.py (re-exported here, so callers keep one import).
:class:`EntityRegistry` resolves them in document order: a name matches the person with
the same surname (and no conflicting first name) and upgrades the display name to the
fullest form seen ("Aliyev" then "Ilham Aliyev" -> "Ilham Aliyev"); a nominal matches the
most recently mentioned entity with that role (modifiers must agree: "the foreign minister"
is not the defence minister), and an organisation word or an unnamed spokesperson ("the
company", "the daily", "a Skyreach spokesperson") matches the organisation named last.
he/she is resolved by news convention, in this order: the latest speaker or sentence
subject of its own paragraph ("Lindgren, an epidemiologist, has run ... “...,” she said":
a person introduced just before wins over the last speaker); else the latest speaker within
reach; else the latest person mentioned; always of a compatible gender (learned from
earlier pronouns too) and never an organisation (except one speaking through an unnamed
spokesperson just before). Mentions inside quotes are never antecedents. Only the last
``_LOOKBACK`` mentions are searched, so resolution cost stays bounded.

A role described by whom it serves ("a lawyer for the city", phrases.role_at) is the person
met before with that role and those words ("Tarvik mayor Jonas Eklund" for "the mayor of
Tarvik"), else a person of its own named by the phrase ("lawyer for the city"), distinct per
phrase; a spokesperson for an organisation is that organisation speaking (the one named
before whose name holds all the words: "the ministry" for "Ministry of Agriculture", not
"the consumer council" for "county council"; else a new one: "residents' group"), and "the
spokesman" later is the organisation that spoke through a spokesman.

Limits: unknown nominals with no antecedent become entities named by the phrase itself
("ministry spokesman").
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from model.article.lexicon import GEO, LEADER_TITLES, NOT_NAMES, SPOKES_TITLES, bare
from model.article.phrases import (
    DETERMINERS,
    Phrase,
    Token,
    TokenIndex,
    clean_name,
    is_antecedent,
    name_core,
    name_runs,
    parse_run,
    phrase_after,
    phrase_before,
    token_at,
    tokenize,
    with_text,
)

__all__ = [
    "MENTION",
    "PROXY",
    "QUOTED",
    "SPEAKER",
    "SUBJECT",
    "Entity",
    "EntityRegistry",
    "Phrase",
    "Token",
    "TokenIndex",
    "is_antecedent",
    "name_runs",
    "parse_run",
    "phrase_after",
    "phrase_before",
    "token_at",
    "tokenize",
    "with_text",
]

# How many earlier mentions a nominal or pronoun may reach back to.
_LOOKBACK = 200
# How far back (characters) "he"/"she" prefers the last speaker over other people.
_SPEAKER_REACH = 1500


@dataclass
class Entity:
    """A person or organisation of the article, with everything learned about it."""

    id: int
    name: str
    kind: str  # "person" | "organization"
    titles: set[str] = field(default_factory=set)
    modifiers: set[str] = field(default_factory=set)
    surname: str | None = None
    first: tuple[str, ...] = ()
    gender: str | None = None
    aliases: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    # A group of people ("local residents"): an organisation for "they", never the one
    # that "the company" / "the grid" refers back to.
    group: bool = False

    def add_alias(self, alias: str) -> None:
        """Remember a surface form (first occurrence order, no duplicates)."""
        alias = " ".join(alias.split())
        if alias and alias not in self.aliases:
            self.aliases.append(alias)


# What a recorded mention is, for pronoun resolution: a speaker of a cue, the subject of a
# sentence ("Lindgren, an epidemiologist, has run ..."), any other mention, a mention inside
# a quote (never an antecedent of "he"), or an organisation speaking through an unnamed
# spokesperson ("a spokeswoman for the police said ... she said").
SPEAKER, SUBJECT, MENTION, QUOTED, PROXY = "speaker", "subject", "mention", "quoted", "proxy"


class EntityRegistry:
    """Entities of one article and their mentions by position; resolves phrases."""

    def __init__(self) -> None:
        self.entities: list[Entity] = []
        self._positions: list[int] = []
        self._events: list[tuple[Entity, str]] = []  # (entity, what the mention is)
        self._by_surname: dict[str, list[Entity]] = {}
        self._by_org: dict[tuple[str, ...], Entity] = {}

    def person(self, surname: str) -> Entity | None:
        """The latest person with this surname (any case), or None."""
        found = self._by_surname.get(surname.lower())
        return found[-1] if found else None

    def _record(self, pos: int, entity: Entity, role: str) -> None:
        k = bisect.bisect_right(self._positions, pos)
        self._positions.insert(k, pos)
        self._events.insert(k, (entity, role))

    def _recent(self, pos: int) -> list[tuple[int, Entity, str]]:
        k = bisect.bisect_left(self._positions, pos)
        lo = max(0, k - _LOOKBACK)
        return [(self._positions[n], *self._events[n]) for n in range(k - 1, lo - 1, -1)]

    def _new(self, name: str, kind: str) -> Entity:
        entity = Entity(id=len(self.entities), name=name, kind=kind)
        self.entities.append(entity)
        if kind == "organization":
            self._by_org.setdefault(_org_key(tuple(name.split())), entity)
        return entity

    def observe(
        self, phrase: Phrase, pos: int | None = None, speaker: bool = False, role: str = ""
    ) -> Entity:
        """Resolve a name or nominal phrase (creating an entity if needed) and record it.

        ``role`` says what the mention is (SUBJECT, MENTION, QUOTED); a speaker mention is
        SPEAKER whatever ``role`` says.
        """
        at = phrase.start if pos is None else pos
        entity = self._match(phrase, at)
        owner = _spokes_owner(phrase) if entity is None else None
        if owner is not None:
            # "a spokeswoman for the county council", met first: the council speaks.
            name = " ".join(owner.name) if owner.kind == "name" else _without_determiner(owner.text)
            entity = self._by_org.get(_org_key(tuple(name.split()))) or self._new(
                name, "organization"
            )
        named = _spokes_org_name(phrase) if entity is None else None
        if named is not None:
            # "A Skyreach spokesperson said": Skyreach speaks, though never introduced.
            entity = self._by_org.get(_org_key(named)) or self._new(" ".join(named), "organization")
        if entity is None:
            if phrase.kind == "name":
                entity = self._new(" ".join(clean_name(phrase.name)), _kind(phrase))
            else:
                entity = self._new(_without_determiner(phrase.text), _kind(phrase))
                entity.group = phrase.group
        self._learn(entity, phrase)
        proxy = entity.kind == "organization" and bool(phrase.titles & SPOKES_TITLES)
        kind = (PROXY if proxy else SPEAKER) if speaker else (role or MENTION)
        self._record(at, entity, kind)
        return entity

    def resolve(
        self, phrase: Phrase, pos: int | None = None, speaker: bool = True, floor: int = -1
    ) -> Entity | None:
        """Like :meth:`observe`, but pronouns resolve only to an earlier entity (or None).

        ``floor`` is where the pronoun's paragraph starts: a person who is the subject of a
        sentence there, after the last speaker, is who "he"/"she" means.
        """
        at = phrase.start if pos is None else pos
        if phrase.kind != "pronoun":
            return self.observe(phrase, at, speaker)
        entity = self._pronoun(phrase, at, floor)
        if entity is not None:
            entity.add_alias(phrase.text)
            if (
                entity.gender is None
                and entity.kind == "person"
                and phrase.gender in {"male", "female"}
            ):
                entity.gender = phrase.gender
            self._record(at, entity, SPEAKER if speaker else MENTION)
        return entity

    def _pronoun(self, phrase: Phrase, pos: int, floor: int) -> Entity | None:
        """he/she: in this paragraph the latest speaker or sentence subject of the right
        gender; else the latest speaker within reach; else the latest person. Never an
        organisation, except one that spoke through an unnamed spokesperson just before.
        they/it: the latest organisation speaker, else organisation."""
        plural = phrase.gender == "plural"
        recent = [r for r in self._recent(pos) if r[2] != QUOTED]

        def fits(e: Entity, role: str, at: int) -> bool:
            if plural:
                return e.kind == "organization"
            if e.kind != "person":
                return role == PROXY and at >= floor
            return e.gender in (None, phrase.gender)

        for at, entity, role in recent:
            if at < floor:
                break
            if role in {SPEAKER, SUBJECT, PROXY} and fits(entity, role, at):
                return entity
        for at, entity, role in recent:
            if role in {SPEAKER, PROXY} and pos - at <= _SPEAKER_REACH and fits(entity, role, at):
                return entity
        return next((e for at, e, role in recent if fits(e, role, at)), None)

    def _match(self, phrase: Phrase, pos: int) -> Entity | None:
        if phrase.kind == "name" and not phrase.org:
            name = name_core(clean_name(phrase.name))
            candidates = self._by_surname.get(name[-1].lower(), [])
            first = tuple(w.lower().rstrip(".") for w in name[:-1])
            for entity in reversed(candidates):
                other = tuple(w.lower().rstrip(".") for w in entity.first)
                if not first or not other or _same_first(first, other):
                    return entity
            return None
        if phrase.kind == "name":
            return self._by_org.get(_org_key(phrase.name))
        recent = [(at, e) for at, e, role in self._recent(pos) if role != QUOTED]
        if phrase.kind == "role":
            return self._role(phrase, recent)
        for _, entity in recent:
            if _nominal_fits(phrase, entity):
                return entity
        if _speaks_for_org(phrase):
            # "the company said", "the influential daily wrote", "a Skyreach spokesperson":
            # the organisation named last (within reach), when no person holds the role.
            orgs = [
                entity
                for at, entity in recent
                if pos - at <= _SPEAKER_REACH
                and entity.kind == "organization"
                and not entity.group
                and _org_fits(phrase, entity)
            ]
            # "The spokesman said" after two organisations spoke: the one that spoke
            # through a spokesman (not a spokeswoman) before.
            same = [e for e in orgs if phrase.titles and phrase.titles <= e.titles]
            return next(iter(same or orgs), None)
        return None

    def _role(self, phrase: Phrase, recent: list[tuple[int, Entity]]) -> Entity | None:
        """A role described by whom it serves ("a lawyer for the city"): the person met
        before with that role and those modifiers (the same phrase again, or "Tarvik mayor
        Jonas Eklund" for "the mayor of Tarvik"); a spokesperson for an organisation already
        named is that organisation speaking ("a spokesman for the ministry" after "the
        Ministry of Agriculture"); else None, and the role becomes a person of its own,
        named by the phrase ("spokesman for the residents' group")."""
        for _, entity in recent:
            if entity.kind == "person" and _nominal_fits(phrase, entity):
                return entity
        owner = _spokes_owner(phrase)
        if owner is None:
            return None
        if owner.kind == "name":
            return self._by_org.get(_org_key(owner.name))
        # Every word of "the county prosecutor's office" must be in the organisation's name:
        # "the consumer council" is not the "county council" named before.
        wanted = set(_org_key(tuple(owner.text.split())))
        for _, entity in recent:
            if entity.kind == "organization" and wanted <= set(
                _org_key(tuple(entity.name.split()))
            ):
                return entity
        return None

    def _learn(self, entity: Entity, phrase: Phrase) -> None:
        entity.add_alias(phrase.text)
        if phrase.role and phrase.kind == "name" and phrase.role not in entity.roles:
            entity.roles.append(phrase.role)
        entity.titles |= phrase.titles
        entity.modifiers |= phrase.modifiers
        if entity.kind == "person":
            entity.gender = entity.gender or phrase.gender
        if phrase.kind == "name" and entity.kind == "person":
            name = clean_name(phrase.name)
            core = name_core(name)
            if entity.surname is None:
                entity.surname = core[-1]
                self._by_surname.setdefault(core[-1].lower(), []).append(entity)
            if len(core) > 1 + len(entity.first) or (
                len(name) > len(core) and len(core) == 1 + len(entity.first)
            ):
                entity.first = core[:-1]
                entity.name = " ".join(name)


def _speaks_for_org(phrase: Phrase) -> bool:
    """A nominal that can stand for an organisation: "the company", "a ministry spokesman"."""
    if phrase.kind != "nominal" or phrase.group:
        return False  # "the protesters" are themselves, not the organisation named last
    if phrase.titles:
        return phrase.titles <= SPOKES_TITLES
    return phrase.org


def _without_determiner(text: str) -> str:
    """ "the ministry spokesman" -> "ministry spokesman": an unnamed entity's display name."""
    words = text.split()
    if words and words[0].lower() in DETERMINERS:
        words = words[1:]
    return " ".join(words) or text


def _spokes_owner(phrase: Phrase) -> Phrase | None:
    """The organisation a spokesperson speaks for ("a spokesman for the ministry"), or None
    when the role is not a spokesperson's or whom it serves is not an organisation ("a
    lawyer for the city", "a spokesman for the prosecutors" are roles of their own)."""
    owner = phrase.owner
    if phrase.kind != "role" or owner is None or not phrase.titles <= SPOKES_TITLES:
        return None
    return owner if owner.org else None


def _spokes_org_name(phrase: Phrase) -> tuple[str, ...] | None:
    """The capitalised organisation words of "a Skyreach spokesperson", if any."""
    if phrase.kind != "nominal" or not phrase.titles or not phrase.titles <= SPOKES_TITLES:
        return None
    words = tuple(
        clean_name((w,))[0]
        for w in phrase.text.split()
        if w[:1].isupper() and bare(w) not in NOT_NAMES and bare(w) not in SPOKES_TITLES
    )
    return words or None


def _org_fits(phrase: Phrase, entity: Entity) -> bool:
    """A spokesperson's modifiers, when given, must name the organisation ("Skyreach"); a
    possessive names another owner ("the prosecutor's office" is not the last org)."""
    if not phrase.titles:
        return not re.search(r"\w['’]s?\s", phrase.text)
    named = {bare(w) for w in entity.name.split()}
    wanted = {m for m in phrase.modifiers if m not in {"a", "an", "the"}}
    return not wanted or bool(wanted & named)


def _kind(phrase: Phrase) -> str:
    return "organization" if phrase.org else "person"


def _same_first(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """First names agree, allowing initials: ("i",) matches ("ilham",)."""
    x, y = a[0], b[0]
    return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


def _org_key(words: tuple[str, ...]) -> tuple[str, ...]:
    """Organisation identity: "Russia's Defense Ministry" == "the Russian Defense Ministry"."""
    return tuple(GEO.get(bare(w), bare(w)) for w in words if bare(w) != "the")


def _nominal_fits(phrase: Phrase, entity: Entity) -> bool:
    """Whether "the <modifiers> <role>" can refer to ``entity``."""
    if phrase.org or not phrase.titles:
        head = bare(phrase.text.split()[-1]) if phrase.text.split() else ""
        # "the ministry" is the "Ministry of Agriculture" as well as the "Energy Ministry".
        return entity.kind == "organization" and head in {bare(w) for w in entity.name.split()}
    if entity.kind != "person":
        return False
    if "leader" in phrase.titles:
        if not (entity.titles & LEADER_TITLES):
            return False
    elif not phrase.titles <= entity.titles:
        return False
    known = entity.titles | entity.modifiers
    return all(m in known or m in GEO for m in phrase.modifiers)
