"""`bentoml serve` of the stance service on a free 127.0.0.1 port, for demos and tests.

Register a model folder in a throw-away store with ``register_folder(folder, home)``, then
``with serve({"BENTOML_HOME": home, "STANCE_MODEL_TAG": tag}, log) as url:`` talks to it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (other agents serve on this machine too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register_folder(model_dir: Path, bentoml_home: str) -> str:
    """Register a saved model folder in the BentoML store at ``bentoml_home``; its tag.

    Runs in a subprocess: BentoML fixes its store path when first imported.
    """
    code = (
        "from model import StanceClassifier; from training.registry import register; "
        f"print(register(StanceClassifier.load({str(model_dir)!r}), {{}}))"
    )
    env = {**os.environ, "BENTOML_HOME": bentoml_home, "BENTOML_DO_NOT_TRACK": "true"}
    out = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, env=env, text=True)
    return out.strip().splitlines()[-1]


@contextlib.contextmanager
def serve(env_extra: dict[str, str], log: Path, timeout: float = 300) -> Iterator[str]:
    """Serve service.service:StanceService until the block ends; yields its base URL.

    ``env_extra`` needs STANCE_MODEL_TAG (and BENTOML_HOME unless the current one holds the
    model). The server's output goes to ``log``, quoted when it fails to start.
    """
    port = free_port()
    env = {**os.environ, **env_extra, "BENTOML_DO_NOT_TRACK": "true"}
    cmd = [sys.executable, "-m", "bentoml", "serve", "service.service:StanceService"]
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(proc, url, log, timeout)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 300) -> None:
    """Poll ``url``/readyz until 200; raise with the end of ``log`` if the server exits or the
    timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server not ready in {timeout}s:\n{log.read_text()[-3000:]}")
