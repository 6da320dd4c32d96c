"""Fixtures shared by the service tests: a real `bentoml serve` on a free local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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


@pytest.fixture(scope="session")
def live_server() -> type[LiveServer]:
    """The LiveServer class (start one per test or per module)."""
    return LiveServer


@pytest.fixture(scope="session")
def served_tiny(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the untrained tiny model (schema and contract tests need no skill)."""
    from model import StanceClassifier
    from training.registry import register

    tag = register(StanceClassifier.load(model_dir), {})
    server = LiveServer({"STANCE_MODEL_TAG": tag}, tmp_path_factory.mktemp("served") / "log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
