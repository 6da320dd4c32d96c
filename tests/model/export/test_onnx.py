"""ONNX backends: export once, verify against torch, load by name, keep through save/load."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import onnx
import onnx.numpy_helper
import pytest

from model import StanceClassifier, StanceConfig, StanceQuery
from model.backends import (
    BACKEND_FILES,
    EXPORT_REPORT_FILENAME,
    default_num_threads,
    physical_cores,
)
from model.config import CONFIG_FILENAME, ConfigError
from model.export.onnx import export_backends

FILLER = "Officials toured the harbour and the new terminal on a grey morning. "
QUERIES = [
    StanceQuery(
        text="The president said the peacekeepers' performance can be considered satisfactory.",
        target="peacekeepers",
        speaker="the president",
        id="q1",
    ),
    StanceQuery(text="Critics accused the agency of hiding costs.", target="the agency", id="q2"),
    StanceQuery(text="The delegation arrived on Tuesday.", target="energy policy", id="q3"),
    StanceQuery(
        text=FILLER * 10
        + "The mayor called the ferry operator a disgrace to the city. "
        + FILLER * 10
        + "Passengers later thanked the ferry operator for its quick help. "
        + FILLER * 5,
        target="the ferry operator",
        id="long",
    ),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An untrained model (max_length 64) saved and exported with both ONNX backends."""
    folder = tmp_path_factory.mktemp("onnx") / "model"
    classifier = StanceClassifier.from_base(StanceConfig(max_length=64))
    report = export_backends(classifier, folder)
    return folder, report, classifier


@pytest.fixture(scope="module")
def torch_model(exported):
    return StanceClassifier.load(exported[0], backend="torch")


def _probs(predictions, labels):
    return np.array([[p.probabilities[k] for k in labels] for p in predictions])


def test_export_writes_files_report_and_config(exported):
    folder, report, classifier = exported
    assert (folder / "model.onnx").is_file() and (folder / "model.int8.onnx").is_file()
    assert StanceConfig.load(folder).backends == ("torch", "onnx", "onnx-int8")
    assert classifier.config.backends == ("torch", "onnx", "onnx-int8")
    on_disk = json.loads((folder / EXPORT_REPORT_FILENAME).read_text())
    assert on_disk == report
    assert report["sample_windows"] > report["sample_queries"]  # the sample has long texts
    for name in ("onnx", "onnx-int8"):
        check = report["backends"][name]
        for key in ("max_abs_prob_diff", "max_abs_window_prob_diff", "label_agreement"):
            assert math.isfinite(check[key]), (name, key)
        assert 0.0 <= check["label_agreement"] <= 1.0
    assert report["backends"]["onnx"]["max_abs_prob_diff"] < 1e-4
    assert report["backends"]["onnx"]["label_agreement"] == 1.0
    # int8 weights: the linear layers shrink to a quarter, the fp32 embeddings stay.
    fp32_bytes = report["backends"]["onnx"]["bytes"]
    assert report["backends"]["onnx-int8"]["bytes"] < 0.8 * fp32_bytes
    assert report["backends"]["onnx-int8"]["quantization"]["per_channel"] is True
    # The fused graph (one Attention node per encoder layer) passed its check first time.
    layers = classifier.network.encoder.config.num_hidden_layers
    assert report["graph"]["exporter"] == "torchscript"
    assert report["graph"]["fused"]["Attention"] == layers
    assert report["graph"]["rejected"] == []
    # int8 was quantized from a smoothed copy: 4 linear layers per encoder layer, outliers
    # reduced, the fp32 function unchanged, and the temporary graph removed.
    smoothing = report["backends"]["onnx-int8"]["smoothing"]
    assert smoothing["applied"] is True and smoothing["nodes"] == 4 * layers
    assert smoothing["worst_outlier_ratio_after"] < smoothing["worst_outlier_ratio_before"]
    assert smoothing["max_abs_logit_diff"] < 1e-3
    assert sorted(p.name for p in folder.iterdir() if "onnx" in p.name) == [
        "model.int8.onnx",
        "model.onnx",
    ]
    # The torch model itself keeps its own attention: the export worked on a copy.
    assert classifier.network.encoder.config._attn_implementation == "sdpa"


def test_export_falls_back_to_the_plain_graph(base_classifier, tmp_path, monkeypatch):
    import model.export.onnx as onnx_backend

    def broken(classifier, windows, path):  # a fused graph that cannot be produced
        raise onnx_backend.ExportError("optimizer crashed")

    monkeypatch.setattr(onnx_backend, "_export_graph", broken)
    clone = base_classifier.with_config(base_classifier.config)  # export updates its config
    report = export_backends(clone, tmp_path / "m", backends=("onnx",))
    assert report["graph"]["exporter"] == "dynamo"
    assert report["graph"]["rejected"] == ["broken: optimizer crashed"]
    assert report["backends"]["onnx"]["max_abs_prob_diff"] < 1e-4
    assert StanceConfig.load(tmp_path / "m").backends == ("torch", "onnx")


