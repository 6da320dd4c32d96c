"""Queries in, predictions out, with only the network on the model thread.

A query's text work (tokenizing, windowing, and afterwards combining window probabilities
into a prediction with evidence) runs on a small worker pool; its windows go to the
:class:`ContinuousBatcher`, whose model calls hold at most ``max_tokens`` word pieces. So
the unit of scheduling is a window, not a query: a 100,000-character query (16 windows)
or a 32-target request on it (512 windows) is spread over several calls, and a lone
request that arrives meanwhile waits for at most the one call in progress.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from model.encoding import EncodedQuery, EncodedWindow
from model.types import StancePrediction, StanceQuery
from service.batcher import ContinuousBatcher

if TYPE_CHECKING:
    from model.classifier import StanceClassifier

# Requests with at most this many characters of text are encoded on the event loop.
INLINE_CHARS = 2000
Q = TypeVar("Q")
R = TypeVar("R")


class Frontend:
    """Async ``predict(queries)`` for the service (see the module docstring).

    Args:
        classifier: the loaded model.
        max_tokens: most word pieces (window lengths, specials included) per model call;
            bounds how long a lone request waits behind others.
    """

    def __init__(self, classifier: StanceClassifier, max_tokens: int) -> None:
        self.classifier = classifier
        self.batcher: ContinuousBatcher[EncodedWindow, np.ndarray] = ContinuousBatcher(
            self._logits, max_cost=max_tokens, cost=lambda w: len(w.input_ids)
        )
        # Text work is mostly Python (the GIL): two threads keep one request's encoding
        # from queueing behind another's without crowding the model's cores.
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stance-text")

    def _logits(self, windows: list[EncodedWindow]) -> list[np.ndarray]:
        """Model thread: raw logits, one (K,) row per window, in order."""
        return list(self.classifier.window_logits(windows))

    def _combine(
        self, queries: Sequence[StanceQuery], encoded: list[EncodedQuery], rows: list[np.ndarray]
    ) -> list[StancePrediction]:
        return self.classifier.combine(queries, encoded, np.stack(rows))

    async def predict(self, queries: Sequence[StanceQuery]) -> list[StancePrediction]:
        """One prediction per query, in order (QueryError for a query that cannot be scored)."""
        loop = asyncio.get_running_loop()
        # A few sentences take about a millisecond of text work: done on the event loop, the
        # two thread hops would cost a lone request more than the work itself.
        inline = sum(len(q.text) for q in queries) <= INLINE_CHARS
        if inline:
            encoded = self.classifier.encode(queries)
        else:
            encoded = await loop.run_in_executor(self.pool, self.classifier.encode, queries)
        rows = await self.batcher.submit([w for e in encoded for w in e.windows])
        if inline:
            return self._combine(queries, encoded, rows)
        return await loop.run_in_executor(self.pool, self._combine, queries, encoded, rows)

    def close(self) -> None:
        """Stop the worker threads."""
        self.pool.shutdown(wait=False)
        self.batcher.close()


class BlockingPredictor(Generic[Q, R]):
    """A blocking ``predict(items)`` for code on a worker thread, run on the event loop.

    analyze_article calls its model synchronously, many times per article; given this
    instead of the classifier, its queries go through :meth:`Frontend.predict` and share
    the model fairly with other requests instead of holding it for the whole article.
    ``cancel()`` (the request went away) makes the call in progress and every later one
    raise ``concurrent.futures.CancelledError`` on the worker thread, so the analysis stops
    at its next model call and its queued windows never run.
    """

    def __init__(
        self,
        predict: Callable[[Sequence[Q]], Awaitable[list[R]]],
        loop: asyncio.AbstractEventLoop,
        labels: Sequence[str],
    ) -> None:
        self._predict = predict
        self.loop = loop
        self.labels = tuple(labels)
        self._lock = threading.Lock()
        self._cancelled = False
        self._current: concurrent.futures.Future[list[R]] | None = None

    async def _call(self, items: Sequence[Q]) -> list[R]:
        return await self._predict(items)

    def predict(self, items: Sequence[Q]) -> list[R]:
        """Results for ``items`` in order (call from a thread other than the loop's)."""
        with self._lock:
            if self._cancelled:
                raise concurrent.futures.CancelledError
            future = asyncio.run_coroutine_threadsafe(self._call(items), self.loop)
            self._current = future
        return future.result()

    def cancel(self) -> None:
        """Stop: the call in progress is cancelled, later calls raise."""
        with self._lock:
            self._cancelled = True
            if self._current is not None:
                self._current.cancel()
