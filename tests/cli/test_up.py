"""The main job as a new user runs it: `stance up` on an empty BentoML store trains a (tiny)
preset, serves it until /readyz answers 200, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

# `python -m cli` with this checkout first on the path: the `stance` console script runs the same
# main(), but from wherever the project was installed.
ROOT = Path(__file__).resolve().parents[2]
STANCE = [sys.executable, "-m", "cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_store_has_model_is_false_on_an_empty_store(tmp_path):
    # BentoML 1.4 raises NotFound for an unknown name; a new machine must not crash on it.
    # A fresh process: BentoML binds its store to BENTOML_HOME once per process, and earlier
    # tests of this session have already registered a model in theirs.
    code = "from training.registry import store_has_model; print(store_has_model('stance'))"
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "empty_home"), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout == "False\n"


def test_up_trains_on_an_empty_store_serves_and_stops_on_sigterm(tmp_path, tiny_jsonl):
    preset = tmp_path / "tiny.toml"
    preset.write_text(
        "[model]\nmax_length = 64\n"
        "[training]\nmax_steps = 2\nbatch_size = 4\nprogress = false\nexport_onnx = false\n"
        f'[data]\ntrain = ["{tiny_jsonl}"]\ndev = "{tiny_jsonl}"\neval = []\n',
        encoding="utf-8",
    )
    home = tmp_path / "bentoml_home"  # empty: what a new user has
    port = _free_port()
    env = {
        **os.environ,
        "BENTOML_HOME": str(home),
        "STANCE_BACKEND": "torch",
        "PYTHONPATH": str(ROOT),
    }
    # Append mode, and read back through a second handle: the child shares this handle's
    # file offset, so seeking it to read would make the server's next log line overwrite
    # the start of the log (it did, once, in CI).
    log_path = tmp_path / "up.log"
    log = log_path.open("a", encoding="utf-8")
    proc = subprocess.Popen(
        [*STANCE, "up", "--config", str(preset), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we can check that nothing survives
    )
    try:
        deadline = time.monotonic() + 240
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(1)
        output = log_path.read_text(encoding="utf-8")
        assert ready, f"service never became ready:\n{output[-4000:]}"
        assert "no 'stance' model in the store: training the preset" in output
        assert "trained and registered stance:" in output
        answer = httpx.post(
            f"http://127.0.0.1:{port}/predict",
            json={"text": "The minister praised the mission.", "target": "the mission"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert json.loads(answer.text)["label"] in {"negative", "neutral", "positive"}

        proc.send_signal(signal.SIGTERM)  # what systemd / Docker / Kubernetes send
        assert proc.wait(timeout=60) is not None
        deadline = time.monotonic() + 30
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _group_alive(proc.pid), "a process of `stance up` outlived SIGTERM"
        assert _port_is_free(port)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
