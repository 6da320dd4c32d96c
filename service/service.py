"""The BentoML service: single, multi-target and batch stance endpoints, and model info.

Serve with ``bentoml serve service.service:StanceService`` (or ``stance up``). Settings come
from environment variables read when the service module is imported by the server:

    STANCE_MODEL_TAG       model in the BentoML store (default stance:latest)
    STANCE_BACKEND         auto (default: onnx when the model was exported, else torch) |
                           torch | onnx | onnx-int8, where the model has them
    STANCE_PARALLEL        ops (default: lowest latency for lone requests) | batches
                           (several batches at once, best throughput); model/runner.py
    STANCE_NUM_THREADS     cores for inference (default: the physical cores)
    STANCE_HOST            interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)
    STANCE_API_KEY         when set, every endpoint except health checks needs it
    STANCE_MAX_BODY_BYTES  larger request bodies get 413 (default 2,000,000)
    STANCE_MAX_TEXT_CHARS, STANCE_MAX_BATCH_ITEMS, STANCE_BODY_TIMEOUT_S,
    STANCE_MAX_CONCURRENCY, ...  limits (see model/limits.py and service/schemas.py)

Every error response has one shape, ``{"error": {"type", "message", "field"}}``
(service/errors.py); the checks at the edge (body, size, content type, concurrency) are in
service/middleware.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import bentoml
from bentoml.exceptions import InvalidArgument, ServiceUnavailable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from model.card import read_card
from model.limits import MAX_ARTICLE_CHARS
from model.types import QueryError, StancePrediction, StanceQuery
from service.errors import install_log_filter
from service.explorer import explorer_routes
from service.frontend import BlockingPredictor, Frontend
from service.middleware import StanceMiddleware
from service.openapi import OpenAPIMiddleware
from service.schemas import (
    MAX_TOKENS_PER_CALL,
    REQUEST_TIMEOUT_S,
    AnalyzeArticleRequest,
    BatchOut,
    ModelInfo,
    PredictBatchRequest,
    PredictionOut,
    PredictRequest,
    PredictTargetsOut,
    PredictTargetsRequest,
    item_error,
    limits,
)

MODEL_TAG = os.environ.get("STANCE_MODEL_TAG", "stance:latest")
BACKEND = os.environ.get("STANCE_BACKEND", "auto")
# Most HTTP traffic is lone requests of one short window: split each operation over the
# cores (lowest latency); a burst is merged into bigger calls by the batcher anyway.
PARALLEL = os.environ.get("STANCE_PARALLEL", "ops")
logger = logging.getLogger("stance.service")


def _configure_logging() -> None:
    """Our loggers write one line per event to stderr (the access log is JSON already).

    BentoML configures only its own loggers; without a handler ours would be dropped.
    """
    root = logging.getLogger("stance")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    install_log_filter()


_configure_logging()


def _out(pred: StancePrediction, tag: str) -> PredictionOut:
    return PredictionOut(**pred.to_dict(), model=tag)


@bentoml.service(
    name="stance",
    # No BentoML max_concurrency: StanceMiddleware counts requests only once their body has
    # arrived, so stalled uploads cannot take every slot (service/middleware.py).
    traffic={"timeout": REQUEST_TIMEOUT_S + 20},
    # 127.0.0.1 unless told otherwise: `bentoml serve` of a bento would otherwise listen on
    # every interface, with no API key by default. `--host` on the command line still wins.
    http={"cors": {"enabled": False}, "host": os.environ.get("STANCE_HOST", "127.0.0.1")},
)
class StanceService:
    """Stance of a speaker toward an entity in news text."""

    # Declared at class level so `bentoml build` packages the model with the bento.
    model_ref = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        stored = self.model_ref
        self.tag = str(stored.tag)
        # The model folder's own card (model/card.py); older store entries have only metadata.
        self.metadata: dict[str, Any] = read_card(stored.path) or dict(stored.info.metadata)
        # The model loads in a background thread so that a (re)started worker answers at
        # once: /readyz says 503 and the endpoints 503 + Retry-After until it is loaded,
        # instead of the connections hanging in the listen backlog for the whole load.
        self.classifier: Any = None
        self.frontend: Frontend | None = None
        self._ready = threading.Event()
        # Article analyses run their (pure Python) parsing here, their model calls through
        # the frontend: the model thread stays free for other requests in between.
        self.article_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stance-article")
        threading.Thread(
            target=self._load, args=(stored.path,), name="stance-model-load", daemon=True
        ).start()

    def _load(self, path: str) -> None:
        # Imported here, not at module level: the BentoML arbiter process imports this module
        # too, and must not load torch just to route requests.
        try:
            from model.classifier import StanceClassifier

            self.classifier = StanceClassifier.load(path, **_backend_kwargs())
            self.frontend = Frontend(self.classifier, MAX_TOKENS_PER_CALL)
        except Exception:
            # A worker that cannot load its model must not linger as "not ready" forever:
            # exit so the supervisor sees the failure (and the log says why).
            logger.exception("could not load model %s from %s", self.tag, path)
            os._exit(3)
        self._ready.set()
        logger.info(
            "loaded model %s (backend %s, parallel %s)",
            self.tag,
            self.classifier.backend.name,
            PARALLEL,
        )

    def __is_ready__(self) -> bool:
        """/readyz: 200 once the model is loaded, 503 before."""
        return self._ready.is_set()

    def _loaded(self) -> Any:
        """The classifier, or 503 (with Retry-After, added by the middleware) while loading."""
        if not self._ready.is_set():
            raise ServiceUnavailable("the model is still loading; retry in a few seconds")
        return self.classifier

    def _frontend(self) -> Frontend:
        """The frontend (set with the classifier, before ready), or 503 while loading."""
        self._loaded()
        return cast(Frontend, self.frontend)

    async def _predict(self, queries: list[StanceQuery]) -> list[StancePrediction]:
        frontend = self._frontend()
        try:
            return await frontend.predict(queries)
        except QueryError as err:  # the schema limits make this rare; still a client error
            raise InvalidArgument(str(err)) from None

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(self, **request: Any) -> PredictionOut:
        """Stance toward one target: label, calibrated probabilities and evidence."""
        req = PredictRequest(**request)
        query = StanceQuery(text=req.text, target=req.target, speaker=req.speaker, id=req.id)
        (pred,) = await self._predict([query])
        return _out(pred, self.tag)

    @bentoml.api(route="/predict_targets", input_spec=PredictTargetsRequest)
    async def predict_targets(self, **request: Any) -> PredictTargetsOut:
        """Stance toward several targets in one text, one result per target in order."""
        req = PredictTargetsRequest(**request)
        queries = [
            StanceQuery(text=req.text, target=t, speaker=req.speaker, id=req.id)
            for t in req.targets
        ]
        preds = await self._predict(queries)
        return PredictTargetsOut(id=req.id, results=[_out(p, self.tag) for p in preds])

    @bentoml.api(route="/predict_batch", input_spec=PredictBatchRequest)
    async def predict_batch(self, **request: Any) -> BatchOut:
        """Many queries, answered in order; a bad item gets an error entry, the rest succeed."""
        req = PredictBatchRequest(**request)
        results: list[PredictionOut | None] = [None] * len(req.items)
        good: list[tuple[int, StanceQuery]] = []
        for i, item in enumerate(req.items):
            problem = item_error(item)
            if problem is not None:
                results[i] = PredictionOut(id=item.id, target=item.target, error=problem)
            else:
                query = StanceQuery(item.text, item.target, speaker=item.speaker, id=item.id)
                good.append((i, query))
        if good:
            preds = await self._predict([q for _, q in good])
            for (i, _), pred in zip(good, preds, strict=True):
                results[i] = _out(pred, self.tag)
        return BatchOut(results=[r for r in results if r is not None])

    @bentoml.api(route="/analyze_article", input_spec=AnalyzeArticleRequest)
    async def analyze_article(self, **request: Any) -> dict[str, Any]:
        """Every (speaker, target, stance) in a raw article, with evidence sentences and offsets."""
        from model.article import analyze_article

        req = AnalyzeArticleRequest(**request)
        loop = asyncio.get_running_loop()
        frontend = self._frontend()
        model = BlockingPredictor(frontend.predict, loop, self.classifier.labels)

        def run() -> dict[str, Any]:
            analysis = analyze_article(
                req.text, model, targets=req.targets, max_chars=MAX_ARTICLE_CHARS
            )
            return analysis.to_dict()

        try:
            result = await loop.run_in_executor(self.article_pool, run)
        except QueryError as err:
            raise InvalidArgument(str(err)) from None
        except asyncio.CancelledError:  # the client went away: stop at the next model call
            model.cancel()
            raise
        return {"id": req.id, "model": self.tag, **result}

    @bentoml.api(route="/model")
    def model(self) -> ModelInfo:
        """The served model: tag, labels, base encoder, data fingerprints, dev metrics."""
        return self.model_info()

    def model_info(self) -> ModelInfo:
        """Body of GET and POST /model."""
        meta = self.metadata
        self._loaded()
        return ModelInfo(
            tag=self.tag,
            labels=list(self.classifier.labels),
            base_model=self.classifier.config.base_model,
            backend=self.classifier.backend.name,
            limits=limits(),
            data=meta.get("data", {}),
            dev_metrics=meta.get("dev_metrics", {}),
            eval_metrics=meta.get("eval_metrics", {}),
            training_args=meta.get("training_args", {}),
            git_commit=meta.get("git_commit"),
        )


def _backend_kwargs() -> dict[str, Any]:
    """Backend and parallel mode for StanceClassifier.load."""
    return {"backend": BACKEND, "parallel": PARALLEL}


async def _get_model_info(request: Request) -> JSONResponse:
    """GET /model: the same body as POST /model, for browsers and monitoring."""
    service = bentoml.get_current_service()
    return JSONResponse(service.model_info().model_dump())


# Mounted last, so BentoML's own routes (the APIs, /readyz, /metrics, /docs.json) match first;
# this app only answers GET /model and the explorer page (GET / and /explorer, which take
# "/" over from BentoML's index page) and 404s the rest.
# @bentoml.service turns the class into a Service object; its methods are untyped for mypy.
_service: Any = StanceService
_service.mount_asgi_app(
    Starlette(routes=[Route("/model", _get_model_info, methods=["GET"]), *explorer_routes()]),
    path="/",
)
# The first added is the outermost: the edge checks (API key, access log) cover /docs.json.
_service.add_asgi_middleware(
    StanceMiddleware,
    api_key=os.environ.get("STANCE_API_KEY") or None,
)
_service.add_asgi_middleware(OpenAPIMiddleware)
