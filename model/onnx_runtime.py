"""Running an exported graph: the ONNX Runtime backends ``onnx`` (fp32) and ``onnx-int8``.

Producing the graphs is :mod:`model.export` (which imports this module for its checks; this
module imports nothing of the export). Graph interface (every backend sees the same padded
batch as the torch backend): inputs ``input_ids``, ``attention_mask``, ``token_type_ids``,
``target_mask``, all int64 of shape (B, T) with dynamic batch and sequence axes; output
``logits`` float32 (B, K). A model whose tokenizer has no token types still has the
``token_type_ids`` input (it is fed zeros and ignored, exactly as the torch backend passes
``None``), so callers never branch.

onnxruntime is imported inside the functions: loading a torch-only model does not pay for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.backends import BACKEND_FILES, default_num_threads
from model.config import ConfigError

ONNX_FILENAME = BACKEND_FILES["onnx"]
ONNX_INT8_FILENAME = BACKEND_FILES["onnx-int8"]
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids", "target_mask")
OUTPUT_NAME = "logits"
EXPORTABLE = ("onnx", "onnx-int8")


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
