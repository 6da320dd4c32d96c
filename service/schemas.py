"""HTTP request and response schemas, with the limits every endpoint enforces.

Single-query endpoints reject an invalid request as a whole (400 naming the field). The
batch endpoint validates types strictly but checks content per item, so one empty text
yields an error entry for that item and the rest of the batch still succeeds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import bentoml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

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
    env_int,
)

# HTTP limits, enforced by service/middleware.py before a request reaches an endpoint.
MAX_BODY_BYTES = env_int("STANCE_MAX_BODY_BYTES", 2_000_000)
# A request body must have fully arrived this many seconds after its headers (408 otherwise).
BODY_TIMEOUT_S = env_int("STANCE_BODY_TIMEOUT_S", 10)
# Requests being computed at once (429 beyond); counted only once the body has arrived, so
# connections that send a partial body or nothing cannot use it up.
MAX_CONCURRENCY = env_int("STANCE_MAX_CONCURRENCY", 256)
# Slow uploads (a body still arriving after 0.1 s) at once from one client address (429
# beyond): a client cannot hold thousands of half-sent bodies for BODY_TIMEOUT_S each.
MAX_SLOW_UPLOADS_PER_CLIENT = env_int("STANCE_MAX_SLOW_UPLOADS_PER_CLIENT", 16)
# An endpoint still running this long after its body arrived is cancelled (504); BentoML's
# own timeout (the service's traffic timeout) is set above it, so this one always answers.
REQUEST_TIMEOUT_S = env_int("STANCE_REQUEST_TIMEOUT_S", 300)
# Word pieces per model call (about 10 news sentences, or 4 full 128-piece windows): large
# enough for full-speed matrix products on 2 cores, small enough that a lone request waits
# behind a big one for one short call at most (service/frontend.py, bench/hostile.py).
MAX_TOKENS_PER_CALL = env_int("STANCE_MAX_TOKENS_PER_CALL", 512)

# White space, control characters (NUL...) and invisible format characters (zero-width
# space/joiners, word joiner, BOM, bidi marks): a text made only of these says nothing.
_INVISIBLE = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]*+"
)


# The same rule for the OpenAPI document (JSON Schema "pattern": at least one visible char).
VISIBLE_PATTERN = r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
_VISIBLE_SCHEMA: dict[str, Any] = {"pattern": VISIBLE_PATTERN}


def is_blank(value: str) -> bool:
    """True when ``value`` has no visible character (empty, white space, NUL, zero-width)."""
    return _INVISIBLE.fullmatch(value) is not None


def _visible(value: str) -> str:
    if is_blank(value):
        raise PydanticCustomError(
            "blank",
            "must contain visible characters; found only white space, control or zero-width "
            "characters",
        )
    return value


EXAMPLE_TEXT = (
    "President Aliyev said the performance of the Russian peacekeepers can be considered "
    "satisfactory, and called the Turkish-Russian Joint Monitoring Center a very important step."
)

Text = Annotated[
    str,
    AfterValidator(_visible),
    Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        json_schema_extra=_VISIBLE_SCHEMA,
        description=f"A sentence, quote or whole article (1 to {MAX_TEXT_CHARS} characters).",
        examples=[EXAMPLE_TEXT],
    ),
]
Target = Annotated[
    str,
    AfterValidator(_visible),
    Field(
        min_length=1,
        max_length=MAX_TARGET_CHARS,
        json_schema_extra=_VISIBLE_SCHEMA,
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
        AfterValidator(_visible),
        Field(
            min_length=1,
            max_length=MAX_ARTICLE_CHARS,
            json_schema_extra=_VISIBLE_SCHEMA,
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


# Responses carry every field (null when empty): the spec marks them all required.
_ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class EvidenceOut(BaseModel):
    """A window of the input that drove the decision (character offsets into the input)."""

    model_config = _ALWAYS_SENT

    text: str
    start: int
    end: int
    probabilities: dict[str, float]
    weight: float


class PredictionOut(BaseModel):
    """The stance toward one target; ``error`` is set (and the rest empty) for a bad item."""

    model_config = _ALWAYS_SENT

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
    warnings: list[str] = Field(
        default_factory=list,
        description="Set when a bound on work cut the query short (see model/encoding.py).",
    )


class PredictTargetsOut(BaseModel):
    """One result per requested target, in order."""

    model_config = _ALWAYS_SENT

    id: str | None = None
    results: list[PredictionOut]


class BatchOut(BaseModel):
    """One result per item, in order."""

    model_config = _ALWAYS_SENT

    results: list[PredictionOut]


class ArticleOut(BaseModel):
    """An article's analysis (model/article/analyze.py, ArticleAnalysis.to_dict) plus id and
    model. The nested records are described there; new keys may be added."""

    model_config = ConfigDict(extra="allow")

    id: str | None
    model: str
    labels: list[str]
    text_length: int
    headline: list[int] | None
    stances: list[dict[str, Any]]
    speakers: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    speeches: list[dict[str, Any]]
    noise: list[dict[str, Any]]
    warnings: list[str]


class ErrorDetail(BaseModel):
    """What went wrong: a stable type, a message saying how to fix it, the field at fault."""

    type: str = Field(description="Stable word: validation_error, payload_too_large, ...")
    message: str = Field(description="What was found and how to fix it.")
    field: str | None = Field(
        description="Dotted path of the request field at fault (items.3.target); null when "
        "the request as a whole is."
    )


class ErrorOut(BaseModel):
    """The body of every error response (4xx and 5xx) of every endpoint."""

    error: ErrorDetail


class ModelInfo(BaseModel):
    """What model is being served."""

    model_config = _ALWAYS_SENT

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
    if is_blank(item.text):
        return "text: must be a non-empty string"
    if len(item.text) > MAX_TEXT_CHARS:
        return f"text: {len(item.text)} characters is over the limit of {MAX_TEXT_CHARS}"
    if is_blank(item.target):
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
        "max_body_bytes": MAX_BODY_BYTES,
        "body_timeout_s": BODY_TIMEOUT_S,
        "max_concurrency": MAX_CONCURRENCY,
        "request_timeout_s": REQUEST_TIMEOUT_S,
        "max_tokens_per_call": MAX_TOKENS_PER_CALL,
    }
