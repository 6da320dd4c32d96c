"""What goes into a stance model and what comes out, as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Span = tuple[int, int]


class QueryError(ValueError):
    """A query cannot be scored; the message names the field and how to fix it."""


@dataclass(frozen=True)
class StanceQuery:
    """One question: what stance does ``speaker`` (or the text's author) take toward ``target``?

    Attributes:
        text: a sentence, a quote or a whole article (noise allowed).
        target: the entity or topic; it need not occur in the text.
        speaker: whose stance; None means the text's author / the text as a whole.
        mentions: character spans of the target in ``text`` when the caller knows them
            (NewsMTSC gives them); otherwise they are found by string matching.
        id: the caller's identifier, echoed back.
    """

    text: str
    target: str
    speaker: str | None = None
    mentions: tuple[Span, ...] | None = None
    id: str | None = None

    def validate(self, max_chars: int | None = None) -> None:
        """Raise QueryError naming the first bad field."""
        if not isinstance(self.text, str) or not self.text.strip():
            raise QueryError("text: must be a non-empty string")
        if max_chars is not None and len(self.text) > max_chars:
            raise QueryError(
                f"text: {len(self.text)} characters is over the limit of {max_chars}; "
                "split the document or raise the limit"
            )
        if not isinstance(self.target, str) or not self.target.strip():
            raise QueryError("target: must be a non-empty string")
        if self.speaker is not None and not isinstance(self.speaker, str):
            raise QueryError("speaker: must be a string or null")
        for span in self.mentions or ():
            if (
                len(span) != 2
                or not all(isinstance(x, int) for x in span)
                or not 0 <= span[0] < span[1] <= len(self.text)
            ):
                raise QueryError(
                    f"mentions: span {list(span)} is not a [start, end) pair inside the text "
                    f"(length {len(self.text)})"
                )


@dataclass(frozen=True)
class Evidence:
    """A window of the text that drove a decision, with its own probabilities."""

    text: str
    start: int
    end: int
    probabilities: dict[str, float]
    weight: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "probabilities": dict(self.probabilities),
            "weight": self.weight,
        }


@dataclass(frozen=True)
class StancePrediction:
    """The stance for one query: label, calibrated probabilities (sum to 1), evidence.

    For a query with a speaker: ``speaker_found`` says whether the speaker is in the text,
    ``speaker_mentions_target`` whether their statements refer to the target, and
    ``speaker_statements`` how many of their statements the answer is based on (0: none was
    found, so the answer is the whole text's, as for a query without a speaker). All three
    are None for a query without a speaker.

    ``warnings`` say when a bound on work cut the query short (only the first
    ``max_windows`` windows of a very long or very repetitive text were scored).
    """

    label: str
    probabilities: dict[str, float]
    evidence: tuple[Evidence, ...]
    target: str
    speaker: str | None = None
    id: str | None = None
    windows: int = 1
    mentions_found: int = 0
    speaker_found: bool | None = None
    speaker_mentions_target: bool | None = None
    speaker_statements: int | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "target": self.target,
            "speaker": self.speaker,
            "label": self.label,
            "probabilities": dict(self.probabilities),
            "evidence": [e.to_dict() for e in self.evidence],
            "windows": self.windows,
            "mentions_found": self.mentions_found,
            "speaker_found": self.speaker_found,
            "speaker_mentions_target": self.speaker_mentions_target,
            "speaker_statements": self.speaker_statements,
            "warnings": list(self.warnings),
        }
