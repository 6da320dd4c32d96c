"""Reading label values: explicit maps, unambiguous spellings, and no guessing.

Datasets spell stances many ways. Named spellings are unambiguous (SemEval-2016's FAVOR /
AGAINST / NONE, pro / con, ...) and map onto the default positive / negative / neutral.
Numbers are not: VAST writes 0 = con, 1 = pro, 2 = neutral while TweetEval writes
0 = none, 1 = against, 2 = favor, so a number is never read as a stance unless the user
says what it means (a label map) or the format defines it (NewsMTSC's 2.0 / 4.0 / 6.0, read
only by its own parser through :func:`newsmtsc_label`).

Everything here is pure: callers pass the raw values of one file and get label names back
or a :class:`LabelError` whose message shows what was found and how to fix it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from model.config import DEFAULT_LABELS

# Canonical default labels -> named spellings that mean the same (compared case-insensitively).
_ALIASES: dict[str, tuple[str, ...]] = {
    "positive": ("positive", "pos", "favor", "favour", "pro", "support", "for"),
    "negative": ("negative", "neg", "against", "con", "contra", "oppose"),
    "neutral": ("neutral", "neu", "none", "neither"),
}
ALIAS_TO_LABEL: dict[str, str] = {
    alias: label for label, aliases in _ALIASES.items() for alias in aliases
}
# NewsMTSC's polarity floats; valid only inside that format (see the module docstring).
NEWSMTSC_POLARITY: dict[float, str] = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}
EXAMPLE_MAP = "0=negative,1=positive,2=neutral"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SHOWN_VALUES = 10


class LabelError(ValueError):
    """Label values or label options are unusable; the message says what was found and the fix."""


def is_number(value: str) -> bool:
    """True for a value written as a number ('2', '-1', '2.0', '1e0'), not for 'nan'/'inf'."""
    return _NUMBER.fullmatch(value.strip()) is not None


def _key(value: str) -> str:
    """Lookup key: stripped, lower case; numbers by value, so '2.0', '+2' and '2' meet."""
    text = value.strip().lower()
    if is_number(text):
        number = float(text)
        return str(int(number)) if number.is_integer() else repr(number)
    return text


def default_stance(label: str) -> str | None:
    """The default stance a named spelling means ('FAVOR' -> 'positive'), else None."""
    return ALIAS_TO_LABEL.get(label.strip().lower())


def newsmtsc_label(polarity: object) -> str | None:
    """NewsMTSC's polarity number (2.0 / 4.0 / 6.0) as a label; None for anything else."""
    if isinstance(polarity, bool) or not isinstance(polarity, int | float):
        return None
    if not math.isfinite(polarity):
        return None
    return NEWSMTSC_POLARITY.get(float(polarity))


def parse_label_map(text: str) -> dict[str, str]:
    """Parse ``'0=negative,1=positive,2=neutral'`` into a value -> label dict (validated)."""
    pairs: list[tuple[object, object]] = []
    for item in text.split(","):
        key, sep, label = item.partition("=")
        if not sep or "=" in label:
            raise LabelError(f"{item.strip()!r} is not VALUE=LABEL; write e.g. '{EXAMPLE_MAP}'")
        pairs.append((key, label))
    return _check_pairs(pairs)


def check_label_map(mapping: Mapping[object, object]) -> dict[str, str]:
    """Validate a value -> label mapping (from a TOML table); see :func:`_check_pairs`."""
    return _check_pairs(list(mapping.items()))


def _check_pairs(pairs: list[tuple[object, object]]) -> dict[str, str]:
    """Values and labels must be non-empty (TOML numbers are accepted as values); a value
    given twice ('1' and '1.0' are the same) and labels that are numbers are refused."""
    if not pairs:
        raise LabelError(f"the map is empty; write e.g. '{EXAMPLE_MAP}'")
    result: dict[str, str] = {}
    for raw_key, raw_label in pairs:
        valid = isinstance(raw_key, str | int | float) and not isinstance(raw_key, bool)
        key = str(raw_key).strip() if valid else ""
        if not key:
            raise LabelError(f"empty or invalid value {raw_key!r}; write e.g. '{EXAMPLE_MAP}'")
        if not isinstance(raw_label, str) or not raw_label.strip():
            raise LabelError(f"value {key!r} maps to {raw_label!r}; give a label name")
        label = raw_label.strip()
        if is_number(label):
            raise LabelError(
                f"value {key!r} maps to the number {label!r}; map it to a name such as "
                f"{', '.join(DEFAULT_LABELS)}"
            )
        if any(_key(k) == _key(key) for k in result):
            raise LabelError(f"value {key!r} is mapped more than once; map each value once")
        result[key] = label
    return result


