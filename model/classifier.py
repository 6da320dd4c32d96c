"""StanceClassifier: build, save, load and predict. The one entry point of the model package.

Saved folder layout (a plain Hugging Face-style folder; safetensors only, never pickle):

    stance_config.json      StanceConfig with schema_version; labels live only here
    config.json             encoder architecture (transformers)
    model.safetensors       encoder weights (markers' embeddings included)
    head.safetensors        classification head
    tokenizer.json, ...     tokenizer with the target markers as special tokens
    model.onnx, model.int8.onnx, export_report.json
                            exported backends (model/export/; run by model/onnx_runtime.py)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

from model.backends import (
    LogitsBackend,
    TorchBackend,
    carry_backend_files,
    default_num_threads,
    require_backend,
    resolve_backend,
)
from model.config import ConfigError, StanceConfig
from model.encoding import EncodedQuery, EncodedWindow, QueryEncoder
from model.network import StanceNetwork, load_encoder_source_error, resolve_base_model
from model.runner import PARALLEL_CHOICES, BatchRunner
from model.speaker_windows import encode_for_speaker, speaker_fields
from model.text import Span, split_sentences
from model.types import Evidence, QueryError, StancePrediction, StanceQuery

HEAD_FILENAME = "head.safetensors"
# Evidence windows returned per prediction at most.
MAX_EVIDENCE = 3


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class StanceClassifier:
    """Predicts the stance of a speaker toward a target in text.

    Build a fresh one for training with :meth:`from_base`, or load a trained one with
    :meth:`load`. :meth:`predict` takes any number of queries and batches internally.
    """

    def __init__(
        self,
        config: StanceConfig,
        tokenizer: Any,
        network: StanceNetwork,
        device: torch.device | None = None,
    ) -> None:
        self.config = config
        self.tokenizer = tokenizer
        self.device = device or default_device()
        self.network = network.to(self.device)
        self.encoder = QueryEncoder(tokenizer, config)
        pad_id = tokenizer.pad_token_id
        self.pad_id = int(pad_id) if pad_id is not None else 0
        # How logits are computed: the backend, run one batch at a time until load() sets
        # up parallel workers (see model/runner.py).
        self.runner = BatchRunner(
            TorchBackend(self.network, self.device, self.encoder.uses_token_types)
        )
        # The folder this model was loaded from (or exported into): save() copies the
        # exported backends' files from here.
        self.source: Path | None = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_base(
        cls, config: StanceConfig, device: torch.device | None = None, dropout: float = 0.1
    ) -> StanceClassifier:
        """A new, untrained classifier on top of ``config.base_model``.

        The target markers become special tokens; their embeddings start as the mean of the
        vocabulary's (a neutral point), so early training is not thrown off by random rows.
        """
        source = resolve_base_model(config.base_model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
            encoder = AutoModel.from_pretrained(
                source, trust_remote_code=False, use_safetensors=True
            )
        except (OSError, ValueError) as err:
            raise load_encoder_source_error(config.base_model, err) from err
        markers = [config.target_start, config.target_end]
        tokenizer.add_special_tokens(
            {"additional_special_tokens": markers}, replace_extra_special_tokens=False
        )
        old_size = encoder.get_input_embeddings().weight.shape[0]
        if len(tokenizer) > old_size:
            encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
            with torch.no_grad():
                emb = encoder.get_input_embeddings().weight  # (V, H)
                emb[old_size:] = emb[:old_size].mean(dim=0, keepdim=True)
        network = StanceNetwork(encoder, config.num_labels, config.pooling, dropout=dropout)
        return cls(config, tokenizer, network, device)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: torch.device | str | None = None,
        backend: str = "auto",
        num_threads: int | None = None,
        parallel: str = "batches",
    ) -> StanceClassifier:
        """Load a saved model folder; rebuilt from its ``stance_config.json`` alone.

        ``backend`` picks what computes the logits: ``torch``, or ``onnx`` / ``onnx-int8``
        when the folder was exported (ConfigError otherwise); ``auto`` (default) is ``onnx``
        when exported and on the CPU, else ``torch`` (same labels; see resolve_backend).
        ``num_threads``
        is how many cores inference uses (default: physical cores, or $STANCE_NUM_THREADS);
        ``parallel`` how: ``"batches"`` (default, best throughput) runs that many batches
        at once on single-threaded workers, ``"ops"`` runs one batch at a time with every
        operation split over the threads (lowest latency for lone short requests). See
        model/runner.py.
        """
        folder = Path(path)
        if parallel not in PARALLEL_CHOICES:
            raise ConfigError(
                f"unknown parallel mode {parallel!r}; choose one of {list(PARALLEL_CHOICES)}"
            )
        config = StanceConfig.load(folder)
        dev = torch.device(device) if isinstance(device, str) else device
        backend = resolve_backend(config, backend, dev or default_device())
        require_backend(config, folder, backend)
        head_path = folder / HEAD_FILENAME
        if not head_path.is_file():
            raise ConfigError(f"{head_path} not found: the model folder is incomplete")
        tokenizer = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False)
        encoder = AutoModel.from_pretrained(
            str(folder), trust_remote_code=False, use_safetensors=True
        )
        network = StanceNetwork(encoder, config.num_labels, config.pooling)
        head = load_file(str(head_path))
        try:
            network.classifier.load_state_dict(head)
        except RuntimeError as err:
            raise ConfigError(
                f"{head_path} does not match stance_config.json ({config.num_labels} labels, "
                f"pooling {config.pooling!r}): {err}"
            ) from None
        model = cls(config, tokenizer, network, dev)
        model.network.eval()
        model.source = folder
        threads = num_threads if num_threads is not None else default_num_threads()
        if threads < 1:
            raise ValueError(f"num_threads must be >= 1, found {threads}")
        # A GPU runs one batch at a time; on CPUs "batches" gives each worker one thread.
        workers = threads if parallel == "batches" and model.device.type == "cpu" else 1
        backend_threads = threads if workers == 1 else 1
        computer: LogitsBackend
        if backend == "torch":
            computer = TorchBackend(
                model.network, model.device, model.encoder.uses_token_types, backend_threads
            )
        else:
            from model.onnx_runtime import open_backend

            computer = open_backend(folder, backend, backend_threads)
        model.runner = BatchRunner(computer, workers)
        return model

    def save(self, path: str | Path) -> Path:
        """Write the model folder (creating it); returns its path."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.network.encoder.save_pretrained(str(folder), safe_serialization=True)
        self.tokenizer.save_pretrained(str(folder))
        head = {
            k: v.detach().cpu().contiguous()
            for k, v in self.network.classifier.state_dict().items()
        }
        save_file(head, str(folder / HEAD_FILENAME), metadata={"format": "pt"})
        carry_backend_files(self.config, self.source, folder).save(folder)
        return folder

    def with_config(self, config: StanceConfig) -> StanceClassifier:
        """The same weights under a changed config (e.g. a fitted temperature)."""
        if config.labels != self.config.labels or config.pooling != self.config.pooling:
            raise ConfigError("with_config cannot change labels or pooling of trained weights")
        clone = type(self)(config, self.tokenizer, self.network, self.device)
        clone.runner = self.runner  # an exported backend computes the same logits
        clone.source = self.source
        return clone

    # ----------------------------------------------------------------- inference
    @property
    def labels(self) -> tuple[str, ...]:
        """Label names in logit order."""
        return self.config.labels

    def encode(self, queries: Sequence[StanceQuery]) -> list[EncodedQuery]:
        """Windows for each query (validated first; QueryError names the bad query).

        A query with a speaker gets windows over that speaker's statements only (see
        model/speaker_windows.py for how they are found and the flagged fallbacks).
        """
        encoded: list[EncodedQuery] = []
        for i, query in enumerate(queries):
            try:
                query.validate()
            except QueryError as err:
                raise QueryError(f"query {i}: {err}") from None
            if query.speaker and query.speaker.strip():
                encoded.append(encode_for_speaker(self.encoder, query, i, self.config.max_windows))
            else:
                encoded.append(self.encoder.encode(query, i))
        return encoded

    @property
    def backend(self) -> LogitsBackend:
        """What computes the logits (``.name``: torch, onnx or onnx-int8)."""
        return self.runner.backend

    def window_logits(
        self, windows: Sequence[EncodedWindow], batch_size: int = 32, max_tokens: int | None = 8192
    ) -> np.ndarray:
        """Raw logits (N, K) for windows, in input order, using length-bucketed batches."""
        return self.runner.logits(
            windows, self.pad_id, self.config.num_labels, batch_size, max_tokens
        )

    def predict(
        self, queries: Sequence[StanceQuery], batch_size: int = 32
    ) -> list[StancePrediction]:
        """One prediction per query, in order; windows of all queries are batched together."""
        encoded = self.encode(queries)
        logits = self.window_logits([w for e in encoded for w in e.windows], batch_size)
        return self.combine(queries, encoded, logits)

    def combine(
        self, queries: Sequence[StanceQuery], encoded: Sequence[EncodedQuery], logits: np.ndarray
    ) -> list[StancePrediction]:
        """Predictions from raw window logits (sum of windows, K), calibrated and aggregated.

        Split from :meth:`predict` so callers that already hold logits (evaluation,
        calibration) can re-aggregate under another temperature without re-running the net.
        """
        probs = softmax(logits / self.config.temperature)
        results: list[StancePrediction] = []
        row = 0
        for query, enc in zip(queries, encoded, strict=True):
            n = len(enc.windows)
            results.append(self._aggregate(query, enc, probs[row : row + n]))
            row += n
        return results

    def _aggregate(
        self, query: StanceQuery, enc: EncodedQuery, probs: np.ndarray
    ) -> StancePrediction:
        """Combine window probabilities (W, K) into one prediction with evidence."""
        weights = window_weights(probs, self.config.aggregation)  # (W,)
        if self.config.aggregation == "max":
            combined = probs[int(np.argmax(weights))]
        else:
            combined = (weights[:, None] * probs).sum(axis=0) / max(float(weights.sum()), 1e-12)
        combined = combined / combined.sum()
        label_idx = int(np.argmax(combined))
        label = self.labels[label_idx]
        # Evidence: windows that agree with the decision, most confident first; if none
        # agrees on its own (a mix tipped the balance), the window that leans most to it.
        agree = [w for w in range(len(enc.windows)) if int(np.argmax(probs[w])) == label_idx]
        ranked = sorted(agree or range(len(enc.windows)), key=lambda w: -probs[w, label_idx])
        spans = {w: evidence_span(query.text, enc.windows[w], enc.mentions) for w in ranked}
        evidence = tuple(
            Evidence(
                text=query.text[spans[w][0] : spans[w][1]],
                start=spans[w][0],
                end=spans[w][1],
                probabilities=self._as_dict(probs[w]),
                weight=round(float(weights[w] / max(float(weights.sum()), 1e-12)), 6),
            )
            for w in ranked[:MAX_EVIDENCE]
        )
        return StancePrediction(
            label=label,
            probabilities=self._as_dict(combined),
            evidence=evidence,
            target=query.target,
            speaker=query.speaker,
            id=query.id,
            windows=len(enc.windows),
            mentions_found=enc.mentions_found,
            warnings=enc.warnings,
            **speaker_fields(query, enc),
        )

    def _as_dict(self, probs: np.ndarray) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}


