"""End-to-end tests of analyze_article on articles written for these tests, with the
deterministic keyword classifier (CI has no trained model), plus degenerate input."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest

from model.article import (
    ArticleAnalysis,
    ArticleError,
    analyze_article,
    clean_article,
)
from model.text import find_mentions
from model.types import Evidence, StancePrediction, StanceQuery
from tests.keyword_stub import KeywordStanceClassifier

PRESS_CONFERENCE = """\
Aliyev: Russian peacekeepers' performance satisfactory
Aliyev: Russian peacekeepers' performance satisfactory
Baku, 12 March 2021, 14:35

President of Azerbaijan Ilham Aliyev held a press conference for local and foreign media on Tuesday.

Speaking about the Russian peacekeepers, the president said: "In general, the performance of the Russian peacekeepers can be considered satisfactory. We see that they are fulfilling their obligations.

"At the same time, the deployment of Russia's peacekeeping forces is an important step for the whole region," he added.

Mr. President emphasized that the status of Nagorno-Karabakh is not a subject of discussion.

"We regret that some circles in Armenia still dream of revenge," Mr. Aliyev said. "This is unacceptable."

Armenian Prime Minister Nikol Pashinyan, in turn, said the peacekeeping mission had failed to protect civilians, which he called unacceptable.

The press conference lasted four hours.
###
Follow us on Twitter | © 2021 News.az
"""  # noqa: E501

VISA_DEAL = """\
EU, Georgia sign visa deal
Tbilisi, 3 May 2023 | 09:12

Georgian Foreign Minister Ana Petrova on Monday signed the visa facilitation agreement with the European Commission in Brussels.

“This agreement is an important step for every Georgian citizen who wants to travel, study or work in Europe,” Petrova told reporters after the ceremony.

The opposition leader, Davit Kurtsikidze, said the agreement was unacceptable because it had been negotiated behind closed doors.

“We regret that parliament was never consulted,” Mr. Kurtsikidze added. “The agreement ignores the people.”

The foreign minister rejected the criticism. She stressed that the agreement had been published in full and called the text satisfactory for both sides.

The agreement will enter into force in January.

Share this article
"""  # noqa: E501

KREMLIN = """\
Kremlin defends peacekeeping mission
MOSCOW, June 2 (Reuters) - Kremlin spokesman Dmitry Peskov on Friday defended the peacekeeping mission in Nagorno-Karabakh.

"Our peacekeepers are doing a satisfactory job in a very difficult situation. Nobody else could have stopped the fighting.

"Any attempt to blame the peacekeepers for every incident is simply wrong," Peskov told reporters.

According to the spokesman, the mission will continue for at least five more years.

Azerbaijan's Foreign Ministry said in a statement that it welcomed the continuation of the mission. The ministry stressed that the status of Karabakh is not a subject of discussion.

The mission was deployed in November 2020 under a trilateral statement.
* * *
Read more: Peacekeepers extend mandate
"""  # noqa: E501

STORM = """\
Storm closes coastal highway
Updated: 14 February 2024 10:05 GMT

Heavy rain closed the coastal highway between Batumi and Kobuleti on Sunday.

Road crews worked through the night to clear mud from the coastal highway, and two bridges near the port were inspected.

Traffic on the coastal highway is expected to resume on Tuesday.

Tags: weather, roads
"""  # noqa: E501

MONITORING_CENTRE = """\
Turkish Defence Minister Hulusi Akar visited the joint monitoring centre on Wednesday.

Speaking to journalists, the minister said:

"The joint monitoring centre is an important step for stability in the whole region."

"We will keep working with our partners at the centre, said Akar.

