"""analyze_article: who takes what stance toward whom in one raw scraped article.

Pipeline: clean (cleaning.py) -> find quotes (quotes.py) -> attribute quotes and reported
speech, resolve references (attribution.py, entities.py) -> targets (targets.py) -> one
StanceQuery per (speaker's sentence, target mentioned in it) -> classifier -> aggregate per
(speaker, target).

Aggregation weighs each sentence by its confidence (1 - normalised entropy), the rule the
model uses for the windows of a long text: one sentence that clearly takes a stance
outweighs several neutral mentions of the same target. Evidence is the sentences that agree
with the decision, most confident first, with offsets into the original text.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from model.article.attribution import QUOTE, Speech, Unit, attribute
from model.article.cleaning import CleanedArticle, NoiseSpan, clean_article
from model.article.entities import Entity
from model.article.quotes import OPENING_MARKS, find_quotes
from model.article.references import target_references
from model.article.targets import TargetGroup, auto_targets, caller_targets, discover
from model.limits import MAX_ARTICLE_CHARS, MAX_ARTICLE_TARGETS
from model.types import QueryError, Span, StancePrediction, StanceQuery

DEFAULT_MAX_CHARS = MAX_ARTICLE_CHARS  # model/limits.py
MAX_TARGETS = MAX_ARTICLE_TARGETS
MAX_EVIDENCE = 5
# Queries per classifier call: bounds memory for long articles, keeps batches large.
QUERY_CHUNK = 256
_MAX_WARNINGS = 20


class StanceClassifierLike(Protocol):
    """What analyze_article needs from a model: StanceClassifier fits, so does a stub."""

    @property
    def labels(self) -> Sequence[str]:
        """Label names; every prediction's probabilities use exactly these keys."""
        ...

    def predict(self, queries: Sequence[StanceQuery]) -> list[StancePrediction]:
        """One prediction per query, in order."""
        ...


if TYPE_CHECKING:
    from model.classifier import StanceClassifier

    def _real_model_fits(model: StanceClassifier) -> StanceClassifierLike:
        return model  # mypy proves the real classifier satisfies the protocol


class ArticleError(QueryError):
    """The article or the arguments cannot be analysed; the message says how to fix it."""


@dataclass(frozen=True)
class ArticleEvidence:
    """A sentence (or a speaker's part of one) that shows the stance."""

    text: str
    start: int
    end: int
    kind: str  # "quote" | "reported" | "author"
    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "label": self.label,
            "probabilities": dict(self.probabilities),
        }


@dataclass(frozen=True)
class ArticleStance:
    """The stance of one speaker (None: the author) toward one target."""

    speaker: str | None
    target: str
    label: str
    probabilities: dict[str, float]
    evidence: tuple[ArticleEvidence, ...]
    mentions: int
    sentences: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "speaker": self.speaker,
            "target": self.target,
            "label": self.label,
            "probabilities": dict(self.probabilities),
            "evidence": [e.to_dict() for e in self.evidence],
            "mentions": self.mentions,
            "sentences": self.sentences,
        }


@dataclass(frozen=True)
class ArticleSpeaker:
    """A speaker of the article: full name, kind, roles as written ("Armenian Prime
    Minister") and the forms used to refer to them ("Mr. Aliyev", "the president", "he")."""

    name: str
    kind: str
    roles: tuple[str, ...]
    aliases: tuple[str, ...]
    speeches: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "kind": self.kind,
            "roles": list(self.roles),
            "aliases": list(self.aliases),
            "speeches": self.speeches,
        }


