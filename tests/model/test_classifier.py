from __future__ import annotations

import json

import numpy as np
import pytest

from model import QueryError, StanceClassifier, StanceConfig, StanceQuery
from model.classifier import softmax, window_weights
from model.config import CONFIG_FILENAME, ConfigError

QUERIES = [
    StanceQuery(
        text="The president said the peacekeepers' performance can be considered satisfactory.",
        target="peacekeepers",
        speaker="the president",
        id="q1",
    ),
    StanceQuery(text="Critics accused the agency of hiding costs.", target="the agency", id="q2"),
    StanceQuery(
        text="The delegation arrived in Geneva on Tuesday.", target="energy policy", id="q3"
    ),
]


@pytest.fixture(scope="module")
def trained(trained_model_dir):
    return StanceClassifier.load(trained_model_dir)


def test_probabilities_cover_every_label_and_sum_to_one(trained):
    for pred in trained.predict(QUERIES):
        assert set(pred.probabilities) == set(trained.labels)
        assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert pred.label == max(pred.probabilities, key=pred.probabilities.get)
        assert pred.evidence, "every prediction carries at least one evidence window"


def test_order_and_ids_are_preserved_and_batching_does_not_change_results(trained):
    batched = trained.predict(QUERIES, batch_size=2)
    assert [p.id for p in batched] == ["q1", "q2", "q3"]
    one_by_one = [trained.predict([q])[0] for q in QUERIES]
    for a, b in zip(batched, one_by_one, strict=True):
        for label in trained.labels:
            assert a.probabilities[label] == pytest.approx(b.probabilities[label], abs=1e-5)
    reversed_preds = trained.predict(QUERIES[::-1])
    assert [p.id for p in reversed_preds] == ["q3", "q2", "q1"]


def test_save_then_load_gives_identical_probabilities(trained, tmp_path):
    before = trained.predict(QUERIES)
    trained.save(tmp_path / "copy")
    reloaded = StanceClassifier.load(tmp_path / "copy")
    after = reloaded.predict(QUERIES)
    for a, b in zip(before, after, strict=True):
        assert a.probabilities == b.probabilities
    assert reloaded.config == trained.config
    saved = sorted(p.name for p in (tmp_path / "copy").iterdir())
    assert "head.safetensors" in saved and "model.safetensors" in saved
    assert not [name for name in saved if name.endswith((".bin", ".pt", ".pkl"))]


def test_temperature_changes_confidence_not_the_label(trained):
    hot = trained.with_config(trained.config.replace(temperature=5.0))
    for a, b in zip(trained.predict(QUERIES), hot.predict(QUERIES), strict=True):
        assert a.label == b.label
        assert max(b.probabilities.values()) <= max(a.probabilities.values()) + 1e-9


def test_evidence_offsets_point_into_the_original_text(trained):
    filler = "Officials toured the harbour and the new terminal. " * 30
    text = (
        "BREAKING\n\n"
        + filler
        + "The mayor called the ferry operator a disgrace to the city. "
        + filler
    )
    pred = trained.predict([StanceQuery(text=text, target="the ferry operator")])[0]
    assert pred.windows == 1 and pred.mentions_found == 1
    (ev,) = pred.evidence
    assert text[ev.start : ev.end] == ev.text
    assert "the ferry operator" in ev.text
    assert sum(ev.probabilities.values()) == pytest.approx(1.0, abs=1e-6)


def test_invalid_query_names_index_and_field(trained):
    with pytest.raises(QueryError) as err:
        trained.predict([QUERIES[0], StanceQuery(text="  ", target="x")])
    assert str(err.value) == "query 1: text: must be a non-empty string"
    with pytest.raises(QueryError) as err:
        trained.predict([StanceQuery(text="abc", target="a", mentions=((2, 9),))])
    assert str(err.value) == (
        "query 0: mentions: span [2, 9] is not a [start, end) pair inside the text (length 3)"
    )


def test_load_rejects_unknown_schema_version(trained_model_dir, tmp_path):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(trained_model_dir, copy)
    data = json.loads((copy / CONFIG_FILENAME).read_text())
    data["schema_version"] = 2
    (copy / CONFIG_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="schema_version 2 is not supported"):
        StanceClassifier.load(copy)


def test_custom_label_set_lives_in_the_config(base_classifier, tmp_path):
    config = StanceConfig(labels=("support", "deny", "query", "comment"), max_length=64)
    model = StanceClassifier.from_base(config)
    pred = model.predict([QUERIES[0]])[0]
    assert list(pred.probabilities) == ["support", "deny", "query", "comment"]
    model.save(tmp_path / "m4")
    assert StanceClassifier.load(tmp_path / "m4").labels == ("support", "deny", "query", "comment")


def test_softmax_rows_sum_to_one_and_confidence_weights_prefer_sharp_windows():
    probs = softmax(np.array([[10.0, 0.0, 0.0], [0.1, 0.0, 0.05]]))
    assert np.allclose(probs.sum(axis=1), 1.0)
    weights = window_weights(probs, "confidence")
    assert weights[0] > 10 * weights[1]
    assert np.allclose(window_weights(probs, "mean"), 1.0)


def test_evidence_is_the_sentence_that_mentions_the_target(trained):
    text = (
        "The talks resumed on Monday in Vienna. The foreign minister called the monitoring "
        "centre a very important step. Delegations will meet again next week."
    )
    pred = trained.predict([StanceQuery(text=text, target="the monitoring centre")])[0]
    (ev,) = pred.evidence
    assert ev.text == "The foreign minister called the monitoring centre a very important step."
    assert text[ev.start : ev.end] == ev.text


def test_a_query_cut_at_max_windows_says_so_in_its_prediction(base_classifier):
    pred = base_classifier.predict([StanceQuery(text="Russia " * 2000, target="Russia")])[0]
    assert pred.windows == 16 and pred.mentions_found == 2000
    assert pred.warnings == (
        "the target is mentioned 2000 times; only the first 16 windows were scored (the first "
        "35 mentions, up to character 244); split the text to score the rest",
    )
    assert pred.to_dict()["warnings"] == list(pred.warnings)
    (short,) = base_classifier.predict([QUERIES[1]])
    assert short.warnings == () and short.to_dict()["warnings"] == []