The centre opened in January 2021.
"""


@pytest.fixture(scope="module")
def stub() -> KeywordStanceClassifier:
    return KeywordStanceClassifier()


def _check_evidence(text: str, analysis: ArticleAnalysis) -> None:
    """Every evidence span points at its text in the original and mentions the target."""
    article = clean_article(text)
    body = [(p.start, p.end) for p in article.paragraphs]
    targets = {t.name: t for t in analysis.targets}
    for stance in analysis.stances:
        assert stance.evidence, stance
        assert sum(stance.probabilities.values()) == pytest.approx(1.0)
        for ev in stance.evidence:
            assert text[ev.start : ev.end] == ev.text
            assert any(lo <= ev.start and ev.end <= hi for lo, hi in body), ev
            mentions = targets[stance.target].mentions
            assert any(ev.start <= a and b <= ev.end for a, b in mentions), ev


# --------------------------------------------------------------------------- the articles


def test_press_conference_with_caller_targets(stub: KeywordStanceClassifier) -> None:
    targets = ["Russian peacekeepers", "Armenia", "Nagorno-Karabakh"]
    analysis = analyze_article(PRESS_CONFERENCE, stub, targets)
    # No author stance: "Speaking about the Russian peacekeepers, the president said:" is
    # the cue of the quote after it, so it belongs to the president's statement.
    assert analysis.triples() == {
        ("Ilham Aliyev", "Russian peacekeepers", "positive"),
        ("Ilham Aliyev", "Armenia", "negative"),
        ("Ilham Aliyev", "Nagorno-Karabakh", "negative"),
        ("Nikol Pashinyan", "Russian peacekeepers", "negative"),
    }
    _check_evidence(PRESS_CONFERENCE, analysis)
    aliyev = analysis.stance("Ilham Aliyev", "Russian peacekeepers")
    # Three sentences: "We see that they are fulfilling their obligations" refers to the
    # peacekeepers by "they" (model/article/references.py); it is neutral, so not evidence.
    # Four mentions: the cue "Speaking about the Russian peacekeepers" is read with the quote.
    assert aliyev is not None and aliyev.mentions == 4 and aliyev.sentences == 3
    # Both quote paragraphs are evidence: the quote runs across the paragraph break.
    assert [(e.kind, e.text) for e in aliyev.evidence] == [
        (
            "quote",
            "In general, the performance of the Russian peacekeepers can be considered "
            "satisfactory.",
        ),
        (
            "quote",
            "At the same time, the deployment of Russia's peacekeeping forces is an "
            "important step for the whole region",
        ),
    ]
    first = aliyev.evidence[0]
    assert (first.start, first.end) == (
        PRESS_CONFERENCE.index("In general"),
        PRESS_CONFERENCE.index("satisfactory. We") + len("satisfactory."),
    )
    pashinyan = analysis.stance("Nikol Pashinyan", "Russian peacekeepers")
    assert pashinyan is not None and pashinyan.evidence[0].kind == "reported"
    assert [(s.name, s.roles, s.speeches) for s in analysis.speakers] == [
        ("Ilham Aliyev", ("President of Azerbaijan",), 4),
        ("Nikol Pashinyan", ("Armenian Prime Minister",), 1),
    ]
    assert analysis.headline == (0, 54)
    assert [n.kind for n in analysis.noise] == [
        "repeated",
        "dateline",
        "separator",
        "boilerplate",
    ]
    assert analysis.warnings == ()


def test_press_conference_found_targets(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(PRESS_CONFERENCE, stub)
    # Mentioned twice or more (headline included) first; then named entities mentioned once
    # by a speaker who takes a clear stance on them ("some circles in Armenia", "the status
    # of Nagorno-Karabakh is not a subject of discussion").
    assert [(t.name, t.source, len(t.mentions)) for t in analysis.targets] == [
        ("Russian peacekeepers", "auto", 4),
        ("Ilham Aliyev", "auto", 1),
        ("Nagorno-Karabakh", "auto", 1),
        ("Armenia", "auto", 1),
    ]
    assert analysis.targets[0].aliases == (
        "Russian peacekeepers",
        "Russia's peacekeeping forces",
        "peacekeeping mission",
    )
    # Aliyev is a target of the author, never of himself.
    assert analysis.triples() == {
        ("Ilham Aliyev", "Russian peacekeepers", "positive"),
        ("Ilham Aliyev", "Nagorno-Karabakh", "negative"),
        ("Ilham Aliyev", "Armenia", "negative"),
        ("Nikol Pashinyan", "Russian peacekeepers", "negative"),
        (None, "Ilham Aliyev", "neutral"),
    }
    _check_evidence(PRESS_CONFERENCE, analysis)


def test_two_speakers_disagree_about_the_same_target(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(VISA_DEAL, stub)
    # "Europe", named once in Petrova's quote, is a target because the keyword stub (which
    # labels whole sentences, not targets) finds a clear stance in that sentence.
    assert [t.name for t in analysis.targets] == ["visa facilitation agreement", "Europe"]
    assert analysis.triples() == {
        ("Ana Petrova", "visa facilitation agreement", "positive"),
        ("Ana Petrova", "Europe", "positive"),
        ("Davit Kurtsikidze", "visa facilitation agreement", "negative"),
        (None, "visa facilitation agreement", "neutral"),
    }
    _check_evidence(VISA_DEAL, analysis)
    petrova = analysis.stance("Ana Petrova", "visa facilitation agreement")
    assert petrova is not None
    # "She stressed ... satisfactory" resolves to Petrova through "The foreign minister".
    assert [e.text for e in petrova.evidence] == [
        "This agreement is an important step for every Georgian citizen who wants to travel, "
        "study or work in Europe",
        "She stressed that the agreement had been published in full and called the text "
        "satisfactory for both sides.",
    ]
    assert [s.name for s in analysis.speakers] == ["Ana Petrova", "Davit Kurtsikidze"]
    # Speakers in order of appearance, the author last.
    assert [(s.speaker, s.target) for s in analysis.stances] == [
        ("Ana Petrova", "visa facilitation agreement"),
        ("Ana Petrova", "Europe"),
        ("Davit Kurtsikidze", "visa facilitation agreement"),
        (None, "visa facilitation agreement"),
    ]


def test_organisation_speakers_and_multi_paragraph_straight_quotes(
    stub: KeywordStanceClassifier,
) -> None:
    analysis = analyze_article(KREMLIN, stub, ["the peacekeeping mission", "Karabakh"])
    assert analysis.triples() == {
        ("Dmitry Peskov", "the peacekeeping mission", "positive"),
        ("Azerbaijan's Foreign Ministry", "the peacekeeping mission", "positive"),
        ("Azerbaijan's Foreign Ministry", "Karabakh", "negative"),
        (None, "the peacekeeping mission", "neutral"),
        (None, "Karabakh", "neutral"),
    }
    _check_evidence(KREMLIN, analysis)
    peskov = analysis.stance("Dmitry Peskov", "the peacekeeping mission")
    assert peskov is not None
    # Two quote sentences and "According to the spokesman, the mission ..." (reported).
    assert (peskov.mentions, peskov.sentences) == (3, 3)
    assert analysis.targets[0].aliases == (
        "the peacekeeping mission",
        "peacekeepers",
        "mission",
    )


def test_author_voice_reporting_is_neutral_and_has_no_speakers(
    stub: KeywordStanceClassifier,
) -> None:
    analysis = analyze_article(STORM, stub)
    assert analysis.triples() == {(None, "coastal highway", "neutral")}
    assert analysis.speakers == () and analysis.speeches == ()
    stance = analysis.stance(None, "coastal highway")
    assert stance is not None and (stance.mentions, stance.sentences) == (3, 3)
    _check_evidence(STORM, analysis)


def test_colon_cue_inherited_quote_and_unbalanced_mark(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(MONITORING_CENTRE, stub)
    assert analysis.triples() == {
        ("Hulusi Akar", "joint monitoring centre", "positive"),
        (None, "joint monitoring centre", "neutral"),
        (None, "Hulusi Akar", "neutral"),
    }
    unclosed = MONITORING_CENTRE.index('"We will')
    assert analysis.warnings == (
        f"quotation mark at offset {unclosed} is never closed; the quote was ended at its "
        "paragraph end",
    )
    akar = analysis.stance("Hulusi Akar", "joint monitoring centre")
    assert akar is not None and akar.mentions == 2  # "the centre" refers back
    _check_evidence(MONITORING_CENTRE, analysis)


def test_to_dict_is_json_ready(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(VISA_DEAL, stub, ["the visa facilitation agreement"])
    data = json.loads(json.dumps(analysis.to_dict()))
    assert sorted(data) == [
        "headline",
        "labels",
        "noise",
        "speakers",
        "speeches",
        "stances",
        "targets",
        "text_length",
        "warnings",
    ]
    assert data["labels"] == ["negative", "neutral", "positive"]
    stance = data["stances"][0]
    assert sorted(stance) == [
        "evidence",
        "label",
        "mentions",
        "probabilities",
        "sentences",
        "speaker",
        "target",
    ]
    assert (stance["speaker"], stance["target"], stance["label"]) == (
        "Ana Petrova",
        "the visa facilitation agreement",
        "positive",
    )
    ev = stance["evidence"][0]
    assert VISA_DEAL[ev["start"] : ev["end"]] == ev["text"]
    assert data["speakers"][0]["aliases"] == [
        "Georgian Foreign Minister Ana Petrova",
        "Petrova",
        "The foreign minister",
        "She",
    ]


def test_works_with_the_real_model(base_classifier) -> None:
    """The protocol fits StanceClassifier; labels are the untrained model's, not asserted."""
    analysis = analyze_article(VISA_DEAL, base_classifier, ["the visa facilitation agreement"])
    assert {(s.speaker, s.target) for s in analysis.stances} == {
        ("Ana Petrova", "the visa facilitation agreement"),
        ("Davit Kurtsikidze", "the visa facilitation agreement"),
        (None, "the visa facilitation agreement"),
    }
    assert analysis.labels == tuple(base_classifier.labels)
    _check_evidence(VISA_DEAL, analysis)