@dataclass(frozen=True)
class ArticleTarget:
    """A target and its grouped mentions (spans into the original text)."""

    name: str
    source: str  # "caller" | "auto"
    mentions: tuple[Span, ...]
    aliases: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "source": self.source,
            "mentions": [list(m) for m in self.mentions],
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class ArticleAnalysis:
    """Everything found in one article; :meth:`to_dict` is the JSON form."""

    stances: tuple[ArticleStance, ...]
    speakers: tuple[ArticleSpeaker, ...]
    targets: tuple[ArticleTarget, ...]
    speeches: tuple[Speech, ...]
    headline: Span | None
    noise: tuple[NoiseSpan, ...]
    labels: tuple[str, ...]
    warnings: tuple[str, ...]
    text_length: int

    def stance(self, speaker: str | None, target: str) -> ArticleStance | None:
        """The stance of ``speaker`` (None = author) toward ``target``, if there is one."""
        return next((s for s in self.stances if s.speaker == speaker and s.target == target), None)

    def triples(self) -> set[tuple[str | None, str, str]]:
        """{(speaker, target, label)}: the short answer to "who says what about whom"."""
        return {(s.speaker, s.target, s.label) for s in self.stances}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "labels": list(self.labels),
            "text_length": self.text_length,
            "headline": list(self.headline) if self.headline else None,
            "stances": [s.to_dict() for s in self.stances],
            "speakers": [s.to_dict() for s in self.speakers],
            "targets": [t.to_dict() for t in self.targets],
            "speeches": [s.to_dict() for s in self.speeches],
            "noise": [{"start": n.start, "end": n.end, "kind": n.kind} for n in self.noise],
            "warnings": list(self.warnings),
        }


def _validate(
    text: object, classifier: object, targets: object, max_chars: object
) -> tuple[str, list[str]]:
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise ArticleError(f"max_chars: must be a positive integer, got {max_chars!r}")
    if not isinstance(text, str):
        raise ArticleError(f"text: must be a string, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ArticleError(
            f"text: {len(text)} characters is over the limit of {max_chars}; split the "
            "archive into articles or raise max_chars"
        )
    if not text.strip():
        raise ArticleError("text: is empty or only white space; send the article's text")
    if not callable(getattr(classifier, "predict", None)) or not getattr(
        classifier, "labels", None
    ):
        raise ArticleError(
            f"classifier: {type(classifier).__name__} has no predict() or no labels; pass a "
            "StanceClassifier (StanceClassifier.load(...)) or another StanceClassifierLike"
        )
    if targets is None:
        return text, []
    if isinstance(targets, str) or not isinstance(targets, Sequence):
        raise ArticleError(
            f"targets: must be a list of strings or None, got {type(targets).__name__}"
            + (f"; write [{targets!r}] for one target" if isinstance(targets, str) else "")
        )
    wanted: list[str] = []
    seen: set[str] = set()
    for i, target in enumerate(targets):
        if not isinstance(target, str) or not target.strip():
            raise ArticleError(f"targets[{i}]: must be a non-empty string, got {target!r}")
        clean = " ".join(target.split())
        if clean.casefold() not in seen:
            seen.add(clean.casefold())
            wanted.append(clean)
    if len(wanted) > MAX_TARGETS:
        raise ArticleError(
            f"targets: {len(wanted)} targets is over the limit of {MAX_TARGETS}; "
            "analyse the article in several calls"
        )
    return text, wanted


def _weight(probs: Sequence[float]) -> float:
    """1 - normalised entropy: how clearly one sentence takes a stance."""
    if len(probs) < 2:
        return 1.0
    entropy = -sum(p * math.log(p) for p in probs if p > 0)
    return 1.0 - entropy / math.log(len(probs)) + 1e-6


@dataclass
class _Job:
    """The queries of one (speaker, target) pair and where they sit."""

    speaker: str | None
    target: str
    units: list[Unit]  # the evidence
    asked: list[Unit]  # per unit, what the classifier reads: the unit and a quote's cue
    spans: list[list[Span]]  # per unit, the target mentions inside what it reads
    mentions: int
    first: int


# Characters between a quote's unit and its cue's unit: the closing mark, a comma, a space.
_CUE_GAP = 4


