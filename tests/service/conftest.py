"""Fixtures shared by the archive-scoring tests: one untrained tiny model per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.scoring import LocalEngine


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained MiniLM classifier saved to a folder (plumbing tests need no skill)."""
    from model import StanceClassifier, StanceConfig

    folder = tmp_path_factory.mktemp("scoring") / "model"
    StanceClassifier.from_base(StanceConfig(max_length=64)).save(folder)
    return folder


@pytest.fixture(scope="session")
def engine(model_dir: Path) -> LocalEngine:
    """The local scoring engine on ``model_dir`` (small batches to exercise chunking)."""
    return LocalEngine.load(model_dir, str(model_dir), batch_size=8)
