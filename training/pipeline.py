"""One config drives it all: load data -> train -> calibrate -> evaluate -> save -> (export)
-> register.

`stance train` and `bench/train_newsmtsc.py` both call :func:`run_training`, so the numbers
reported by the benchmark come from the same code path users run.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.card import write_card
from model.classifier import StanceClassifier
from model.labels import LabelError, LabelRules, label_set
from model.types import StanceQuery
from records.columns import ColumnMap
from training.args import ArgsError, RunConfig, label_map_arg
from training.data import (
    FORMATS,
    DataError,
    LoadReport,
    StanceExample,
    holdout_fraction,
    load_examples,
    resolve_labels,
    split_holdout,
)
from training.datasets import BUNDLED, NAMED_SOURCES, resolve_source
from training.evaluate import evaluate_model
from training.registry import git_commit, register
from training.soft_labels import teacher_probabilities, write_soft_labels
from training.trainer import Trainer

# Dev queries used to verify an ONNX export against torch (training.export_onnx).
EXPORT_SAMPLE_DEV = 256

DEFAULT_DATA: dict[str, Any] = {
    "train": ["newsmtsc-train", BUNDLED],
    "dev": "newsmtsc-dev-rw",
    "eval": ["newsmtsc-dev-rw", "newsmtsc-dev-mt"],
    "format": "auto",
    "encoding": "utf-8",
    "text_col": "text",
    "target_col": "target",
    "label_col": "label",
    "speaker_col": "speaker",
    "id_col": "id",
    "skip_bad": False,
    "label_aliases": True,
    "label_map": None,
    "newsmtsc_dir": None,
    # Mark NewsMTSC's further_mentions too (see training/data.py load_examples).
    "further_mentions": False,
}


@dataclass
class DataOptions:
    """The [data] table, validated."""

    train: list[str]
    dev: str | None
    eval: list[str]
    format: str
    encoding: str
    columns: ColumnMap
    skip_bad: bool
    label_aliases: bool
    newsmtsc_dir: str | None
    label_map: dict[str, str] | None = None
    further_mentions: bool = False

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DataOptions:
        """Defaults plus ``values``; unknown keys and wrong types are errors."""
        unknown = sorted(set(values) - set(DEFAULT_DATA))
        if unknown:
            raise ArgsError(f"[data]: unknown key(s) {unknown}; known: {sorted(DEFAULT_DATA)}")
        merged = {**DEFAULT_DATA, **values}
        for key in ("train", "eval"):
            if isinstance(merged[key], str):
                merged[key] = [merged[key]]
            if not isinstance(merged[key], list) or not all(
                isinstance(s, str) for s in merged[key]
            ):
                raise ArgsError(f"[data].{key}: expected a list of paths or source names")
        if not merged["train"]:
            raise ArgsError("[data].train: at least one training source is needed")
        if merged["format"] not in FORMATS:
            raise ArgsError(f"[data].format: {merged['format']!r} is not one of {list(FORMATS)}")
        dev = merged["dev"] or None
        try:
            holdout_fraction(dev)
        except DataError as err:
            raise ArgsError(str(err)) from None
        return cls(
            train=list(merged["train"]),
            dev=dev,
            eval=list(merged["eval"]),
            format=merged["format"],
            encoding=merged["encoding"],
            columns=ColumnMap(
                text=merged["text_col"],
                target=merged["target_col"],
                label=merged["label_col"],
                speaker=merged["speaker_col"] or None,
                id=merged["id_col"] or None,
            ),
            skip_bad=bool(merged["skip_bad"]),
            label_aliases=bool(merged["label_aliases"]),
            newsmtsc_dir=merged["newsmtsc_dir"],
            label_map=label_map_arg(merged["label_map"], "[data].label_map"),
            further_mentions=bool(merged["further_mentions"]),
        )

    def load(self, source: str, labels: tuple[str, ...] | None = None) -> LoadReport:
        """Load one source whose labels must be among ``labels`` (None: any). Named sources
        and the bundled corpus are read in their own format, without the label map."""
        path = resolve_source(source, self.newsmtsc_dir)
        named = source in NAMED_SOURCES or source == BUNDLED
        rules = LabelRules(
            label_map=None if named else self.label_map, labels=labels, aliases=self.label_aliases
        )
        return load_examples(
            path,
            fmt="auto" if named else self.format,
            columns=ColumnMap() if named else self.columns,
            encoding="utf-8" if named else self.encoding,
            allow_bad=self.skip_bad,
            label_rules=rules,
            further_mentions=self.further_mentions,
        )


@dataclass
class TrainOutcome:
    """What `stance train` produced."""

    output_dir: Path
    tag: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def labelled_pairs(
    examples: list[StanceExample], labels: tuple[str, ...], options: DataOptions, what: str
) -> list[tuple[StanceQuery, int]]:
    """(query, label index) pairs; unusable records fail the load unless --skip-bad is set."""
    pairs, problems = resolve_labels(examples, labels)
    if problems and not options.skip_bad:
        shown = "\n  ".join(problems[:5])
        raise DataError(
            f"{what}: {len(problems)} record(s) with unusable labels or fields:\n  {shown}\n"
            "Fix them, or pass --skip-bad to skip them."
        )
    if not pairs:
        raise DataError(f"{what}: no usable examples")
    return pairs


def run_training(
    run: RunConfig,
    output_dir: str | Path,
    do_register: bool = True,
    log: Any = print,
) -> TrainOutcome:
    """Train, calibrate, evaluate, save to ``output_dir`` and (optionally) register."""
    started = time.perf_counter()
    options = DataOptions.from_dict(run.data)
    fingerprints: dict[str, Any] = {}
    train_examples, labels = _load_training(run, options, fingerprints, log)
    config = run.model.replace(labels=labels)
    holdout = holdout_fraction(options.dev)
    dev_pairs: list[tuple[StanceQuery, int]] = []
    if holdout is not None:
        # Early stopping and calibration on held-out training texts: the dev sets listed in
        # [data].eval then stay untouched, so their scores are estimates, not selections.
        train_examples, held = split_holdout(train_examples, holdout)
        fingerprints[f"dev:{options.dev}"] = {"examples": len(held)}
        dev_pairs = labelled_pairs(held, labels, options, f"dev data {options.dev}")
    train_pairs = labelled_pairs(train_examples, labels, options, "training data")
    if options.dev and holdout is None:
        dev_report = options.load(options.dev, labels)
        fingerprints[f"dev:{options.dev}"] = _fingerprint(dev_report)
        dev_pairs = labelled_pairs(dev_report.examples, labels, options, f"dev data {options.dev}")
    log(f"labels {list(labels)}; {len(train_pairs)} training and {len(dev_pairs)} dev examples")
    result = Trainer(config, run.training, train_pairs, dev_pairs).train()
    classifier: StanceClassifier = result.classifier
    evaluations: dict[str, Any] = {}
    out = Path(output_dir)
    for source in options.eval:
        report = options.load(source, labels)
        fingerprints.setdefault(f"eval:{source}", _fingerprint(report))
        pairs = labelled_pairs(report.examples, labels, options, f"eval data {source}")
        metrics = evaluate_model(
            classifier, pairs, out / "reports" / _slug(source), title=f"Evaluation on {source}"
        )
        evaluations[source] = _headline(metrics)
        f_avg = f" F_avg {metrics['f_avg']:.4f}" if "f_avg" in metrics else ""
        log(
            f"{source}: macro-F1 {metrics['macro_f1']:.4f}{f_avg} accuracy "
            f"{metrics['accuracy']:.4f} ECE {metrics['ece']:.4f}"
        )
    export_report: dict[str, Any] | None = None
    if run.training.export_onnx:
        from model.export.onnx import export_backends
        from model.export.verify import DEFAULT_SAMPLE

        # Verified on dev queries (the real length distribution) plus the built-in sample,
        # which has long texts that split into several windows. The export saves the folder
        # first; register() below then carries the ONNX files into the store entry.
        sample = [*DEFAULT_SAMPLE, *(q for q, _ in dev_pairs[:EXPORT_SAMPLE_DEV])]
        export_report = export_backends(classifier, out / "model", sample_queries=sample)
        for name, check in export_report["backends"].items():
            log(
                f"exported {name}: max probability difference {check['max_abs_prob_diff']:.2e}, "
                f"label agreement {check['label_agreement']:.1%} on {len(sample)} queries"
            )
    metadata = {
        "labels": list(labels),
        "base_model": config.base_model,
        "model_config": classifier.config.to_dict(),
        "training_args": run.training.to_dict(),
        "data": fingerprints,
        "dev_metrics": _headline(result.dev_metrics),
        "dev_metrics_uncalibrated": _headline(result.dev_metrics_uncalibrated),
        "eval_metrics": evaluations,
        "temperature": classifier.config.temperature,
        "steps": result.steps,
        "best_step": result.best_step,
        "averaged_checkpoints": result.averaged_checkpoints,
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "history": [h for h in result.history if "dev_macro_f1" in h],
        "git_commit": git_commit(),
        # The resolved configuration: what `stance train --config` needs to train it again.
        "training_config": {
            "model": classifier.config.to_dict(),
            "training": run.training.to_dict(),
            "data": {**DEFAULT_DATA, **run.data},
        },
    }
    if export_report is None:
        classifier.save(out / "model")
    else:
        metadata["export_report"] = export_report
    # The model folder describes itself (model card, metadata, config); so does every copy.
    write_card(out / "model", metadata)
    (out / "training_metadata.json").write_text(
        json.dumps(metadata, indent=2) + "\n", encoding="utf-8"
    )
    tag = register(classifier, metadata) if do_register else None
    return TrainOutcome(output_dir=out, tag=tag, metadata=metadata)


def _load_training(
    run: RunConfig, options: DataOptions, fingerprints: dict[str, Any], log: Any
) -> tuple[list[StanceExample], tuple[str, ...]]:
    """Every example of the training sources (before any holdout) and the label set."""
    examples: list[StanceExample] = []
    fixed = run.model.labels if run.fixed_labels else None
    for source in options.train:
        report = options.load(source, fixed)
        log(report.summary())
        fingerprints[f"train:{source}"] = _fingerprint(report)
        examples.extend(report.examples)
    # The label set: as fixed by --labels / [model].labels, else the labels present in the
    # training data (binary data gives a binary model).
    present = [e.label for e in examples]
    try:
        labels = fixed or label_set(present)
    except LabelError as err:
        raise DataError(str(err)) from None
    unseen = [lab for lab in labels if lab not in set(present)]
    if unseen:
        log(f"warning: label(s) {unseen} have no training examples")
    return examples, labels


def record_teacher(run: RunConfig, teachers: list[str], out: str | Path, log: Any = print) -> int:
    """Write the teachers' soft labels on every query of ``run``'s training sources (held-out
    texts included: a student with another holdout may train on them) to ``out``, for
    ``[training].teachers``; returns the number of queries written."""
    options = DataOptions.from_dict(run.data)
    examples, labels = _load_training(run, options, {}, log)
    pairs = labelled_pairs(examples, labels, options, "training data")
    soft, _ = teacher_probabilities(teachers, pairs, labels)
    return write_soft_labels(Path(out), [q for q, _ in pairs], soft, labels, teachers)


def _fingerprint(report: LoadReport) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "sha256": report.sha256,
        "examples": len(report.examples),
        "bad_records": len(report.bad),
    }


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without the bulky confusion matrix, for metadata."""
    return {k: v for k, v in metrics.items() if k != "confusion"}


def _slug(source: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(source).name or source)