def _cue_partners(text: str, units: Sequence[Unit], speeches: Sequence[Speech]) -> dict[int, int]:
    """Quote unit index -> index of the author unit right beside it that holds the quote's
    cue ("..., a spokesman said of the wing."; "..., said X after the court upheld the ban").

    Such a cue clause is the speaker's framing, not the author's stance: the quote takes it
    in (_jobs), so a quote that never names the target but whose cue does is about that
    target. A cue between two quotes goes with the one before it; a cue in another
    paragraph ("the minister said:" above the quote) stays apart, as in model/speaker.py.
    """
    cues = sorted({s.cue for s in speeches if s.kind == QUOTE and s.cue is not None})
    starts = [u.start for u in units]  # units are sorted and disjoint
    partners: dict[int, int] = {}
    for lo, hi in cues:  # one bisect per cue: linear in the article, never units x cues
        k = bisect.bisect_right(starts, lo) - 1
        if k < 0 or units[k].speaker is not None or hi > units[k].end:
            continue  # the cue is not inside an author unit
        for j in (k - 1, k + 1):  # the quote is the neighbour; the one before wins
            if not 0 <= j < len(units) or units[j].kind != QUOTE:
                continue
            a, b = (units[j].end, units[k].start) if j < k else (units[k].end, units[j].start)
            if 0 <= b - a <= _CUE_GAP and "\n" not in text[a:b]:
                partners[j] = k
                break
    return partners


def _jobs(
    units: Sequence[Unit],
    groups: Sequence[TargetGroup],
    speaker_persons: dict[str, str | None],
    partners: dict[int, int],
) -> list[_Job]:
    jobs: dict[tuple[str | None, str], _Job] = {}
    for group in groups:
        starts = [m[0] for m in group.mentions]

        def inside(
            unit: Unit, group: TargetGroup = group, starts: list[int] = starts
        ) -> list[Span]:
            lo = bisect.bisect_left(starts, unit.start)
            hi = bisect.bisect_left(starts, unit.end)
            return [m for m in group.mentions[lo:hi] if m[1] <= unit.end]

        # Every quote takes its cue clause in (quote unit index -> cue unit index), so the
        # cue is no author unit and the classifier reads "“...,” X said of the wing", the
        # shape of the speaker statements it was trained on (model/speaker_windows.py). The
        # evidence stays the quote, unless only the cue names the target.
        taken = set(partners.values())
        for i, unit in enumerate(units):
            if group.person is not None and speaker_persons.get(unit.speaker or "") == group.person:
                continue  # a speaker's words about himself are not a stance toward a target
            if i in taken:
                continue
            asked = unit
            if i in partners:
                cue = units[partners[i]]
                lo, hi = min(unit.start, cue.start), max(unit.end, cue.end)
                asked = Unit(lo, hi, unit.speaker, QUOTE)
            spans = inside(asked)
            if not spans:
                continue
            shown = unit if asked is unit or inside(unit) else asked
            key = (unit.speaker, group.name)
            job = jobs.setdefault(key, _Job(unit.speaker, group.name, [], [], [], 0, shown.start))
            job.units.append(shown)
            job.asked.append(asked)
            job.spans.append(spans)
            job.mentions += len(spans)
    return list(jobs.values())


def _query(text: str, unit: Unit, target: str, spans: Sequence[Span]) -> StanceQuery:
    """The classifier's question for one sentence; mentions relative to the sentence.

    A quote is asked with its opening mark, as the model saw a speaker's quoted statements
    in training (model/speaker.py keeps the marks); the evidence still starts inside it.
    """
    start = unit.start
    if unit.kind == QUOTE and start > 0 and text[start - 1] in OPENING_MARKS:
        start -= 1
    return StanceQuery(
        text=text[start : unit.end],
        target=target,
        speaker=unit.speaker,
        mentions=tuple((lo - start, hi - start) for lo, hi in spans),
    )


def _predict(
    classifier: StanceClassifierLike, queries: Sequence[StanceQuery], labels: tuple[str, ...]
) -> list[StancePrediction]:
    out: list[StancePrediction] = []
    for lo in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[lo : lo + QUERY_CHUNK]
        predictions = classifier.predict(chunk)
        if len(predictions) != len(chunk):
            raise ValueError(
                f"classifier returned {len(predictions)} predictions for {len(chunk)} queries; "
                "predict() must return one prediction per query, in order"
            )
        for p in predictions:
            if set(p.probabilities) != set(labels):
                raise ValueError(
                    f"classifier prediction has labels {sorted(p.probabilities)} but "
                    f"classifier.labels is {list(labels)}; they must be the same"
                )
        out.extend(predictions)
    return out


