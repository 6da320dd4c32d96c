"""BatchRunner: batches in input order, several at once, errors surface, parallel modes agree."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from model import StanceClassifier, StanceQuery
from model.config import ConfigError
from model.encoding import EncodedWindow
from model.runner import BatchRunner


def _window(length: int, marker: int) -> EncodedWindow:
    """A window whose first token id identifies it (the fake backend echoes it)."""
    ids = [marker] + [7] * (length - 1)
    return EncodedWindow(
        query_index=marker,
        start=0,
        end=0,
        input_ids=ids,
        token_type_ids=[0] * length,
        target_positions=[],
    )


class EchoBackend:
    """Logits = (first token id, row count, width); records threads and overlap."""

    name = "echo"

    def __init__(self, delay: float = 0.0, fail_on: int | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.threads: set[str] = set()
        self.shapes: list[tuple[int, int]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        ids = batch["input_ids"]
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.shapes.append(ids.shape)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if self.fail_on is not None and self.fail_on in ids[:, 0]:
                raise RuntimeError(f"cannot run window {self.fail_on}")
            time.sleep(self.delay)  # long enough for the other worker to start its batch
            rows, width = ids.shape
            return np.stack([ids[:, 0], np.full(rows, rows), np.full(rows, width)], axis=1).astype(
                np.float32
            )
        finally:
            with self._lock:
                self.active -= 1


LENGTHS = [9, 3, 30, 12, 5, 30, 7, 18, 4, 25, 11, 16]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_logits_come_back_in_input_order(workers):
    windows = [_window(n, i) for i, n in enumerate(LENGTHS)]
    backend = EchoBackend()
    out = BatchRunner(backend, workers).logits(windows, pad_id=0, num_labels=3, batch_size=4)
    assert out[:, 0].tolist() == list(range(len(LENGTHS)))
    # each window was padded only to the longest window of its own batch
    assert all(out[i, 2] >= n for i, n in enumerate(LENGTHS))
    assert sum(rows for rows, _ in backend.shapes) == len(LENGTHS)


def test_batches_run_at_once_on_separate_workers():
    windows = [_window(n, i) for i, n in enumerate(LENGTHS)]
    backend = EchoBackend(delay=0.05)
    BatchRunner(backend, 2).logits(windows, pad_id=0, num_labels=3, batch_size=4)
    assert backend.most_active == 2
    assert len(backend.threads) == 2 and all(t.startswith("stance-worker") for t in backend.threads)


def test_one_batch_is_split_so_every_worker_has_work():
    windows = [_window(n, i) for i, n in enumerate([5, 6, 7, 8])]
    backend = EchoBackend(delay=0.05)
    out = BatchRunner(backend, 2).logits(windows, pad_id=0, num_labels=3, batch_size=32)
    assert sorted(backend.shapes) == [(2, 6), (2, 8)]  # halves of the length-sorted batch
    assert backend.most_active == 2
    assert out[:, 0].tolist() == [0, 1, 2, 3]
    # a single window cannot be split: it runs once, on the calling thread
    single = EchoBackend()
    BatchRunner(single, 2).logits(windows[:1], pad_id=0, num_labels=3)
    assert single.shapes == [(1, 5)] and single.threads == {threading.current_thread().name}


def test_a_failing_batch_raises_and_the_runner_still_works():
    windows = [_window(n, i) for i, n in enumerate(LENGTHS)]
    runner = BatchRunner(EchoBackend(fail_on=5), 2)
    with pytest.raises(RuntimeError, match="cannot run window 5"):
        runner.logits(windows, pad_id=0, num_labels=3, batch_size=4)
    runner.backend = EchoBackend()
    assert runner.logits(windows, 0, 3, 4)[:, 0].tolist() == list(range(len(LENGTHS)))
    runner.close()
    with pytest.raises(ValueError, match="workers must be >= 1, found 0"):
        BatchRunner(EchoBackend(), 0)


def test_parallel_modes_give_the_same_predictions(trained_model_dir):
    queries = [
        StanceQuery(text=f"Sentence {i}: the council praised the new {i} bridge.", target="bridge")
        for i in range(40)
    ]
    ops = StanceClassifier.load(trained_model_dir, num_threads=2, parallel="ops")
    batches = StanceClassifier.load(trained_model_dir, num_threads=2, parallel="batches")
    assert (ops.runner.workers, batches.runner.workers) == (1, 2)
    a = ops.predict(queries, batch_size=8)
    b = batches.predict(queries, batch_size=8)
    assert [p.label for p in a] == [p.label for p in b]
    pa = np.array([[p.probabilities[k] for k in ops.labels] for p in a])
    pb = np.array([[p.probabilities[k] for k in ops.labels] for p in b])
    assert np.allclose(pa, pb, atol=1e-5)
    with pytest.raises(ConfigError) as err:
        StanceClassifier.load(trained_model_dir, parallel="threads")
    assert str(err.value) == "unknown parallel mode 'threads'; choose one of ['batches', 'ops']"
