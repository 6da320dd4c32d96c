"""Shared fixtures: a fresh (untrained) model and a briefly trained one, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_NEWSMTSC = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "newsmtsc"

# A handful of labelled sentences written for the tests (not from any dataset).
TINY_EXAMPLES = [
    (
        "The minister praised the monitoring mission for its calm and professional work.",
        "the monitoring mission",
        "positive",
    ),
    (
        "Critics accused the agency of hiding the true cost of the project.",
        "the agency",
        "negative",
    ),
    (
        "The delegation arrived in Geneva on Tuesday for the second round of talks.",
        "The delegation",
        "neutral",
    ),
    (
        "She called the agreement a historic achievement for both countries.",
        "the agreement",
        "positive",
    ),
    (
        "The mayor said the contractor had failed residents at every turn.",
        "the contractor",
        "negative",
    ),
    (
        "The committee will publish its report on Friday, a spokesman said.",
        "The committee",
        "neutral",
    ),
    (
        "Farmers thanked the cooperative for paying them on time throughout the drought.",
        "the cooperative",
        "positive",
    ),
    (
        "The union described the company's offer as an insult to its members.",
        "the company",
        "negative",
    ),
    ("The court is expected to hear the case in March.", "The court", "neutral"),
    ("Observers welcomed the ceasefire as a real chance for peace.", "the ceasefire", "positive"),
    ("Residents blamed the utility for weeks of blackouts.", "the utility", "negative"),
    ("The bank opened a new branch in the northern district last year.", "The bank", "neutral"),
]


@pytest.fixture(scope="session", autouse=True)
def _isolated_bentoml_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test session gets its own BentoML store; tests never touch the user's."""
    os.environ["BENTOML_HOME"] = str(tmp_path_factory.mktemp("bentoml_home"))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def base_classifier():
    """An untrained classifier on the packaged MiniLM encoder (max_length 64)."""
    from model import StanceClassifier, StanceConfig

    return StanceClassifier.from_base(StanceConfig(max_length=64))


@pytest.fixture(scope="session")
def tiny_pairs():
    """(StanceQuery, label index) pairs from TINY_EXAMPLES, default label order."""
    from model import StanceQuery
    from model.config import DEFAULT_LABELS

    return [
        (StanceQuery(text=t, target=g, id=f"tiny-{i}"), DEFAULT_LABELS.index(lab))
        for i, (t, g, lab) in enumerate(TINY_EXAMPLES)
    ]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained MiniLM classifier saved to a folder (plumbing tests of scoring and
    the service need no skill)."""
    from model import StanceClassifier, StanceConfig

    folder = tmp_path_factory.mktemp("untrained") / "model"
    StanceClassifier.from_base(StanceConfig(max_length=64)).save(folder)
    return folder


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_pairs) -> Path:
    """A model trained for a few steps on the tiny examples, saved to a folder."""
    from model import StanceConfig
    from training.args import TrainingArgs
    from training.trainer import Trainer

    args = TrainingArgs(max_steps=4, batch_size=4, progress=False, eval_every=2, seed=1)
    result = Trainer(StanceConfig(max_length=64), args, tiny_pairs, tiny_pairs[:6]).train()
    folder = tmp_path_factory.mktemp("trained") / "model"
    result.classifier.save(folder)
    return folder


@pytest.fixture()
def tiny_jsonl(tmp_path: Path) -> Path:
    """TINY_EXAMPLES as a flat JSONL file (text, target, label, id)."""
    import json

    path = tmp_path / "tiny.jsonl"
    rows = [
        {"id": f"tiny-{i}", "text": t, "target": g, "label": lab}
        for i, (t, g, lab) in enumerate(TINY_EXAMPLES)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
