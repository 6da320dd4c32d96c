"""A worker that dies (SIGKILL, OOM) is replaced; meanwhile clients get prompt answers:
/readyz 503 and the endpoints 503 + Retry-After while the new worker loads the model."""

from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest
from bentoml.exceptions import ServiceUnavailable

from service.service import StanceService

TEXT = "The minister praised the monitoring mission for its calm and professional work."


def test_endpoints_answer_503_until_the_model_is_loaded():
    import threading

    service = object.__new__(StanceService.inner)  # no __init__: nothing loaded yet
    service._ready = threading.Event()
    assert service.__is_ready__() is False
    with pytest.raises(ServiceUnavailable, match="the model is still loading; retry in a few"):
        service._loaded()
    service.classifier = "loaded"
    service._ready.set()
    assert service.__is_ready__() is True
    assert service._loaded() == "loaded"


@pytest.mark.slow
def test_killed_worker_is_replaced_and_health_answers_promptly(model_dir, live_server, tmp_path):
    from model import StanceClassifier
    from training.registry import register

    tag = register(StanceClassifier.load(model_dir), {})
    server = live_server({"STANCE_MODEL_TAG": tag, "STANCE_BACKEND": "torch"}, tmp_path / "log")
    try:
        server.wait_ready()
        (worker,) = psutil.Process(server.proc.pid).children()
        os.kill(worker.pid, signal.SIGKILL)
        statuses: list[int] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{server.url}/readyz", timeout=30)
            except httpx.TransportError:  # the dead worker's connections are closed
                continue
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                break
            reply = httpx.post(
                f"{server.url}/predict", json={"text": TEXT, "target": "the mission"}, timeout=30
            )
            assert reply.status_code in {200, 503}
            if reply.status_code == 503:
                assert reply.headers["retry-after"] == "5"
            time.sleep(0.2)
        assert statuses[-1] == 200, statuses
        assert set(statuses) <= {200, 503}
        (replacement,) = psutil.Process(server.proc.pid).children()
        assert replacement.pid != worker.pid
        reply = httpx.post(
            f"{server.url}/predict", json={"text": TEXT, "target": "the mission"}, timeout=30
        )
        assert reply.status_code == 200
    finally:
        server.stop()
