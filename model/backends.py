"""Inference backends: compute logits for a padded batch.

A backend is anything with ``logits(batch) -> (B, K) float32 array``. The torch backend is
the reference; exported backends (ONNX) must agree with it and are recorded in the config.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from model.network import StanceNetwork


class LogitsBackend(Protocol):
    """Computes raw (uncalibrated) logits for one padded batch."""

    name: str

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """(B, K) float32 logits for arrays of shape (B, T)."""
        ...


class TorchBackend:
    """Runs the torch module in inference mode on its device."""

    name = "torch"

    def __init__(
        self, network: StanceNetwork, device: torch.device, uses_token_types: bool
    ) -> None:
        self.network = network
        self.device = device
        self.uses_token_types = uses_token_types

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """(B, K) float32 logits."""
        tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
        was_training = self.network.training
        self.network.eval()
        try:
            with torch.inference_mode():
                out = self.network(
                    input_ids=tensors["input_ids"],
                    attention_mask=tensors["attention_mask"],
                    target_mask=tensors["target_mask"],
                    token_type_ids=tensors["token_type_ids"] if self.uses_token_types else None,
                )
        finally:
            self.network.train(was_training)
        result: np.ndarray = out.float().cpu().numpy()
        return result
