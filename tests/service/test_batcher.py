"""ContinuousBatcher: greedy, fair, cancellable batching (no model: items are ints)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from service.batcher import ContinuousBatcher


class Model:
    """Records each call; the first call can be held until released (to queue work behind)."""

    def __init__(self, hold_first: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(list(items))
        self.started.set()
        self.release.wait(timeout=10)
        if -1 in items:
            raise ValueError("bad item -1")
        return [i * 10 for i in items]


async def _started(model: Model) -> None:
    while not model.started.is_set():
        await asyncio.sleep(0.005)


def test_a_lone_request_runs_at_once_in_one_call() -> None:
    async def main() -> None:
        model = Model()
        batcher = ContinuousBatcher(model, max_cost=8)
        assert await batcher.submit([1, 2, 3]) == [10, 20, 30]
        assert model.calls == [[1, 2, 3]]

    asyncio.run(main())


def test_a_large_request_is_split_and_a_lone_one_waits_one_call_at_most() -> None:
    async def main() -> None:
        model = Model(hold_first=True)
        batcher = ContinuousBatcher(model, max_cost=8)
        big = asyncio.ensure_future(batcher.submit(list(range(100, 120))))
        await _started(model)
        lone = asyncio.ensure_future(batcher.submit([7]))
        await asyncio.sleep(0.01)
        model.release.set()
        assert await lone == [70]
        assert await big == [i * 10 for i in range(100, 120)]
        # call 1: the big job alone; call 2: the lone request gets in (the job keeps 7 of
        # 8 places: a share of 4, then the rest); call 3: the end of the job.
        assert model.calls == [
            list(range(100, 108)),
            [*range(108, 115), 7],
            list(range(115, 120)),
        ]

    asyncio.run(main())


def test_concurrent_requests_share_calls_fairly_and_keep_their_order() -> None:
    async def main() -> None:
        model = Model(hold_first=True)
        batcher = ContinuousBatcher(model, max_cost=6)
        first = asyncio.ensure_future(batcher.submit([0]))
        await _started(model)
        a = asyncio.ensure_future(batcher.submit([1, 2, 3, 4, 5, 6]))
        b = asyncio.ensure_future(batcher.submit([11, 12]))
        c = asyncio.ensure_future(batcher.submit([21, 22, 23, 24]))
        await asyncio.sleep(0.01)
        model.release.set()
        assert await first == [0]
        assert await a == [10, 20, 30, 40, 50, 60]
        assert await b == [110, 120]
        assert await c == [210, 220, 230, 240]
        # share = 6 // 3 = 2 each, in queue order; then the rest.
        assert model.calls[1] == [1, 2, 11, 12, 21, 22]
        assert model.calls[2:] == [[3, 4, 5, 6, 23, 24]]

    asyncio.run(main())


def test_cost_bounds_the_work_per_call_and_an_oversized_item_runs_alone() -> None:
    async def main() -> None:
        model = Model()
        batcher = ContinuousBatcher(model, max_cost=10, cost=lambda i: i)
        assert await batcher.submit([4, 4, 4, 12, 1]) == [40, 40, 40, 120, 10]
        assert model.calls == [[4, 4], [4], [12], [1]]

    asyncio.run(main())


def test_a_cancelled_request_never_reaches_the_model() -> None:
    async def main() -> None:
        model = Model(hold_first=True)
        batcher = ContinuousBatcher(model, max_cost=4)
        first = asyncio.ensure_future(batcher.submit([1, 2, 3, 4, 5, 6]))
        await _started(model)
        gone = asyncio.ensure_future(batcher.submit([50, 51]))
        await asyncio.sleep(0.01)
        gone.cancel()  # what a client disconnect does to its handler
        first.cancel()  # cancelled while its first items are in the model
        await asyncio.sleep(0.01)
        model.release.set()
        assert await batcher.submit([9]) == [90]
        assert model.calls == [[1, 2, 3, 4], [9]]

    asyncio.run(main())


def test_an_error_reaches_every_caller_of_the_failing_call_only() -> None:
    async def main() -> None:
        model = Model(hold_first=True)
        batcher = ContinuousBatcher(model, max_cost=8)
        first = asyncio.ensure_future(batcher.submit([1]))
        await _started(model)
        bad = asyncio.ensure_future(batcher.submit([-1, 2]))
        also = asyncio.ensure_future(batcher.submit([3]))
        await asyncio.sleep(0.01)
        model.release.set()
        assert await first == [10]
        with pytest.raises(ValueError, match="bad item -1"):
            await bad
        with pytest.raises(ValueError, match="bad item -1"):
            await also
        assert await batcher.submit([4]) == [40]

    asyncio.run(main())


def test_when_not_all_fit_the_requests_with_least_work_left_go_first() -> None:
    async def main() -> None:
        model = Model(hold_first=True)
        batcher = ContinuousBatcher(model, max_cost=4)
        first = asyncio.ensure_future(batcher.submit([0]))
        await _started(model)
        big = asyncio.ensure_future(batcher.submit(list(range(100, 110))))
        lone = [asyncio.ensure_future(batcher.submit([k])) for k in range(1, 6)]
        await asyncio.sleep(0.01)
        model.release.set()
        assert [await f for f in lone] == [[10], [20], [30], [40], [50]]
        assert await big == [i * 10 for i in range(100, 110)]
        assert await first == [0]
        # Six requests, four places: the four oldest one-item requests first; then the last
        # one and the job's share (4 // 2 = 2), the job filling the rest; then the job alone.
        assert model.calls[1:] == [
            [1, 2, 3, 4],
            [100, 101, 102, 5],
            [103, 104, 105, 106],
            [107, 108, 109],
        ]

    asyncio.run(main())
