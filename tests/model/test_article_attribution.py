"""Tests for attribution.py and entities.py: who said it, and who "he" / "the president" is."""

from __future__ import annotations

import pytest

from model.article.attribution import AUTHOR, QUOTE, REPORTED, Attribution, attribute
from model.article.cleaning import clean_article
from model.article.entities import EntityRegistry, parse_run, tokenize
from model.article.quotes import find_quotes


def _attribute(text: str) -> Attribution:
    article = clean_article(text)
    return attribute(article, find_quotes(text, article.paragraphs).quotes)


def _speeches(text: str) -> list[tuple[str | None, str, list[str], str | None]]:
    """(speaker, kind, span texts, cue text) per speech, in document order."""
    result = _attribute(text)
    return [
        (
            s.speaker,
            s.kind,
            [text[a:b] for a, b in s.spans],
            text[s.cue[0] : s.cue[1]] if s.cue else None,
        )
        for s in result.speeches
    ]


# --------------------------------------------------------------------------- quote cues


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "“The mission must go on,” said Dmitry Peskov, the Kremlin spokesman.",
            [("Dmitry Peskov", QUOTE, ["The mission must go on,"], "said Dmitry Peskov")],
        ),
        (
            "Ilham Aliyev said: “The performance of the peacekeepers is satisfactory.”",
            [
                (
                    "Ilham Aliyev",
                    QUOTE,
                    ["The performance of the peacekeepers is satisfactory."],
                    "Ilham Aliyev said",
                )
            ],
        ),
        (
            "Ilham Aliyev told reporters on Tuesday that “the mission is a success so far.”",
            [
                (
                    "Ilham Aliyev",
                    QUOTE,
                    ["the mission is a success so far."],
                    "Ilham Aliyev told",
                )
            ],
        ),
        (
            "According to Aliyev, “the mission has been a success so far.”",
            [("Aliyev", QUOTE, ["the mission has been a success so far."], "According to Aliyev")],
        ),
        (
            "Ilham Aliyev spoke on Tuesday.\n\n“We welcome it,” he said, “and we hope it lasts.”",
            [
                (
                    "Ilham Aliyev",
                    QUOTE,
                    ["We welcome it,", "and we hope it lasts."],
                    "he said",
                )
            ],
        ),
    ],
)
def test_quote_cues(text: str, expected: list[object]) -> None:
    assert _speeches(text) == expected


def test_colon_paragraph_introduces_next_paragraph_quote() -> None:
    text = (
        "Turkish Defence Minister Hulusi Akar visited the centre.\n\n"
        "Speaking to journalists, the minister said:\n\n"
        "“The joint monitoring centre is an important step for the region.”"
    )
    assert _speeches(text) == [
        (
            "Hulusi Akar",
            QUOTE,
            ["The joint monitoring centre is an important step for the region."],
            "the minister said",
        )
    ]


def test_multi_paragraph_quote_and_following_quote_inherit_the_speaker() -> None:
    text = (
        "Kremlin spokesman Dmitry Peskov spoke on Friday.\n\n"
        '"Our peacekeepers are doing a good job. Nobody else could stop the fighting.\n\n'
        '"Any attempt to blame them is wrong," Peskov told reporters. "We will stay there."\n\n'
        '"The mandate runs for five more years and we will respect it."'
    )
    assert _speeches(text) == [
        (
            "Dmitry Peskov",
            QUOTE,
            [
                "Our peacekeepers are doing a good job. Nobody else could stop the fighting.",
                "Any attempt to blame them is wrong,",
            ],
            "Peskov told",
        ),
        ("Dmitry Peskov", QUOTE, ["We will stay there."], None),
        (
            "Dmitry Peskov",
            QUOTE,
            ["The mandate runs for five more years and we will respect it."],
            None,
        ),
    ]


def test_quote_without_any_cue_or_previous_speaker_is_the_authors() -> None:
    text = "The talks ended late.\n\n“Nobody knows what happens next in the region.”"
    result = _attribute(text)
    assert [(s.speaker, s.kind) for s in result.speeches] == [(None, QUOTE)]
    assert [(text[u.start : u.end], u.speaker, u.kind) for u in result.units] == [
        ("The talks ended late.", None, AUTHOR),
        ("Nobody knows what happens next in the region.", None, AUTHOR),
    ]


# --------------------------------------------------------------------------- reported speech


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "President Ilham Aliyev spoke first. Mr. President emphasized that the status of "
            "the region is not a subject of discussion.",
            [
                (
                    "Ilham Aliyev",
                    REPORTED,
                    [
                        "Mr. President emphasized that the status of the region is not a "
                        "subject of discussion."
                    ],
                    "Mr. President emphasized",
                )
            ],
        ),
        (
            # trailing attribution: the whole sentence is the speaker's
            "President Ilham Aliyev met reporters. The mission is important, the president said.",
            [
                (
                    "Ilham Aliyev",
                    REPORTED,
                    ["The mission is important, the president said."],
                    "the president said",
                )
            ],
        ),
        (
            # parenthetical attribution
            "The talks, Aliyev said, were useful for both sides.",
            [
                (
                    "Aliyev",
                    REPORTED,
                    ["The talks, Aliyev said, were useful for both sides."],
                    "Aliyev said",
                )
            ],
        ),
        (
            # the subject of an evaluative verb takes the stance
            "At the summit, Ana Petrova welcomed the agreement.",
            [
                (
                    "Ana Petrova",
                    REPORTED,
                    ["Ana Petrova welcomed the agreement."],
                    "Ana Petrova welcomed",
                )
            ],
        ),
        (
            "According to the ministry, the border will reopen on Monday.",
            [
                (
                    "ministry",
                    REPORTED,
                    ["According to the ministry, the border will reopen on Monday."],
                    "According to the ministry",
                )
            ],
        ),
        (
            "The opposition leader, Davit Kurtsikidze, said the deal was unacceptable.",
            [
                (
                    "Davit Kurtsikidze",
                    REPORTED,
                    ["The opposition leader, Davit Kurtsikidze, said the deal was unacceptable."],
                    "The opposition leader, Davit Kurtsikidze, said",
                )
            ],
        ),
        (
            # a passive verb has no speaker subject: the author's sentence
            "The deal was welcomed in Brussels and called historic.",
            [],
        ),
        (
            # the critics speak, not Aliyev; a common noun is no speaker phrase
            "Ilham Aliyev left early. Critics of Aliyev said the deal was bad.",
            [],
        ),
    ],
)
def test_reported_speech(text: str, expected: list[object]) -> None:
    assert _speeches(text) == expected


