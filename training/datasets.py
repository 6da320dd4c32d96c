"""Named data sources: NewsMTSC (local folder, cache, or pinned download) and the bundled corpus.

NewsMTSC is found, in order: the folder passed by the caller (``--newsmtsc-dir``), the
folder in ``$STANCE_NEWSMTSC_DIR``, the download cache; failing those it is downloaded from
the dataset's public repository at a pinned commit, and every file is checked against its
SHA-256 before use. Offline, that last step fails with a message that says what to do.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from training.data import DataError

NEWSMTSC_COMMIT = "b9d9b79704ed1b35cecaf1d7c2343dc1bd734fb7"
_NEWSMTSC_BASE = f"https://raw.githubusercontent.com/fhamborg/NewsMTSC/{NEWSMTSC_COMMIT}/"
# local name -> (path in the upstream repository, sha256 of the file at the pinned commit)
NEWSMTSC_FILES: dict[str, tuple[str, str]] = {
    "train.jsonl": (
        "NewsSentiment/controller_data/datasets/NewsMTSC-dataset/train.jsonl",
        "fb80ff05993dd59016c36abefaa7bd00d77cb0cb38a781c1f9edd9ad7c61471e",
    ),
    "dev_rw.jsonl": (
        "NewsSentiment/experiments/default/datasets/newsmtsc-rw/dev.jsonl",
        "d62a327eefa17f63c66ed221f31d0b4e140b46c58bdd9680df562523c860bf4b",
    ),
    "dev_mt.jsonl": (
        "NewsSentiment/experiments/default/datasets/newsmtsc-mt/dev.jsonl",
        "728602b11d63deb64874e1933bb6b832596a25fd711235cc38d022d839b03738",
    ),
}
# Source names usable in configs and on the command line.
NAMED_SOURCES = {
    "newsmtsc-train": "train.jsonl",
    "newsmtsc-dev-rw": "dev_rw.jsonl",
    "newsmtsc-dev-mt": "dev_mt.jsonl",
}
BUNDLED = "bundled"
ENV_NEWSMTSC_DIR = "STANCE_NEWSMTSC_DIR"


def bundled_corpus_dir() -> Path:
    """Folder of the corpus this project wrote and ships (see its README)."""
    return Path(__file__).resolve().parent / "corpus"


def cache_dir() -> Path:
    """Download cache: ``$STANCE_CACHE_DIR`` or ``~/.cache/stance``."""
    root = os.environ.get("STANCE_CACHE_DIR") or str(Path.home() / ".cache" / "stance")
    return Path(root) / "newsmtsc" / NEWSMTSC_COMMIT


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(name: str, dest: Path, timeout: float = 30.0) -> None:
    upstream, expected = NEWSMTSC_FILES[name]
    url = _NEWSMTSC_BASE + upstream
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise DataError(
            f"NewsMTSC {name} is not available locally and could not be downloaded from "
            f"{url} ({err}). Offline? Put train.jsonl / dev_rw.jsonl / dev_mt.jsonl in a folder "
            f"and pass --newsmtsc-dir FOLDER or set {ENV_NEWSMTSC_DIR}=FOLDER."
        ) from None
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise DataError(f"downloaded {url} has sha256 {actual}, expected {expected}; not used")
    tmp = dest.with_suffix(".part")
    tmp.write_bytes(payload)
    tmp.replace(dest)


def newsmtsc_file(name: str, folder: str | Path | None = None, download: bool = True) -> Path:
    """Path of a NewsMTSC file ('train.jsonl', 'dev_rw.jsonl', 'dev_mt.jsonl')."""
    if name not in NEWSMTSC_FILES:
        raise DataError(f"unknown NewsMTSC file {name!r}; known: {sorted(NEWSMTSC_FILES)}")
    candidates = [Path(folder)] if folder else []
    if os.environ.get(ENV_NEWSMTSC_DIR):
        candidates.append(Path(os.environ[ENV_NEWSMTSC_DIR]))
    for candidate in candidates:
        if (candidate / name).is_file():
            return candidate / name
    if folder and not Path(folder).is_dir():
        raise DataError(f"--newsmtsc-dir {folder}: no such folder")
    cached = cache_dir() / name
    if cached.is_file() and _sha256(cached) == NEWSMTSC_FILES[name][1]:
        return cached
    if not download:
        raise DataError(
            f"NewsMTSC {name} not found (looked in {[str(c) for c in candidates] or 'no folder'} "
            f"and {cached.parent}); pass --newsmtsc-dir or set {ENV_NEWSMTSC_DIR}"
        )
    _download(name, cached)
    return cached


def resolve_source(source: str, newsmtsc_dir: str | Path | None = None) -> Path:
    """A data source name ('newsmtsc-train', 'bundled', ...) or a path -> a local path."""
    if source in NAMED_SOURCES:
        return newsmtsc_file(NAMED_SOURCES[source], newsmtsc_dir)
    if source == BUNDLED:
        return bundled_corpus_dir()
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(
            f"data source {source!r} is neither a file/folder nor one of "
            f"{sorted([*NAMED_SOURCES, BUNDLED])}"
        )
    return path
