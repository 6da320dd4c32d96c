"""Output rows: one per (record, target) or per article stance; the jobs an engine scores."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model.types import QueryError, StancePrediction, StanceQuery
from scoring.archive import ArchiveRecord

if TYPE_CHECKING:
    # Imported where used: loading model.article compiles its rules (~0.1 s), which runs
    # without --analyze-articles and the http engine never need.
    from model.article import ArticleStance


@dataclass
class RecordResult:
    """Output rows (one per target) and error rows of one input record."""

    index: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        """Compact JSON (how Ray actors hand results back to the driver)."""
        return json.dumps(
            {"index": self.index, "rows": self.rows, "errors": self.errors}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> RecordResult:
        """Inverse of :meth:`to_json`."""
        obj = json.loads(text)
        return cls(index=int(obj["index"]), rows=list(obj["rows"]), errors=list(obj["errors"]))


def with_kept(row: dict[str, Any], record: ArchiveRecord) -> dict[str, Any]:
    """``row`` followed by the record's kept input fields (``--keep-fields``), in the order
    asked; their names never clash with an output column (``ScoringOptions.validate``)."""
    row.update(record.kept)
    return row


def prediction_row(prediction: StancePrediction, model_tag: str) -> dict[str, Any]:
    """The output row for one (record, target)."""
    return {
        "id": prediction.id,
        "target": prediction.target,
        "speaker": prediction.speaker,
        "label": prediction.label,
        "probabilities": dict(prediction.probabilities),
        "evidence": [e.to_dict() for e in prediction.evidence],
        "model": model_tag,
        "speaker_found": prediction.speaker_found,
        "speaker_mentions_target": prediction.speaker_mentions_target,
        "speaker_statements": prediction.speaker_statements,
    }


def article_row(record_id: str, stance: ArticleStance, model_tag: str) -> dict[str, Any]:
    """The output row for one (speaker, target) stance found in a whole article.

    Same columns and evidence fields as :func:`prediction_row`, so JSONL and Parquet outputs
    (whose evidence struct is fixed) hold the same rows. An evidence sentence's ``weight`` is
    null: the article aggregation does not expose per-sentence weights, and its ``kind`` and
    ``label`` (derivable from its probabilities) have no column.
    """
    return {
        "id": record_id,
        "target": stance.target,
        "speaker": stance.speaker,
        "label": stance.label,
        "probabilities": dict(stance.probabilities),
        "evidence": [
            {
                "text": e.text,
                "start": e.start,
                "end": e.end,
                "probabilities": dict(e.probabilities),
                "weight": None,
            }
            for e in stance.evidence
        ],
        "model": model_tag,
        # A speaker row exists because attribution found them talking about the target; the
        # author's rows (speaker None) answer no speaker question.
        "speaker_found": True if stance.speaker is not None else None,
        "speaker_mentions_target": True if stance.speaker is not None else None,
        "speaker_statements": stance.sentences if stance.speaker is not None else None,
    }


@dataclass(frozen=True)
class _Job:
    """One (record, target) to score."""

    record: ArchiveRecord
    target: str
    query: StanceQuery


def _jobs(
    records: Sequence[ArchiveRecord],
) -> tuple[dict[int, RecordResult], list[_Job], list[ArchiveRecord]]:
    """Results pre-filled with record errors, the queries left to score, in order, and the
    good records without targets (articles to analyse whole; see ``analyze_articles``)."""
    results: dict[int, RecordResult] = {}
    jobs: list[_Job] = []
    articles: list[ArchiveRecord] = []
    for record in records:
        result = results.setdefault(record.index, RecordResult(record.index))
        if record.error is not None:
            result.errors.append(record.error_row(record.error))
            continue
        if not record.targets:
            articles.append(record)
            continue
        for target in record.targets:
            query = StanceQuery(
                text=record.text, target=target, speaker=record.speaker, id=record.id
            )
            try:
                query.validate()
            except QueryError as err:
                result.errors.append(record.error_row(str(err), target))
                continue
            jobs.append(_Job(record, target, query))
    return results, jobs, articles


def _chunks(items: Sequence[_Job], size: int) -> Iterator[Sequence[_Job]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
