"""Scoring engines: ``local`` (a model in this process) and ``http`` (a running service)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from model.limits import MAX_ARTICLE_CHARS
from model.types import QueryError, StancePrediction, StanceQuery
from scoring.archive import ArchiveRecord, ScoringError
from scoring.options import (
    ARTICLES_NEED_MODEL,
    OUTPUT_COLUMNS,
    RETRY_STATUSES,
    SPEAKER_COLUMNS,
    Log,
)
from scoring.rows import (
    RecordResult,
    _chunks,
    _jobs,
    article_row,
    prediction_row,
    with_kept,
)


class Engine(Protocol):
    """Scores records. ``scorer`` identifies the model/service in the run's fingerprint."""

    scorer: str

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """One result per record, in the order given."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class LocalEngine:
    """Scores in this process with a loaded :class:`~model.classifier.StanceClassifier`.

    ``max_chars`` is the archive's article limit, handed to the article analysis so that it
    accepts every text the reader let through.
    """

    def __init__(
        self,
        classifier: Any,
        tag: str,
        batch_size: int = 256,
        max_chars: int = MAX_ARTICLE_CHARS,
    ) -> None:
        self.classifier = classifier
        self.tag = tag
        self.scorer = f"model:{tag}"
        self.batch_size = batch_size
        self.max_chars = max_chars

    @classmethod
    def load(
        cls,
        folder: str | Path,
        tag: str,
        batch_size: int = 256,
        backend: str = "auto",
        num_threads: int | None = None,
        max_chars: int = MAX_ARTICLE_CHARS,
    ) -> LocalEngine:
        """Load the model folder once, with the inference backend asked for."""
        from model.classifier import StanceClassifier

        _quiet_transformers()
        classifier = StanceClassifier.load(folder, backend=backend, num_threads=num_threads)
        return cls(classifier, tag, batch_size, max_chars)

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's label names."""
        labels: tuple[str, ...] = self.classifier.labels
        return labels

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """Predict every target of every good record, analyse good records without targets
        as whole articles; bad ones become error rows."""
        results, jobs, articles = _jobs(records)
        for chunk in _chunks(jobs, self.batch_size):
            for job, outcome in zip(chunk, self._predict([j.query for j in chunk]), strict=True):
                result = results[job.record.index]
                if isinstance(outcome, str):
                    result.errors.append(job.record.error_row(outcome, job.target))
                else:
                    result.rows.append(with_kept(prediction_row(outcome, self.tag), job.record))
        for record in articles:
            self._analyze(record, results[record.index])
        return [results[r.index] for r in records]

    def _analyze(self, record: ArchiveRecord, result: RecordResult) -> None:
        """One row per (speaker, target) stance of the article; none found is no row and no
        error (the record still counts as scored: parts count records, not rows)."""
        from model.article import analyze_article

        try:
            analysis = analyze_article(
                record.text, self.classifier, targets=None, max_chars=self.max_chars
            )
        except QueryError as err:
            # ArticleError (a QueryError) or a sentence the model refused: this article
            # fails alone, the rest of the part goes on.
            result.errors.append(record.error_row(f"article analysis: {err}"))
            return
        result.rows.extend(
            with_kept(article_row(record.id, s, self.tag), record) for s in analysis.stances
        )

    def _predict(self, queries: list[StanceQuery]) -> list[StancePrediction | str]:
        try:
            predictions: list[StancePrediction] = self.classifier.predict(queries)
            return list(predictions)
        except QueryError:
            # One bad query fails the whole call: score them one by one so that only the
            # bad one becomes an error row and the rest of the chunk still succeeds.
            pass
        outcomes: list[StancePrediction | str] = []
        for query in queries:
            try:
                outcomes.append(self.classifier.predict([query])[0])
            except QueryError as err:
                outcomes.append(str(err).removeprefix("query 0: "))
        return outcomes

    def close(self) -> None:
        """Nothing to release."""