# --------------------------------------------------------------------------- degenerate input


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_is_a_clear_error(stub: KeywordStanceClassifier, text: str) -> None:
    with pytest.raises(ArticleError, match="text: is empty or only white space"):
        analyze_article(text, stub)


def test_only_noise_gives_an_empty_analysis_with_a_warning(stub: KeywordStanceClassifier) -> None:
    text = "Storm closes highway\n12 March 2021 14:35\n###\nShare this article\n"
    analysis = analyze_article(text, stub)
    assert analysis.stances == () and analysis.targets == ()
    assert analysis.headline == (0, 20)
    assert analysis.warnings == (
        "no article text left after removing 3 noise line(s) and the headline: nothing to analyse",
    )


def test_no_quotes_no_targets(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article("It rained all day and nobody went out.", stub)
    assert analysis.stances == ()
    assert analysis.warnings == ("no salient targets found; pass targets=[...] to ask about some",)


def test_target_not_in_text_is_a_warning(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(STORM, stub, ["NATO"])
    assert analysis.stances == ()
    assert analysis.warnings == ("target 'NATO' is not mentioned in the article body",)


def test_unbalanced_marks_everywhere_still_give_a_result(stub: KeywordStanceClassifier) -> None:
    # An unclosed quote, a lone closing mark on its own line (removed as a separator), and
    # straight marks that cannot all pair up.
    text = '“The mission is satisfactory, Aliyev said.\n\n”\n\n"The port "is" closed"" he said.'
    analysis = analyze_article(text, stub, ["the mission"])
    # The unclosed quote has no cue outside it, so it is the author's text.
    assert analysis.triples() == {(None, "the mission", "positive")}
    strays = [i for i, c in enumerate(text) if c == '"'][2:]
    assert strays == [60, 68, 69]
    assert analysis.warnings == (
        "quotation mark at offset 0 is never closed; the quote was ended at its paragraph end",
        *(f"closing quotation mark at offset {i} has no opening mark; ignored" for i in strays),
    )
    assert [n.kind for n in analysis.noise] == ["separator"]


def _big_article(chars: int) -> str:
    """Distinct paragraphs in the style of the press conference, about ``chars`` long."""
    body = PRESS_CONFERENCE.split("\n\n", 1)[1].rsplit("###", 1)[0]
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    out: list[str] = []
    size, i = 0, 0
    while size < chars:
        p = paragraphs[i % len(paragraphs)].replace("four hours", f"{i} hours")
        p = p.replace("revenge", f"revenge {i}").replace("civilians", f"civilians in area {i}")
        p = p.replace("Tuesday", f"day {i}").replace("region,", f"region {i},")
        p = p.replace("obligations.", f"obligations {i}.").replace("discussion.", f"talk {i}.")
        out.append(p)
        size += len(p) + 2
        i += 1
    return "\n\n".join(out)[:chars]


def test_one_megabyte_article_in_bounded_time(stub: KeywordStanceClassifier) -> None:
    text = _big_article(1_000_000)
    assert len(text) == 1_000_000
    classifier = KeywordStanceClassifier()
    started = time.process_time()
    analysis = analyze_article(text, classifier, ["Russian peacekeepers"])
    elapsed = time.process_time() - started
    # About 2-3 s on two shared cores; the bound catches quadratic work (minutes), with
    # room for a loaded CI machine.
    assert elapsed < 10.0, f"{elapsed:.1f} s of CPU for 1 MB"
    assert {(s.speaker, s.label) for s in analysis.stances} == {
        ("Ilham Aliyev", "positive"),
        ("Nikol Pashinyan", "negative"),
    }
    queries = sum(s.sentences for s in analysis.stances)
    assert classifier.calls == -(-queries // 256)  # batched, 256 queries per call


def test_over_the_limit_is_a_clear_error(stub: KeywordStanceClassifier) -> None:
    with pytest.raises(ArticleError, match="1000001 characters is over the limit of 1000000"):
        analyze_article("a" * 1_000_001, stub)
    with pytest.raises(ArticleError, match="12 characters is over the limit of 10"):
        analyze_article("Short story.", stub, max_chars=10)


@pytest.mark.parametrize(
    "text",
    [
        '"' * 200_000,
        "“Aliyev said " * 15_000,
        "word " * 40_000,
        "\n" * 200_000 + "The mission is satisfactory, Aliyev said.",
        "A. " * 60_000,
        "Ilham Aliyev spoke. " + "“We regret the incident deeply,” Aliyev said. " * 4_000,
    ],
    ids=["straight-marks", "open-marks", "one-line", "newlines", "initials", "one-paragraph"],
)
def test_pathological_text_is_fast(stub: KeywordStanceClassifier, text: str) -> None:
    started = time.process_time()
    analysis = analyze_article(text, stub)
    assert time.process_time() - started < 5.0  # under 1 s unloaded; quadratic would be minutes
    assert isinstance(analysis, ArticleAnalysis)


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"targets": "Russia"},
            r"targets: must be a list of strings or None, got str; write \['Russia'\]",
        ),
        ({"targets": ["Russia", ""]}, r"targets\[1\]: must be a non-empty string, got ''"),
        ({"targets": [3]}, r"targets\[0\]: must be a non-empty string, got 3"),
        ({"targets": [f"t{i}" for i in range(65)]}, "65 targets is over the limit of 64"),
        ({"max_chars": 0}, "max_chars: must be a positive integer, got 0"),
        ({"min_mentions": 0}, "min_mentions: must be a positive integer, got 0"),
        ({"max_auto_targets": "3"}, "max_auto_targets: must be a positive integer, got '3'"),
    ],
)
def test_bad_arguments(
    stub: KeywordStanceClassifier, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ArticleError, match=message):
        analyze_article(STORM, stub, **kwargs)  # type: ignore[arg-type]


