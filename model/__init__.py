"""Stance model: encoding of (text, target, speaker), long-text windowing, prediction, save/load.

This package never imports training, scoring or serving code; bentoml only in model/store.py
(looking a tag up in the model store), lazily.

``StanceClassifier`` is imported lazily (PEP 562): ``from model.types import StanceQuery``
must not pull in torch, so processes that only validate or route queries (the BentoML
arbiter, HTTP clients) stay small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model.config import ConfigError, StanceConfig
from model.types import Evidence, QueryError, StancePrediction, StanceQuery

if TYPE_CHECKING:
    from model.classifier import StanceClassifier

__all__ = [
    "ConfigError",
    "Evidence",
    "QueryError",
    "StanceClassifier",
    "StanceConfig",
    "StancePrediction",
    "StanceQuery",
]


def __getattr__(name: str) -> Any:
    if name == "StanceClassifier":
        from model.classifier import StanceClassifier

        return StanceClassifier
    raise AttributeError(f"module 'model' has no attribute {name!r}")