class HttpEngine:
    """Scores through a running service's ``POST {url}/predict_batch``.

    Request ``{"items": [{"text", "target", "speaker", "id"}, ...]}``; response
    ``{"results": [...]}`` in the same order, each either a full row (``error`` null) or
    ``{"id", "target", "error": reason}`` (that pair becomes an error row).
    """

    def __init__(
        self,
        url: str,
        batch_size: int = 64,
        retries: int = 8,
        timeout: float = 300.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        log: Log | None = None,
    ) -> None:
        import httpx

        self.endpoint = url.rstrip("/") + "/predict_batch"
        self.scorer = f"http:{url.rstrip('/')}"
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._log = log
        self._client = httpx.Client(timeout=timeout)
        self.requests = 0  # attempts made, retries included (reported in tests and logs)

    def score(self, records: Sequence[ArchiveRecord]) -> list[RecordResult]:
        """Send the good records' targets in batches; bad records never reach the service."""
        results, jobs, articles = _jobs(records)
        if articles:
            # ScoringOptions.validate refuses this first; an engine passed in directly
            # must not silently turn those articles into zero rows.
            raise ScoringError(f"{articles[0].where}: no target; {ARTICLES_NEED_MODEL}")
        for chunk in _chunks(jobs, self.batch_size):
            items = [
                {
                    "text": j.query.text,
                    "target": j.target,
                    "speaker": j.query.speaker,
                    "id": j.record.id,
                }
                for j in chunk
            ]
            for job, item, answer in zip(chunk, items, self._post(items), strict=True):
                result = results[job.record.index]
                row = self._row(item, answer)
                if isinstance(row, str):
                    result.errors.append(job.record.error_row(f"service: {row}", job.target))
                else:
                    result.rows.append(with_kept(row, job.record))
        return [results[r.index] for r in records]

    def _post(self, items: list[dict[str, Any]]) -> list[Any]:
        import httpx

        reason = ""
        for attempt in range(self.retries + 1):
            self.requests += 1
            retry_after: float | None = None
            try:
                response = self._client.post(self.endpoint, json={"items": items})
            except httpx.TransportError as err:
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    return self._results(response, len(items))
                if response.status_code not in RETRY_STATUSES:
                    raise ScoringError(
                        f"POST {self.endpoint} answered HTTP {response.status_code}: "
                        f"{response.text[:300]!r}; check --url and the service logs"
                    )
                reason = f"HTTP {response.status_code}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.retries:
                break
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            # Jitter spreads the retries of many clients hitting one recovering service.
            delay = delay * (0.5 + random.random() / 2)
            if retry_after is not None:
                delay = min(self.max_backoff, max(delay, retry_after))
            if self._log is not None:
                # One line per retry: an operator sees a struggling service, not a silent stall.
                self._log(
                    f"POST {self.endpoint}: {reason}; retry {attempt + 1} of {self.retries} "
                    f"in {delay:.1f} s"
                )
            self._sleep(delay)
        raise ScoringError(
            f"POST {self.endpoint} failed {self.retries + 1} times (last: {reason}); committed "
            "parts are kept: run the same command again to resume"
        )

    def _results(self, response: Any, expected: int) -> list[Any]:
        try:
            body = response.json()
        except ValueError:
            raise ScoringError(
                f"POST {self.endpoint} answered 200 but not with JSON: {response.text[:300]!r}"
            ) from None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != expected:
            found = len(results) if isinstance(results, list) else type(results).__name__
            raise ScoringError(
                f"POST {self.endpoint}: expected {{'results': [...]}} with {expected} items, "
                f"found {found}; is {self.endpoint} a stance service?"
            )
        return results

    def _row(self, item: dict[str, Any], answer: Any) -> dict[str, Any] | str:
        """An output row, or the service's reason for failing this item."""
        if not isinstance(answer, dict):
            raise ScoringError(
                f"POST {self.endpoint}: a result is {type(answer).__name__}, not an object"
            )
        if answer.get("id") != item["id"] or answer.get("target") != item["target"]:
            # Rows are matched to records by position: a reordered answer would mislabel them.
            raise ScoringError(
                f"POST {self.endpoint}: results are not in request order (sent id "
                f"{item['id']!r} / target {item['target']!r}, got {answer.get('id')!r} / "
                f"{answer.get('target')!r})"
            )
        if answer.get("error") is not None:
            return str(answer["error"])
        missing = [k for k in OUTPUT_COLUMNS if k not in answer and k not in SPEAKER_COLUMNS]
        if missing:
            raise ScoringError(
                f"POST {self.endpoint}: a result lacks {missing}; found {sorted(answer)}"
            )
        # The speaker columns are null when the service predates them.
        return {k: answer.get(k) for k in OUTPUT_COLUMNS}

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
