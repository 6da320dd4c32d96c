"""The one error shape of every HTTP endpoint, and the translation of framework errors into it.

Every error response, whoever raised it (our middleware, a schema check, BentoML, Starlette's
router), has the body::

    {"error": {"type": "validation_error", "message": "text: ...", "field": "text"}}

``field`` names the offending request field (dotted path, e.g. ``items.3.target``) or is
null when the request as a whole is at fault. ``type`` is a stable machine-readable word
(see ``ERROR_TYPES``); ``message`` says what was found and how to fix it.

BentoML answers client errors in three shapes (a pydantic error list under ``detail``, a bare
one-element array, plain text from the router) and logs each with a traceback. The
middleware passes every error body through :func:`normalise`, and
:class:`ClientErrorLogFilter` drops BentoML's traceback for errors that are the client's:
the access log already has one line for them.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from service.schemas import ErrorDetail, ErrorOut

ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
    504: "timeout",
}
# "text: must ..." -> field "text"; our messages start with the field they are about.
_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): ")


def error_type(status: int) -> str:
    """The ``type`` for a status without a more specific one."""
    return ERROR_TYPES.get(status, "client_error" if status < 500 else "server_error")


def error_body(
    status: int, message: str, field: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    """The error body for ``status`` (built by the schema, so it always matches the spec)."""
    detail = ErrorDetail(type=kind or error_type(status), message=message, field=field)
    return ErrorOut(error=detail).model_dump()


def error_bytes(
    status: int, message: str, field: str | None = None, kind: str | None = None
) -> bytes:
    """:func:`error_body` serialised."""
    return json.dumps(error_body(status, message, field, kind)).encode()


def _is_ours(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and set(error) == {"type", "message", "field"}


def _validation(errors: list[Any]) -> dict[str, Any]:
    """Pydantic's error list (BentoML's ``detail``) as one message naming every field."""
    parts: list[str] = []
    fields: list[str] = []
    for err in errors:
        loc = err.get("loc", ()) if isinstance(err, dict) else ()
        field = ".".join(str(x) for x in loc)
        fields.append(field)
        msg = str(err.get("msg", err)) if isinstance(err, dict) else str(err)
        parts.append(f"{field}: {msg}" if field else msg)
    message = "; ".join(parts) or "the request does not match the schema"
    return error_body(400, message, fields[0] if fields and fields[0] else None, "validation_error")


def normalise(status: int, body: bytes) -> dict[str, Any]:
    """Any error body an inner app produced, in the one error shape."""
    if status >= 500:
        # Never echo internals (BentoML's 5xx text, a stack) to the client; the log has them.
        generic = {503: "the service is not ready; retry later"}.get(
            status, "an unexpected error occurred; the server log has the details"
        )
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return (
            dict(parsed)
            if isinstance(parsed, dict) and _is_ours(parsed)
            else error_body(status, generic)
        )
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    if isinstance(parsed, dict) and _is_ours(parsed):
        return dict(parsed)
    if isinstance(parsed, dict) and isinstance(parsed.get("detail"), list):
        return _validation(parsed["detail"])
    if isinstance(parsed, list) and len(parsed) == 1:  # BentoML's [{"error": "..."}]
        parsed = parsed[0]
    if isinstance(parsed, dict):
        parsed = parsed.get("error", parsed.get("detail", text))
    message = str(parsed) if parsed else error_type(status).replace("_", " ")
    match = _FIELD_PREFIX.match(message)
    return error_body(status, message, match.group(1) if match else None)


class ClientErrorLogFilter(logging.Filter):
    """Drops BentoML's ERROR + traceback for an error that is the client's (4xx).

    BentoML logs every exception of an API handler, bad input included; a client error is
    one line of the JSON access log instead (34 MB of tracebacks for 27,000 bad requests).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for a pydantic ValidationError or a BentoML exception below 500."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        from bentoml.exceptions import BentoMLException
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            return False
        if isinstance(exc, BentoMLException):
            return int(exc.error_code.value) >= 500
        return True


def install_log_filter() -> None:
    """Attach :class:`ClientErrorLogFilter` to the loggers BentoML reports handler errors on."""
    for name in ("bentoml._internal.server.http_app", "bentoml.serve"):
        target = logging.getLogger(name)
        if not any(isinstance(f, ClientErrorLogFilter) for f in target.filters):
            target.addFilter(ClientErrorLogFilter())
