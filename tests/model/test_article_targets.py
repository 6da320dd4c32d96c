"""Tests for targets.py: discovery of targets and grouping of their mentions."""

from __future__ import annotations

import pytest

from model.article.attribution import attribute
from model.article.cleaning import clean_article
from model.article.lexicon import stem
from model.article.quotes import find_quotes
from model.article.targets import (
    TargetGroup,
    auto_targets,
    caller_targets,
    discover,
    group,
    phrase_key,
)


def _setup(text: str):
    article = clean_article(text)
    found = attribute(article, find_quotes(text, article.paragraphs).quotes)
    cues = [s.cue for s in found.speeches if s.cue]
    candidates = discover(article, found.registry, cues, found.index)
    return article, found, cues, candidates


def _groups(text: str) -> list[list[str]]:
    """Surface forms per group, groups in order of first mention."""
    _, _, _, candidates = _setup(text)
    groups = group(candidates).groups.values()
    ordered = sorted(groups, key=lambda members: members[0].start)
    return [[m.surface for m in sorted(members, key=lambda m: m.start)] for members in ordered]


def _mentions(text: str, target: TargetGroup) -> list[str]:
    return [text[a:b] for a, b in target.mentions]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("peacekeepers", "peacekeep"),
        ("peacekeeping", "peacekeep"),
        ("peacekeeper", "peacekeep"),
        ("Russia's", "russia"),
        ("news", "news"),
        ("forces", "forc"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_phrase_keys_share_country_and_core() -> None:
    a = phrase_key(["Russian", "peacekeepers"])
    b = phrase_key(["Russia's", "peacekeeping", "forces"])
    c = phrase_key(["the", "peacekeeping", "mission"])
    assert (a.geo, a.core) == (frozenset({"russia"}), frozenset({"peacekeep"}))
    assert (b.geo, b.core) == (a.geo, a.core)
    assert (c.geo, c.core, c.head) == (frozenset(), frozenset({"peacekeep"}), "mission")
    side = phrase_key(["the", "Armenian", "side"])
    assert (side.geo, side.core) == (frozenset({"armenia"}), frozenset())
    forces = phrase_key(["Russian", "forces"])  # the forces, not Russia itself
    assert (forces.geo, forces.core) == (frozenset({"russia"}), frozenset({"forc"}))
    assert phrase_key(["a", "statement"]).indefinite
    assert not phrase_key(["the", "statement"]).indefinite


def test_issue_example_mentions_are_one_group() -> None:
    text = (
        "Russian peacekeepers arrived in the region in November.\n"
        "Officials said Russia's peacekeeping forces had set up ten posts.\n"
        "The peacekeeping mission will last five years, and Russia will pay for it.\n"
        "The mission was welcomed by the Armenian side, and Armenia sent a delegation."
    )
    groups = _groups(text)
    assert [
        "Russian peacekeepers",
        "Russia's peacekeeping forces",
        "peacekeeping mission",
        "mission",
    ] in groups
    assert ["Russia"] in groups  # the country is not its peacekeepers
    assert ["Armenian side", "Armenia"] in groups


def test_same_core_with_two_countries_does_not_guess() -> None:
    text = (
        "Russian peacekeepers and Turkish peacekeepers patrol the area.\n"
        "The peacekeepers met on Monday."
    )
    groups = _groups(text)
    assert ["Russian peacekeepers"] in groups
    assert ["Turkish peacekeepers"] in groups
    assert ["peacekeepers"] in groups  # ambiguous: stays apart


def test_definite_shortening_joins_the_one_more_specific_phrase() -> None:
    text = (
        "Georgia signed the visa facilitation agreement on Monday.\n"
        "The minister said in a statement that the agreement was fair.\n"
        "The agreement will enter into force in January."
    )
    groups = _groups(text)
    assert ["visa facilitation agreement", "agreement", "agreement"] in groups
    assert ["statement"] in groups  # "a statement" introduces something new


def test_people_group_by_surname_and_cues_are_not_mentions() -> None:
    text = (
        "President Ilham Aliyev met Nikol Pashinyan.\n"
        "“The talks were useful,” Aliyev said.\n"
        "Critics of Aliyev were not invited."
    )
    groups = _groups(text)
    # "Aliyev said" names the speaker; it is not a mention of Aliyev as a target.
    assert ["Ilham Aliyev", "Aliyev"] in groups
    assert ["Nikol Pashinyan"] in groups


def test_auto_targets_rank_by_mentions_and_skip_non_targets() -> None:
    text = (
        "Storm closes the coastal highway\n"
        "Heavy rain closed the coastal highway on Sunday, the press conference heard.\n"
        "Crews cleared the coastal highway near the port during the press conference.\n"
        "Traffic on the highway resumed. The port stayed closed."
    )
    article, _, _, candidates = _setup(text)
    targets = auto_targets(article, candidates, min_mentions=2)
    assert [(t.name, len(t.mentions), t.headline_mentions) for t in targets] == [
        ("coastal highway", 3, 1),
        ("port", 2, 0),
    ]
    assert _mentions(text, targets[0]) == ["coastal highway", "coastal highway", "highway"]


def test_caller_target_gets_literal_and_grouped_mentions() -> None:
    text = (
        "Headline about Russian peacekeepers\n"
        "Russian peacekeepers arrived in November.\n"
        "“The peacekeeping mission is working,” Aliyev said.\n"
        "Russia's peacekeeping forces set up posts."
    )
    article, found, cues, candidates = _setup(text)
    (target,) = caller_targets(
        article, ["the peacekeeping mission"], candidates, found.registry, cues
    )
    assert target.name == "the peacekeeping mission" and target.source == "caller"
    assert _mentions(text, target) == [
        "Russian peacekeepers",
        "The peacekeeping mission",  # the caller's literal form wins over the shorter one
        "Russia's peacekeeping forces",
    ]  # the headline's mention is not evidence


def test_caller_target_absent_from_text_has_no_mentions() -> None:
    article, found, cues, candidates = _setup("The talks in Geneva ended without a deal.")
    (target,) = caller_targets(article, ["NATO"], candidates, found.registry, cues)
    assert target.mentions == []


# --------------------------------------------------------------------------- issue 12


def test_auto_targets_are_concrete_things_not_abstract_heads() -> None:
    text = (
        "Talks in the valley\n"
        "The activity of the soldiers worried everyone. Our goal is calm, and the goal is "
        "near.\n"
        "The activity continued near the bridge. The bridge was closed.\n"
        "The ceasefire is fragile. Nobody trusts the ceasefire. The bridge stays shut."
    )
    article, _, _, candidates = _setup(text)
    targets = auto_targets(article, candidates, min_mentions=2)
    assert [(t.name, len(t.mentions)) for t in targets] == [("bridge", 3), ("ceasefire", 2)]


def test_a_named_entity_said_once_is_a_single_target() -> None:
    text = (
        "Minister travels north\n"
        'Defence Minister Arvo Talvik visited the border. "The Joint Observation Post in '
        'Dalmen records every violation," Talvik said. The minister left at noon.'
    )
    article, found, _, candidates = _setup(text)
    spoken = [(u.start, u.end) for u in found.units if u.speaker is not None]
    assert auto_targets(article, candidates, min_mentions=2) == []
    targets = auto_targets(article, candidates, min_mentions=2, spoken=spoken)
    assert [(t.name, t.single) for t in targets] == [
        ("Joint Observation Post", True),
        ("Dalmen", True),
    ]


def test_a_thing_named_after_a_person_is_not_that_person() -> None:
    text = "Ruth Adeyemi said the takeover of Granlund Dairies was fair. Granlund Dairies agreed."
    _, found, _, _ = _setup(text)
    assert found.registry.person("dairies") is not None  # read as a person's surname
    takeover = phrase_key(["takeover", "of", "Granlund", "Dairies"], found.registry)
    assert (takeover.person, takeover.head) == (None, "dairi")  # stemmed
    assert phrase_key(["Granlund", "Dairies"], found.registry).person == "Granlund Dairies"
    # A title with "of" before the name is still the person.
    president = phrase_key(["President", "of", "Vestria", "Ruth", "Adeyemi"], found.registry)
    assert president.person == "Ruth Adeyemi"
