"""Test stub: a deterministic keyword "classifier" with the StanceClassifierLike interface.

Not a model: it reads fixed phrases, ignores the target and the speaker, and exists so the
article pipeline (and the service and archive code built on it) can be tested and demoed
without a trained model, which CI does not have. Its probabilities imitate a trained model
in one respect that matters to aggregation: a sentence with a stance phrase is confident
(0.9), a neutral one is not (0.5), so one clear sentence outweighs a neutral mention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from model.types import Evidence, QueryError, StancePrediction, StanceQuery

DEFAULT_POSITIVE = ("welcome", "important step", "satisfactory")
DEFAULT_NEGATIVE = ("regret", "unacceptable", "not a subject of discussion")
LABELS = ("negative", "neutral", "positive")
_POLAR = 0.9
_NEUTRAL = 0.5


def _pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    # A phrase matches at a word start and may be inflected ("welcomed", "regrets"), but
    # "unsatisfactory" does not contain "satisfactory" as a word.
    alternatives = [r"\s+".join(re.escape(w) for w in p.split()) for p in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE)


class KeywordStanceClassifier:
    """positive / negative when the query text holds a phrase from the lists, else neutral.

    With phrases of both kinds, the more frequent kind wins; a tie is neutral.
    """

    def __init__(
        self,
        positive: Sequence[str] = DEFAULT_POSITIVE,
        negative: Sequence[str] = DEFAULT_NEGATIVE,
    ) -> None:
        for name, phrases in (("positive", positive), ("negative", negative)):
            if (
                isinstance(phrases, str)
                or not phrases
                or not all(isinstance(p, str) and p.strip() for p in phrases)
            ):
                raise ValueError(f"{name}: must be a non-empty list of non-empty phrases")
        self._positive = _pattern(positive)
        self._negative = _pattern(negative)
        self.calls = 0  # predict() calls, for tests that check batching

    @property
    def labels(self) -> tuple[str, ...]:
        """negative, neutral, positive (the default label order of the real model)."""
        return LABELS

    def label_of(self, text: str) -> str:
        """The label this classifier gives ``text``."""
        score = len(self._positive.findall(text)) - len(self._negative.findall(text))
        return "positive" if score > 0 else "negative" if score < 0 else "neutral"

    def predict(self, queries: Sequence[StanceQuery]) -> list[StancePrediction]:
        """One prediction per query; invalid queries raise QueryError like the real model."""
        self.calls += 1
        out: list[StancePrediction] = []
        for i, query in enumerate(queries):
            try:
                query.validate()
            except QueryError as err:
                raise QueryError(f"query {i}: {err}") from None
            label = self.label_of(query.text)
            top = _NEUTRAL if label == "neutral" else _POLAR
            rest = (1.0 - top) / (len(LABELS) - 1)
            probs = {lab: (top if lab == label else rest) for lab in LABELS}
            evidence = Evidence(query.text, 0, len(query.text), dict(probs), 1.0)
            out.append(
                StancePrediction(
                    label=label,
                    probabilities=probs,
                    evidence=(evidence,),
                    target=query.target,
                    speaker=query.speaker,
                    id=query.id,
                    mentions_found=len(query.mentions or ()),
                )
            )
        return out