def test_units_split_sentences_between_speakers_and_author() -> None:
    text = (
        "President Ilham Aliyev held a press conference.\n\n"
        "“We welcome the decision,” Aliyev said. The hall was full."
    )
    result = _attribute(text)
    assert [(text[u.start : u.end], u.speaker, u.kind) for u in result.units] == [
        ("President Ilham Aliyev held a press conference.", None, AUTHOR),
        ("We welcome the decision", "Ilham Aliyev", QUOTE),
        ("Aliyev said.", None, AUTHOR),
        ("The hall was full.", None, AUTHOR),
    ]


# --------------------------------------------------------------------------- coreference


def test_later_references_resolve_to_the_full_name() -> None:
    text = (
        "Georgian Foreign Minister Ana Petrova signed the agreement.\n\n"
        "“This is an important step for us,” Petrova told reporters.\n\n"
        "Davit Kurtsikidze said the deal was bad. The foreign minister rejected that. "
        "She stressed that the text had been published."
    )
    assert [(s.speaker, text[s.cue[0] : s.cue[1]]) for s in _attribute(text).speeches if s.cue] == [
        ("Ana Petrova", "Petrova told"),
        ("Davit Kurtsikidze", "Davit Kurtsikidze said"),
        ("Ana Petrova", "The foreign minister rejected"),
        ("Ana Petrova", "She stressed"),
    ]


def test_surname_first_then_full_name_upgrades_the_speaker_name() -> None:
    text = "Aliyev said the talks were useful. Later, Ilham Aliyev said the talks had ended."
    assert [s.speaker for s in _attribute(text).speeches] == ["Ilham Aliyev", "Ilham Aliyev"]


def test_he_prefers_the_last_speaker_over_the_last_person_named() -> None:
    text = (
        "Ilham Aliyev said he had spoken with Vladimir Putin on the phone. "
        "He added that the mission would continue."
    )
    assert [s.speaker for s in _attribute(text).speeches] == ["Ilham Aliyev", "Ilham Aliyev"]


def test_she_skips_the_last_speaker_when_he_is_male() -> None:
    text = (
        "Ms. Petrova said the talks were useful. Mr. Aliyev said the talks were long. "
        "She added that the deal was close."
    )
    assert [s.speaker for s in _attribute(text).speeches] == ["Petrova", "Aliyev", "Petrova"]


def test_unresolved_pronoun_leaves_the_sentence_to_the_author() -> None:
    text = "He said the talks were useful."
    result = _attribute(text)
    assert [(s.speaker, s.kind) for s in result.speeches] == [(None, REPORTED)]
    assert [(u.speaker, u.kind) for u in result.units] == [(None, AUTHOR)]


def test_registry_matches_initials_and_keeps_different_first_names_apart() -> None:
    registry = EntityRegistry()

    def observe(words: str) -> str:
        phrase = parse_run(tokenize(words, 0, len(words)))
        assert phrase is not None
        return registry.observe(phrase).name

    assert observe("Ilham Aliyev") == "Ilham Aliyev"
    assert observe("I. Aliyev") == "Ilham Aliyev"
    assert observe("Heydar Aliyev") == "Heydar Aliyev"
    assert [e.name for e in registry.entities] == ["Ilham Aliyev", "Heydar Aliyev"]


@pytest.mark.parametrize(
    ("words", "kind", "name", "titles", "org"),
    [
        ("President of Azerbaijan Ilham Aliyev", "name", ("Ilham", "Aliyev"), {"president"}, False),
        ("Kremlin spokesman Dmitry Peskov", "name", ("Dmitry", "Peskov"), {"spokesman"}, False),
        ("Mr. Aliyev", "name", ("Aliyev",), set(), False),
        ("Mr. President", "nominal", (), {"president"}, False),
        ("Russia's Defense Ministry", "name", ("Russia's", "Defense", "Ministry"), set(), True),
        ("Foreign Ministry spokeswoman", "nominal", (), {"spokeswoman"}, False),
    ],
)
def test_parse_run(
    words: str, kind: str, name: tuple[str, ...], titles: set[str], org: bool
) -> None:
    phrase = parse_run(tokenize(words, 0, len(words)))
    assert phrase is not None
    assert (phrase.kind, phrase.name, set(phrase.titles), phrase.org) == (kind, name, titles, org)


def test_foreign_minister_is_not_the_defence_minister() -> None:
    text = (
        "Defence Minister Hulusi Akar and Foreign Minister Mevlut Cavusoglu arrived. "
        "Cavusoglu spoke first. Akar spoke next. The foreign minister said the talks were useful."
    )
    assert [s.speaker for s in _attribute(text).speeches] == ["Mevlut Cavusoglu"]
