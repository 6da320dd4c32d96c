"""Fine-tuning loop: AdamW, warmup + linear decay, clipping, early stopping on dev macro-F1
or a uniform average of the last checkpoints, then temperature calibration on dev."""

from __future__ import annotations

import copy
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from model.backends import default_num_threads
from model.batching import pad_batch
from model.classifier import StanceClassifier
from model.config import StanceConfig
from model.encoding import EncodedWindow
from model.types import StanceQuery
from training.args import TrainingArgs
from training.metrics import classification_metrics, fit_temperature
from training.soft_labels import teacher_probabilities

# Windows of one long training example used at most (a whole article costs many windows).
MAX_TRAIN_WINDOWS = 4
# Batches are drawn from shuffled pools of this many batches sorted by length: batches of
# similar lengths pad less (faster on CPU) while the order stays random.
LENGTH_POOL_BATCHES = 50


@dataclass
class EvalResult:
    """Dev metrics plus the raw pieces needed to recalibrate without re-running the net."""

    metrics: dict[str, Any]
    probs: np.ndarray
    gold: np.ndarray


@dataclass
class TrainResult:
    """The trained (best, calibrated) classifier and what happened on the way."""

    classifier: StanceClassifier
    history: list[dict[str, Any]] = field(default_factory=list)
    dev_metrics: dict[str, Any] = field(default_factory=dict)
    dev_metrics_uncalibrated: dict[str, Any] = field(default_factory=dict)
    best_step: int = 0
    averaged_checkpoints: int = 0
    steps: int = 0
    seconds: float = 0.0
    examples_seen: int = 0


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def evaluate_queries(
    classifier: StanceClassifier,
    queries: Sequence[StanceQuery],
    gold: Sequence[int],
    batch_size: int = 64,
    temperature: float | None = None,
) -> tuple[EvalResult, np.ndarray, list[EncodedWindow]]:
    """Metrics on labelled queries. Returns (result, window logits, windows)."""
    encoded = classifier.encode(queries)
    windows = [w for e in encoded for w in e.windows]
    logits = classifier.window_logits(windows, batch_size)
    model = classifier
    if temperature is not None:
        model = classifier.with_config(classifier.config.replace(temperature=temperature))
    predictions = model.combine(queries, encoded, logits)
    probs = np.array([[p.probabilities[lab] for lab in classifier.labels] for p in predictions])
    gold_arr = np.asarray(gold, dtype=np.int64)
    metrics = classification_metrics(probs, gold_arr, classifier.labels)
    return EvalResult(metrics=metrics, probs=probs, gold=gold_arr), logits, windows


