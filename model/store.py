"""Resolving a TAG_OR_DIR model argument: the one model lookup of every command.

A model is either a folder written by ``StanceClassifier.save`` or a tag in the BentoML model
store (``stance:latest``, ``stance:3xk2...``), whose entry holds the same folder. The tag that
comes back is concrete (``latest`` resolved), so results and resumed runs name the exact
model version that produced them.
"""

from __future__ import annotations

from pathlib import Path

from model.config import CONFIG_FILENAME


def resolve_model(tag_or_dir: str) -> tuple[Path, str]:
    """``(model folder, model tag string)`` for a folder path or a BentoML store tag.

    For a folder the tag string is the folder's absolute path. Raises FileNotFoundError when
    the argument is neither a stance model folder nor a tag in the store.
    """
    if not tag_or_dir.strip():
        raise FileNotFoundError("--model is empty; pass a model folder or a BentoML tag")
    path = Path(tag_or_dir).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILENAME).is_file():
            raise FileNotFoundError(f"{path} has no {CONFIG_FILENAME}: not a stance model folder")
        folder = path.resolve()
        return folder, str(folder)
    import bentoml
    from bentoml.exceptions import BentoMLException

    tag = tag_or_dir if ":" in tag_or_dir else f"{tag_or_dir}:latest"
    try:
        stored = bentoml.models.get(tag)
    except (BentoMLException, ValueError) as err:
        raise FileNotFoundError(
            f"model {tag_or_dir!r} is neither a folder nor a tag in the BentoML model store "
            f"({err}); train one with `stance train` or list them with `bentoml models list`"
        ) from None
    folder = Path(stored.path)
    if not (folder / CONFIG_FILENAME).is_file():
        raise FileNotFoundError(
            f"store entry {stored.tag} has no {CONFIG_FILENAME}: not a stance model"
        )
    return folder, str(stored.tag)
