"""Tests for training/datasets.py: finding NewsMTSC files (folder, env var, cache, pinned
download) and named sources. The network is never used: urlopen is monkeypatched."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from training.data import DataError, load_examples
from training.datasets import (
    ENV_NEWSMTSC_DIR,
    NAMED_SOURCES,
    NEWSMTSC_COMMIT,
    NEWSMTSC_FILES,
    bundled_corpus_dir,
    cache_dir,
    newsmtsc_file,
    resolve_source,
)

RECORD = {
    "primary_gid": "synthetic_1",
    "sentence_normalized": "Governor Ada Quist vetoed the bill that farmers had begged for.",
    "targets": [
        {"Input.gid": "synthetic_1_q", "from": 9, "to": 18, "mention": "Ada Quist", "polarity": 2.0}
    ],
}
PAYLOAD = (json.dumps(RECORD) + "\n").encode()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real env var or cache, and any accidental network use fails the test."""
    monkeypatch.delenv(ENV_NEWSMTSC_DIR, raising=False)
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path / "cache"))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


class _Response:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self) -> bytes:
        return self.payload


def _serve(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> list[str]:
    calls: list[str] = []

    def fake_urlopen(url: str, timeout: float = 0.0) -> _Response:
        calls.append(url)
        return _Response(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return calls


def _folder_with(tmp_path: Path, name: str, *files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file in files:
        (folder / file).write_bytes(PAYLOAD)
    return folder


def test_cache_dir_follows_env(tmp_path: Path) -> None:
    assert cache_dir() == tmp_path / "cache" / "newsmtsc" / NEWSMTSC_COMMIT


def test_file_from_folder_argument(tmp_path: Path) -> None:
    folder = _folder_with(tmp_path, "mtsc", "train.jsonl", "dev_rw.jsonl")
    assert newsmtsc_file("train.jsonl", folder) == folder / "train.jsonl"
    assert newsmtsc_file("dev_rw.jsonl", str(folder)) == folder / "dev_rw.jsonl"
    # a NewsMTSC file found this way loads as NewsMTSC
    report = load_examples(newsmtsc_file("train.jsonl", folder))
    assert report.format == "newsmtsc" and report.examples[0].label == "negative"


def test_file_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder_with(tmp_path, "env", "dev_mt.jsonl")
    monkeypatch.setenv(ENV_NEWSMTSC_DIR, str(folder))
    assert newsmtsc_file("dev_mt.jsonl") == folder / "dev_mt.jsonl"
    assert resolve_source("newsmtsc-dev-mt") == folder / "dev_mt.jsonl"


def test_folder_argument_wins_over_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arg = _folder_with(tmp_path, "arg", "train.jsonl")
    env = _folder_with(tmp_path, "env", "train.jsonl", "dev_rw.jsonl")
    monkeypatch.setenv(ENV_NEWSMTSC_DIR, str(env))
    assert newsmtsc_file("train.jsonl", arg) == arg / "train.jsonl"
    # the folder lacks dev_rw.jsonl: the env folder is next
    assert newsmtsc_file("dev_rw.jsonl", arg) == env / "dev_rw.jsonl"


def test_missing_folder_argument(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as info:
        newsmtsc_file("train.jsonl", missing)
    assert str(info.value) == f"--newsmtsc-dir {missing}: no such folder"


def test_unknown_file_name() -> None:
    with pytest.raises(DataError) as info:
        newsmtsc_file("test.jsonl")
    assert str(info.value) == (
        "unknown NewsMTSC file 'test.jsonl'; known: ['dev_mt.jsonl', 'dev_rw.jsonl', 'train.jsonl']"
    )


def test_not_found_without_download(tmp_path: Path) -> None:
    folder = _folder_with(tmp_path, "empty")
    with pytest.raises(DataError) as info:
        newsmtsc_file("train.jsonl", folder, download=False)
    assert str(info.value) == (
        f"NewsMTSC train.jsonl not found (looked in {[str(folder)]} and {cache_dir()}); "
        f"pass --newsmtsc-dir or set {ENV_NEWSMTSC_DIR}"
    )


def test_offline_download_failure_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(url: str, timeout: float = 0.0) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as info:
        resolve_source("newsmtsc-train")
    message = str(info.value)
    upstream = NEWSMTSC_FILES["train.jsonl"][0]
    assert message.startswith(
        "NewsMTSC train.jsonl is not available locally and could not be downloaded from "
        f"https://raw.githubusercontent.com/fhamborg/NewsMTSC/{NEWSMTSC_COMMIT}/{upstream} ("
    )
    assert "Temporary failure in name resolution" in message
    assert "--newsmtsc-dir FOLDER" in message
    assert f"{ENV_NEWSMTSC_DIR}=FOLDER" in message
    assert not (cache_dir() / "train.jsonl").exists()


@pytest.mark.parametrize("error", [TimeoutError("timed out"), ConnectionResetError("reset")])
def test_timeouts_and_socket_errors_are_also_clear(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def failing(url: str, timeout: float = 0.0) -> None:
        raise error

    monkeypatch.setattr(urllib.request, "urlopen", failing)
    with pytest.raises(DataError, match="--newsmtsc-dir"):
        newsmtsc_file("dev_rw.jsonl")


def test_checksum_mismatch_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _serve(monkeypatch, b"<html>rate limited</html>")
    with pytest.raises(DataError) as info:
        newsmtsc_file("dev_rw.jsonl")
    url = calls[0]
    assert url.endswith(NEWSMTSC_FILES["dev_rw.jsonl"][0])
    actual = hashlib.sha256(b"<html>rate limited</html>").hexdigest()
    expected = NEWSMTSC_FILES["dev_rw.jsonl"][1]
    assert str(info.value) == (
        f"downloaded {url} has sha256 {actual}, expected {expected}; not used"
    )
    cached = cache_dir() / "dev_rw.jsonl"
    assert not cached.exists() and not cached.with_suffix(".part").exists()


def test_verified_download_is_cached_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pin our synthetic payload's checksum, as if it were the upstream file.
    upstream = NEWSMTSC_FILES["train.jsonl"][0]
    monkeypatch.setitem(
        NEWSMTSC_FILES, "train.jsonl", (upstream, hashlib.sha256(PAYLOAD).hexdigest())
    )
    calls = _serve(monkeypatch, PAYLOAD)

    path = newsmtsc_file("train.jsonl")
    assert path == cache_dir() / "train.jsonl"
    assert path.read_bytes() == PAYLOAD
    assert len(calls) == 1

    assert newsmtsc_file("train.jsonl") == path  # second call: from the cache, no download
    assert len(calls) == 1

    # A corrupted cache file is not trusted: it is downloaded again.
    path.write_bytes(b"corrupt")
    assert newsmtsc_file("train.jsonl") == path
    assert len(calls) == 2 and path.read_bytes() == PAYLOAD


def test_corrupt_cache_without_download_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    cached = cache_dir() / "train.jsonl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD)  # does not match the pinned checksum
    with pytest.raises(DataError, match=r"NewsMTSC train\.jsonl not found"):
        newsmtsc_file("train.jsonl", download=False)


def test_named_sources_map_to_files(tmp_path: Path) -> None:
    folder = _folder_with(tmp_path, "all", *NEWSMTSC_FILES)
    for source, name in NAMED_SOURCES.items():
        assert resolve_source(source, folder) == folder / name


def test_bundled_source_is_a_folder_of_jsonl() -> None:
    path = resolve_source("bundled")
    assert path == bundled_corpus_dir()
    assert path.is_dir()
    files = sorted(path.glob("*.jsonl"))
    assert files, "bundled corpus has no .jsonl files"
    for file in files:
        first = json.loads(file.read_text(encoding="utf-8").splitlines()[0])
        assert {"text", "target", "label"} <= set(first)


def test_path_sources(tmp_path: Path) -> None:
    file = tmp_path / "mine.csv"
    file.write_text("text,target,label\n", encoding="utf-8")
    assert resolve_source(str(file)) == file
    assert resolve_source(str(tmp_path)) == tmp_path


def test_unknown_source() -> None:
    with pytest.raises(DataError) as info:
        resolve_source("semeval-2016")
    assert str(info.value) == (
        "data source 'semeval-2016' is neither a file/folder nor one of "
        "['bundled', 'newsmtsc-dev-mt', 'newsmtsc-dev-rw', 'newsmtsc-train']"
    )
