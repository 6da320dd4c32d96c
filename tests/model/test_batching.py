from __future__ import annotations

import numpy as np

from model.batching import length_buckets, pad_batch
from model.encoding import EncodedWindow


def _window(n: int, i: int = 0) -> EncodedWindow:
    return EncodedWindow(
        query_index=i,
        start=0,
        end=n,
        input_ids=list(range(1, n + 1)),
        token_type_ids=[0] * n,
        target_positions=[0],
    )


def test_pad_batch_pads_to_longest_with_masks():
    batch = pad_batch([_window(3), _window(5)], pad_id=0)
    assert batch["input_ids"].shape == (2, 5)
    assert batch["input_ids"][0].tolist() == [1, 2, 3, 0, 0]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["target_mask"][:, 0].tolist() == [1, 1]
    assert batch["input_ids"].dtype == np.int64


def test_length_buckets_cover_every_index_once_and_group_similar_lengths():
    lengths = [50, 3, 48, 4, 49, 5, 2, 47]
    windows = [_window(n, i) for i, n in enumerate(lengths)]
    batches = list(length_buckets(windows, batch_size=4))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [sorted(lengths[i] for i in b) for b in batches] == [[2, 3, 4, 5], [47, 48, 49, 50]]


def test_length_buckets_respect_token_budget():
    windows = [_window(100, i) for i in range(10)]
    batches = list(length_buckets(windows, batch_size=32, max_tokens=300))
    assert all(len(b) * 100 <= 300 for b in batches)
    assert sum(len(b) for b in batches) == 10