def parse_label_list(text: str) -> tuple[str, ...]:
    """Parse ``'negative,positive'`` into a label tuple in that (logit) order (validated)."""
    return check_label_list(text.split(","))


def check_label_list(labels: Sequence[object]) -> tuple[str, ...]:
    """Validate an explicit label list: two or more distinct, non-empty names."""
    names = tuple(str(lab).strip() if isinstance(lab, str) else "" for lab in labels)
    if any(not name for name in names):
        raise LabelError(
            f"empty or non-text label in {list(labels)}; write e.g. 'negative,positive'"
        )
    if len(names) < 2:
        raise LabelError(f"a classifier needs at least 2 labels, found {list(names)}")
    lowered = [n.lower() for n in names]
    twice = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if twice:
        raise LabelError(f"label(s) {twice} given more than once (case is ignored)")
    return names


def _counts(values: Counter[str]) -> str:
    """'0' (3 records), '1' (1 record), ... sorted by value, at most _SHOWN_VALUES shown."""

    def order(v: str) -> tuple[float, str]:
        return (float(v) if is_number(v) else math.inf, v)

    shown = sorted(values, key=order)
    parts = [f"{v!r} ({n} record{'s' if n != 1 else ''})" for v in shown for n in [values[v]]]
    more = len(parts) - _SHOWN_VALUES
    return ", ".join(parts[:_SHOWN_VALUES]) + (f", ... and {more} more" if more > 0 else "")


def read_labels(
    values: Sequence[str],
    label_map: Mapping[str, str] | None = None,
    labels: Sequence[str] | None = None,
    aliases: bool = True,
) -> list[str]:
    """The label name of each raw value of one file, in order.

    Each value is, in turn: replaced by its ``label_map`` entry (keys match case-insensitively
    and by number); matched to a name in ``labels`` (the model's or an explicit list; case
    ignored); refused if it is a number; mapped to its default stance if it is a named
    spelling (with ``aliases``; when ``labels`` is given, only onto a stance in it). Without
    ``labels``, named spellings are mapped only when every value of the file is one, so a
    custom set such as support / deny / query / comment keeps its names. With ``labels``,
    a value that names none of them is an error naming that value.
    """
    keyed = {_key(k): v for k, v in (label_map or {}).items()}
    mapped = [keyed.get(_key(v), v.strip()) for v in values]
    by_lower = {lab.lower(): lab for lab in labels} if labels is not None else {}
    numbers = Counter(v for v in mapped if v.lower() not in by_lower and is_number(v))
    if numbers:
        example = ",".join(f"{v}=NAME" for v in sorted(numbers, key=float))
        fix = (
            "add them to the map (--label-map, or label_map in the [data] table)"
            if label_map
            else "say what each number means with --label-map (or label_map in the [data] "
            f"table), e.g. --label-map '{example}'"
        )
        raise LabelError(
            "label values are numbers, whose meaning differs between datasets (VAST: "
            f"0 = con; TweetEval: 0 = none), so they are not guessed: {_counts(numbers)}; {fix}"
        )
    if labels is None:
        stance = all(default_stance(v) for v in mapped) if aliases else False
        return [default_stance(v) or v for v in mapped] if stance else mapped
    out: list[str] = []
    unknown: Counter[str] = Counter()
    for value in mapped:
        name = by_lower.get(value.lower())
        if name is None and aliases:
            name = by_lower.get(default_stance(value) or "")
        if name is None:
            unknown[value] += 1
        out.append(name or value)
    if unknown:
        raise LabelError(
            f"label(s) {_counts(unknown)} not among the model's labels {list(labels)}; map "
            "them onto those with --label-map, or remove those records"
        )
    return out


@dataclass(frozen=True)
class LabelRules:
    """How the labels of one file are read: a value -> label map, the label names allowed
    (the model's; None while they are still being learnt from training data) and whether
    named spellings map onto the default stances. See :func:`read_labels`."""

    label_map: Mapping[str, str] | None = None
    labels: tuple[str, ...] | None = None
    aliases: bool = True

    def read(self, values: Sequence[str]) -> list[str]:
        """:func:`read_labels` under these rules."""
        return read_labels(values, self.label_map, self.labels, self.aliases)


def label_set(names: Sequence[str]) -> tuple[str, ...]:
    """The label set of read labels, in logit order: default order for default stances
    (``negative, neutral, positive`` restricted to those present), else sorted."""
    present = set(names)
    if present <= set(DEFAULT_LABELS):
        found = tuple(lab for lab in DEFAULT_LABELS if lab in present)
    else:
        found = tuple(sorted(present))
    if len(found) < 2:
        raise LabelError(
            f"the training data has only the label(s) {list(found)}; a classifier needs at "
            "least 2 (check --label-col and --label-map)"
        )
    return found
