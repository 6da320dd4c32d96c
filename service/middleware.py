"""ASGI middleware: request ids + structured logs, optional API key, request-size limit.

Pure ASGI (no Starlette request objects) so the body limit is enforced while the body
streams in: a request over the limit is answered 413 without being read into memory.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.explorer import EXPLORER_PATHS

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
logger = logging.getLogger("stance.access")


class _BodyTooLarge(Exception):
    pass


async def _json_response(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class StanceMiddleware:
    """Adds X-Request-ID, logs one JSON line per request, checks the API key and body size.

    Args:
        app: the wrapped ASGI app.
        api_key: when set, every path except OPEN_PATHS needs ``Authorization: Bearer KEY``
            or ``X-API-Key: KEY`` (401 otherwise).
        max_body_bytes: larger request bodies are refused with 413.
    """

    def __init__(self, app: ASGIApp, api_key: str | None = None, max_body_bytes: int = 2_000_000):
        self.app = app
        self.api_key = api_key or None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        path = scope.get("path", "")
        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *[(k, v) for k, v in message["headers"] if k.lower() != b"x-request-id"],
                    (b"x-request-id", request_id.encode()),
                ]
                if message["status"] == 503:  # the model is (re)loading: say when to retry
                    message["headers"].append((b"retry-after", RETRY_AFTER_S.encode()))
            await send(message)

        try:
            if self.api_key and path not in OPEN_PATHS and not self._authorised(headers):
                status_holder["status"] = 401
                await _json_response(
                    send,
                    401,
                    {"error": "missing or wrong API key: send 'Authorization: Bearer <key>'"},
                    request_id,
                )
                return
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                status_holder["status"] = 413
                await _json_response(send, 413, self._too_large(), request_id)
                return
            await self._call_limited(scope, receive, send_with_id, request_id, status_holder)
        finally:
            logger.info(
                json.dumps(
                    {
                        "event": "request",
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": path,
                        "status": status_holder["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    }
                )
            )

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = self.api_key or ""
        supplied = headers.get("x-api-key", "")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            supplied = auth[7:].strip()
        return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())

    def _too_large(self) -> dict[str, str]:
        return {
            "error": f"request body is larger than {self.max_body_bytes} bytes; "
            "split the batch or raise STANCE_MAX_BODY_BYTES"
        }

    async def _call_limited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        status_holder: dict[str, int],
    ) -> None:
        """Run the app, counting body bytes as they stream (chunked uploads have no length)."""
        received = 0
        started_response = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started_response:
                status_holder["status"] = 413
                await _json_response(send, 413, self._too_large(), request_id)
