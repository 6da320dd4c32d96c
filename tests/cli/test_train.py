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
