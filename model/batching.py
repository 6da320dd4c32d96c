"""Length-bucketed batches of encoded windows with dynamic padding.

Windows are sorted by token length before batching so each batch pads to the length of its
own longest member, not the longest in the request; results are put back in input order.
On NewsMTSC-like length distributions this removes most padding work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from model.encoding import EncodedWindow


def pad_batch(windows: Sequence[EncodedWindow], pad_id: int) -> dict[str, np.ndarray]:
    """Arrays of shape (B, T) for one batch, T = longest window in the batch.

    Keys: input_ids, attention_mask, token_type_ids, target_mask (int64).
    """
    width = max(len(w.input_ids) for w in windows)
    size = (len(windows), width)
    input_ids = np.full(size, pad_id, dtype=np.int64)
    attention_mask = np.zeros(size, dtype=np.int64)
    token_type_ids = np.zeros(size, dtype=np.int64)
    target_mask = np.zeros(size, dtype=np.int64)
    for row, window in enumerate(windows):
        n = len(window.input_ids)
        input_ids[row, :n] = window.input_ids
        attention_mask[row, :n] = 1
        token_type_ids[row, :n] = window.token_type_ids
        target_mask[row, window.target_positions] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
        "target_mask": target_mask,
    }


def length_buckets(
    windows: Sequence[EncodedWindow], batch_size: int, max_tokens: int | None = None
) -> Iterator[list[int]]:
    """Indices of ``windows`` grouped into batches of similar length.

    A batch holds at most ``batch_size`` windows and, when ``max_tokens`` is set, at most
    that many padded tokens (so a batch of long windows stays small in memory).
    """
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    batch: list[int] = []
    for i in order:
        width = len(windows[i].input_ids)  # sorted ascending: the newest is the widest
        if batch and (
            len(batch) >= batch_size
            or (max_tokens is not None and width * (len(batch) + 1) > max_tokens)
        ):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch
