"""Fixtures shared by the archive-scoring tests: one untrained tiny model per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class LiveServer:
    """`bentoml serve service.service:StanceService` in a subprocess on a free 127.0.0.1 port."""

    def __init__(self, env_extra: dict[str, str], log: Path) -> None:
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        env = {**os.environ, **env_extra, "BENTOML_DO_NOT_TRACK": "true"}
        with log.open("wb") as handle:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bentoml",
                    "serve",
                    "service.service:StanceService",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=Path(__file__).resolve().parents[2],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 180) -> None:
        """Poll /readyz until 200; fail with the server log when it exits or times out."""
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s."""
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture()
def live_server() -> type[LiveServer]:
    """The LiveServer class (start one per test or per module)."""
    return LiveServer