def evidence_span(text: str, window: EncodedWindow, mentions: Sequence[Span]) -> Span:
    """The sentences of ``window`` that mention the target, as one character span.

    A window carries context sentences for the encoder; the user wants the sentence(s) that
    say something about the target. Windows without a mention keep their full span.
    """
    inside = [(s, e) for s, e in mentions if s >= window.start and e <= window.end]
    if not inside:
        return window.start, window.end
    first, last = min(s for s, _ in inside), max(e for _, e in inside)
    start, end = window.start, window.end
    for sentence in split_sentences(text[window.start : window.end]):
        s, e = window.start + sentence.start, window.start + sentence.end
        if s <= first < e:
            start = s
        if s < last <= e:
            end = e
    return start, end


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K), numerically stable."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=-1, keepdims=True)
    return result


def window_weights(probs: np.ndarray, aggregation: str) -> np.ndarray:
    """Weight (W,) of each window's vote.

    ``confidence``: 1 - normalised entropy, so a window that clearly takes a stance outweighs
    the many neutral-ish context windows of a long article; ``mean``: equal weights;
    ``max``: the same confidence, used to pick the single most confident window.
    """
    if aggregation == "mean":
        return np.ones(len(probs), dtype=np.float64)
    k = probs.shape[1]
    entropy = -(probs * np.log(np.clip(probs, 1e-12, 1.0))).sum(axis=1)
    result: np.ndarray = 1.0 - entropy / math.log(k) + 1e-6
    return result