def test_not_a_string_and_not_a_classifier(stub: KeywordStanceClassifier) -> None:
    with pytest.raises(ArticleError, match="text: must be a string, got bytes"):
        analyze_article(b"bytes", stub)  # type: ignore[arg-type]
    with pytest.raises(ArticleError, match="classifier: object has no predict"):
        analyze_article(STORM, object())  # type: ignore[arg-type]


def test_duplicate_targets_are_asked_once(stub: KeywordStanceClassifier) -> None:
    analysis = analyze_article(STORM, stub, ["coastal highway", "Coastal  Highway"])
    assert [t.name for t in analysis.targets] == ["coastal highway"]


class _Broken:
    labels = ("negative", "neutral", "positive")

    def predict(self, queries: Sequence[StanceQuery]) -> list[StancePrediction]:
        probs = {"yes": 1.0}
        ev = Evidence("x", 0, 1, probs, 1.0)
        return [StancePrediction("yes", probs, (ev,), q.target) for q in queries][:1]


def test_a_misbehaving_classifier_is_named() -> None:
    with pytest.raises(ValueError, match="returned 1 predictions for 3 queries"):
        analyze_article(STORM, _Broken())


def test_keyword_classifier_rules() -> None:
    clf = KeywordStanceClassifier()
    assert clf.label_of("We welcomed the decision.") == "positive"
    assert clf.label_of("The result is unsatisfactory.") == "neutral"  # not "satisfactory"
    assert clf.label_of("This is not a subject of discussion.") == "negative"
    assert clf.label_of("We welcome it but regret the delay and find it unacceptable.") == (
        "negative"
    )
    assert clf.label_of("We welcome it but regret the delay.") == "neutral"
    with pytest.raises(ValueError, match="positive: must be a non-empty list"):
        KeywordStanceClassifier(positive="good")
    mentions = find_mentions("We welcome Russia.", "Russia")
    (pred,) = clf.predict([StanceQuery("We welcome Russia.", "Russia", mentions=tuple(mentions))])
    assert (pred.label, pred.probabilities) == (
        "positive",
        {"negative": pytest.approx(0.05), "neutral": pytest.approx(0.05), "positive": 0.9},
    )


