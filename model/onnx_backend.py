"""ONNX Runtime backends: fp32 (``onnx``) and dynamic int8 (``onnx-int8``).

The export happens once, is stored in the model folder beside the torch weights and is
verified against the torch backend at export time:

    model.onnx            StanceNetwork as an ONNX graph (fp32)
    model.int8.onnx       the same graph, linear layers dynamically quantized to int8
    export_report.json    what the verification measured (see :func:`export_onnx`)
    stance_config.json    ``backends`` lists what the folder can run

Graph interface (every backend sees the same padded batch as the torch backend):
inputs ``input_ids``, ``attention_mask``, ``token_type_ids``, ``target_mask``, all int64 of
shape (B, T) with dynamic batch and sequence axes; output ``logits`` float32 (B, K). A model
whose tokenizer has no token types still has the ``token_type_ids`` input (it is fed zeros
and ignored, exactly as the torch backend passes ``None``), so callers never branch.

onnx, onnxruntime and onnxscript are imported inside the functions: loading a torch-only
model does not pay for them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from model.backends import (
    BACKEND_FILES,
    EXPORT_REPORT_FILENAME,
    LogitsBackend,
    TorchBackend,
    default_num_threads,
)
from model.batching import length_buckets, pad_batch
from model.config import BACKEND_CHOICES, ConfigError
from model.encoding import EncodedWindow
from model.network import StanceNetwork
from model.types import StanceQuery

if TYPE_CHECKING:
    from model.classifier import StanceClassifier

ONNX_FILENAME = BACKEND_FILES["onnx"]
ONNX_INT8_FILENAME = BACKEND_FILES["onnx-int8"]
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids", "target_mask")
OUTPUT_NAME = "logits"
EXPORTABLE = ("onnx", "onnx-int8")
# An fp32 graph that differs from torch by more than this (max |p_onnx - p_torch| over the
# sample's query probabilities) is a broken export: it is deleted, never recorded.
FP32_PROB_TOLERANCE = 1e-3
# Dynamic int8 quantization. Only MatMul nodes with a weight initializer are quantized: the 36
# linear layers of the encoder, where the FLOPs are. The embedding Gathers stay fp32 (no
# FLOPs to save, and quantized embeddings only add error), as does the classification head
# (a Gemm of 2H x K: no time to save either). Weights get one scale per output channel: a
# few outlier columns otherwise set the scale of the whole matrix. reduce_range keeps
# weights in 7 bits: on AVX2 CPUs without VNNI the u8 x s8 kernel (vpmaddubsw) sums pairs
# into saturating int16 (255 * 127 * 2 > 32767) and full-range weights can overflow it.
# Measured on NewsMTSC dev_rw with a fine-tuned MiniLM (343 queries, AMD Zen 3): per-channel
# + 7 bits agreed with torch on 97.7% of labels; per-tensor 8 bits 94.2%, per-tensor 7 bits
# 88.3%, per-channel 8 bits 97.4%. u8 weights (no saturation) agreed 96.5% but ran at a
# third of the speed.
QUANTIZATION: dict[str, Any] = {
    "weight_type": "QInt8",
    "op_types": ["MatMul"],
    "per_channel": True,
    "reduce_range": True,
}

# Queries for the export check when the caller has none (written for this purpose, not taken
# from any dataset): short and long, with and without a speaker, a target that is only a
# topic, and an article long enough to be split into several windows.
_FILLER = "Officials toured the harbour and inspected the new ferry terminal on Monday. "
DEFAULT_SAMPLE: tuple[StanceQuery, ...] = (
    StanceQuery(
        text="The minister praised the monitoring mission for its calm, professional work.",
        target="the monitoring mission",
    ),
    StanceQuery(
        text="Critics accused the agency of hiding the true cost of the bridge project.",
        target="the agency",
    ),
    StanceQuery(
        text="The delegation arrived in Geneva on Tuesday for the second round of talks.",
        target="The delegation",
    ),
    StanceQuery(
        text="President Aliyev said the performance of the Russian peacekeepers can be "
        "considered satisfactory.",
        target="Russian peacekeepers",
        speaker="President Aliyev",
    ),
    StanceQuery(
        text="The union described the company's latest offer as an insult to its members.",
        target="the company",
        speaker="the union",
    ),
    StanceQuery(text="Residents blamed the utility for weeks of blackouts.", target="the utility"),
    StanceQuery(text="The court is expected to hear the case in March.", target="energy policy"),
    StanceQuery(
        text="Observers welcomed the ceasefire as a real chance for peace in the region, "
        "while the opposition called it a cynical pause that would let the army regroup.",
        target="the ceasefire",
    ),
    StanceQuery(
        text=_FILLER * 12
        + "The mayor called the ferry operator a disgrace to the city. "
        + _FILLER * 12
        + "Later the ferry operator was thanked by passengers for its quick response. "
        + _FILLER * 6,
        target="the ferry operator",
    ),
    StanceQuery(text=_FILLER * 20, target="the harbour"),
)


class ExportError(RuntimeError):
    """An export could not be produced or failed its check against torch; nothing recorded."""


class _ExportModule(nn.Module):
    """StanceNetwork with the fixed positional signature of the ONNX graph.

    ``token_type_ids`` is always an input; when the tokenizer has no token types it is not
    passed on (the encoder then uses its own zeros, like the torch backend's ``None``).
    """

    def __init__(self, network: StanceNetwork, uses_token_types: bool) -> None:
        super().__init__()
        self.network = network
        self.uses_token_types = uses_token_types

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        target_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Logits (B, K) from four int64 (B, T) tensors."""
        logits: torch.Tensor = self.network(
            input_ids=input_ids,
            attention_mask=attention_mask,
            target_mask=target_mask,
            token_type_ids=token_type_ids if self.uses_token_types else None,
        )
        return logits


class OnnxBackend:
    """Runs an exported graph with ONNX Runtime on the CPU.

    One session per backend, created once: ONNX Runtime plans the graph, fuses layer norms and
    GELUs and keeps its thread pool and memory arena across calls. ``num_threads`` sets the
    intra-op pool (default: the physical cores); inter-op parallelism is off because the
    graph is one chain of layers.
    """

    def __init__(
        self, path: str | Path, num_threads: int | None = None, name: str | None = None
    ) -> None:
        import onnxruntime as ort

        file = Path(path)
        if not file.is_file():
            raise ConfigError(
                f"{file} not found: export the model first (`stance export --model FOLDER`)"
            )
        threads = num_threads if num_threads is not None else default_num_threads()
        if threads < 1:
            raise ValueError(f"num_threads must be >= 1, found {threads}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only; fusion notes are not for users
        self.path = file
        self.num_threads = threads
        self.name = name or ("onnx-int8" if file.name == ONNX_INT8_FILENAME else "onnx")
        self.session = ort.InferenceSession(
            str(file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        unknown = sorted(set(self.input_names) - set(INPUT_NAMES))
        outputs = [o.name for o in self.session.get_outputs()]
        if unknown or OUTPUT_NAME not in outputs:
            raise ConfigError(
                f"{file} is not a stance ONNX graph: inputs {self.input_names}, outputs "
                f"{outputs}; expected inputs among {list(INPUT_NAMES)} and output "
                f"{OUTPUT_NAME!r}. Re-export it with `stance export --model FOLDER`"
            )
        self._outputs = [OUTPUT_NAME]

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """(B, K) float32 logits for int64 arrays of shape (B, T)."""
        feed = {name: batch[name] for name in self.input_names}
        out = self.session.run(self._outputs, feed)[0]
        return np.asarray(out, dtype=np.float32)


def open_backend(folder: str | Path, backend: str, num_threads: int | None = None) -> OnnxBackend:
    """The ONNX backend ``backend`` stored in a model folder (config checked by the caller)."""
    if backend not in BACKEND_FILES:
        raise ConfigError(
            f"backend {backend!r} is not an exported backend; choose one of {list(EXPORTABLE)}"
        )
    return OnnxBackend(Path(folder) / BACKEND_FILES[backend], num_threads, name=backend)


def export_onnx(
    classifier: StanceClassifier,
    folder: str | Path,
    quantize: bool = True,
    sample_queries: Sequence[StanceQuery] | None = None,
) -> dict[str, Any]:
    """Export ``classifier`` to ``folder/model.onnx`` (and ``model.int8.onnx``), verified.

    Each graph is run on the sample queries (default :data:`DEFAULT_SAMPLE`) and compared
    with the torch backend: ``max_abs_prob_diff`` over the query probabilities the user sees
    (calibrated, windows aggregated), ``max_abs_window_prob_diff`` over single windows, and
    ``label_agreement`` (fraction of queries with the same label). An fp32 graph off by more
    than :data:`FP32_PROB_TOLERANCE` raises ExportError and is removed; the int8 graph is
    reported as measured (int8 changes numbers by design; whether it is good enough is
    judged on a labelled dev set, see bench/throughput.py).

    Does not touch ``stance_config.json``; :func:`export_backends` does that.
    Returns the report (JSON-ready).
    """
    import onnx
    import onnxruntime

    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    queries = list(sample_queries) if sample_queries else list(DEFAULT_SAMPLE)
    encoded = classifier.encode(queries)
    windows = [w for e in encoded for w in e.windows]
    if len(windows) < 2:
        raise ExportError("the export sample needs at least 2 windows; pass more sample queries")
    torch_backend = TorchBackend(
        classifier.network, classifier.device, classifier.encoder.uses_token_types
    )
    reference = _window_logits(torch_backend, windows, classifier.pad_id, classifier.config)

    fp32_path = out_dir / ONNX_FILENAME
    started = time.perf_counter()
    _export_graph(classifier, windows, fp32_path)
    report: dict[str, Any] = {
        "sample_queries": len(queries),
        "sample_windows": len(windows),
        "opset": _opset(onnx.load(str(fp32_path), load_external_data=False)),
        "versions": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "backends": {},
    }
    entries: list[tuple[str, Path, float]] = [("onnx", fp32_path, time.perf_counter() - started)]
    if quantize:
        started = time.perf_counter()
        int8_path = out_dir / ONNX_INT8_FILENAME
        _quantize(fp32_path, int8_path)
        entries.append(("onnx-int8", int8_path, time.perf_counter() - started))
    for name, path, seconds in entries:
        backend = OnnxBackend(path, name=name)
        logits = _window_logits(backend, windows, classifier.pad_id, classifier.config)
        check = _compare(classifier, queries, encoded, reference, logits)
        check.update(file=path.name, bytes=path.stat().st_size, export_seconds=round(seconds, 2))
        if name == "onnx-int8":
            check["quantization"] = dict(QUANTIZATION)
        report["backends"][name] = check
        if name == "onnx" and not check["max_abs_prob_diff"] <= FP32_PROB_TOLERANCE:
            for _, written, _ in entries:
                written.unlink(missing_ok=True)
            raise ExportError(
                f"the fp32 ONNX graph differs from torch by {check['max_abs_prob_diff']:.2e} in "
                f"probability (tolerance {FP32_PROB_TOLERANCE:.0e}) on {len(queries)} sample "
                f"queries, labels agree on {check['label_agreement']:.1%}; the export was "
                f"removed. Check the torch {torch.__version__} / onnxruntime "
                f"{onnxruntime.__version__} pair, or keep using the torch backend"
            )
    return report


def export_backends(
    classifier: StanceClassifier,
    folder: str | Path,
    backends: Sequence[str] = EXPORTABLE,
    sample_queries: Sequence[StanceQuery] | None = None,
) -> dict[str, Any]:
    """Export into a saved model folder and record the backends in its config.

    Saves ``classifier`` into ``folder`` first unless it was loaded from there, writes the
    ONNX files, rewrites ``stance_config.json`` with ``backends`` updated and writes
    ``export_report.json``. The classifier's own config is updated the same way, so saving
    it again (or registering it) carries the exported files along.
    """
    wanted = tuple(dict.fromkeys(backends))
    unknown = [b for b in wanted if b not in EXPORTABLE]
    if unknown or "onnx" not in wanted:
        raise ConfigError(
            f"backends to export must include 'onnx' (int8 is quantized from it) and only name "
            f"{list(EXPORTABLE)}, found {list(backends)}"
        )
    out_dir = Path(folder)
    source = classifier.source
    if source is None or source.resolve() != out_dir.resolve():
        classifier.save(out_dir)
    report = export_onnx(classifier, out_dir, "onnx-int8" in wanted, sample_queries)
    stale = [b for b in EXPORTABLE if b not in wanted]
    for name in stale:  # a previous export of a backend not wanted now would be stale
        (out_dir / BACKEND_FILES[name]).unlink(missing_ok=True)
    config = classifier.config.replace(
        backends=tuple(b for b in BACKEND_CHOICES if b == "torch" or b in wanted)
    )
    config.save(out_dir)
    (out_dir / EXPORT_REPORT_FILENAME).write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    classifier.config = config
    classifier.source = out_dir
    return report


def export_folder(
    folder: str | Path,
    backends: Sequence[str] = EXPORTABLE,
    sample_queries: Sequence[StanceQuery] | None = None,
) -> dict[str, Any]:
    """Load the torch model saved in ``folder`` and export it in place (see export_backends)."""
    from model.classifier import StanceClassifier

    classifier = StanceClassifier.load(folder, device="cpu")
    return export_backends(classifier, folder, backends, sample_queries)


def _export_graph(
    classifier: StanceClassifier, windows: Sequence[EncodedWindow], path: Path
) -> None:
    """torch.export -> ONNX (the dynamo exporter) with dynamic batch and sequence axes."""
    network = classifier.network
    if classifier.device.type != "cpu":
        import copy

        network = copy.deepcopy(network).cpu()
    module = _ExportModule(network, classifier.encoder.uses_token_types)
    # Two windows of different lengths: a batch of 1 or equal lengths could let the tracer
    # specialise a dimension that must stay dynamic.
    ordered = sorted(windows, key=lambda w: len(w.input_ids))
    example = pad_batch([ordered[0], ordered[-1]], classifier.pad_id)
    args = tuple(torch.from_numpy(example[name]) for name in INPUT_NAMES)
    batch_dim = torch.export.Dim("batch")
    seq_dim = torch.export.Dim("sequence")
    dynamic = {name: {0: batch_dim, 1: seq_dim} for name in INPUT_NAMES}
    was_training = network.training
    module.eval()  # dropout off (the wrapper and the network it holds)
    log = io.StringIO()
    # Notes such as "torchvision is not installed, skipping torchvision::nms" at WARNING.
    exporter_logger = logging.getLogger("torch.onnx")
    exporter_level = exporter_logger.level
    exporter_logger.setLevel(logging.ERROR)
    try:
        # The exporter reports progress on stdout (kept for an error message) and notes
        # about axis naming as warnings (dropped); neither is actionable for a user.
        with (
            contextlib.redirect_stdout(log),
            warnings.catch_warnings(),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_shapes=dynamic,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
    except Exception as err:
        path.unlink(missing_ok=True)
        raise ExportError(
            f"torch.onnx.export failed ({type(err).__name__}: {err}); exporter output:\n"
            f"{log.getvalue()[-2000:]}\nKeep using the torch backend, or report the torch "
            f"{torch.__version__} version with this message"
        ) from err
    finally:
        network.train(was_training)
        exporter_logger.setLevel(exporter_level)


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the fp32 graph (weights int8, activations per batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs advice (pre-processing) on the root logger at WARNING; it does not
    # apply to a graph ONNX Runtime optimizes at load time.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=list(QUANTIZATION["op_types"]),
            per_channel=bool(QUANTIZATION["per_channel"]),
            reduce_range=bool(QUANTIZATION["reduce_range"]),
            weight_type=QuantType[str(QUANTIZATION["weight_type"])],
        )
    except Exception as err:
        target.unlink(missing_ok=True)
        raise ExportError(
            f"int8 quantization of {source} failed ({type(err).__name__}: {err}); export "
            "without int8 (`stance export --no-int8`)"
        ) from err
    finally:
        root.setLevel(level)


def _opset(model: Any) -> int:
    """The default-domain opset of an ONNX model."""
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _window_logits(
    backend: LogitsBackend, windows: Sequence[EncodedWindow], pad_id: int, config: Any
) -> np.ndarray:
    """Logits (N, K) of ``windows`` in input order, batched as StanceClassifier does."""
    out = np.zeros((len(windows), config.num_labels), dtype=np.float32)
    for idx in length_buckets(windows, 32, 8192):
        out[idx] = backend.logits(pad_batch([windows[i] for i in idx], pad_id))
    return out


def _compare(
    classifier: StanceClassifier,
    queries: Sequence[StanceQuery],
    encoded: Sequence[Any],
    reference: np.ndarray,
    logits: np.ndarray,
) -> dict[str, Any]:
    """How far ``logits`` (N, K) lead from the torch ``reference`` (N, K)."""
    from model.classifier import softmax

    temperature = classifier.config.temperature
    window_diff = np.abs(softmax(reference / temperature) - softmax(logits / temperature))
    ref_preds = classifier.combine(queries, encoded, reference)
    new_preds = classifier.combine(queries, encoded, logits)
    labels = classifier.labels
    ref_probs = np.array([[p.probabilities[k] for k in labels] for p in ref_preds])
    new_probs = np.array([[p.probabilities[k] for k in labels] for p in new_preds])
    agree = [a.label == b.label for a, b in zip(ref_preds, new_preds, strict=True)]
    return {
        "max_abs_prob_diff": float(np.abs(ref_probs - new_probs).max()),
        "max_abs_window_prob_diff": float(window_diff.max()),
        "max_abs_logit_diff": float(np.abs(reference - logits).max()),
        "label_agreement": float(np.mean(agree)),
        "labels_changed": int(len(agree) - sum(agree)),
    }