def _aggregate(
    text: str, job: _Job, predictions: Sequence[StancePrediction], labels: tuple[str, ...]
) -> ArticleStance:
    weights = [_weight([p.probabilities[lab] for lab in labels]) for p in predictions]
    total = sum(weights)
    combined = {
        lab: sum(w * p.probabilities[lab] for w, p in zip(weights, predictions, strict=True))
        / total
        for lab in labels
    }
    norm = sum(combined.values())
    combined = {lab: v / norm for lab, v in combined.items()}
    label = max(labels, key=lambda lab: combined[lab])  # ties: the first label wins
    ranked = sorted(
        range(len(predictions)),
        key=lambda i: (-predictions[i].probabilities[label], job.units[i].start),
    )
    agree = [i for i in ranked if predictions[i].label == label] or ranked[:1]
    evidence = tuple(
        ArticleEvidence(
            text=text[job.units[i].start : job.units[i].end],
            start=job.units[i].start,
            end=job.units[i].end,
            kind=job.units[i].kind,
            label=predictions[i].label,
            probabilities=dict(predictions[i].probabilities),
        )
        for i in agree[:MAX_EVIDENCE]
    )
    return ArticleStance(
        speaker=job.speaker,
        target=job.target,
        label=label,
        probabilities=combined,
        evidence=evidence,
        mentions=job.mentions,
        sentences=len(job.units),
    )


