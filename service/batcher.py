"""Greedy, fair continuous batching of queries from concurrent requests.

BentoML's adaptive batcher waits up to a learned delay to fill a batch, and after a burst it
can keep delaying lone requests. This batcher never waits on a timer: when the model is
idle, a request runs at once; while the model is busy, arriving requests queue up and the
next model call takes from all of them. A lone caller therefore pays only its own compute,
and concurrent callers share batches exactly when batching helps.

Fair: a model call holds at most ``max_cost`` units of work (``cost(item)``, e.g. word
pieces), and every waiting request gets a share of each call before any request gets more
(the requests with the least work left first, when not all fit). A large
request (a 256-query batch, the queries of a whole-article analysis) is thus split over
several calls, and a lone request that arrives meanwhile waits for at most the call in
progress. A request whose caller went away (its future cancelled: client disconnect,
timeout) is dropped before its remaining items reach the model.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Q = TypeVar("Q")
R = TypeVar("R")


@dataclass
class _Pending(Generic[Q, R]):
    """One caller's items; ``sent`` of them have gone to the model, ``results`` came back."""

    items: Sequence[Q]
    future: asyncio.Future[list[R]]
    cost_left: int  # of the items not sent yet
    sent: int = 0
    results: list[R] = field(default_factory=list)


class ContinuousBatcher(Generic[Q, R]):
    """Runs ``fn(items) -> results`` (same length, same order) on one worker thread.

    ``submit`` may be awaited from any number of concurrent coroutines on one event loop.

    Args:
        fn: the model call.
        max_cost: most work per call, in ``cost`` units (one item always fits, whatever
            its cost).
        cost: the work of one item (default 1: ``max_cost`` is then items per call).
    """

    def __init__(
        self,
        fn: Callable[[list[Q]], list[R]],
        max_cost: int = 64,
        cost: Callable[[Q], int] | None = None,
    ) -> None:
        self.fn = fn
        self.max_cost = max_cost
        self.cost: Callable[[Q], int] = cost or (lambda _item: 1)
        # One thread: the model call itself is multi-threaded (torch/ORT intra-op threads);
        # two concurrent calls would only fight over the same cores.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")
        self._queue: collections.deque[_Pending[Q, R]] = collections.deque()
        self._worker: asyncio.Task[None] | None = None
        self.calls = 0
        self.items_processed = 0

    async def submit(self, items: Sequence[Q]) -> list[R]:
        """Results for ``items`` in order; shares model calls with whatever else is waiting."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        cost_left = sum(max(1, self.cost(item)) for item in items)
        pending: _Pending[Q, R] = _Pending(items, loop.create_future(), cost_left)
        self._queue.append(pending)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await pending.future

    def _plan(self) -> list[tuple[_Pending[Q, R], int]]:
        """(request, how many of its items) for the next call, in queue order.

        Pass 1 gives every waiting request up to its share (max_cost / requests, at least
        one item), the requests with the least work left first: when more requests wait
        than one call holds, the lone short ones go first and a big job takes what is
        left. Pass 2 fills what is left of max_cost in queue order.
        """
        waiting = [p for p in self._queue if not p.future.done()]
        share = max(1, self.max_cost // max(1, len(waiting)))
        take = [0] * len(waiting)
        budget = self.max_cost
        least_work_first = sorted(range(len(waiting)), key=lambda k: waiting[k].cost_left)
        for limit, order in ((share, least_work_first), (None, range(len(waiting)))):
            for k in order:
                p = waiting[k]
                spent = 0
                while p.sent + take[k] < len(p.items):
                    c = max(1, self.cost(p.items[p.sent + take[k]]))
                    if c > budget and any(take):
                        break  # full (an item costlier than max_cost still runs, alone)
                    if limit is not None and spent and spent + c > limit:
                        break
                    take[k] += 1
                    budget -= c
                    spent += c
        return [(p, n) for p, n in zip(waiting, take, strict=True) if n]

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # Callers that went away are dropped here, before their items reach the model.
            self._queue = collections.deque(p for p in self._queue if not p.future.done())
            if not self._queue:
                return
            plan = self._plan()
            flat = [item for p, n in plan for item in p.items[p.sent : p.sent + n]]
            for p, n in plan:
                p.cost_left -= sum(max(1, self.cost(item)) for item in p.items[p.sent : p.sent + n])
                p.sent += n
            try:
                results = await loop.run_in_executor(self._executor, self.fn, flat)
            except Exception as err:  # delivered to every caller in the call, not swallowed
                for p, _ in plan:
                    if not p.future.done():
                        p.future.set_exception(err)
                continue
            self.calls += 1
            self.items_processed += len(flat)
            offset = 0
            for p, n in plan:
                p.results.extend(results[offset : offset + n])
                offset += n
                if p.sent == len(p.items) and not p.future.done():
                    p.future.set_result(p.results)

    def close(self) -> None:
        """Stop the worker thread (pending calls finish first)."""
        self._executor.shutdown(wait=True)
