"""StanceMiddleware at the edge, on a real uvicorn server with a stub app (no model: fast).

Raw sockets send what an HTTP client library will not: half-sent bodies, chunked uploads,
missing content types, disconnects mid-request.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from service.middleware import StanceMiddleware


class Stub:
    """What the wrapped app saw: bodies received, handlers started, handlers cancelled."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.cancelled = 0
        self.release = asyncio.Event()


STUB = Stub()
WAIT_REQUEST = (
    b"POST /wait HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    STUB.bodies.append(body)
    return JSONResponse({"echo": json.loads(body) if body else None})


async def wait(request: Request) -> JSONResponse:
    await request.body()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        STUB.cancelled += 1
        raise
    return JSONResponse({})


async def bad(request: Request) -> JSONResponse:
    return JSONResponse([{"error": "text: must contain visible characters"}], status_code=400)


async def crash(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Traceback: secret internals", status_code=500)


def _app() -> Any:
    routes = [
        Route("/echo", echo, methods=["POST"]),
        Route("/wait", wait, methods=["POST"]),
        Route("/bad", bad, methods=["POST"]),
        Route("/crash", crash, methods=["POST"]),
    ]
    return StanceMiddleware(
        Starlette(routes=routes),
        max_body_bytes=1000,
        body_timeout_s=1,
        max_concurrency=2,
        max_slow_uploads_per_client=3,
        request_timeout_s=2,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield "127.0.0.1", port
    srv.should_exit = True
    thread.join(timeout=10)


def _url(server: tuple[str, int], path: str) -> str:
    return f"http://{server[0]}:{server[1]}{path}"


def _error(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "field"}, body
    return dict(body["error"])


def _raw(server: tuple[str, int], data: bytes, wait_s: float = 5) -> bytes:
    """Send raw bytes, return everything the server answers until it closes or goes quiet."""
    with socket.create_connection(server, timeout=wait_s) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def test_valid_json_reaches_the_app_unchanged(server):
    r = httpx.post(_url(server, "/echo"), json={"text": "a", "n": [1, 2]}, timeout=5)
    assert r.status_code == 200 and r.json() == {"echo": {"text": "a", "n": [1, 2]}}
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (
            b'{"text": "a"}',
            {"content-type": "text/plain"},
            415,
            {
                "type": "unsupported_media_type",
                "message": "send the body as JSON with Content-Type: application/json; "
                "found 'text/plain'",
                "field": None,
            },
        ),
        (
            b'{"text": "a"}',
            {"content-type": "multipart/form-data"},
            415,
            {
                "type": "unsupported_media_type",
                "message": "send the body as JSON with Content-Type: application/json; "
                "found 'multipart/form-data'",
                "field": None,
            },
        ),
        (
            b'{"text": "a", "text": "b"}',
            {"content-type": "application/json"},
            400,
            {
                "type": "bad_request",
                "message": "text: given twice in one JSON object; send each field once",
                "field": "text",
            },
        ),
        (
            b"{bad json",
            {"content-type": "application/json; charset=utf-8"},
            400,
            {
                "type": "bad_request",
                "message": "the request body is not valid JSON: Expecting property name "
                "enclosed in double quotes: line 1 column 2 (char 1)",
                "field": None,
            },
        ),
        (
            b"x" * 1001,
            {"content-type": "application/json"},
            413,
            {
                "type": "payload_too_large",
                "message": "request body is larger than 1000 bytes; split the batch or raise "
                "STANCE_MAX_BODY_BYTES",
                "field": None,
            },
        ),
    ],
)
def test_client_errors_at_the_edge_have_the_one_shape(server, content, headers, status, error):
    r = httpx.post(_url(server, "/echo"), content=content, headers=headers, timeout=5)
    assert r.status_code == status
    assert _error(r) == error


def test_missing_content_type_is_415(server):
    raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    answer = _raw(server, raw, wait_s=2)
    assert answer.startswith(b"HTTP/1.1 415 ")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["message"].endswith("found no Content-Type")


def test_chunked_body_over_the_limit_is_413_not_500(server):
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    r = httpx.post(
        _url(server, "/echo"),
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert r.status_code == 413 and _error(r)["type"] == "payload_too_large"


def test_errors_from_inside_are_rewritten_into_the_one_shape(server):
    r = httpx.post(_url(server, "/bad"), json={}, timeout=5)
    assert r.status_code == 400
    assert _error(r) == {
        "type": "bad_request",
        "message": "text: must contain visible characters",
        "field": "text",
    }
    r = httpx.get(_url(server, "/echo"), timeout=5)
    assert r.status_code == 405
    assert _error(r) == {
        "type": "method_not_allowed",
        "message": "Method Not Allowed",
        "field": None,
    }
    r = httpx.post(_url(server, "/crash"), json={}, timeout=5)
    assert r.status_code == 500
    assert _error(r) == {
        "type": "internal_error",
        "message": "an unexpected error occurred; the server log has the details",
        "field": None,
    }


def test_a_stalled_body_is_dropped_with_408_after_the_deadline(server):
    started = time.monotonic()
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"te'
    )
    answer = _raw(server, raw, wait_s=5)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()
    assert 0.9 < time.monotonic() - started < 3


def test_stalled_uploads_neither_take_concurrency_nor_exceed_the_per_client_limit(server):
    head = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    socks = []
    try:
        for _ in range(6):  # 3 slow uploads allowed per address; max_concurrency is 2
            sock = socket.create_connection(server, timeout=5)
            sock.sendall(head)
            socks.append(sock)
        time.sleep(0.5)
        answers = []
        for sock in socks[3:]:
            answers.append(sock.recv(65536))
        assert all(a.startswith(b"HTTP/1.1 429 ") for a in answers), answers
        # Real requests still get through: the stalled bodies hold no concurrency slot.
        for _ in range(3):
            r = httpx.post(_url(server, "/echo"), json={"ok": 1}, timeout=5)
            assert r.status_code == 200
    finally:
        for sock in socks:
            sock.close()


def test_a_client_that_disconnects_has_its_request_cancelled(server):
    before = STUB.cancelled
    raw = WAIT_REQUEST
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(raw)
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while STUB.cancelled == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert STUB.cancelled == before + 1


def test_concurrency_limit_answers_429_in_the_one_shape(server):
    raw = WAIT_REQUEST
    socks = [socket.create_connection(server, timeout=5) for _ in range(2)]
    try:
        for sock in socks:
            sock.sendall(raw)
        time.sleep(0.3)
        r = httpx.post(_url(server, "/echo"), json={}, timeout=5)
        assert r.status_code == 429
        assert _error(r) == {
            "type": "too_many_requests",
            "message": "more than 2 requests at once; retry",
            "field": None,
        }
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.3)
    assert httpx.post(_url(server, "/echo"), json={}, timeout=5).status_code == 200


def test_one_warning_line_per_client_error(server, caplog):
    # Only this request's lines count: an earlier test's access line can land late.
    headers = {"content-type": "application/json", "x-request-id": "one-warning-line"}
    with caplog.at_level("INFO", logger="stance.access"):
        httpx.post(_url(server, "/echo"), content=b"{", headers=headers)
        time.sleep(0.1)
    lines = [
        r
        for r in caplog.records
        if r.name == "stance.access" and '"request_id": "one-warning-line"' in r.getMessage()
    ]
    assert len(lines) == 1 and lines[0].levelname == "WARNING" and not lines[0].exc_info
    record = json.loads(lines[0].getMessage())
    assert record["status"] == 400 and record["error"]["type"] == "bad_request"


def test_a_request_past_the_timeout_is_cancelled_and_answered_504(server):
    before = STUB.cancelled
    started = time.monotonic()
    r = httpx.post(_url(server, "/wait"), json={}, timeout=10)
    assert 1.9 < time.monotonic() - started < 5
    assert r.status_code == 504
    assert _error(r) == {
        "type": "timeout",
        "message": "the request took longer than 2 s and was stopped; send less text per request",
        "field": None,
    }
    assert STUB.cancelled == before + 1
