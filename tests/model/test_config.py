from __future__ import annotations

import json

import pytest

from model.config import CONFIG_FILENAME, SCHEMA_VERSION, ConfigError, StanceConfig


def test_round_trip_through_json(tmp_path):
    config = StanceConfig(labels=("support", "deny", "query"), max_length=96, temperature=1.7)
    config.save(tmp_path)
    loaded = StanceConfig.load(tmp_path)
    assert loaded == config
    data = json.loads((tmp_path / CONFIG_FILENAME).read_text())
    assert next(iter(data)) == "schema_version"
    assert data["labels"] == ["support", "deny", "query"]


def test_unknown_schema_version_is_rejected(tmp_path):
    data = StanceConfig().to_dict()
    data["schema_version"] = 99
    (tmp_path / CONFIG_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ConfigError) as err:
        StanceConfig.load(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / CONFIG_FILENAME}: schema_version 99 is not supported (this code reads "
        f"version {SCHEMA_VERSION}); upgrade the stance package or re-export the model"
    )


def test_unknown_keys_are_rejected():
    data = {**StanceConfig().to_dict(), "colour": "blue"}
    with pytest.raises(ConfigError, match=r"config: unknown keys \['colour'\]"):
        StanceConfig.from_dict(data)


def test_missing_version_is_rejected():
    data = StanceConfig().to_dict()
    del data["schema_version"]
    with pytest.raises(ConfigError, match="missing 'schema_version'"):
        StanceConfig.from_dict(data)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="is not a saved stance model folder"):
        StanceConfig.load(tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": ("a",)}, "labels must name at least 2 classes, found ['a']"),
        ({"labels": ("a", "a")}, "labels must be unique, found ['a', 'a']"),
        ({"max_length": 8}, "max_length must be an integer in [16, 4096], found 8"),
        ({"pooling": "max"}, "pooling must be one of ['cls', 'mean', 'target'], found 'max'"),
        ({"temperature": 0.0}, "temperature must be a finite number > 0, found 0.0"),
        ({"backends": ("onnx",)}, "backends must include 'torch'"),
    ],
)
def test_invalid_values_name_the_field(changes, message):
    with pytest.raises(ConfigError) as err:
        StanceConfig(**changes)
    assert message in str(err.value)


def test_config_is_frozen():
    config = StanceConfig()
    with pytest.raises(AttributeError):
        config.max_length = 12  # type: ignore[misc]
    assert config.replace(max_length=64).max_length == 64
