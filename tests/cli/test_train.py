"""End-to-end CLI runs on tiny data: train -> store -> predict -> evaluate, and error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_registers_then_predict_and_evaluate(tiny_jsonl, tmp_path):
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            str(tiny_jsonl),
            "--dev",
            str(tiny_jsonl),
            "--max-steps",
            "2",
            "--batch-size",
            "4",
            "--no-progress",
            "--output",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    tag = result.stdout.strip().splitlines()[-1]
    assert tag.startswith("stance:")
    meta = json.loads((tmp_path / "run" / "training_metadata.json").read_text())
    assert meta["labels"] == ["negative", "neutral", "positive"]
    # the preset averages the checkpoints of the last half: here step 2 of 2
    assert (meta["steps"], meta["averaged_checkpoints"]) == (2, 1)
    assert meta["data"][f"train:{tiny_jsonl}"]["examples"] == 12
    assert len(meta["data"][f"train:{tiny_jsonl}"]["sha256"]) == 64
    # the default preset exports ONNX; `predict` below then runs it ("auto" backend)
    config = json.loads((tmp_path / "run" / "model" / "stance_config.json").read_text())
    assert config["backends"] == ["torch", "onnx", "onnx-int8"]

    import bentoml

    stored = bentoml.models.get(tag)
    assert stored.info.metadata["dev_metrics"]["n"] == 12
    assert stored.info.metadata["training_args"]["max_steps"] == 2
    # Both copies of the model folder describe themselves (model card, metadata, config).
    for folder in (tmp_path / "run" / "model", Path(stored.path)):
        card = (folder / "README.md").read_text(encoding="utf-8")
        assert "- Labels: `negative`, `neutral`, `positive`" in card
        assert f"| train:{tiny_jsonl} | 12 | 0 |" in card
        assert json.loads((folder / "training_metadata.json").read_text()) == json.loads(
            json.dumps(meta)
        )
        run_config = json.loads((folder / "training_config.json").read_text())
        assert run_config["training"]["max_steps"] == 2
        assert run_config["data"]["train"] == [str(tiny_jsonl)]
        assert run_config["model"]["labels"] == ["negative", "neutral", "positive"]

    result = runner.invoke(
        app,
        [
            "predict",
            "--model",
            "stance:latest",
            "--text",
            "Critics accused the agency of hiding costs.",
            "--target",
            "the agency",
            "--speaker",
            "critics",
        ],
    )
    assert result.exit_code == 0, result.output
    pred = json.loads(result.stdout)
    assert pred["target"] == "the agency" and pred["speaker"] == "critics"
    assert sum(pred["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)

    report = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tmp_path / "run" / "model"),
            "--data",
            str(tiny_jsonl),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    headline = json.loads(result.stdout)
    assert headline["n"] == 12
    for name in (
        "metrics.json",
        "predictions.jsonl",
        "confusion_matrix.png",
        "reliability.png",
        "report.md",
    ):
        assert (report / name).is_file(), name
    rows = [json.loads(line) for line in (report / "predictions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"tiny-{i}" for i in range(12)]
    assert set(rows[0]) >= {"id", "target", "label", "gold", "probabilities"}
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics) >= {"macro_f1", "accuracy", "per_class", "ece", "n"}


def test_predict_unknown_model_is_a_clear_error():
    result = runner.invoke(
        app, ["predict", "--model", "/no/such/model", "--text", "x", "--target", "y"]
    )
    assert result.exit_code == 2
    assert (
        "error: model '/no/such/model' is neither a folder nor a tag in the BentoML model store"
        in result.stderr
    )


def test_train_with_bad_records_fails_with_file_and_line(tmp_path):
    bad = _write(
        tmp_path / "bad.jsonl",
        [
            {
                "text": "A fine sentence about the council.",
                "target": "the council",
                "label": "positive",
            },
            {"text": "", "target": "the council", "label": "negative"},
        ],
    )
    result = runner.invoke(app, ["train", "--train", str(bad), "--max-steps", "1", "--no-register"])
    assert result.exit_code == 2
    assert (
        f"error: {bad}: 1 bad record(s):\n  {bad}:2: field 'text': missing or empty\n"
        in result.stderr
    )
    assert "pass --skip-bad" in result.stderr


def test_labels_come_from_the_training_data(tmp_path):
    rows = [
        {"text": f"Claim number {i} about the vaccine.", "target": "the vaccine", "label": lab}
        for i, lab in enumerate(["support", "deny", "query", "comment"] * 2)
    ]
    data = _write(tmp_path / "rumours.jsonl", rows)
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            str(data),
            "--max-steps",
            "1",
            "--no-register",
            "--no-progress",
            "--no-export-onnx",
            "--output",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "model" / "stance_config.json").read_text())
    assert config["labels"] == ["comment", "deny", "query", "support"]


# --------------------------------------------------------------------------- labels (issue 17)

BINARY = [
    ("Voters cheered the new bridge across the bay.", "the new bridge", "FAVOR"),
    ("Residents rejected the toll on the new bridge.", "the toll", "AGAINST"),
    ("Nurses praised the hospital for its swift response.", "the hospital", "FAVOR"),
    ("Parents condemned the school board's decision.", "the school board", "AGAINST"),
    ("Fans celebrated the coach after the final.", "the coach", "FAVOR"),
    ("Farmers attacked the ministry over late payments.", "the ministry", "AGAINST"),
]


def _binary(path, rows=BINARY):
    return _write(
        path,
        [
            {"id": f"b{i}", "text": t, "target": g, "label": lab}
            for i, (t, g, lab) in enumerate(rows)
        ],
    )


def _train(data, out, *extra):
    args = ["train", "--train", str(data), "--max-steps", "2", "--batch-size", "4"]
    args += ["--no-register", "--no-progress", "--no-export-onnx", "--output", str(out), *extra]
    return runner.invoke(app, args)


def test_binary_data_gives_a_binary_model(tmp_path):
    data = _binary(tmp_path / "pstance.jsonl")
    result = _train(data, tmp_path / "run", "--dev", str(data))
    assert result.exit_code == 0, result.output
    model = tmp_path / "run" / "model"
    config = json.loads((model / "stance_config.json").read_text())
    assert config["labels"] == ["negative", "positive"]

    result = runner.invoke(
        app,
        ["predict", "--model", str(model), "--text", BINARY[0][0], "--target", BINARY[0][1]],
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["probabilities"]) == {"negative", "positive"}

    # Evaluated on its kind of data: both labels scored, F_avg given and the headline explained.
    report = tmp_path / "report"
    args = ["evaluate", "--model", str(model), "--data", str(data), "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    headline = json.loads(result.stdout)
    assert list(headline) == ["n", "macro_f1", "f_avg", "accuracy", "ece"]
    assert headline["f_avg"] == headline["macro_f1"]
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["labels_scored"] == ["negative", "positive"]
    text = (report / "report.md").read_text()
    assert (
        f"- **headline: macro-F1 {metrics['macro_f1']:.4f}**, over the 2 labels of the model "
        "that occur in this data (negative, positive)\n"
    ) in text
    assert (
        "- F_avg (mean F1 of positive and negative, the SemEval-2016 / P-Stance measure, for "
        f"comparison with published numbers): {metrics['f_avg']:.4f}\n"
    ) in text

    # Data with a label the model does not have: an error naming the label.
    three = _binary(
        tmp_path / "three.jsonl", [*BINARY, ("The bridge opens Monday.", "The bridge", "NONE")]
    )
    args = ["evaluate", "--model", str(model), "--data", str(three), "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {three}: label(s) 'NONE' (1 record) not among the model's labels "
        "['negative', 'positive']; map them onto those with --label-map, or remove those "
        "records\n"
    )

    # VAST-style numbers: refused without a map, scored with one.
    vast = tmp_path / "vast.csv"
    vast.write_text(
        "text,target,label\n"
        + "".join(f'"{t}",{g},{1 if lab == "FAVOR" else 0}\n' for t, g, lab in BINARY),
        encoding="utf-8",
    )
    args = ["evaluate", "--model", str(model), "--data", str(vast), "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {vast}: label values are numbers, whose meaning differs between datasets "
        "(VAST: 0 = con; TweetEval: 0 = none), so they are not guessed: '0' (3 records), "
        "'1' (3 records); say what each number means with --label-map (or label_map in the "
        "[data] table), e.g. --label-map '0=NAME,1=NAME'\n"
    )
    result = runner.invoke(app, [*args, "--label-map", "0=con,1=pro"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 6


def test_tweeteval_numbers_refused_then_trained_with_map_and_fixed_labels(tmp_path):
    rows = [(t, g, {"FAVOR": "2", "AGAINST": "1"}[lab]) for t, g, lab in BINARY]
    rows.append(("The bridge opens to traffic on Monday.", "The bridge", "0"))
    data = _binary(tmp_path / "tweeteval.jsonl", rows)
    result = _train(data, tmp_path / "refused")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {data}: label values are numbers, whose meaning differs between datasets "
        "(VAST: 0 = con; TweetEval: 0 = none), so they are not guessed: '0' (1 record), "
        "'1' (3 records), '2' (3 records); say what each number means with --label-map (or "
        "label_map in the [data] table), e.g. --label-map '0=NAME,1=NAME,2=NAME'\n"
    )
    # --labels fixes the set and its order (not the default order of inferred sets).
    result = _train(
        data,
        tmp_path / "run",
        "--label-map",
        "0=none,1=against,2=favor",
        "--labels",
        "positive,negative,neutral",
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "model" / "stance_config.json").read_text())
    assert config["labels"] == ["positive", "negative", "neutral"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--label-map",
            "0-negative",
            "error: --label-map: '0-negative' is not VALUE=LABEL; write e.g. "
            "'0=negative,1=positive,2=neutral'\n",
        ),
        (
            "--labels",
            "a,A",
            "error: --labels: label(s) ['A', 'a'] given more than once (case is ignored)\n",
        ),
    ],
)
def test_train_label_options_are_validated(tmp_path, option, value, message):
    result = _train(_binary(tmp_path / "d.jsonl"), tmp_path / "run", option, value)
    assert result.exit_code == 2
    assert result.stderr == message


def test_help_prints_config_table_names_as_written():
    """Help texts name TOML tables; rich markup used to swallow "[model]" and the like."""
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0, result.output
    assert "TOML config ([model], [training], [data])" in result.stdout
    result = runner.invoke(app, ["record-teacher", "--help"])
    assert '[training].teachers = ["recorded:NAME"]' in result.stdout
