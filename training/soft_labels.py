"""Teachers for distillation: trained models, or a teacher's soft labels recorded to a file.

A recorded teacher lets the default preset learn from a model that is not on the machine
that trains it: the base-size encoder takes hours to train on a CPU, its answers on the
training queries take one file of about 1 MB. The file holds no text: each line is a
digest of one query (text, target, speaker, mentions) and the teacher's calibrated
probabilities, so it can be committed beside the code without copying the data it was
computed on.

Format (JSON lines, versioned like the model's config):
    line 1:  {"format": "stance-soft-labels", "version": 1, "labels": [...],
              "teachers": [...], "queries": N}
    then:    {"key": "<20 hex digits>", "p": [p_label0, p_label1, ...]}

A training query the file does not cover (a corpus example added after recording) learns
from its gold label alone: the teacher's share of its loss uses the gold label's one-hot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.types import StanceQuery
from training.args import ArgsError

FORMAT = "stance-soft-labels"
VERSION = 1
# "recorded:NAME" in [training].teachers names RECORDED_DIR / f"{NAME}.jsonl".
RECORDED_PREFIX = "recorded:"
SUFFIX = ".jsonl"  # a teacher spec ending in it is a soft-label file, not a model
RECORDED_DIR = Path(__file__).resolve().parent / "teachers"
# 80 bits of SHA-256: a collision among a few million queries has odds near 1e-12.
KEY_HEX = 20
DIGITS = 4  # probabilities are stored rounded; 1e-4 is far below what distillation feels


def query_key(query: StanceQuery) -> str:
    """Stable digest of what the model sees of a query (the id is not part of it)."""
    mentions = [list(m) for m in query.mentions] if query.mentions is not None else None
    canonical = json.dumps([query.text, query.target, query.speaker, mentions], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_HEX]


def recorded_path(spec: str) -> Path | None:
    """The soft-label file ``spec`` names ("recorded:NAME" or a path ending in .jsonl);
    None when ``spec`` names a model (a folder or a store tag)."""
    if spec.startswith(RECORDED_PREFIX):
        return RECORDED_DIR / f"{spec[len(RECORDED_PREFIX) :]}{SUFFIX}"
    if spec.endswith(SUFFIX):
        return Path(spec).expanduser()
    return None


def write_soft_labels(
    path: Path,
    queries: Sequence[StanceQuery],
    probabilities: np.ndarray,
    labels: Sequence[str],
    teachers: Sequence[str],
) -> int:
    """Write ``probabilities`` ((N queries, K labels), rows in ``queries`` order); returns
    the number of distinct queries written (a query listed twice is written once)."""
    rows: dict[str, list[float]] = {}
    for query, probs in zip(queries, probabilities, strict=True):
        rows[query_key(query)] = [round(float(p), DIGITS) for p in probs]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "labels": list(labels),
        "teachers": list(teachers),
        "queries": len(rows),
    }
    lines = [json.dumps(header)] + [json.dumps({"key": k, "p": p}) for k, p in rows.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


def read_soft_labels(path: Path, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """key -> (K,) probabilities in ``labels`` order.

    Raises:
        ArgsError: the file is missing, not a soft-label file, of another version,
            recorded for other labels, or has a bad row; the message says which and how to
            fix it.
    """
    if not path.is_file():
        raise ArgsError(f"teacher file {path} not found; record one with `stance record-teacher`")
    with path.open(encoding="utf-8") as handle:
        try:
            header = json.loads(handle.readline())
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ArgsError(f"{path}: not a soft-label file (its first line is no {FORMAT} header)")
        if header.get("version") != VERSION:
            raise ArgsError(
                f"{path}: soft-label format version {header.get('version')!r}; this code reads "
                f"version {VERSION}: record it again with `stance record-teacher`"
            )
        if list(header.get("labels", [])) != list(labels):
            raise ArgsError(
                f"{path} was recorded for labels {header.get('labels')} but the model being "
                f"trained has {list(labels)}; use a teacher with the same labels"
            )
        table: dict[str, np.ndarray] = {}
        for number, line in enumerate(handle, start=2):
            try:
                row = json.loads(line)
                probs = np.asarray(row["p"], dtype=np.float64)
                key = str(row["key"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise ArgsError(f"{path}:{number}: not a soft-label row") from None
            if probs.shape != (len(labels),):
                raise ArgsError(f"{path}:{number}: expected {len(labels)} probabilities")
            table[key] = probs
    return table


def teacher_probabilities(
    specs: Sequence[str],
    train: Sequence[tuple[StanceQuery, int]],
    labels: Sequence[str],
) -> tuple[np.ndarray, int]:
    """(N train queries, K) mean calibrated probabilities of the teachers ``specs``, in
    ``labels`` order, and how many (query, teacher) pairs a recorded teacher did not cover
    (those use the gold label's one-hot).

    Raises:
        ArgsError: a teacher's labels differ from ``labels`` (soft labels would be read in
            the wrong order), or a recorded teacher's file is unusable.
    """
    from model.classifier import StanceClassifier
    from model.store import resolve_model

    queries = [q for q, _ in train]
    gold = np.eye(len(labels))[[y for _, y in train]]  # (N, K) one-hot
    total = np.zeros((len(queries), len(labels)), dtype=np.float64)
    missing = 0
    for spec in specs:
        path = recorded_path(spec)
        if path is not None:
            table = read_soft_labels(path, labels)
            for i, query in enumerate(queries):
                row = table.get(query_key(query))
                if row is None:
                    missing += 1
                total[i] += gold[i] if row is None else row
            continue
        teacher = StanceClassifier.load(resolve_model(spec)[0])
        if tuple(teacher.labels) != tuple(labels):
            raise ArgsError(
                f"teacher {spec} has labels {list(teacher.labels)} but the model being "
                f"trained has {list(labels)}; use teachers with the same labels"
            )
        predictions = teacher.predict(queries)
        total += np.array([[p.probabilities[lab] for lab in labels] for p in predictions])
    return total / len(specs), missing