class Trainer:
    """Fine-tunes a StanceClassifier on (query, label index) pairs.

    Mirrors the SetFit / sentence-transformers split: the model knows how to encode and
    predict, the trainer only knows how to optimise it under TrainingArgs.
    """

    def __init__(
        self,
        config: StanceConfig,
        args: TrainingArgs,
        train: Sequence[tuple[StanceQuery, int]],
        dev: Sequence[tuple[StanceQuery, int]] | None = None,
        device: torch.device | None = None,
    ) -> None:
        if not train:
            raise ValueError("no training examples")
        self.config = config
        self.args = args
        self.train_data = list(train)
        self.dev_data = list(dev or [])
        self.device = device
        # Always set: torch's thread count is process-wide, and loading a model for
        # inference with parallel="batches" leaves it at one thread.
        torch.set_num_threads(args.num_threads or default_num_threads())

    def _train_windows(self, classifier: StanceClassifier) -> list[tuple[EncodedWindow, int]]:
        queries = [q for q, _ in self.train_data]
        encoded = classifier.encode(queries)
        return [
            (window, label)
            for enc, (_, label) in zip(encoded, self.train_data, strict=True)
            for window in enc.windows[:MAX_TRAIN_WINDOWS]
        ]

    def teacher_probabilities(self) -> np.ndarray | None:
        """(N train queries, K) mean calibrated probabilities of ``args.teachers`` (models
        or recorded soft-label files, training/soft_labels.py), in the student's label
        order; None without teachers.

        Raises:
            ArgsError: a teacher's labels differ from the student's (soft labels would be
                read in the wrong order), or a recorded teacher's file is unusable.
        """
        if not self.args.teachers:
            return None
        soft, missing = teacher_probabilities(
            self.args.teachers, self.train_data, self.config.labels
        )
        if missing:
            print(
                f"teachers: {missing} of {len(self.train_data) * len(self.args.teachers)} "
                "(query, recorded teacher) pairs not recorded; those learn from the gold label",
                file=sys.stderr,
            )
        # Loading a teacher for inference may change torch's process-wide thread count.
        torch.set_num_threads(self.args.num_threads or default_num_threads())
        return soft

    def _batches(
        self, items: Sequence[tuple[EncodedWindow, int]], rng: random.Random
    ) -> Iterator[list[int]]:
        order = list(range(len(items)))
        rng.shuffle(order)
        bs = self.args.batch_size
        pool = bs * LENGTH_POOL_BATCHES
        batches: list[list[int]] = []
        for i in range(0, len(order), pool):
            chunk = sorted(order[i : i + pool], key=lambda j: len(items[j][0].input_ids))
            batches.extend(chunk[k : k + bs] for k in range(0, len(chunk), bs))
        rng.shuffle(batches)
        yield from batches

    def _class_weights(self, items: Sequence[tuple[EncodedWindow, int]]) -> torch.Tensor | None:
        if not self.args.class_weights:
            return None
        counts = np.bincount([label for _, label in items], minlength=self.config.num_labels)
        counts = np.maximum(counts, 1)
        weights = counts.sum() / (len(counts) * counts)  # inverse frequency, mean ~1
        return torch.tensor(weights, dtype=torch.float32)

    def train(self) -> TrainResult:
        """Run fine-tuning; returns the best checkpoint (by dev macro-F1) or, with
        ``average_last``, the average of the last checkpoints; calibrated."""
        args = self.args
        # Teachers first: loading one draws from torch's RNG, which the seed must not see.
        soft = self.teacher_probabilities()
        set_seed(args.seed)
        classifier = StanceClassifier.from_base(self.config, self.device, dropout=args.dropout)
        device = classifier.device
        network = classifier.network
        items = self._train_windows(classifier)
        # Window i of the batch learns its query's soft label: (N queries, K) -> rows.
        soft_t = torch.from_numpy(soft).float().to(device) if soft is not None else None
        steps_per_epoch = math.ceil(len(items) / args.batch_size)
        total_steps = args.max_steps or max(1, math.ceil(args.epochs * steps_per_epoch))
        warmup = int(args.warmup_ratio * total_steps)
        optimizer = torch.optim.AdamW(self._param_groups(network), lr=args.learning_rate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: _warmup_linear(step, warmup, total_steps)
        )
        weights = self._class_weights(items)
        loss_fn = nn.CrossEntropyLoss(
            weight=weights.to(device) if weights is not None else None,
            label_smoothing=args.label_smoothing,
        )
        eval_every = args.eval_every or steps_per_epoch
        rng = random.Random(args.seed)
        result = TrainResult(classifier=classifier)
        best_f1, best_state, bad_evals = -1.0, None, 0
        averager = (
            CheckpointAverage(total_steps - math.ceil(args.average_last * total_steps))
            if args.average_last > 0
            else None
        )
        started = time.perf_counter()
        step = 0
        bar = tqdm(total=total_steps, disable=not args.progress, desc="train", unit="step")
        network.train()
        stop = False
        while not stop:
            for idx in self._batches(items, rng):
                batch = pad_batch([items[i][0] for i in idx], classifier.pad_id)
                tensors = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
                labels = torch.tensor([items[i][1] for i in idx], device=device)
                logits = network(
                    input_ids=tensors["input_ids"],
                    attention_mask=tensors["attention_mask"],
                    target_mask=tensors["target_mask"],
                    token_type_ids=(
                        tensors["token_type_ids"] if classifier.encoder.uses_token_types else None
                    ),
                )  # (B, K)
                loss = loss_fn(logits, labels)
                if soft_t is not None:
                    rows = torch.tensor([items[i][0].query_index for i in idx], device=device)
                    target = soft_t[rows]  # (B, K) teachers' probabilities
                    distill = -(target * torch.log_softmax(logits, dim=-1)).sum(-1).mean()
                    w = args.distill_weight
                    loss = (1 - w) * loss + w * distill
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(network.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                step += 1
                result.examples_seen += len(idx)
                elapsed = time.perf_counter() - started
                bar.update(1)
                bar.set_postfix(
                    loss=f"{loss.item():.4f}", ex_s=f"{result.examples_seen / elapsed:.1f}"
                )
                record: dict[str, Any] = {"step": step, "loss": float(loss.item())}
                checkpoint = step % eval_every == 0 or step == total_steps
                if averager is not None and checkpoint:
                    averager.add(step, network)
                if self.dev_data and checkpoint:
                    dev, _, _ = self._evaluate(classifier)
                    f1 = dev.metrics["macro_f1"]
                    record.update(dev_macro_f1=f1, dev_accuracy=dev.metrics["accuracy"])
                    bar.write(
                        f"step {step}: dev macro-F1 {f1:.4f} accuracy {dev.metrics['accuracy']:.4f}"
                    )
                    # With an average the weights kept are the average: no best, no early stop.
                    if averager is None:
                        if f1 > best_f1:
                            best_f1, bad_evals, result.best_step = f1, 0, step
                            best_state = copy.deepcopy(
                                {k: v.cpu() for k, v in network.state_dict().items()}
                            )
                        else:
                            bad_evals += 1
                            if bad_evals >= args.patience:
                                bar.write(
                                    f"early stop at step {step}: no dev improvement in "
                                    f"{bad_evals} evaluations"
                                )
                                stop = True
                    network.train()
                result.history.append(record)
                if stop or step >= total_steps:
                    stop = True
                    break
        bar.close()
        if averager is not None and averager.count:
            network.load_state_dict(averager.state)
            result.averaged_checkpoints = averager.count
            result.best_step = step
        elif best_state is not None:
            network.load_state_dict(best_state)
        else:
            result.best_step = step
        network.eval()
        result.steps = step
        result.seconds = time.perf_counter() - started
        result.classifier = self._calibrate(classifier, result)
        return result

    def _param_groups(self, network: nn.Module) -> list[dict[str, Any]]:
        """Encoder weights at the base rate with decay (not on biases/norms); head at its rate."""
        decay, no_decay, head = [], [], []
        for name, param in network.named_parameters():
            if name.startswith("classifier."):
                head.append(param)
            elif param.ndim < 2:
                no_decay.append(param)
            else:
                decay.append(param)
        return [
            {"params": decay, "weight_decay": self.args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
            {"params": head, "weight_decay": 0.0, "lr": self.args.head_learning_rate},
        ]

    def _evaluate(
        self, classifier: StanceClassifier, temperature: float | None = None
    ) -> tuple[EvalResult, np.ndarray, list[EncodedWindow]]:
        queries = [q for q, _ in self.dev_data]
        gold = [g for _, g in self.dev_data]
        return evaluate_queries(classifier, queries, gold, self.args.eval_batch_size, temperature)

    def _calibrate(self, classifier: StanceClassifier, result: TrainResult) -> StanceClassifier:
        """Fit a temperature on dev window logits; record dev metrics before and after."""
        if not self.dev_data:
            return classifier
        before, logits, windows = self._evaluate(classifier, temperature=1.0)
        result.dev_metrics_uncalibrated = before.metrics
        result.dev_metrics = before.metrics
        if not self.args.calibrate:
            return classifier
        gold = np.array([self.dev_data[w.query_index][1] for w in windows])
        temperature = fit_temperature(logits, gold)
        calibrated = classifier.with_config(classifier.config.replace(temperature=temperature))
        after, _, _ = self._evaluate(calibrated)
        result.dev_metrics = after.metrics
        return calibrated


class CheckpointAverage:
    """Running uniform average of the network's weights at checkpoints after ``start``.

    Why: the last checkpoints of a run differ by noise as much as by quality (the holdout
    macro-F1 moves by a point between evaluations), so keeping the one that scored best
    keeps some of that noise; their average is a cheap ensemble at the cost of one copy of
    the weights (cf. stochastic weight averaging).
    """

    def __init__(self, start: int) -> None:
        self.start = start
        self.count = 0
        self.state: dict[str, torch.Tensor] = {}

    def add(self, step: int, network: nn.Module) -> None:
        """Fold the current weights in when ``step`` is past ``start``."""
        if step <= self.start:
            return
        self.count += 1
        for name, value in network.state_dict().items():
            value = value.detach().cpu()
            if self.count == 1 or not value.is_floating_point():
                self.state[name] = value.clone()  # integer buffers (position ids) are copied
            else:
                self.state[name] += (value - self.state[name]) / self.count


def _warmup_linear(step: int, warmup: int, total: int) -> float:
    """LR multiplier: linear 0 -> 1 over ``warmup`` steps, then linear 1 -> 0 at ``total``."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))