def analyze_article(
    text: str,
    classifier: StanceClassifierLike,
    targets: Sequence[str] | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    min_mentions: int = 2,
    max_auto_targets: int = 10,
) -> ArticleAnalysis:
    """Every (speaker, target, stance) of one raw article, with evidence sentences.

    Args:
        text: the article as scraped (headline, dateline, separators, site noise allowed).
        classifier: a StanceClassifier or anything with ``labels`` and ``predict(queries)``.
        targets: what to ask about; None finds salient entities and noun phrases.
        max_chars: longer texts are refused (ArticleError) instead of tying up a worker.
        min_mentions: a discovered target needs this many mentions (headline included).
        max_auto_targets: at most this many discovered targets, most mentioned first.

    Raises:
        ArticleError: bad arguments or an empty text (a QueryError, so services map it to
            a client error). A text that is only noise gives an empty analysis with a warning.
    """
    text, wanted = _validate(text, classifier, targets, max_chars)
    for name, value in (("min_mentions", min_mentions), ("max_auto_targets", max_auto_targets)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ArticleError(f"{name}: must be a positive integer, got {value!r}")
    labels = tuple(classifier.labels)
    article = clean_article(text)
    warnings: list[str] = []
    if not article.paragraphs:
        warnings.append(
            f"no article text left after removing {len(article.noise)} noise line(s)"
            + (" and the headline" if article.headline else "")
            + ": nothing to analyse"
        )
        return _empty(article, labels, warnings)
    scan = find_quotes(text, article.paragraphs)
    for pos in scan.unclosed:
        warnings.append(
            f"quotation mark at offset {pos} is never closed; the quote was ended at its "
            "paragraph end"
        )
    for pos in scan.stray:
        warnings.append(f"closing quotation mark at offset {pos} has no opening mark; ignored")
    found = attribute(article, scan.quotes)
    cues = [s.cue for s in found.speeches if s.cue is not None]
    candidates = discover(article, found.registry, cues, found.index)
    if wanted:
        groups = caller_targets(article, wanted, candidates, found.registry, cues)
        # "the line", "it", "that decision" in a speaker's words refer to the target too.
        spoken = [(u.start, u.end) for u in found.units if u.speaker is not None]
        literal = [list(group.mentions) for group in groups]
        for k, group in enumerate(groups):
            if group.person is None:
                others = [m for j, spans in enumerate(literal) if j != k for m in spans]
                group.mentions = target_references(text, group.name, group.mentions, spoken, others)
        for group in groups:
            if not group.mentions:
                warnings.append(f"target {group.name!r} is not mentioned in the article body")
    else:
        spoken = [(u.start, u.end) for u in found.units if u.speaker is not None]
        groups = auto_targets(article, candidates, min_mentions, max_auto_targets, spoken)
        if not groups:
            warnings.append("no salient targets found; pass targets=[...] to ask about some")
    entities = {e.name: e for e in found.registry.entities}
    persons = {name: (name if e.kind == "person" else None) for name, e in entities.items()}
    jobs = _jobs(found.units, groups, persons, _cue_partners(text, found.units, found.speeches))
    queries = [
        _query(text, unit, job.target, spans)
        for job in jobs
        for unit, spans in zip(job.asked, job.spans, strict=True)
    ]
    predictions = _predict(classifier, queries, labels) if queries else []
    stances: list[ArticleStance] = []
    row = 0
    for job in jobs:
        n = len(job.units)
        stances.append(_aggregate(text, job, predictions[row : row + n], labels))
        row += n
    groups, stances = _clear_singles(groups, stances)
    return ArticleAnalysis(
        stances=tuple(_ordered(stances, jobs, [g.name for g in groups])),
        speakers=_speakers(found.speeches, found.registry.entities),
        targets=tuple(
            ArticleTarget(g.name, g.source, tuple(g.mentions), tuple(g.aliases)) for g in groups
        ),
        speeches=tuple(found.speeches),
        headline=article.headline,
        noise=article.noise,
        labels=labels,
        warnings=tuple(_capped(warnings)),
        text_length=len(text),
    )


def _clear_singles(
    groups: list[TargetGroup], stances: list[ArticleStance]
) -> tuple[list[TargetGroup], list[ArticleStance]]:
    """Drop discovered targets mentioned once unless a speaker takes a clear stance on them
    (a label other than neutral): one neutral mention is not worth a row."""
    clear = {s.target for s in stances if s.speaker is not None and s.label != "neutral"}
    dropped = {g.name for g in groups if g.single and g.name not in clear}
    if not dropped:
        return groups, stances
    return (
        [g for g in groups if g.name not in dropped],
        [s for s in stances if s.target not in dropped],
    )


def _ordered(
    stances: list[ArticleStance], jobs: list[_Job], target_order: list[str]
) -> list[ArticleStance]:
    """Speakers in order of appearance, the author last; targets in target order."""
    first: dict[str | None, int] = {}
    for job in jobs:
        first[job.speaker] = min(first.get(job.speaker, job.first), job.first)
    rank = {name: i for i, name in enumerate(target_order)}
    return sorted(
        stances,
        key=lambda s: (s.speaker is None, first[s.speaker], rank.get(s.target, len(rank))),
    )


def _speakers(speeches: Sequence[Speech], entities: Sequence[Entity]) -> tuple[ArticleSpeaker, ...]:
    counts: dict[int, int] = {}
    for speech in speeches:
        if speech.entity is not None:
            counts[speech.entity] = counts.get(speech.entity, 0) + 1
    by_id = {e.id: e for e in entities}
    return tuple(
        ArticleSpeaker(
            name=by_id[i].name,
            kind=by_id[i].kind,
            roles=tuple(by_id[i].roles),
            aliases=tuple(by_id[i].aliases),
            speeches=n,
        )
        for i, n in counts.items()
    )


def _capped(warnings: list[str]) -> list[str]:
    if len(warnings) <= _MAX_WARNINGS:
        return warnings
    return [*warnings[:_MAX_WARNINGS], f"... and {len(warnings) - _MAX_WARNINGS} more warnings"]


def _empty(
    article: CleanedArticle, labels: tuple[str, ...], warnings: list[str]
) -> ArticleAnalysis:
    return ArticleAnalysis(
        stances=(),
        speakers=(),
        targets=(),
        speeches=(),
        headline=article.headline,
        noise=article.noise,
        labels=labels,
        warnings=tuple(warnings),
        text_length=len(article.text),
    )
