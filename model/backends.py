"""Inference backends: compute logits for a padded batch.

A backend is anything with ``logits(batch) -> (B, K) float32 array``. The torch backend is
the reference; exported backends (ONNX, see model/onnx_runtime.py) must agree with it and are
recorded in the config (``StanceConfig.backends``) together with their files in the model
folder. This module imports neither onnx nor onnxruntime, so loading a torch-only model stays
as cheap as before.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from model.config import BACKEND_CHOICES, LOAD_BACKEND_CHOICES, ConfigError, StanceConfig
from model.network import StanceNetwork

# File of each exported backend inside a model folder (and in its BentoML store entry).
BACKEND_FILES: dict[str, str] = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
# What the export measured against torch (max probability difference, label agreement).
EXPORT_REPORT_FILENAME = "export_report.json"
# Overrides the thread count of every backend (e.g. several service workers on one host).
ENV_NUM_THREADS = "STANCE_NUM_THREADS"


class LogitsBackend(Protocol):
    """Computes raw (uncalibrated) logits for one padded batch."""

    name: str

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """(B, K) float32 logits for arrays of shape (B, T)."""
        ...


def physical_cores() -> int:
    """Physical cores this process may run on: hyper-threads counted once, CPU affinity and a
    cgroup CPU quota respected; at least 1.

    Matrix multiplies saturate a core's FMA units with one thread, so a second hyper-thread
    on the same core adds contention, not FLOPs; more threads than the quota only adds
    throttling.
    """
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        allowed = list(range(os.cpu_count() or 1))
    cores: set[tuple[str, str]] = set()
    for cpu in allowed:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            package, core = "cpu", str(cpu)  # no topology: count logical CPUs
        cores.add((package, core))
    count = max(1, len(cores))
    quota = _cgroup_cpu_quota()
    return max(1, min(count, quota)) if quota else count


def _cgroup_cpu_quota() -> int | None:
    """CPUs allowed by a cgroup v2 quota (``cpu.max``), rounded up; None when unlimited."""
    try:
        raw = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except OSError:
        return None
    if len(raw) != 2 or raw[0] == "max":
        return None
    try:
        return max(1, math.ceil(int(raw[0]) / int(raw[1])))
    except (ValueError, ZeroDivisionError):
        return None


def default_num_threads() -> int:
    """Threads for inference: ``$STANCE_NUM_THREADS`` when set, else :func:`physical_cores`."""
    raw = os.environ.get(ENV_NUM_THREADS, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{ENV_NUM_THREADS}={raw!r}: expected a positive integer")
        return value
    return physical_cores()


class TorchBackend:
    """Runs the torch module in inference mode on its device.

    ``num_threads`` sets torch's intra-op threads for the calling thread. The setting is
    process-wide state, so it is only set when asked for (StanceClassifier.load does, for
    inference); a classifier built for training leaves the trainer's setting alone.
    """

    name = "torch"

    def __init__(
        self,
        network: StanceNetwork,
        device: torch.device,
        uses_token_types: bool,
        num_threads: int | None = None,
    ) -> None:
        self.network = network
        self.device = device
        self.uses_token_types = uses_token_types
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, found {num_threads}")
        self.num_threads = num_threads
        self._apply_threads()

    def _apply_threads(self) -> None:
        # Checked on every call, not only here: the setting is per process (per calling
        # thread for OpenMP), and other code (another classifier, a training run, the HF
        # pipeline) may have changed it since.
        if self.num_threads is not None and torch.get_num_threads() != self.num_threads:
            torch.set_num_threads(self.num_threads)

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """(B, K) float32 logits."""
        self._apply_threads()
        # from_numpy shares memory with the batch (no copy); .to() is a no-op on CPU.
        tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
        # A network in training (evaluation during fine-tuning) is switched to eval mode for
        # the call and back. A loaded model is always in eval mode, so parallel workers
        # (model/runner.py) never write the flag while another worker reads it.
        was_training = self.network.training
        if was_training:
            self.network.eval()
        try:
            with torch.inference_mode():
                out = self.network(
                    input_ids=tensors["input_ids"],
                    attention_mask=tensors["attention_mask"],
                    target_mask=tensors["target_mask"],
                    token_type_ids=tensors["token_type_ids"] if self.uses_token_types else None,
                )
        finally:
            if was_training:
                self.network.train()
        result: np.ndarray = out.float().cpu().numpy()
        return result


def carry_backend_files(config: StanceConfig, source: Path | None, folder: Path) -> StanceConfig:
    """The config to write into ``folder``, with the exported backends' files carried along.

    A model loaded from an exported folder and saved elsewhere copies its ONNX files (and the
    export report) from ``source``; a backend whose file is in neither place is dropped from
    the config, so a saved config never names a backend its folder cannot load.
    """
    kept: list[str] = []
    for backend in config.backends:
        if backend == "torch":
            kept.append(backend)
            continue
        filename = BACKEND_FILES[backend]
        target = folder / filename
        # (a missing target is never the source's own file: same folder, same file)
        if not target.is_file() and source is not None and (source / filename).is_file():
            shutil.copy2(source / filename, target)
        if target.is_file():
            kept.append(backend)
    report = EXPORT_REPORT_FILENAME
    if (
        len(kept) > 1
        and source is not None
        and (source / report).is_file()
        and not (folder / report).is_file()
    ):
        shutil.copy2(source / report, folder / report)
    return config.replace(backends=tuple(kept))


def resolve_backend(config: StanceConfig, backend: str, device: torch.device) -> str:
    """The backend to load for a requested one: ``"auto"`` is ``onnx`` when the model was
    exported and runs on the CPU, else ``torch``.

    The fp32 ONNX graph computes the same labels as torch (its export is rejected otherwise;
    on NewsMTSC dev every label and probabilities within 3e-6) and is faster: 2.5x for a lone
    short request, and more items/s in batches (bench/throughput.py). int8 changes labels,
    so "auto" never picks it.
    """
    if backend not in LOAD_BACKEND_CHOICES:
        raise ConfigError(
            f"unknown backend {backend!r}; choose one of {list(LOAD_BACKEND_CHOICES)}"
        )
    if backend != "auto":
        return backend
    return "onnx" if "onnx" in config.backends and device.type == "cpu" else "torch"


def require_backend(config: StanceConfig, folder: Path, backend: str) -> None:
    """Raise ConfigError unless ``backend`` can be loaded from the model ``folder``."""
    if backend not in BACKEND_CHOICES:
        raise ConfigError(
            f"unknown backend {backend!r}; choose one of {list(LOAD_BACKEND_CHOICES)}"
        )
    if backend not in config.backends:
        raise ConfigError(
            f"backend {backend!r} is not exported for the model in {folder} (available: "
            f"{', '.join(config.backends)}); export it with `stance export --model {folder}` "
            "or model.export.onnx.export_backends(), or choose an available backend"
        )
    if backend != "torch" and not (folder / BACKEND_FILES[backend]).is_file():
        raise ConfigError(
            f"{folder / BACKEND_FILES[backend]} not found although stance_config.json lists "
            f"backend {backend!r}; re-export with `stance export --model {folder}`"
        )
