"""Stance model: encoding of (text, target, speaker), long-text windowing, prediction, save/load.

This package never imports training or serving code (nor bentoml).
"""

from __future__ import annotations

from model.classifier import StanceClassifier
from model.config import ConfigError, StanceConfig
from model.types import Evidence, QueryError, StancePrediction, StanceQuery

__all__ = [
    "ConfigError",
    "Evidence",
    "QueryError",
    "StanceClassifier",
    "StanceConfig",
    "StancePrediction",
    "StanceQuery",
]
