"""Recorded teachers: soft-label files written, read back, used in training, and refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app
from model import StanceConfig
from model.types import StanceQuery
from training.args import ArgsError, TrainingArgs
from training.soft_labels import (
    RECORDED_DIR,
    query_key,
    read_soft_labels,
    recorded_path,
    teacher_probabilities,
    write_soft_labels,
)
from training.trainer import Trainer

LABELS = ("negative", "neutral", "positive")


def test_the_key_is_what_the_model_sees_not_the_id():
    q = StanceQuery(text="A said B is bad.", target="B", speaker="A", mentions=((9, 10),))
    assert query_key(q) == query_key(StanceQuery(q.text, q.target, q.speaker, q.mentions, id="x"))
    assert len(query_key(q)) == 20
    others = [
        StanceQuery(q.text, q.target, None, q.mentions),
        StanceQuery(q.text, q.target, q.speaker, None),
        StanceQuery(q.text, "A", q.speaker, q.mentions),
        StanceQuery(q.text + " ", q.target, q.speaker, q.mentions),
    ]
    assert len({query_key(q), *(query_key(o) for o in others)}) == 5


def test_recorded_names_and_paths():
    assert recorded_path("recorded:mpnet") == RECORDED_DIR / "mpnet.jsonl"
    assert recorded_path("runs/x/teacher.jsonl") == Path("runs/x/teacher.jsonl")
    assert recorded_path("runs/x/model") is None
    assert recorded_path("stance:latest") is None


def test_write_then_read_gives_the_rounded_probabilities(tmp_path, tiny_pairs):
    queries = [q for q, _ in tiny_pairs]
    probs = np.random.default_rng(0).dirichlet(np.ones(3), size=len(queries))
    # a query listed twice (the same text and target under two ids) is written once
    twice = [*queries, StanceQuery(queries[0].text, queries[0].target, id="again")]
    path = tmp_path / "t.jsonl"
    assert write_soft_labels(path, twice, np.vstack([probs, probs[:1]]), LABELS, ["m"]) == len(
        queries
    )
    header = json.loads(path.read_text().splitlines()[0])
    assert header == {
        "format": "stance-soft-labels",
        "version": 1,
        "labels": list(LABELS),
        "teachers": ["m"],
        "queries": len(queries),
    }
    table = read_soft_labels(path, LABELS)
    assert list(table) == [query_key(q) for q in queries]  # file order = query order
    for q, row in zip(queries, probs, strict=True):
        assert table[query_key(q)].tolist() == [round(float(p), 4) for p in row]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "{path}: not a soft-label file (its first line is no stance-soft-labels header)"),
        (
            '{"format": "csv"}\n',
            "{path}: not a soft-label file (its first line is no stance-soft-labels header)",
        ),
        (
            '{"format": "stance-soft-labels", "version": 2, "labels": []}\n',
            "{path}: soft-label format version 2; this code reads version 1: record it again "
            "with `stance record-teacher`",
        ),
        (
            '{"format": "stance-soft-labels", "version": 1, "labels": ["negative", "positive"]}\n',
            "{path} was recorded for labels ['negative', 'positive'] but the model being trained "
            "has ['negative', 'neutral', 'positive']; use a teacher with the same labels",
        ),
        (
            '{"format": "stance-soft-labels", "version": 1, "labels": ["negative", "neutral", '
            '"positive"]}\n{"key": "a", "p": [0.2, 0.8]}\n',
            "{path}:2: expected 3 probabilities",
        ),
        (
            '{"format": "stance-soft-labels", "version": 1, "labels": ["negative", "neutral", '
            '"positive"]}\n{"key": "a", "p": [1, 0, 0]}\nnot json\n',
            "{path}:3: not a soft-label row",
        ),
    ],
)
def test_unusable_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(ArgsError) as info:
        read_soft_labels(path, LABELS)
    assert str(info.value) == message.format(path=path)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ArgsError) as info:
        read_soft_labels(tmp_path / "none.jsonl", LABELS)
    assert str(info.value) == (
        f"teacher file {tmp_path / 'none.jsonl'} not found; record one with `stance record-teacher`"
    )


def test_queries_the_file_does_not_cover_learn_from_their_gold_label(tmp_path, tiny_pairs, capsys):
    covered = tiny_pairs[:4]
    recorded = np.full((4, 3), 1 / 3)
    path = tmp_path / "t.jsonl"
    write_soft_labels(path, [q for q, _ in covered], recorded, LABELS, ["m"])
    soft, missing = teacher_probabilities([str(path)], tiny_pairs, LABELS)
    assert missing == len(tiny_pairs) - 4
    assert soft[:4].tolist() == [[0.3333] * 3] * 4
    assert soft[4:].tolist() == np.eye(3)[[y for _, y in tiny_pairs[4:]]].tolist()

    args = TrainingArgs(teachers=(str(path),))
    trainer_soft = Trainer(StanceConfig(max_length=64), args, tiny_pairs).teacher_probabilities()
    assert trainer_soft is not None and trainer_soft.tolist() == soft.tolist()
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays for the command's result (`stance train`: the tag)
    assert captured.err == (
        f"teachers: {len(tiny_pairs) - 4} of {len(tiny_pairs)} (query, recorded teacher) pairs "
        "not recorded; those learn from the gold label\n"
    )


def test_a_recorded_teacher_matches_the_model_it_was_recorded_from(
    tmp_path, trained_model_dir, tiny_jsonl, tiny_pairs
):
    config = tmp_path / "c.toml"
    config.write_text(f'[data]\ntrain = ["{tiny_jsonl}"]\ndev = ""\neval = []\n')
    out = tmp_path / "teacher.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "record-teacher",
            "--teacher",
            str(trained_model_dir),
            "--out",
            str(out),
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{len(tiny_pairs)} queries -> {out}\n"
    live, _ = teacher_probabilities([str(trained_model_dir)], tiny_pairs, LABELS)
    from_file, missing = teacher_probabilities([str(out)], tiny_pairs, LABELS)
    assert missing == 0
    assert np.abs(from_file - live).max() <= 5e-5  # stored to 4 decimals

    result = runner.invoke(
        app, ["record-teacher", "--teacher", str(trained_model_dir), "--out", "t.csv"]
    )
    assert result.exit_code == 2
    assert result.stderr == "error: --out t.csv: a soft-label file must end in .jsonl\n"


def test_training_on_a_file_of_gold_labels_at_weight_one_is_plain_training(tmp_path, tiny_pairs):
    """The distillation term with one-hot soft labels is the gold cross-entropy itself."""

    def probabilities(**extra: object) -> dict[str, float]:
        args = TrainingArgs(
            max_steps=2, batch_size=4, progress=False, seed=11, calibrate=False, **extra
        )
        result = Trainer(StanceConfig(max_length=64), args, tiny_pairs).train()
        return result.classifier.predict([tiny_pairs[0][0]])[0].probabilities

    path = tmp_path / "gold.jsonl"
    gold = np.eye(3)[[y for _, y in tiny_pairs]]
    write_soft_labels(path, [q for q, _ in tiny_pairs], gold, LABELS, ["gold"])
    plain = probabilities()
    assert probabilities(teachers=(str(path),), distill_weight=1.0) == pytest.approx(
        plain, abs=1e-6
    )
    uniform = tmp_path / "uniform.jsonl"
    write_soft_labels(uniform, [q for q, _ in tiny_pairs], gold * 0 + 1 / 3, LABELS, ["u"])
    assert probabilities(teachers=(str(uniform),), distill_weight=1.0) != pytest.approx(
        plain, abs=1e-4
    )
