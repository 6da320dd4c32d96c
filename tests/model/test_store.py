"""One model lookup: a model folder or a BentoML store tag -> (folder, concrete tag)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.store import resolve_model


def test_resolve_model_accepts_folders_and_store_tags(base_classifier, tmp_path):
    model_dir = tmp_path / "saved" / "model"
    base_classifier.save(model_dir)
    import bentoml

    assert resolve_model(str(model_dir)) == (model_dir.resolve(), str(model_dir.resolve()))
    with bentoml.models.create("stance-scoring-test") as stored:
        (Path(stored.path) / "stance_config.json").write_text(
            (model_dir / "stance_config.json").read_text()
        )
    folder, tag = resolve_model("stance-scoring-test")  # :latest resolved to the version
    assert tag == str(stored.tag) and not tag.endswith(":latest")
    assert (folder / "stance_config.json").read_text() == (
        model_dir / "stance_config.json"
    ).read_text()
    with pytest.raises(FileNotFoundError, match="is neither a folder nor a tag"):
        resolve_model("no-such-model:v1")
    with pytest.raises(FileNotFoundError, match="not a stance model folder"):
        resolve_model(str(tmp_path))
