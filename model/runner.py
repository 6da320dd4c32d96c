"""Running the network over many windows: length-bucketed batches, one or several at once.

Two ways to use the cores (``parallel``):

``"ops"``      one batch at a time; the backend's thread pool splits every operation over
               ``num_threads`` threads. Lowest latency for a lone short request, but each of
               the ~150 operations of a forward pass ends in a barrier where threads wait for
               each other, and small operations (layer norm, softmax, GELU on a few thousand
               values) do not split well.
``"batches"``  ``num_threads`` batches at once, each on its own single-threaded worker; no
               barriers, every core runs whole forward passes. Measured on NewsMTSC dev_rw
               (2 cores, MiniLM, forward passes only): torch 0.73-0.78 of the fp32 FLOP bound
               with "ops" vs 0.83-0.88 with "batches"; ONNX Runtime fused graph 0.82-0.87 vs
               0.82-0.88; int8 0.98-1.11 vs 1.15-1.38 (see bench/throughput.py). It also
               degrades gracefully when a noisy neighbour steals one core: the other worker
               keeps going instead of waiting at every barrier.

Batches run in worker threads: torch and ONNX Runtime release the GIL inside their kernels,
so the threads really run in parallel. When a call has fewer batches than workers (a
request of a few windows), the largest batches are split in two so every worker has one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from model.backends import LogitsBackend
from model.batching import length_buckets, pad_batch
from model.encoding import EncodedWindow

PARALLEL_CHOICES = ("batches", "ops")


class BatchRunner:
    """Computes raw logits (N, K) for encoded windows with one backend.

    ``workers`` > 1 runs that many batches at once (the backend must be thread-safe and
    single-threaded per call: ONNX Runtime sessions are, torch modules in eval mode are).
    """

    def __init__(self, backend: LogitsBackend, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, found {workers}")
        self.backend = backend
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def logits(
        self,
        windows: Sequence[EncodedWindow],
        pad_id: int,
        num_labels: int,
        batch_size: int = 32,
        max_tokens: int | None = 8192,
    ) -> np.ndarray:
        """Raw logits (N, K) for ``windows``, in input order."""
        out = np.zeros((len(windows), num_labels), dtype=np.float32)
        batches = list(length_buckets(windows, batch_size, max_tokens))
        if self.workers == 1 or len(windows) < 2:
            for idx in batches:
                out[idx] = self.backend.logits(pad_batch([windows[i] for i in idx], pad_id))
            return out
        batches = _split_for(batches, self.workers)
        # Longest work first (rows x width): the last batches to start are the short ones,
        # so the workers finish close together.
        batches.sort(key=lambda idx: -len(idx) * len(windows[idx[-1]].input_ids))

        def run(idx: list[int]) -> np.ndarray:
            return self.backend.logits(pad_batch([windows[i] for i in idx], pad_id))

        pool = self._executor()
        for idx, logits in zip(batches, pool.map(run, batches), strict=True):
            out[idx] = logits
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:  # two callers must not both create a pool
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="stance-worker")
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (a later call starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def _split_for(batches: list[list[int]], workers: int) -> list[list[int]]:
    """Split the largest batches in two until there are ``workers`` batches (when possible).

    Batches hold indices sorted by window length, so each half pads only to its own longest
    window.
    """
    batches = list(batches)
    while len(batches) < workers:
        largest = max(range(len(batches)), key=lambda b: len(batches[b]))
        rows = batches[largest]
        if len(rows) < 2:
            break
        half = len(rows) // 2
        batches[largest : largest + 1] = [rows[:half], rows[half:]]
    return batches