def test_two_speakers_in_one_sentence_each_get_their_own_clause(
    stub: KeywordStanceClassifier,
) -> None:
    text = (
        "Transport Minister Elena Ruiz welcomed the new rail line, while the mayor of Tarvik, "
        "Jonas Eklund, called the line unacceptable.\n\n"
        "A spokesman for the residents' group said the rail line was an important step, but a "
        "lawyer for the farmers said the rail line was unacceptable."
    )
    analysis = analyze_article(text, stub, ["rail line"])
    assert [(s.speaker, s.label, [e.text for e in s.evidence]) for s in analysis.stances] == [
        ("Elena Ruiz", "positive", ["Transport Minister Elena Ruiz welcomed the new rail line"]),
        (
            "Jonas Eklund",
            "negative",
            ["the mayor of Tarvik, Jonas Eklund, called the line unacceptable."],
        ),
        (
            "residents' group",
            "positive",
            ["A spokesman for the residents' group said the rail line was an important step"],
        ),
        (
            "lawyer for the farmers",
            "negative",
            ["a lawyer for the farmers said the rail line was unacceptable."],
        ),
    ]
    assert [(s.name, s.kind) for s in analysis.speakers] == [
        ("Elena Ruiz", "person"),
        ("Jonas Eklund", "person"),
        ("residents' group", "organization"),
        ("lawyer for the farmers", "person"),
    ]


