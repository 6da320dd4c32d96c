"""`stance export` on a BentoML store tag, and --backend on predict/evaluate."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.common import DEFAULT_CONFIG
from model.config import StanceConfig
from training.args import ArgsError, TrainingArgs, load_run_config
from training.registry import register

runner = CliRunner()
NAME = "stance-export-test"


def test_export_of_a_store_tag_makes_a_new_version_usable_with_backend(
    base_classifier, tiny_jsonl, tmp_path
):
    import bentoml

    tag = register(base_classifier, {"note": "kept"}, name=NAME)
    predict = ["predict", "--model", tag, "--text", "Critics accused the agency.", "--target"]

    result = runner.invoke(app, [*predict, "the agency", "--backend", "onnx"])
    assert result.exit_code == 2
    assert f"backend 'onnx' is not exported for the model in {bentoml.models.get(tag).path}" in (
        result.stderr
    )

    result = runner.invoke(app, ["export", "--model", tag, "--no-int8"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    new_tag = out["model"]
    assert new_tag.startswith(f"{NAME}:") and new_tag != tag
    assert set(out["backends"]) == {"onnx"}
    assert out["backends"]["onnx"]["label_agreement"] == 1.0
    assert "onnx: model.onnx" in result.stderr

    old, new = bentoml.models.get(tag), bentoml.models.get(new_tag)
    assert StanceConfig.load(old.path).backends == ("torch",), "the old version is untouched"
    assert StanceConfig.load(new.path).backends == ("torch", "onnx")
    assert new.info.metadata["note"] == "kept"
    assert new.info.metadata["exported_from"] == tag
    assert new.info.metadata["export_report"]["backends"]["onnx"]["file"] == "model.onnx"
    assert new.info.metadata["model_config"]["backends"] == ["torch", "onnx"]

    result = runner.invoke(
        app, [*predict[:2], new_tag, *predict[3:], "the agency", "--backend", "onnx"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["label"] in base_classifier.labels

    evaluate = ["evaluate", "--model", new_tag, "--data", str(tiny_jsonl)]
    evaluate += ["--report", str(tmp_path / "report")]
    result = runner.invoke(
        app,
        [*evaluate, "--backend", "onnx-int8"],
    )
    assert result.exit_code == 2
    assert "backend 'onnx-int8' is not exported" in result.stderr
    result = runner.invoke(
        app,
        [*evaluate, "--backend", "onnx"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 12


def test_export_onnx_training_flag_is_on_in_the_preset_and_is_validated():
    assert TrainingArgs().export_onnx is False  # a bare TrainingArgs does not export
    assert load_run_config(None, {}).training.export_onnx is False
    assert load_run_config(DEFAULT_CONFIG, {}).training.export_onnx is True  # the preset does
    off = {"training": {"export_onnx": False}}
    assert load_run_config(DEFAULT_CONFIG, off).training.export_onnx is False
    with pytest.raises(ArgsError, match=r"\[training\]\.export_onnx: expected true/false"):
        load_run_config(None, {"training": {"export_onnx": "yes"}})
