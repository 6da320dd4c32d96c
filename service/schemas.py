"""HTTP request and response schemas, with the limits every endpoint enforces.

Single-query endpoints reject an invalid request as a whole (400 naming the field). The
batch endpoint validates types strictly but checks content per item, so one empty text
yields an error entry for that item and the rest of the batch still succeeds.
"""

from __future__ import annotations

from typing import Annotated, Any

import bentoml
from pydantic import BaseModel, ConfigDict, Field

# Limits (overridable by environment variables when the service starts): model/limits.py,
# shared with the scoring engines and the CLI.
from model.limits import (
    MAX_ARTICLE_CHARS,
    MAX_BATCH_ITEMS,
    MAX_ID_CHARS,
    MAX_SPEAKER_CHARS,
    MAX_TARGET_CHARS,
    MAX_TARGETS,
    MAX_TEXT_CHARS,
)

EXAMPLE_TEXT = (
    "President Aliyev said the performance of the Russian peacekeepers can be considered "
    "satisfactory, and called the Turkish-Russian Joint Monitoring Center a very important step."
)

Text = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description=f"A sentence, quote or whole article (1 to {MAX_TEXT_CHARS} characters).",
        examples=[EXAMPLE_TEXT],
    ),
]
Target = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TARGET_CHARS,
        description=f"The entity or topic (1 to {MAX_TARGET_CHARS} characters).",
        examples=["Russian peacekeepers"],
    ),
]
Speaker = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_SPEAKER_CHARS,
        description="Whose stance; null for the author / the text as a whole.",
        examples=["President Aliyev"],
    ),
]
Ident = Annotated[
    str | None,
    Field(default=None, max_length=MAX_ID_CHARS, description="Caller's id, echoed back."),
]


class Strict(bentoml.IODescriptor):
    """Unknown fields are an error (a typo such as 'traget' must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class PredictRequest(Strict):
    """One query."""

    text: Text
    target: Target
    speaker: Speaker = None
    id: Ident = None


class PredictTargetsRequest(Strict):
    """One text, several targets: the text is tokenized and split once."""

    text: Text
    targets: Annotated[
        list[Target],
        Field(
            min_length=1,
            max_length=MAX_TARGETS,
            description=f"1 to {MAX_TARGETS} targets.",
            examples=[["Russian peacekeepers", "Joint Monitoring Center"]],
        ),
    ]
    speaker: Speaker = None
    id: Ident = None


class AnalyzeArticleRequest(Strict):
    """A whole scraped article; targets are found automatically when not given."""

    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_ARTICLE_CHARS,
            description=f"The article as scraped, noise included (1 to {MAX_ARTICLE_CHARS} chars).",
            examples=[EXAMPLE_TEXT],
        ),
    ]
    targets: Annotated[
        list[Target] | None,
        Field(
            default=None,
            max_length=MAX_TARGETS,
            description="What to ask about; null finds salient entities and noun phrases.",
            examples=[["Russian peacekeepers"]],
        ),
    ] = None
    id: Ident = None


class BatchItem(BaseModel):
    """One query of a batch. Types are checked for the whole request; emptiness and length
    are checked per item, so a bad item becomes an error entry instead of failing the batch."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description=f"1 to {MAX_TEXT_CHARS} characters.", examples=[EXAMPLE_TEXT])
    target: str = Field(description=f"1 to {MAX_TARGET_CHARS} characters.")
    speaker: str | None = None
    id: str | None = None


class PredictBatchRequest(Strict):
    """Up to MAX_BATCH_ITEMS queries, answered in the same order."""

    items: Annotated[
        list[BatchItem],
        Field(
            min_length=1,
            max_length=MAX_BATCH_ITEMS,
            description=f"1 to {MAX_BATCH_ITEMS} queries.",
            examples=[[{"text": EXAMPLE_TEXT, "target": "Russian peacekeepers", "id": "a1"}]],
        ),
    ]


class EvidenceOut(BaseModel):
    """A window of the input that drove the decision (character offsets into the input)."""

    text: str
    start: int
    end: int
    probabilities: dict[str, float]
    weight: float


class PredictionOut(BaseModel):
    """The stance toward one target; ``error`` is set (and the rest empty) for a bad item."""

    id: str | None = None
    target: str | None = None
    speaker: str | None = None
    label: str | None = None
    probabilities: dict[str, float] | None = None
    evidence: list[EvidenceOut] = Field(default_factory=list)
    windows: int | None = None
    mentions_found: int | None = None
    speaker_found: bool | None = Field(
        default=None,
        description="With a speaker: whether the speaker is in the text (null without one).",
    )
    speaker_mentions_target: bool | None = Field(
        default=None,
        description="With a speaker: whether the speaker's statements refer to the target.",
    )
    speaker_statements: int | None = Field(
        default=None,
        description=(
            "With a speaker: how many of the speaker's statements the answer is based on; "
            "0 means none was found and the answer is the whole text's."
        ),
    )
    model: str | None = None
    error: str | None = None


class PredictTargetsOut(BaseModel):
    """One result per requested target, in order."""

    id: str | None = None
    results: list[PredictionOut]


class BatchOut(BaseModel):
    """One result per item, in order."""

    results: list[PredictionOut]


class ModelInfo(BaseModel):
    """What model is being served."""

    tag: str
    labels: list[str]
    base_model: str
    backend: str
    limits: dict[str, int]
    data: dict[str, Any] = Field(default_factory=dict)
    dev_metrics: dict[str, Any] = Field(default_factory=dict)
    eval_metrics: dict[str, Any] = Field(default_factory=dict)
    training_args: dict[str, Any] = Field(default_factory=dict)
    git_commit: str | None = None


def item_error(item: BatchItem) -> str | None:
    """Why a batch item cannot be scored, or None when it can."""
    if not item.text.strip():
        return "text: must be a non-empty string"
    if len(item.text) > MAX_TEXT_CHARS:
        return f"text: {len(item.text)} characters is over the limit of {MAX_TEXT_CHARS}"
    if not item.target.strip():
        return "target: must be a non-empty string"
    if len(item.target) > MAX_TARGET_CHARS:
        return f"target: {len(item.target)} characters is over the limit of {MAX_TARGET_CHARS}"
    if item.speaker is not None and len(item.speaker) > MAX_SPEAKER_CHARS:
        return f"speaker: {len(item.speaker)} characters is over the limit of {MAX_SPEAKER_CHARS}"
    if item.id is not None and len(item.id) > MAX_ID_CHARS:
        return f"id: {len(item.id)} characters is over the limit of {MAX_ID_CHARS}"
    return None


def limits() -> dict[str, int]:
    """The limits in force, for GET /model."""
    return {
        "max_text_chars": MAX_TEXT_CHARS,
        "max_target_chars": MAX_TARGET_CHARS,
        "max_speaker_chars": MAX_SPEAKER_CHARS,
        "max_batch_items": MAX_BATCH_ITEMS,
        "max_targets": MAX_TARGETS,
        "max_article_chars": MAX_ARTICLE_CHARS,
    }
