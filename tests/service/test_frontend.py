"""Frontend: the same predictions as the classifier, with model calls bounded in tokens."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from model import StanceQuery
from service.frontend import BlockingPredictor, Frontend

QUERIES = [
    StanceQuery(text="Russia " * 2000, target="Russia", id="long"),
    StanceQuery(text="Critics accused the agency of hiding costs.", target="the agency", id="a"),
    StanceQuery(text="The delegation arrived in Geneva.", target="energy policy", id="b"),
]


def test_predictions_equal_the_classifiers_and_calls_stay_under_max_tokens(base_classifier):
    frontend = Frontend(base_classifier, max_tokens=256)
    calls: list[int] = []
    inner = frontend.batcher.fn

    def recording(windows):
        calls.append(sum(len(w.input_ids) for w in windows))
        return inner(windows)

    frontend.batcher.fn = recording
    try:
        got = asyncio.run(frontend.predict(QUERIES))  # long: text work on the pool
        short = asyncio.run(frontend.predict(QUERIES[1:]))  # short: on the event loop
    finally:
        frontend.close()
    want = base_classifier.predict(QUERIES)
    assert [p.id for p in got] == ["long", "a", "b"]
    assert [p.id for p in short] == ["a", "b"]
    for g, w in zip([*got, *short], [*want, *want[1:]], strict=True):
        assert g.label == w.label and g.warnings == w.warnings and g.windows == w.windows
        assert g.probabilities == pytest.approx(w.probabilities, abs=1e-5)
        assert g.evidence[0].text == w.evidence[0].text
    # 16 windows of 64 pieces + 2 short ones: several calls, none over 256 pieces.
    assert len(calls) >= 5 and max(calls) <= 256, calls


def test_blocking_predictor_runs_on_the_loop_and_stops_when_cancelled():
    started = threading.Event()

    async def slow_double(items):
        started.set()
        await asyncio.sleep(10)
        return [2 * i for i in items]

    async def double(items):
        return [2 * i for i in items]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        quick = BlockingPredictor(double, loop, ["x"])
        assert await loop.run_in_executor(None, quick.predict, [1, 2]) == [2, 4]
        assert quick.labels == ("x",)
        slow = BlockingPredictor(slow_double, loop, ["x"])
        waiting = loop.run_in_executor(None, slow.predict, [1])
        while not started.is_set():
            await asyncio.sleep(0.01)
        slow.cancel()
        # The worker thread's CancelledError reaches the awaiting coroutine as a cancellation.
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(concurrent.futures.CancelledError):
            slow.predict([3])

    asyncio.run(main())
