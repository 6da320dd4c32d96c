"""The OpenAPI document of the HTTP API, served at ``/docs.json``, built from service/schemas.py.

BentoML generates its spec for OpenAPI 3.0 from pydantic's JSON Schema and loses on the way
what a typed client needs: nullable fields come out as plain strings, error bodies as
BentoML's exception classes (not what is sent), ``GET /model`` is missing, request bodies
are not marked required. This document is OpenAPI 3.1, whose schema dialect *is* JSON
Schema 2020-12: pydantic's schemas go in unchanged (``anyOf [string, null]`` stays), every
operation lists each status it can answer with the one error body (``ErrorOut``), and
tests/service/test_openapi.py checks real responses of every endpoint against it and runs
schemathesis on it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service.errors import ERROR_TYPES
from service.middleware import ASGIApp, Message, Receive, Scope, Send
from service.schemas import (
    AnalyzeArticleRequest,
    ArticleOut,
    BatchOut,
    ErrorOut,
    ModelInfo,
    PredictBatchRequest,
    PredictionOut,
    PredictRequest,
    PredictTargetsOut,
    PredictTargetsRequest,
)

SPEC_PATH = "/docs.json"
REF = "#/components/schemas/{model}"
# Errors any endpoint can answer (API key, wrong method, overload, server trouble, not ready).
_COMMON_ERRORS = (401, 405, 429, 500, 503, 504)
# Errors of an endpoint that takes a JSON body, checked before the endpoint runs.
_BODY_ERRORS = (400, 408, 413, 415)

# (route, request model, response model, summary) of each JSON endpoint.
_ENDPOINTS: tuple[tuple[str, type[BaseModel], type[BaseModel], str], ...] = (
    ("/predict", PredictRequest, PredictionOut, "Stance toward one target"),
    ("/predict_targets", PredictTargetsRequest, PredictTargetsOut, "Stance toward targets"),
    ("/predict_batch", PredictBatchRequest, BatchOut, "Many queries, bad items flagged"),
    ("/analyze_article", AnalyzeArticleRequest, ArticleOut, "Every stance in an article"),
)


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


def _errors(statuses: tuple[int, ...]) -> dict[str, Any]:
    return {
        str(status): {
            "description": f"{ERROR_TYPES[status]}: see error.message",
            "content": _json(ErrorOut),
        }
        for status in sorted(statuses)
    }


def _operation(
    name: str, summary: str, out: type[BaseModel], request: type[BaseModel] | None
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": name,
        "summary": summary,
        "responses": {
            "200": {"description": "Success", "content": _json(out)},
            **_errors(_COMMON_ERRORS + (_BODY_ERRORS if request is not None else ())),
        },
    }
    if request is not None:
        op["requestBody"] = {"required": True, "content": _json(request)}
    return op


def _health(summary: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": summary.split()[0].lower(),
            "summary": summary,
            "responses": {
                "200": {"description": "Yes", "content": {"text/plain": {"schema": {}}}},
                **_errors((503,)),
            },
        }
    }


@cache
def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((request, "validation") for _, request, _, _ in _ENDPOINTS),
        *((out, "serialization") for _, _, out, _ in _ENDPOINTS),
        (ModelInfo, "serialization"),
        (ErrorOut, "serialization"),
    ]
    _, defs = models_json_schema(models, ref_template=REF)
    paths: dict[str, Any] = {
        route: {"post": _operation(route.strip("/"), summary, out, request)}
        for route, request, out, summary in _ENDPOINTS
    }
    # POST /model is BentoML's form of the endpoint (its client calls it); GET for browsers.
    paths["/model"] = {
        "get": _operation("model_info", "The served model, labels and limits", ModelInfo, None),
        "post": _operation("model_info_post", "Same as GET /model", ModelInfo, None),
    }
    paths["/readyz"] = _health("Ready: the model is loaded and requests are answered")
    paths["/livez"] = _health("Live: the process is up")
    paths["/healthz"] = _health("Healthz: alias of /livez")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stance",
            "version": "1",
            "description": "Stance of a speaker toward a target in news text. Every error "
            'response has the body {"error": {"type", "message", "field"}}.',
        },
        "paths": paths,
        "components": {"schemas": defs["$defs"]},
    }


class OpenAPIMiddleware:
    """Answers ``GET /docs.json`` with :func:`build_spec` (BentoML's route would match first
    for a mounted app, so the document is served from in front of it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != SPEC_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        body = json.dumps(build_spec()).encode()
        start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})
