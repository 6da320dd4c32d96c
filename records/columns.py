"""Which field of a record holds what, and when a field counts as missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ColumnMap:
    """Which field/column of a record holds what; ``None`` means the input has no such field.

    Training reads ``label``; archive scoring ignores it (archives are unlabelled).
    """

    text: str = "text"
    target: str = "target"
    label: str = "label"
    speaker: str | None = "speaker"
    id: str | None = "id"


def is_missing(value: Any) -> bool:
    """The one missing-value rule: absent (None), NaN (pandas-written Parquet) or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def type_name(value: Any) -> str:
    """How error messages name a value's type (JSON words: object, list, string, null)."""
    if value is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
