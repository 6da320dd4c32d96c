"""Greedy continuous batching of queries from concurrent requests.

BentoML's adaptive batcher waits up to a learned delay to fill a batch, and after a burst it
can keep delaying lone requests. This batcher never waits on a timer: when the model is
idle, a request runs at once; while the model is busy, arriving requests queue up and the
next model call takes all of them (up to ``max_items``). A lone caller therefore pays only
its own compute, and concurrent callers share batches exactly when batching helps.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Q = TypeVar("Q")
R = TypeVar("R")
T = TypeVar("T")


@dataclass
class _Pending(Generic[Q, R]):
    items: Sequence[Q]
    future: asyncio.Future[list[R]]


class ContinuousBatcher(Generic[Q, R]):
    """Runs ``fn(items) -> results`` (same length, same order) on one worker thread.

    ``submit`` may be awaited from any number of concurrent coroutines on one event loop.
    """

    def __init__(self, fn: Callable[[list[Q]], list[R]], max_items: int = 64) -> None:
        self.fn = fn
        self.max_items = max_items
        # One thread: the model call itself is multi-threaded (torch/ORT intra-op threads);
        # two concurrent calls would only fight over the same cores.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")
        self._queue: collections.deque[_Pending[Q, R]] = collections.deque()
        self._worker: asyncio.Task[None] | None = None
        self.calls = 0
        self.items_processed = 0

    async def submit(self, items: Sequence[Q]) -> list[R]:
        """Results for ``items`` in order; batched with whatever else is waiting."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        pending: _Pending[Q, R] = _Pending(items, loop.create_future())
        self._queue.append(pending)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await pending.future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            group: list[_Pending[Q, R]] = [self._queue.popleft()]
            size = len(group[0].items)
            # A large request is never split; smaller ones join until max_items.
            while self._queue and size + len(self._queue[0].items) <= self.max_items:
                nxt = self._queue.popleft()
                group.append(nxt)
                size += len(nxt.items)
            flat = [item for p in group for item in p.items]
            try:
                results = await loop.run_in_executor(self._executor, self.fn, flat)
            except Exception as err:  # delivered to every waiting caller, not swallowed
                for p in group:
                    if not p.future.done():
                        p.future.set_exception(err)
                continue
            self.calls += 1
            self.items_processed += len(flat)
            offset = 0
            for p in group:
                n = len(p.items)
                if not p.future.done():
                    p.future.set_result(results[offset : offset + n])
                offset += n

    async def run_exclusive(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the model thread, between batches (for work that is not a batch of
        queries, such as a whole-article analysis that calls the model itself)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    def close(self) -> None:
        """Stop the worker thread (pending calls finish first)."""
        self._executor.shutdown(wait=True)
