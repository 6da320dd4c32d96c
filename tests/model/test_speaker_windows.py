"""predict() with a speaker answers from that speaker's statements (model/speaker_windows.py).

The labels of the untrained fixture model are arbitrary; what is checked exactly is what the
model is shown (windows, marked mentions) and what the prediction reports (evidence at the
speaker's words, the speaker flags)."""

from __future__ import annotations

import pytest

from model import StanceClassifier, StanceQuery

RAIL = (
    "Transport Minister Elena Ruiz said the new high-speed rail line would transform the "
    "region, while the mayor of Tarvik, Jonas Eklund, called the line a costly mistake that "
    "bypasses his town."
)
EKLUND_CLAUSE = (
    "the mayor of Tarvik, Jonas Eklund, called the line a costly mistake that bypasses his town."
)
RUIZ_CLAUSE = (
    "Transport Minister Elena Ruiz said the new high-speed rail line would transform the region"
)


def _predict(model: StanceClassifier, text: str, target: str, speaker: str | None):
    return model.predict([StanceQuery(text=text, target=target, speaker=speaker)])[0]


def _flags(pred) -> tuple[object, object, object]:
    return pred.speaker_found, pred.speaker_mentions_target, pred.speaker_statements


def test_each_speaker_of_one_sentence_gets_their_own_clause(base_classifier) -> None:
    eklund = _predict(base_classifier, RAIL, "high-speed rail line", "Jonas Eklund")
    ruiz = _predict(base_classifier, RAIL, "high-speed rail line", "Elena Ruiz")
    assert _flags(eklund) == (True, True, 1) and _flags(ruiz) == (True, True, 1)
    assert [(e.start, e.end, e.text) for e in eklund.evidence] == [(98, 189, EKLUND_CLAUSE)]
    assert [(e.start, e.end, e.text) for e in ruiz.evidence] == [(0, 90, RUIZ_CLAUSE)]
    assert eklund.windows == 1 and eklund.mentions_found == 1
    # The model is shown different text for the two speakers, so it can answer differently.
    a, b = base_classifier.encode(
        [
            StanceQuery(text=RAIL, target="high-speed rail line", speaker="Jonas Eklund"),
            StanceQuery(text=RAIL, target="high-speed rail line", speaker="Elena Ruiz"),
        ]
    )
    assert (a.windows[0].start, a.windows[0].end) == (98, 189)
    assert (b.windows[0].start, b.windows[0].end) == (0, 90)
    # "the line" is marked as the target in Eklund's window: 2 markers + its 2 word pieces.
    assert len(a.windows[0].target_positions) == 4


def test_speaker_absent_falls_back_to_the_whole_text_and_says_so(base_classifier) -> None:
    pred = _predict(base_classifier, RAIL, "high-speed rail line", "Greta Lind")
    assert _flags(pred) == (False, False, 0)
    assert [(e.start, e.end) for e in pred.evidence] == [(0, len(RAIL))]
    assert pred.to_dict()["speaker_found"] is False


def test_speaker_silent_about_the_target_is_read_on_their_words_only(base_classifier) -> None:
    text = (
        "Transport Minister Elena Ruiz said the new high-speed rail line would transform the "
        "region. Jonas Eklund said the harvest had been the best in years."
    )
    pred = _predict(base_classifier, text, "high-speed rail line", "Jonas Eklund")
    assert _flags(pred) == (True, False, 1)
    assert pred.mentions_found == 0
    assert [e.text for e in pred.evidence] == [
        "Jonas Eklund said the harvest had been the best in years."
    ]


def _window_texts(model: StanceClassifier, query: StanceQuery) -> list[str]:
    (encoded,) = model.encode([query])
    return [query.text[w.start : w.end] for w in encoded.windows]


def test_speaker_referred_to_by_title(base_classifier) -> None:
    text = (
        "Aviation Minister Dominic Achterberg approved the third runway at Holmfield Airport "
        "on Tuesday. The minister said the runway would create twelve thousand jobs. Parish "
        "council chair Wendy Tarrant said the runway would make life unbearable."
    )
    query = StanceQuery(
        text=text, target="third runway at Holmfield Airport", speaker="Dominic Achterberg"
    )
    pred = base_classifier.predict([query])[0]
    assert _flags(pred) == (True, True, 2)
    assert _window_texts(base_classifier, query) == [
        "Aviation Minister Dominic Achterberg approved the third runway at Holmfield Airport "
        "on Tuesday.",
        "The minister said the runway would create twelve thousand jobs.",
    ]
    assert all(e.text in _window_texts(base_classifier, query) for e in pred.evidence)


def test_quote_spanning_paragraphs_gives_one_window_per_statement(base_classifier) -> None:
    text = (
        "Energy Minister Tove Rasmussen spoke about the Skarv interconnector on Thursday.\n\n"
        "“The interconnector lets us sell our surplus wind power abroad.\n\n"
        "“It will also bring down bills for every household in the north,” Rasmussen said.\n\n"
        "Industry chief Lorenzo Gatti said the interconnector would import high prices."
    )
    query = StanceQuery(text=text, target="Skarv interconnector", speaker="Tove Rasmussen")
    pred = base_classifier.predict([query])[0]
    assert _flags(pred) == (True, True, 3)
    assert pred.windows == 3 and pred.mentions_found == 3
    assert _window_texts(base_classifier, query) == [
        "Energy Minister Tove Rasmussen spoke about the Skarv interconnector on Thursday.",
        "“The interconnector lets us sell our surplus wind power abroad.",
        "“It will also bring down bills for every household in the north,” Rasmussen said.",
    ]


def test_query_without_speaker_is_unchanged(base_classifier) -> None:
    pred = _predict(base_classifier, RAIL, "high-speed rail line", None)
    assert _flags(pred) == (None, None, None)
    assert [(e.start, e.end) for e in pred.evidence] == [(0, len(RAIL))]
    (encoded,) = base_classifier.encode([StanceQuery(text=RAIL, target="high-speed rail line")])
    assert encoded == base_classifier.encoder.encode(
        StanceQuery(text=RAIL, target="high-speed rail line"), 0
    )


@pytest.mark.parametrize("speaker", ["", "   "])
def test_blank_speaker_is_no_speaker(base_classifier, speaker: str) -> None:
    pred = _predict(base_classifier, RAIL, "high-speed rail line", speaker)
    assert _flags(pred) == (None, None, None)
