"""Training arguments: one validated dataclass, built from a TOML file plus CLI overrides."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.config import ConfigError, StanceConfig
from model.labels import (
    EXAMPLE_MAP,
    LabelError,
    check_label_map,
    parse_label_list,
    parse_label_map,
)


class ArgsError(ValueError):
    """Training arguments are invalid; the message names the field and the fix."""


@dataclass(frozen=True)
class TrainingArgs:
    """How to fine-tune. Validated at construction; saved with the trained model.

    ``max_steps`` > 0 overrides ``epochs``. Early stopping watches dev macro-F1 (over the
    model's labels that occur in dev; see training/metrics.py) every ``eval_every`` steps
    (0 = once per epoch) and stops after ``patience`` evaluations without improvement;
    the best checkpoint is what gets kept. ``average_last`` > 0 replaces both: the weights
    at every evaluation point in that last fraction of the steps (and at the last step) are
    averaged uniformly and the average is kept; no early stop. ``export_onnx`` exports the
    trained model's ONNX backends (fp32 and int8, verified against torch) into the saved
    folder and the store entry.

    Distillation: ``teachers`` (model folders, store tags, or soft-label files recorded from
    them, see training/soft_labels.py; all with the same labels) answer every training
    query first; the loss is then ``(1 - distill_weight)`` x cross-entropy with the gold
    label plus ``distill_weight`` x cross-entropy with the teachers' mean calibrated
    probabilities (soft labels carry how sure the teachers were).
    """

    epochs: float = 3.0
    max_steps: int = 0
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_grad_norm: float = 1.0
    dropout: float = 0.1
    label_smoothing: float = 0.0
    class_weights: bool = False
    eval_every: int = 0
    patience: int = 3
    seed: int = 42
    calibrate: bool = True
    num_threads: int = 0
    progress: bool = True
    export_onnx: bool = False
    teachers: tuple[str, ...] = ()
    distill_weight: float = 0.5
    average_last: float = 0.0

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (
                self.epochs > 0 and math.isfinite(self.epochs),
                f"epochs must be > 0, found {self.epochs}",
            ),
            (self.max_steps >= 0, f"max_steps must be >= 0, found {self.max_steps}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, found {self.batch_size}"),
            (
                self.eval_batch_size >= 1,
                f"eval_batch_size must be >= 1, found {self.eval_batch_size}",
            ),
            (
                0 < self.learning_rate < 1,
                f"learning_rate must be in (0, 1), found {self.learning_rate}",
            ),
            (
                0 < self.head_learning_rate < 1,
                f"head_learning_rate must be in (0, 1), found {self.head_learning_rate}",
            ),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, found {self.weight_decay}"),
            (
                0 <= self.warmup_ratio < 1,
                f"warmup_ratio must be in [0, 1), found {self.warmup_ratio}",
            ),
            (self.max_grad_norm > 0, f"max_grad_norm must be > 0, found {self.max_grad_norm}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), found {self.dropout}"),
            (
                0 <= self.label_smoothing < 1,
                f"label_smoothing must be in [0, 1), found {self.label_smoothing}",
            ),
            (self.eval_every >= 0, f"eval_every must be >= 0, found {self.eval_every}"),
            (self.patience >= 1, f"patience must be >= 1, found {self.patience}"),
            (self.num_threads >= 0, f"num_threads must be >= 0, found {self.num_threads}"),
            (
                0 <= self.distill_weight <= 1,
                f"distill_weight must be in [0, 1], found {self.distill_weight}",
            ),
            (
                0 <= self.average_last < 1,
                f"average_last must be in [0, 1), found {self.average_last}",
            ),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise ArgsError("invalid training args: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


def _coerce(cls: type[Any], values: dict[str, Any], section: str) -> Any:
    """Instantiate a dataclass from a dict, naming unknown keys and bad types."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ArgsError(f"[{section}]: unknown key(s) {unknown}; known: {sorted(fields)}")
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(cls(), key) if cls is TrainingArgs else None
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ArgsError(f"[{section}].{key}: expected true/false, found {value!r}")
        # bool is a subclass of int: `batch_size = true` must not pass as 1.
        if (
            isinstance(default, int)
            and not isinstance(default, bool)
            and (not isinstance(value, int) or isinstance(value, bool))
        ):
            raise ArgsError(f"[{section}].{key}: expected an integer, found {value!r}")
        if isinstance(default, float) and (
            not isinstance(value, int | float) or isinstance(value, bool)
        ):
            raise ArgsError(f"[{section}].{key}: expected a number, found {value!r}")
        kwargs[key] = float(value) if isinstance(default, float) else value
    lists = {StanceConfig: ("labels", "backends"), TrainingArgs: ("teachers",)}.get(cls, ())
    for key in lists:
        if key in kwargs:
            # tuple("abc") would silently become ('a', 'b', 'c').
            if not isinstance(kwargs[key], list | tuple):
                raise ArgsError(
                    f"[{section}].{key}: expected a list of strings, found {kwargs[key]!r}"
                )
            kwargs[key] = tuple(kwargs[key])
    try:
        return cls(**kwargs)
    except (ConfigError, ArgsError, TypeError) as err:
        raise ArgsError(f"[{section}]: {err}") from None


@dataclass(frozen=True)
class RunConfig:
    """Everything one `stance train` run needs: model config, training args and data.

    ``fixed_labels``: the label set was given ([model].labels or --labels) and is kept as
    is, in its order; otherwise it is the set of labels in the training data.
    """

    model: StanceConfig
    training: TrainingArgs
    data: dict[str, Any]
    fixed_labels: bool = False


def label_map_arg(value: object, where: str) -> dict[str, str] | None:
    """A label map from ``where`` (--label-map text, or [data].label_map as a table or the
    same text), validated; None when not given."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return parse_label_map(value)
        if isinstance(value, dict):
            return check_label_map(value)
    except LabelError as err:
        raise ArgsError(f"{where}: {err}") from None
    raise ArgsError(f"{where}: expected a table or text such as '{EXAMPLE_MAP}', found {value!r}")


def labels_arg(value: str | None, where: str) -> tuple[str, ...] | None:
    """An explicit label list from ``where`` ('negative,positive'), validated; None if not given."""
    if value is None:
        return None
    try:
        return parse_label_list(value)
    except LabelError as err:
        raise ArgsError(f"{where}: {err}") from None


def load_run_config(path: str | Path | None, overrides: dict[str, dict[str, Any]]) -> RunConfig:
    """Read a TOML file with [model], [training] and [data] tables, then apply overrides.

    ``overrides`` maps a section to keys set on the command line; they win over the file.
    """
    sections: dict[str, dict[str, Any]] = {"model": {}, "training": {}, "data": {}}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ArgsError(f"config file {file} not found")
        try:
            loaded = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ArgsError(f"{file}: invalid TOML ({err})") from None
        unknown = sorted(set(loaded) - set(sections))
        if unknown:
            raise ArgsError(f"{file}: unknown table(s) {unknown}; use [model], [training], [data]")
        for name, table in loaded.items():
            if not isinstance(table, dict):
                raise ArgsError(f"{file}: '{name}' must be a table")
            sections[name].update(table)
    for name, values in overrides.items():
        sections[name].update({k: v for k, v in values.items() if v is not None})
    model_values = dict(sections["model"])
    model = _coerce(StanceConfig, model_values, "model")
    training = _coerce(TrainingArgs, sections["training"], "training")
    return RunConfig(
        model=model,
        training=training,
        data=sections["data"],
        fixed_labels="labels" in model_values,
    )
