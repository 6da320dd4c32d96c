"""Fixtures shared by the archive-scoring tests: the local engine and a recording wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scoring.engines import LocalEngine


@pytest.fixture(scope="session")
def engine(model_dir: Path) -> LocalEngine:
    """The local scoring engine on ``model_dir`` (small batches to exercise chunking)."""
    return LocalEngine.load(model_dir, str(model_dir), batch_size=8)


class Recording:
    """Wraps an engine: remembers which records it scored; can crash at a record index."""

    def __init__(self, inner: Any, crash_at: int | None = None) -> None:
        self.inner = inner
        self.scorer = inner.scorer
        self.labels = inner.labels
        self.crash_at = crash_at
        self.seen: list[int] = []

    def score(self, records: Any) -> Any:
        indices = [r.index for r in records]
        if self.crash_at is not None and any(i >= self.crash_at for i in indices):
            raise RuntimeError("simulated crash")
        self.seen.extend(indices)
        return self.inner.score(records)

    def close(self) -> None:
        pass


@pytest.fixture()
def recording() -> type[Recording]:
    """The Recording engine wrapper (shared by the scoring test modules)."""
    return Recording
