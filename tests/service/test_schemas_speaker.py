"""The speaker fields of a prediction reach the HTTP response schema (service/schemas.py)."""

from __future__ import annotations

from model.types import StancePrediction
from service.schemas import PredictionOut


def _prediction(**speaker_fields: object) -> StancePrediction:
    return StancePrediction(
        label="negative",
        probabilities={"negative": 0.8, "neutral": 0.1, "positive": 0.1},
        evidence=(),
        target="high-speed rail line",
        speaker="Jonas Eklund",
        **speaker_fields,  # type: ignore[arg-type]
    )


def test_prediction_out_carries_the_speaker_fields() -> None:
    pred = _prediction(speaker_found=True, speaker_mentions_target=False, speaker_statements=1)
    out = PredictionOut(**pred.to_dict(), model="stance:x")
    assert (out.speaker_found, out.speaker_mentions_target, out.speaker_statements) == (
        True,
        False,
        1,
    )


def test_prediction_out_speaker_fields_default_to_null() -> None:
    out = PredictionOut(**_prediction().to_dict(), model="stance:x")
    dumped = out.model_dump()
    assert [
        dumped[k] for k in ("speaker_found", "speaker_mentions_target", "speaker_statements")
    ] == [
        None,
        None,
        None,
    ]
