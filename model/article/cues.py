"""Cue phrases: the speaker phrase that goes with a cue verb, a colon or "according to".

Token-level helpers for attribution.py, written once here so the quote cues and the
reported-speech reader share them:

- :func:`subject` finds the speaker phrase right before a verb over the clutter of US
  political and wire copy: fillers ("also"), a party affiliation in parentheses or between
  commas ("Rep. Jane Doe (D-Mo.) said", "Sen. X, R-Texas, said"), an appositive that holds
  the name ("Voss' campaign manager, Todd Birch, said") or adds a role ("Dmitry Peskov, the
  Kremlin spokesman, said"); a role described by whom it serves ("a lawyer for Roth",
  "a spokesman for the residents' group", "the mayor of Tarvik") is a ``role`` phrase
  (phrases.role_at), and "the mayor of Tarvik, Jonas Eklund, said" is Eklund;
- :func:`is_speaker` rejects lone words that only look like names ("Some", "Republicans",
  "United", "Paris");
- :func:`roundup_speaker` reads the verbless round-up lead (``Jane Doe, The Daily Planet:``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from model.article.entities import EntityRegistry
from model.article.lexicon import (
    ADJUNCT_OPENERS,
    DEMONYMS,
    GEO,
    NOT_SPEAKERS,
    ORG_NOUNS,
    PREPOSITIONS,
    SUBJECT_VERB_FILLERS,
    TITLE_WORDS,
    bare,
)
from model.article.phrases import (
    Phrase,
    Token,
    name_runs,
    parse_run,
    phrase_after,
    phrase_before,
    role_before,
    token_at,
    with_text,
)

# The longest parenthetical skipped between a name and its verb: "(D-N.M.)".
_MAX_PAREN_TOKENS = 10
# Words of a description before a place and an appositive name ("A trader in Hamburg, X").
_MAX_LEAD_WORDS = 4
_PARTY_TAG = re.compile(r"[DRI]-[A-Z]")
_END_OF_PHRASE = frozenset({",", ".", ";", ":", "!", "?", "”", '"', "»", "—", "–"})


def verb_tokens(tokens: Sequence[Token], match: re.Match[str]) -> tuple[int, int] | None:
    """Token indices [first, after) of a verb match, or None when it is not on token edges."""
    first = token_at(tokens, match.start())
    if first >= len(tokens) or tokens[first].start != match.start():
        return None
    after = first
    while after < len(tokens) and tokens[after].end <= match.end():
        after += 1
    return first, after


def _skip_paren(tokens: Sequence[Token], i: int) -> int:
    """Index before a short parenthetical ending at ``tokens[i]`` ("Jane Doe (D-Mo.)")."""
    if i < 0 or tokens[i].text != ")":
        return i
    for k in range(i - 1, max(-1, i - _MAX_PAREN_TOKENS), -1):
        if tokens[k].text == "(":
            return k - 1
    return i


def subject(text: str, tokens: Sequence[Token], verb: int) -> Phrase | None:
    """The speaker phrase right before ``tokens[verb]`` (fillers, appositives and a party
    affiliation in parentheses or commas skipped); a role described by whom it serves ("a
    spokesman for the ministry", "a lawyer for Roth") is a ``role`` phrase (phrases.role_at):
    the registry decides whether a spokesperson is their known organisation speaking."""
    phrase = _subject_phrase(text, tokens, verb)
    if phrase is None or phrase.kind != "name":
        return phrase
    k = token_at(tokens, phrase.start)
    if k >= 2 and tokens[k - 1].lower == "from":
        # "the senator from Ohio said": the role speaks, not the place.
        role = phrase_before(text, tokens, k - 2)
        if role is not None and role.kind == "nominal" and role.titles:
            return role
    return phrase


def _party_tag(tokens: Sequence[Token]) -> bool:
    """ "R-Kan.", "D-N.M.": a party affiliation between commas."""
    return 0 < len(tokens) <= 6 and _PARTY_TAG.match(tokens[0].text) is not None


def _subject_phrase(text: str, tokens: Sequence[Token], verb: int) -> Phrase | None:
    toks = tokens
    i = verb - 1
    while i >= 0 and toks[i].lower in SUBJECT_VERB_FILLERS:
        i -= 1
    i = _skip_paren(toks, i)
    if i >= 0 and toks[i].text == ",":
        # "Dmitry Peskov, the Kremlin spokesman, said" / "Aliyev, who ..., said".
        k = i - 1
        while k >= 0 and toks[k].text != "," and i - k <= 15:
            k -= 1
        if k < 1 or toks[k].text != ",":
            return None
        if _party_tag(toks[k + 1 : i]):
            # "Sen. Dale Whitcomb, R-Kan., said": the name is before the party tag.
            return phrase_before(text, toks, _skip_paren(toks, k - 1))
        words = [t for t in toks[k + 1 : i] if t.lower not in {"the", "a", "an"}]
        before = k - 1
        party = k - 1
        while party >= 0 and toks[party].text != "," and k - party <= 6:
            party -= 1
        if party >= 1 and toks[party].text == "," and _party_tag(toks[party + 1 : k]):
            before = party - 1  # "Sen. Kathleen Moore, D-Vt., a sponsor of the bill, said"
        end = _skip_paren(toks, before)
        phrase = role_before(text, toks, end) or phrase_before(text, toks, end)
        role = parse_run(words) if words and words[0].text[:1].isalpha() else None
        if phrase is None and role is not None and all(t.capitalised for t in words):
            # "Voss' campaign manager, Todd Birch, called": the name is in the commas.
            return with_text(role, text) if role.kind == "name" else None
        if phrase is None or phrase.kind == "pronoun":
            return phrase
        p = token_at(toks, phrase.start)
        placed = phrase.kind == "name" and p > 0 and toks[p - 1].text in PREPOSITIONS
        if placed and role is not None and role.kind == "name" and not role.org:
            # "A trader in Hamburg, Dieter Vogt, said": the place is not the speaker; the
            # description ("A trader in") is part of the phrase, as a role before a name is.
            lead = p - 1
            while lead > 0 and p - lead < _MAX_LEAD_WORDS and toks[lead - 1].text[:1].isalpha():
                lead -= 1
            found = replace(role, start=toks[lead].start)
            return with_text(found, text) if len(role.name) > 1 else None
        if role is not None and role.kind == "name" and phrase.kind in {"nominal", "role"}:
            # "The opposition leader, Davit Kurtsikidze, said", "the mayor of Tarvik, Jonas
            # Eklund, called": the name is in the commas.
            named = replace(
                role,
                start=phrase.start,
                titles=role.titles | phrase.titles,
                modifiers=role.modifiers | phrase.modifiers,
                role=role.role or phrase.role or phrase.text.split(maxsplit=1)[-1],
                owner=None,
            )
            return with_text(named, text)
        if role is None or not role.titles:
            return phrase
        return replace(
            phrase,
            titles=phrase.titles | role.titles,
            modifiers=phrase.modifiers | role.modifiers,
            gender=phrase.gender or role.gender,
            role=phrase.role or role.role,
        )
    return role_before(text, toks, i) or phrase_before(text, toks, i)


def ends_phrase(tokens: Sequence[Token], phrase: Phrase) -> bool:
    """Whether the phrase is followed by punctuation, nothing, or an adjunct ("after the
    court upheld the ban", "on Tuesday"), not by more of its clause."""
    k = token_at(tokens, phrase.end)
    return k >= len(tokens) or tokens[k].text in _END_OF_PHRASE or tokens[k].text in ADJUNCT_OPENERS


def according_to(text: str, tokens: Sequence[Token], k: int) -> Phrase | None:
    """``according to X`` starting at ``tokens[k]``."""
    if k + 2 < len(tokens) and [t.lower for t in tokens[k : k + 2]] == ["according", "to"]:
        phrase = phrase_after(text, tokens, k + 2)
        if phrase is not None and ends_phrase(tokens, phrase):
            return phrase
    return None


def is_sentence_subject(tokens: Sequence[Token], i: int, j: int) -> bool:
    """Whether the name run tokens[i:j] is a sentence subject: it opens the sentence (or
    follows a fronted clause: "Asked why, Whitby paused") and is not a possessive."""
    if tokens[j - 1].text.endswith(("'s", "’s")):
        return False
    before = tokens[i - 1].text if i > 0 else "."
    if before not in {".", "!", "?", "”", '"', ","}:
        return False
    after = tokens[j].text if j < len(tokens) else "."
    return after == "," or after[:1].islower()


def dash_signature(text: str, tokens: Sequence[Token]) -> Phrase | None:
    """``“...” — Sam Kent, attorney``: a name right after a dash that follows a quote."""
    if len(tokens) < 2 or tokens[0].text not in {"—", "–", "-"}:
        return None
    phrase = phrase_after(text, tokens, 1)
    if phrase is None or phrase.kind != "name" or not ends_phrase(tokens, phrase):
        return None
    return phrase


def is_speaker(phrase: Phrase | None) -> bool:
    """A phrase that can speak: a person, an organisation, a role, a group of people
    ("residents", "the protesters": phrases.group_at) or a pronoun.

    Not a lone word that only looks like a name at a sentence start or names a crowd or a
    place: "Some said", "Republicans said" (a party), "United said", "Paris said"."""
    if phrase is None:
        return False
    if phrase.group:
        return True  # "residents said", "the protesters said" (phrases.group_at)
    if phrase.kind == "name" and len(phrase.name) == 1 and not phrase.titles:
        word = bare(phrase.name[0])
        singular = word[:-1] if word.endswith("s") else ""
        party = singular in TITLE_WORDS or singular in DEMONYMS or word in DEMONYMS
        return not (word in NOT_SPEAKERS or word in GEO or party)
    if phrase.kind in {"pronoun", "name"}:
        return True
    return bool(phrase.titles) or any(w in ORG_NOUNS for w in phrase.text.lower().split()[-1:])


def roundup_speaker(text: str, lead: Sequence[Token], registry: EntityRegistry) -> Phrase | None:
    """The speaker named in a round-up lead ("Harmon's attorney, Blake Cordero:"): the
    fullest person name of the first comma-separated segment that has one, else the first
    organisation; a lone word counts only as the surname of a known person."""
    people: list[tuple[int, Phrase]] = []
    orgs: list[Phrase] = []
    for i, j in name_runs(lead):
        phrase = parse_run(lead[i:j])
        if phrase is None or phrase.kind != "name":
            continue
        if lead[j - 1].text.endswith(("'s", "’s")):
            continue  # "Harmon's attorney": Harmon is not the speaker
        segment = sum(1 for t in lead[:i] if t.text == ",")
        phrase = with_text(phrase, text)
        if phrase.org:
            orgs.append(phrase)
        elif any(bare(w) in GEO for w in phrase.name):
            continue
        elif len(phrase.name) > 1 or phrase.titles or registry.person(bare(phrase.name[0])):
            people.append((segment, phrase))
    if people:
        seg = people[0][0]
        return max((p for s_, p in people if s_ == seg), key=lambda p: (len(p.name), p.start))
    return orgs[0] if orgs else None
