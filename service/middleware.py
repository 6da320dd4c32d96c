"""ASGI middleware: the edge of the service, where every request is checked before any work.

In order, for each HTTP request:

1. request id (``X-Request-ID``, echoed) and one JSON access-log line when it ends (INFO,
   WARNING for a client error, ERROR for a server error; never a traceback for a 4xx);
2. the API key when one is configured (401), except for health checks;
3. the body, for methods that carry one: read in full, with a deadline (408 when it has not
   arrived ``body_timeout_s`` after the headers), a size limit that holds for chunked uploads
   too (413), and at most ``max_slow_uploads_per_client`` slow uploads per client address
   (429); then ``Content-Type: application/json`` (415) and well-formed JSON without
   duplicate keys (400);
4. the concurrency limit (429), taken only now: half-sent bodies and idle connections cannot
   use it up;
5. the endpoint, cancelled when the client disconnects before the answer (its queries leave
   the model queue unrun) or when it runs past ``request_timeout_s`` (504);
6. every error response, from here or from inside (BentoML, Starlette, an endpoint),
   rewritten into the one error shape of service/errors.py.

Pure ASGI (no Starlette request objects), so limits apply while the body streams in.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.errors import error_bytes, normalise
from service.explorer import EXPLORER_PATHS
from service.schemas import (
    BODY_TIMEOUT_S,
    MAX_BODY_BYTES,
    MAX_CONCURRENCY,
    MAX_SLOW_UPLOADS_PER_CLIENT,
    REQUEST_TIMEOUT_S,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATHS = frozenset({"/livez", "/readyz", "/healthz"})
# Seconds a client should wait before retrying a 503 (a worker loading its model).
RETRY_AFTER_S = "5"
# Served without the API key: health checks, and the explorer page (it holds no data and
# asks for the key itself).
OPEN_PATHS = HEALTH_PATHS | frozenset(EXPLORER_PATHS)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A body still arriving after this long counts as a slow upload (real clients on a LAN send
# a request in one go; only they are limited per client address).
SLOW_UPLOAD_AFTER_S = 0.1
logger = logging.getLogger("stance.access")


class _Reject(Exception):
    """A client error found at the edge: answered here, the app never sees the request."""

    def __init__(self, status: int, message: str, field: str | None = None, close: bool = False):
        super().__init__(message)
        self.status, self.message, self.field, self.close = status, message, field, close


class _ClientGone(Exception):
    """The client disconnected while its body was being read."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object_pairs_hook: a key given twice is ambiguous (which one wins?), so 400."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Reject(400, f"{key}: given twice in one JSON object; send each field once", key)
        result[key] = value
    return result