def test_export_with_no_matching_graph_writes_nothing(base_classifier, tmp_path, monkeypatch):
    import model.export.onnx as onnx_backend

    real = onnx_backend._export_plain

    def wrong(classifier, windows, path):  # exports fine, computes something else
        info = real(classifier, windows, path)
        graph = onnx.load(str(path))
        head = next(i for i in graph.graph.initializer if i.name.endswith("classifier.bias"))
        head.CopyFrom(
            onnx.numpy_helper.from_array(np.array([9.0, -9.0, 0.0], np.float32), head.name)
        )
        onnx.save(graph, str(path))
        return info

    monkeypatch.setattr(onnx_backend, "_export_graph", wrong)
    monkeypatch.setattr(onnx_backend, "_export_plain", wrong)
    folder = tmp_path / "m"
    with pytest.raises(onnx_backend.ExportError) as err:
        onnx_backend.export_onnx(base_classifier, folder)
    message = str(err.value)
    assert message.startswith("no fp32 ONNX graph matched torch on 10 sample queries; nothing")
    assert message.count("differs from torch by") == 2
    assert not (folder / "model.onnx").exists() and not (folder / "model.int8.onnx").exists()


def test_onnx_backend_matches_torch_including_windowed_text(exported, torch_model):
    onnx_model = StanceClassifier.load(exported[0], backend="onnx")
    assert onnx_model.backend.name == "onnx"
    expected = torch_model.predict(QUERIES)
    assert expected[-1].windows > 1, "the long query must be split into several windows"
    for batch_size in (1, 3, 32):  # batch of one and mixed lengths: dynamic axes work
        got = onnx_model.predict(QUERIES, batch_size=batch_size)
        assert [p.id for p in got] == ["q1", "q2", "q3", "long"]
        labels = torch_model.labels
        diff = np.abs(_probs(got, labels) - _probs(expected, labels)).max()
        assert diff < 1e-4, f"batch_size {batch_size}: max probability difference {diff}"
        assert [p.label for p in got] == [p.label for p in expected]
        assert [e.start for e in got[-1].evidence] == [e.start for e in expected[-1].evidence]


def test_int8_backend_loads_and_stays_close(exported, torch_model):
    int8_model = StanceClassifier.load(exported[0], backend="onnx-int8", num_threads=1)
    assert int8_model.backend.name == "onnx-int8"
    got = int8_model.predict(QUERIES)
    labels = torch_model.labels
    probs = _probs(got, labels)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # An untrained head gives near-uniform probabilities, so labels can flip on noise; what
    # must hold is that int8 error stays small and is not the same as fp32 (it quantized).
    diff = np.abs(probs - _probs(torch_model.predict(QUERIES), labels)).max()
    assert 0.0 < diff < 0.1


def test_backend_not_exported_is_a_clear_error(base_classifier, tmp_path):
    folder = base_classifier.save(tmp_path / "plain")
    with pytest.raises(ConfigError) as err:
        StanceClassifier.load(folder, backend="onnx")
    assert str(err.value) == (
        f"backend 'onnx' is not exported for the model in {folder} (available: torch); "
        f"export it with `stance export --model {folder}` or model.export.onnx.export_backends(), "
        "or choose an available backend"
    )
    with pytest.raises(ConfigError) as err:
        StanceClassifier.load(folder, backend="tensorrt")
    assert str(err.value) == (
        "unknown backend 'tensorrt'; choose one of ['auto', 'torch', 'onnx', 'onnx-int8']"
    )
    # "auto" on a folder without an export is torch
    assert StanceClassifier.load(folder).backend.name == "torch"


def test_auto_backend_is_onnx_fp32_when_exported(exported):
    assert StanceClassifier.load(exported[0]).backend.name == "onnx"
    assert StanceClassifier.load(exported[0], backend="auto").backend.name == "onnx"
    config = StanceConfig.load(exported[0])
    import torch

    from model.backends import resolve_backend

    assert resolve_backend(config, "auto", torch.device("cuda")) == "torch"  # ONNX is CPU-only
    assert resolve_backend(config, "onnx-int8", torch.device("cpu")) == "onnx-int8"


def test_save_then_load_keeps_backends_and_their_files(exported, tmp_path):
    onnx_model = StanceClassifier.load(exported[0], backend="onnx")
    copy = onnx_model.save(tmp_path / "copy")
    assert StanceConfig.load(copy).backends == ("torch", "onnx", "onnx-int8")
    for filename in (*BACKEND_FILES.values(), EXPORT_REPORT_FILENAME):
        assert (copy / filename).is_file(), filename
    reloaded = StanceClassifier.load(copy, backend="onnx")
    a = _probs(onnx_model.predict(QUERIES[:2]), onnx_model.labels)
    b = _probs(reloaded.predict(QUERIES[:2]), onnx_model.labels)
    assert np.array_equal(a, b)
    # with_config (e.g. a new temperature) keeps the backend instead of falling back to torch
    hot = reloaded.with_config(reloaded.config.replace(temperature=2.0))
    assert hot.backend.name == "onnx"


def test_config_listing_a_missing_file_is_a_clear_error(exported, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(exported[0], folder)
    (folder / "model.int8.onnx").unlink()
    with pytest.raises(ConfigError, match=r"model\.int8\.onnx not found although"):
        StanceClassifier.load(folder, backend="onnx-int8")
    # Saving such a model elsewhere drops the backend whose file is gone.
    StanceClassifier.load(folder).save(tmp_path / "resaved")
    assert StanceConfig.load(tmp_path / "resaved").backends == ("torch", "onnx")
    assert json.loads((tmp_path / "resaved" / CONFIG_FILENAME).read_text())["backends"] == [
        "torch",
        "onnx",
    ]


def test_thread_defaults(monkeypatch):
    assert 1 <= physical_cores() <= (__import__("os").cpu_count() or 1)
    monkeypatch.setenv("STANCE_NUM_THREADS", "3")
    assert default_num_threads() == 3
    monkeypatch.setenv("STANCE_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="STANCE_NUM_THREADS='many': expected a positive"):
        default_num_threads()
