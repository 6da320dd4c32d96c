"""Registering trained models in the BentoML model store (lookup: :mod:`model.store`).

The store entry holds the same folder that ``StanceClassifier.save`` writes, so a model in
the store can be loaded by path like any other; metadata carries what an operator needs to
know without loading it (labels, base model, training args, dev metrics, data, commit).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.card import write_card
from model.classifier import StanceClassifier
from model.config import StanceConfig
from model.store import resolve_model
from model.types import StanceQuery

MODEL_NAME = "stance"


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD commit of the repository this code runs from, if it is a git checkout."""
    root = cwd or Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def register(classifier: StanceClassifier, metadata: dict[str, Any], name: str = MODEL_NAME) -> str:
    """Save ``classifier`` into the BentoML model store; returns the tag ('stance:version')."""
    import bentoml

    # BentoML metadata must be JSON-like; round-trip to drop numpy types and tuples.
    clean = json.loads(json.dumps(metadata, default=str))
    labels = {"task": "stance", "base_model": classifier.config.base_model.replace("/", "_")[:60]}
    # The resolved run config (with its nulls, which BentoML metadata refuses) lives in the
    # folder only: model/card.py.
    store_metadata = {k: v for k, v in clean.items() if k != "training_config"}
    with bentoml.models.create(name, metadata=store_metadata, labels=labels) as bento_model:
        classifier.save(bento_model.path)
        write_card(bento_model.path, clean)  # the store copy describes itself too
    return str(bento_model.tag)


def store_has_model(name: str = MODEL_NAME) -> bool:
    """True when the BentoML store holds at least one version of ``name``.

    BentoML 1.4's ``bentoml.models.list(name)`` raises ``NotFound`` (instead of returning an
    empty list) when the store has nothing of that name, which is every new machine's case.
    """
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        return bool(bentoml.models.list(name))
    except NotFound:
        return False


def export_model(
    tag_or_dir: str,
    backends: Sequence[str] = ("onnx", "onnx-int8"),
    sample_queries: Sequence[StanceQuery] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Export ONNX backends for a CLI model argument; returns (where they are, report).

    A folder is exported in place. A BentoML store entry is never modified (a deployed bento
    may pin it): the export goes into a NEW version of the same model, with the same metadata
    plus the export report; the returned location is its tag.
    """
    from model.export.onnx import export_folder

    path = Path(tag_or_dir).expanduser()
    if path.is_dir():
        resolve_model(tag_or_dir)  # the same "is it a model folder" check as elsewhere
        return str(path), export_folder(path, backends, sample_queries)
    return export_to_store(tag_or_dir, backends, sample_queries)


def export_to_store(
    tag: str,
    backends: Sequence[str] = ("onnx", "onnx-int8"),
    sample_queries: Sequence[StanceQuery] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Export a stored model into a new store version; returns (new tag, report)."""
    import bentoml

    from model.export.onnx import export_folder

    source, _ = resolve_model(tag)
    stored = bentoml.models.get(tag if ":" in tag else f"{tag}:latest")
    with tempfile.TemporaryDirectory(prefix="stance-export-") as tmp:
        # Export into a scratch copy first: a failed export leaves no half-made store entry.
        work = Path(tmp) / "model"
        _copy_model_folder(source, work)
        report = export_folder(work, backends, sample_queries)
        metadata = dict(stored.info.metadata)
        metadata.update(
            {
                "model_config": StanceConfig.load(work).to_dict(),
                "export_report": report,
                "exported_from": str(stored.tag),
            }
        )
        clean = json.loads(json.dumps(metadata, default=str))
        with bentoml.models.create(
            stored.tag.name, metadata=clean, labels=dict(stored.info.labels)
        ) as bento_model:
            _copy_model_folder(work, Path(bento_model.path))
    return str(bento_model.tag), report


def _copy_model_folder(source: Path, target: Path) -> None:
    """Copy a model folder's files, leaving out BentoML's own model.yaml (it writes its own)."""
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("model.yaml"))
