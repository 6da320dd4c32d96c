"""Exporting the ONNX backends: fp32 (``onnx``) and dynamic int8 (``onnx-int8``).

Running them is :mod:`model.onnx_runtime`. The export happens once, is stored in the model
folder beside the torch weights and is verified against the torch backend at export time:

    model.onnx            StanceNetwork as an ONNX graph (fp32)
    model.int8.onnx       the same graph, linear layers dynamically quantized to int8
    export_report.json    what the verification measured (see :func:`export_onnx`)
    stance_config.json    ``backends`` lists what the folder can run

The graph interface (inputs, output, shapes) is described in :mod:`model.onnx_runtime`.

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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from model.backends import (
    BACKEND_FILES,
    EXPORT_REPORT_FILENAME,
    TorchBackend,
)
from model.batching import length_buckets, pad_batch
from model.classifier import StanceClassifier
from model.config import BACKEND_CHOICES, ConfigError
from model.encoding import EncodedWindow
from model.export.verify import DEFAULT_SAMPLE, check_graph, window_logits
from model.network import StanceNetwork
from model.onnx_runtime import (
    EXPORTABLE,
    INPUT_NAMES,
    ONNX_FILENAME,
    ONNX_INT8_FILENAME,
    OUTPUT_NAME,
)
from model.types import StanceQuery

# An fp32 graph that differs from torch by more than this (max |p_onnx - p_torch| over the
# sample's query probabilities) is a broken export: it is deleted, never recorded.
FP32_PROB_TOLERANCE = 1e-3
# Dynamic int8 quantization. Only the linear layers are quantized: the fused Attention nodes
# (their packed Q/K/V projection) and the MatMul nodes with a weight initializer, where the
# FLOPs are. The embeddings stay fp32 (no FLOPs to save, and quantized embeddings only add
# error), as does the classification head (a Gemm of 2H x K: no time to save either).
# Weights get one scale per output channel: a few outlier columns otherwise set the scale of
# the whole matrix. reduce_range keeps weights in 7 bits: on AVX2 CPUs without VNNI the
# u8 x s8 kernel (vpmaddubsw) sums pairs into saturating int16 (255 * 127 * 2 > 32767) and
# full-range weights can overflow it. Measured on NewsMTSC dev_rw/dev_mt with a fine-tuned
# MiniLM (fused graph, AMD Zen 3): this setting gave macro-F1 82.30/74.11 against torch
# 83.75/74.24; full 8-bit weights 81.99/74.79, u8 weights 82.05/74.31 at 0.87x the speed,
# leaving the first layer or the FFN down-projections in fp32 83.2/73.3 and 83.0/73.0 at
# 0.9x the speed: no setting is within 0.5 points on both sets, so int8 stays opt-in.
#
# Before quantizing, activation outliers are moved into the weights (SmoothQuant, alpha 0.8;
# model/export/smooth.py): same fp32 function, less int8 error. Measured on the same model
# (calibrated on 400 train queries): label agreement with torch 98.5% / 98.9% on dev_rw /
# dev_mt (98.0% / 96.8% without), macro-F1 83.44 / 75.23; a second calibration sample gave
# 82.61 / 73.85, so the F1 gap to torch stays within noise of 0.5-1 point, not reliably
# under 0.5. alpha 0.5 hurt (78.5 on dev_rw): it pushes outliers into 7-bit weights.
QUANTIZATION: dict[str, Any] = {
    "weight_type": "QInt8",
    "op_types": ["MatMul", "Attention"],
    "per_channel": True,
    "reduce_range": True,
    "smoothing_alpha": 0.8,
}
# The smoothed fp32 graph must compute the logits it had (it is an exact rewrite).
SMOOTHING_LOGIT_TOLERANCE = 1e-3
SMOOTHED_TEMP = "model.smoothed.onnx.tmp"


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
    reference = window_logits(torch_backend, windows, classifier.pad_id, classifier.config)

    fp32_path = out_dir / ONNX_FILENAME
    report: dict[str, Any] = {
        "sample_queries": len(queries),
        "sample_windows": len(windows),
        "versions": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "backends": {},
    }
    # The fused graph first; the plain dynamo export when fusing fails or does not match.
    rejected: list[str] = []
    for exporter in (_export_graph, _export_plain):
        started = time.perf_counter()
        try:
            graph = exporter(classifier, windows, fp32_path)
        except ExportError as err:
            rejected.append(f"{exporter.__name__}: {err}"[:1000])
            continue
        seconds = time.perf_counter() - started
        check = check_graph(classifier, queries, encoded, reference, fp32_path, "onnx", seconds)
        if check["max_abs_prob_diff"] <= FP32_PROB_TOLERANCE:
            report["graph"] = graph | {"rejected": rejected}
            report["opset"] = _opset(onnx.load(str(fp32_path), load_external_data=False))
            report["backends"]["onnx"] = check
            break
        fp32_path.unlink(missing_ok=True)
        rejected.append(
            f"{exporter.__name__}: differs from torch by {check['max_abs_prob_diff']:.2e} in "
            f"probability (tolerance {FP32_PROB_TOLERANCE:.0e}), labels agree on "
            f"{check['label_agreement']:.1%}"
        )
    else:
        raise ExportError(
            f"no fp32 ONNX graph matched torch on {len(queries)} sample queries; nothing was "
            f"written. Attempts: {'; '.join(rejected)}. Check the torch {torch.__version__} / "
            f"onnxruntime {onnxruntime.__version__} pair, or keep using the torch backend"
        )
    if quantize:
        started = time.perf_counter()
        int8_path = out_dir / ONNX_INT8_FILENAME
        smoothed = fp32_path.with_name(SMOOTHED_TEMP)
        try:  # the smoothed graph is a temporary file, whatever happens
            smoothing = _smooth(fp32_path, smoothed, windows, classifier.pad_id)
            _quantize(smoothed if smoothing["applied"] else fp32_path, int8_path)
        finally:
            smoothed.unlink(missing_ok=True)
        seconds = time.perf_counter() - started
        check = check_graph(
            classifier, queries, encoded, reference, int8_path, "onnx-int8", seconds
        )
        check["quantization"] = dict(QUANTIZATION)
        check["smoothing"] = smoothing
        report["backends"]["onnx-int8"] = check
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
    classifier = StanceClassifier.load(folder, device="cpu")
    return export_backends(classifier, folder, backends, sample_queries)


def _export_graph(
    classifier: StanceClassifier, windows: Sequence[EncodedWindow], path: Path
) -> dict[str, Any]:
    """Export the network to ``path`` with dynamic batch and sequence axes; returns how.

    The graph ONNX Runtime runs fastest is a fused one: one ``Attention`` node per layer
    (QKV projection, masked softmax and context in one kernel), ``SkipLayerNormalization``
    and ``BiasGelu``. ONNX Runtime's transformer optimizer only recognises the attention
    pattern of the TorchScript exporter on eager attention; the SDPA attention transformers
    uses by default exports as a chain of MatMul, Where, IsNaN and Softmax nodes that nothing
    fuses (measured: 0.77 of the fp32 FLOP bound unfused, 0.82-0.87 fused, same labels).
    So the export works on a copy of the network switched to eager attention (same
    arithmetic) and runs the optimizer. The caller verifies the result
    against torch and falls back to :func:`_export_plain` if it fails; an encoder the
    optimizer does not know stays partly unfused, which is slower but still correct.
    """
    import copy

    network = copy.deepcopy(classifier.network).cpu()
    encoder = network.encoder
    set_attention = getattr(encoder, "set_attn_implementation", None)
    if callable(set_attention):
        # An encoder without eager attention exports as it is: unfused, still verified.
        with contextlib.suppress(ValueError, NotImplementedError):
            set_attention("eager")
    example = _example_inputs(classifier, windows)
    raw = path.with_name(path.name + ".raw")
    info: dict[str, Any] = {"exporter": "torchscript", "fused": {}}
    with _quiet_exporter() as log:
        try:
            torch.onnx.export(
                _ExportModule(network, classifier.encoder.uses_token_types).eval(),
                example,
                str(raw),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in INPUT_NAMES}
                | {OUTPUT_NAME: {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        except Exception as err:
            raw.unlink(missing_ok=True)
            raise ExportError(
                f"torch.onnx.export (TorchScript) failed ({type(err).__name__}: {err}); "
                f"exporter output:\n{log.getvalue()[-2000:]}"
            ) from err
    enc_config = encoder.config
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        with _quiet_exporter():
            optimized = optimize_model(
                str(raw),
                model_type="bert",  # the BERT fusions also cover RoBERTa-style encoders
                num_heads=int(getattr(enc_config, "num_attention_heads", 0)),
                hidden_size=int(getattr(enc_config, "hidden_size", 0)),
                opt_level=1,  # constant folding only: nothing tied to this machine's CPU
                use_gpu=False,
            )
        info["fused"] = {
            k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v
        }
        optimized.save_model_to_file(str(path))
    finally:
        raw.unlink(missing_ok=True)
    return info


def _export_plain(
    classifier: StanceClassifier, windows: Sequence[EncodedWindow], path: Path
) -> dict[str, Any]:
    """The fallback export: torch.export -> ONNX (the dynamo exporter), nothing fused."""
    network = classifier.network
    if classifier.device.type != "cpu":
        import copy

        network = copy.deepcopy(network).cpu()
    module = _ExportModule(network, classifier.encoder.uses_token_types)
    args = _example_inputs(classifier, windows)
    batch_dim = torch.export.Dim("batch")
    seq_dim = torch.export.Dim("sequence")
    dynamic = {name: {0: batch_dim, 1: seq_dim} for name in INPUT_NAMES}
    was_training = network.training
    module.eval()  # dropout off (the wrapper and the network it holds)
    try:
        with _quiet_exporter() as log:
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
    return {"exporter": "dynamo", "fused": {}}


def _example_inputs(
    classifier: StanceClassifier, windows: Sequence[EncodedWindow]
) -> tuple[torch.Tensor, ...]:
    """Four (2, T) int64 tensors from the shortest and the longest window.

    Two windows of different lengths: a batch of 1 or equal lengths could let the tracer
    specialise a dimension that must stay dynamic.
    """
    ordered = sorted(windows, key=lambda w: len(w.input_ids))
    example = pad_batch([ordered[0], ordered[-1]], classifier.pad_id)
    return tuple(torch.from_numpy(example[name]) for name in INPUT_NAMES)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[io.StringIO]:
    """Capture exporter chatter: progress on stdout (kept for an error message), warnings
    about axis names, deprecation notes, and 'torchvision is not installed' log lines;
    none is actionable for a user. Yields the captured stdout."""
    log = io.StringIO()
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxruntime", "")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(log), warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            yield log
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _smooth(
    fp32_path: Path, target: Path, windows: Sequence[EncodedWindow], pad_id: int
) -> dict[str, Any]:
    """Write the smoothed fp32 graph (model/export/smooth.py) to ``target``.

    Calibrated on the export sample's windows (activation maxima need no labels). Returns
    a summary; ``applied`` is false, with the reason, when the graph has a layout smoothing
    does not handle, has no linear layer to smooth, or the smoothed graph no longer computes
    the same logits; int8 is then quantized from the unsmoothed graph. The caller removes
    ``target``.
    """
    from model.export.smooth import smooth_graph

    batches = [pad_batch([windows[i] for i in idx], pad_id) for idx in length_buckets(windows, 32)]
    alpha = float(QUANTIZATION["smoothing_alpha"])
    try:
        result = smooth_graph(str(fp32_path), str(target), batches, alpha)
    except ValueError as err:  # a graph layout smooth_graph does not handle
        return {"applied": False, "reason": str(err)}
    nodes = result["smoothed"]
    summary: dict[str, Any] = {
        "applied": True,
        "alpha": alpha,
        "nodes": len(nodes),
        "calibration_windows": len(windows),
        "worst_outlier_ratio_before": max((n["outlier_ratio_before"] for n in nodes), default=0),
        "worst_outlier_ratio_after": max((n["outlier_ratio_after"] for n in nodes), default=0),
        "max_abs_logit_diff": result["max_abs_logit_diff"],
    }
    if not nodes:
        summary.update(applied=False, reason="no linear layer to smooth")
    elif result["max_abs_logit_diff"] > SMOOTHING_LOGIT_TOLERANCE:
        summary.update(applied=False, reason="the smoothed fp32 graph changed the logits")
    return summary


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the fp32 graph (weights int8, activations per batch)."""
    import onnx
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
            # The fused contrib-op outputs have no inferred types; they are all float32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
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