class StanceMiddleware:
    """See the module docstring.

    Args:
        app: the wrapped ASGI app.
        api_key: when set, every path except OPEN_PATHS needs ``Authorization: Bearer KEY``
            or ``X-API-Key: KEY`` (401 otherwise).
        max_body_bytes: larger request bodies are refused with 413.
        body_timeout_s: a body must have arrived this long after the headers (408).
        max_concurrency: requests past the body stage at once (429 beyond).
        max_slow_uploads_per_client: slow uploads at once per client address (429 beyond).
        request_timeout_s: an endpoint still running this long after the body arrived is
            cancelled (504).
    """

    def __init__(
        self,
        app: ASGIApp,
        api_key: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout_s: float = BODY_TIMEOUT_S,
        max_concurrency: int = MAX_CONCURRENCY,
        max_slow_uploads_per_client: int = MAX_SLOW_UPLOADS_PER_CLIENT,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.api_key = api_key or None
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.max_concurrency = max_concurrency
        self.max_slow_uploads_per_client = max_slow_uploads_per_client
        self.request_timeout_s = request_timeout_s
        self.active = 0  # requests past the body stage (one event loop: a plain counter)
        self._slow: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        path, method = scope.get("path", ""), scope.get("method", "")
        started = time.perf_counter()
        record: dict[str, Any] = {"status": 0}
        reply = _Replier(send, request_id, record, normalise_errors=method != "HEAD")
        try:
            if self.api_key and path not in OPEN_PATHS and not self._authorised(headers):
                raise _Reject(401, "missing or wrong API key: send 'Authorization: Bearer <key>'")
            if method not in BODY_METHODS:
                await self.app(scope, receive, reply.send)
                return
            body = await self._read_body(scope, receive, headers)
            _check_json(headers, body)
            if self.active >= self.max_concurrency:
                raise _Reject(429, f"more than {self.max_concurrency} requests at once; retry")
            self.active += 1
            try:
                await self._run(scope, receive, reply, body, record)
            finally:
                self.active -= 1
        except _Reject as err:
            await reply.error(err.status, err.message, err.field, err.close)
        except _ClientGone:
            record["status"] = 499  # nginx's "client closed request": nothing was sent
        finally:
            _log_access(record, request_id, method, path, started)

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = self.api_key or ""
        supplied = headers.get("x-api-key", "")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            supplied = auth[7:].strip()
        return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())

    def _too_large(self) -> _Reject:
        return _Reject(
            413,
            f"request body is larger than {self.max_body_bytes} bytes; split the batch or "
            "raise STANCE_MAX_BODY_BYTES",
            close=True,
        )

    async def _read_body(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> bytes:
        """The whole body, within the size limit and the deadline (raises _Reject)."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        client = str((scope.get("client") or ("unknown",))[0])
        chunks: list[bytes] = []
        size = 0
        slow = False
        try:
            while True:
                pending = asyncio.ensure_future(receive())
                if not slow:
                    done, _ = await asyncio.wait({pending}, timeout=SLOW_UPLOAD_AFTER_S)
                    if not done:
                        if self._slow[client] >= self.max_slow_uploads_per_client:
                            pending.cancel()
                            raise _Reject(
                                429,
                                f"more than {self.max_slow_uploads_per_client} slow uploads at "
                                "once from this address; send each body in one go",
                                close=True,
                            )
                        self._slow[client] += 1
                        slow = True
                try:
                    message = await asyncio.wait_for(pending, max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise _Reject(
                        408,
                        f"the request body did not arrive within {self.body_timeout_s:g} s of "
                        "the headers; send it at once",
                        close=True,
                    ) from None
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise self._too_large()
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        finally:
            if slow:
                self._slow[client] -= 1
                if self._slow[client] <= 0:
                    del self._slow[client]

    async def _run(
        self, scope: Scope, receive: Receive, reply: _Replier, body: bytes, record: dict[str, Any]
    ) -> None:
        """The app on the buffered body; cancelled if the client leaves before the answer."""
        gone = asyncio.Event()
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        app_task = asyncio.ensure_future(self.app(scope, replay, reply.send))

        async def watch() -> None:
            # After a complete body the server's receive() returns only on disconnect (or
            # once the response is complete, when cancelling is moot).
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            if not reply.complete:
                app_task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            done, _ = await asyncio.wait({app_task}, timeout=self.request_timeout_s)
            if not done:
                app_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await app_task
                if not reply.started:
                    raise _Reject(
                        504,
                        f"the request took longer than {self.request_timeout_s:g} s and was "
                        "stopped; send less text per request",
                    )
                return
            if app_task.cancelled():  # by the watcher: the client left, nobody to answer
                record["status"] = 499
                return
            app_task.result()  # the app's own exception, if any, goes up as before
        finally:
            watcher.cancel()
            if not app_task.done():
                app_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def _check_json(headers: dict[str, str], body: bytes) -> None:
    """A non-empty body must be declared and well-formed JSON, each key once (else _Reject)."""
    if not body:
        return
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        found = f"{media!r}" if media else "no Content-Type"
        raise _Reject(
            415, f"send the body as JSON with Content-Type: application/json; found {found}"
        )
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except ValueError as err:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise _Reject(400, f"the request body is not valid JSON: {err}") from None


class _Replier:
    """The ``send`` given to the app: adds X-Request-ID, rewrites error bodies into the one
    error shape (buffering them; they are small), records status and error for the log."""

    def __init__(
        self, send: Send, request_id: str, record: dict[str, Any], normalise_errors: bool
    ) -> None:
        self._send = send
        self.request_id = request_id.encode()
        self.record = record
        self.normalise_errors = normalise_errors
        self.started = False
        self.complete = False
        self._held: Message | None = None
        self._chunks: list[bytes] = []

    def _headers(self, message: Message) -> list[tuple[bytes, bytes]]:
        kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
        if message.get("status") == 503 and not any(k.lower() == b"retry-after" for k, _ in kept):
            kept.append((b"retry-after", RETRY_AFTER_S.encode()))  # the model is (re)loading
        return [*kept, (b"x-request-id", self.request_id)]

    async def send(self, message: Message) -> None:
        """Forward ``message``; error responses are held until their body is complete."""
        if message["type"] == "http.response.start":
            self.started = True
            self.record["status"] = message["status"]
            if message["status"] >= 400 and self.normalise_errors:
                self._held = message
                return
            message["headers"] = self._headers(message)
        elif message["type"] == "http.response.body":
            if self._held is not None:
                self._chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                start, self._held = self._held, None
                status = start["status"]
                payload = json.dumps(normalise(status, b"".join(self._chunks))).encode()
                self.record["error"] = json.loads(payload)["error"]
                kept = [
                    (k, v)
                    for k, v in start.get("headers", [])
                    if k.lower() not in (b"content-type", b"content-length")
                ]
                start["headers"] = self._headers(
                    {"status": status, "headers": [*kept, *_json_headers(len(payload))]}
                )
                await self._send(start)
                message = {"type": "http.response.body", "body": payload}
            if not message.get("more_body", False):
                self.complete = True
        await self._send(message)

    async def error(self, status: int, message: str, field: str | None, close: bool) -> None:
        """Answer with our own error (the app never ran)."""
        payload = error_bytes(status, message, field)
        headers = _json_headers(len(payload))
        if close:  # the rest of an unread body must not be parsed as a next request
            headers.append((b"connection", b"close"))
        self.record["status"] = status
        self.record["error"] = json.loads(payload)["error"]
        start = {"type": "http.response.start", "status": status, "headers": headers}
        start["headers"] = self._headers(start)
        await self._send(start)
        await self._send({"type": "http.response.body", "body": payload})
        self.complete = True


def _json_headers(length: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(length).encode())]


def _log_access(
    record: dict[str, Any], request_id: str, method: str, path: str, started: float
) -> None:
    """One JSON line per request; a client error is a WARNING line, never a traceback."""
    status = int(record["status"])
    line: dict[str, Any] = {
        "event": "request",
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if "error" in record:
        error = record["error"]
        line["error"] = {**error, "message": str(error.get("message", ""))[:300]}
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    logger.log(level, json.dumps(line))
