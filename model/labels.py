"""Mapping of common stance label spellings onto the default label set.

Datasets spell the same three stances many ways: SemEval-2016 uses FAVOR / AGAINST / NONE,
NewsMTSC uses the floats 6.0 / 2.0 / 4.0, others use pro / con or 1 / -1 / 0. Aliases are
applied only when asked (``aliases=True``), so a model trained on its own label set (say
``support`` / ``deny`` / ``query`` / ``comment``) keeps its labels untouched.
"""

from __future__ import annotations

import math

# Canonical default labels -> spellings that mean the same (compared case-insensitively).
_ALIASES: dict[str, tuple[str, ...]] = {
    "positive": ("positive", "pos", "favor", "favour", "pro", "support", "for", "1", "+1", "6"),
    "negative": ("negative", "neg", "against", "con", "contra", "oppose", "-1", "2"),
    "neutral": ("neutral", "neu", "none", "neither", "0", "4"),
}
ALIAS_TO_LABEL: dict[str, str] = {
    alias: label for label, aliases in _ALIASES.items() for alias in aliases
}


def _key(raw: object) -> str:
    """Normalise a raw label value to the lookup key: '6.0' and 6.0 and 6 all become '6'."""
    if isinstance(raw, bool):
        raise TypeError("a boolean is not a label")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and (not math.isfinite(raw) or not raw.is_integer()):
            return str(raw)
        return str(int(raw))
    text = str(raw).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer():
        return ("+" if text.startswith("+") else "") + str(int(number))
    return text


def normalize_label(raw: object, labels: tuple[str, ...], aliases: bool = False) -> str | None:
    """Return the label in ``labels`` that ``raw`` names, or None if it names none.

    Exact matches (case-insensitive) win; with ``aliases`` common spellings of the default
    positive / negative / neutral stances are mapped too, if the target set has that label.
    """
    if raw is None:
        return None
    try:
        key = _key(raw)
    except TypeError:
        return None
    by_lower = {lab.lower(): lab for lab in labels}
    if key in by_lower:
        return by_lower[key]
    if aliases:
        canonical = ALIAS_TO_LABEL.get(key) or ALIAS_TO_LABEL.get(key.lstrip("+"))
        if canonical is not None and canonical in by_lower:
            return by_lower[canonical]
    return None