def test_a_quote_whose_cue_names_the_target_is_about_that_target(
    stub: KeywordStanceClassifier,
) -> None:
    # Neither quote names the wing; each cue clause does ("said of the wing", "after the
    # board approved the ... wing"). The cue is the speaker's framing, not the author's.
    text = (
        "“Forty beds is unacceptable for a city this size,” a spokesman for the nurses' union "
        "said of the new wing.\n\n"
        "“This is an important step,” said surgeon Rosa Lind after the board approved the "
        "new A&E wing."
    )
    analysis = analyze_article(text, stub, ["new A&E wing"])
    assert [(s.speaker, s.label, [e.text for e in s.evidence]) for s in analysis.stances] == [
        (
            "nurses' union",
            "negative",
            [
                "Forty beds is unacceptable for a city this size,” a spokesman for the nurses' "
                "union said of the new wing."
            ],
        ),
        (
            "Rosa Lind",
            "positive",
            [
                "This is an important step,” said surgeon Rosa Lind after the board approved "
                "the new A&E wing."
            ],
        ),
    ]
    _check_evidence(text, analysis)


class _Recording(KeywordStanceClassifier):
    """The keyword stub, keeping every query it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[StanceQuery] = []

    def predict(self, queries: Sequence[StanceQuery]) -> list[StancePrediction]:
        self.queries.extend(queries)
        return super().predict(queries)


def test_a_quote_is_read_with_its_mark_and_cue_and_shown_without() -> None:
    # The classifier reads a quote as the speaker statements it was trained on (the
    # opening mark, the cue "commissioner Ray Okoro said", a short name as "the cap");
    # the evidence is the quote itself.
    text = (
        "“The salary cap has been an important step for the league,” commissioner Ray Okoro "
        "said. Star forward Luka Vidic said the cap was unacceptable."
    )
    recording = _Recording()
    analysis = analyze_article(text, recording, ["salary cap"])
    assert [
        (q.speaker, q.text, [q.text[a:b] for a, b in q.mentions or ()]) for q in recording.queries
    ] == [
        (
            "Ray Okoro",
            "“The salary cap has been an important step for the league,” commissioner Ray "
            "Okoro said.",
            ["salary cap"],
        ),
        ("Luka Vidic", "Star forward Luka Vidic said the cap was unacceptable.", ["the cap"]),
    ]
    assert [(s.speaker, s.label, [e.text for e in s.evidence]) for s in analysis.stances] == [
        ("Ray Okoro", "positive", ["The salary cap has been an important step for the league"]),
        ("Luka Vidic", "negative", ["Star forward Luka Vidic said the cap was unacceptable."]),
    ]
    _check_evidence(text, analysis)


def test_a_target_named_by_its_action_noun_is_found_through_the_verb(
    stub: KeywordStanceClassifier,
) -> None:
    # The text never says "closure": the council "voted to close" the centre and each speaker
    # refers to that action ("that decision", "closing the centre").
    text = (
        "The county council voted on Tuesday to close the Harrow Street day centre. Council "
        "clerk Ian Moss said that decision was an important step. Local carer Beth Lyle said "
        "closing the centre was unacceptable."
    )
    analysis = analyze_article(text, stub, ["Harrow Street day centre closure"])
    assert [(s.speaker, s.label, [e.text for e in s.evidence]) for s in analysis.stances] == [
        (
            "Ian Moss",
            "positive",
            ["Council clerk Ian Moss said that decision was an important step."],
        ),
        (
            "Beth Lyle",
            "negative",
            ["Local carer Beth Lyle said closing the centre was unacceptable."],
        ),
        (
            None,
            "neutral",
            ["The county council voted on Tuesday to close the Harrow Street day centre."],
        ),
    ]
    assert analysis.warnings == ()
