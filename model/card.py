"""A model folder describes itself: a model card (README.md) and its training provenance.

Like a Hugging Face or SetFit model folder, a stance model folder carries, beside its
weights and ``stance_config.json``:

    README.md               the model card: labels, base model, data, metrics, training
                            arguments, intended use and limits (for people)
    training_metadata.json  the same facts as JSON (labels, data fingerprints, metrics,
                            training args, git commit; what ``GET /model`` serves)
    training_config.json    the resolved run configuration ([model], [training], [data]):
                            what ``stance train --config`` would need to train it again

The training pipeline writes them (:func:`write_card`); every copy of the folder (the run
folder, the BentoML store entry, an export) carries them, so a model shipped as a folder
keeps its provenance. :func:`read_card` is how the service and the CLI read them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CARD_FILENAME = "README.md"
METADATA_FILENAME = "training_metadata.json"
TRAINING_CONFIG_FILENAME = "training_config.json"

_INTENDED_USE = """\
## Intended use

Classifying the stance a *speaker* takes toward a *target* entity in English news text
(a sentence, a quote, a paragraph or a whole article split into windows): one of the labels
above, with calibrated probabilities and the sentences that carried the decision.

## Limits

- Trained on the data listed above; news from other outlets, periods or languages, and
  other genres (social media, opinion pieces), may be classified less accurately.
- The label says what the text expresses toward the target, not whether it is true.
  Sarcasm, quotes of quotes and implicit stances are frequent error sources.
- Long texts are split into windows of at most `max_length` word pieces; a stance spread
  over windows far apart is judged window by window.
- The probabilities are calibrated on the dev data (temperature scaling); on data unlike it
  they may be over- or under-confident.
"""


def write_card(folder: str | Path, metadata: Mapping[str, Any]) -> None:
    """Write README.md, training_metadata.json and (when ``metadata`` has
    ``training_config``) training_config.json into a saved model folder."""
    out = Path(folder)
    clean = json.loads(json.dumps(dict(metadata), default=str))  # JSON-ready, no numpy types
    config = clean.get("training_config")
    if isinstance(config, dict):
        (out / TRAINING_CONFIG_FILENAME).write_text(
            json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    (out / METADATA_FILENAME).write_text(
        json.dumps(clean, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / CARD_FILENAME).write_text(render_card(clean), encoding="utf-8")


def read_card(folder: str | Path) -> dict[str, Any]:
    """The training metadata of a model folder; ``{}`` when it has none (a model saved
    without the training pipeline) or when the file is unreadable."""
    path = Path(folder) / METADATA_FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def render_card(metadata: Mapping[str, Any]) -> str:
    """The model card (Markdown, with a YAML front matter block as Hugging Face cards have)."""
    labels = [str(label) for label in metadata.get("labels", [])]
    base = str(metadata.get("base_model", "unknown"))
    lines = [
        "---",
        "library_name: stance-service",
        "pipeline_tag: text-classification",
        f"base_model: {base}",
        "language: en",
        "tags: [stance, news, target-dependent]",
        "---",
        "",
        "# Stance model",
        "",
        f"Stance of a speaker toward a target entity in news text, fine-tuned from `{base}`.",
        "",
        "- Labels: " + (", ".join(f"`{label}`" for label in labels) or "(not recorded)"),
    ]
    if metadata.get("git_commit"):
        lines.append(f"- Code: commit `{metadata['git_commit']}`")
    if metadata.get("temperature") is not None:
        lines.append(f"- Calibration temperature: {metadata['temperature']}")
    lines += ["", "## Training data", ""]
    data = metadata.get("data") or {}
    if data:
        lines += ["| role:source | examples | bad records | sha256 |", "|---|---|---|---|"]
        for name, fp in data.items():
            fp = fp if isinstance(fp, dict) else {}
            lines.append(
                f"| {name} | {fp.get('examples', '')} | {fp.get('bad_records', '')} | "
                f"`{str(fp.get('sha256', ''))[:16]}` |"
            )
    else:
        lines.append("Not recorded.")
    lines += ["", "## Metrics", ""]
    lines += _metrics_table(metadata)
    lines += ["", "## Training arguments", ""]
    args = metadata.get("training_args") or {}
    lines += [f"- `{k}`: {json.dumps(v)}" for k, v in sorted(args.items())] or ["Not recorded."]
    lines += ["", _INTENDED_USE]
    lines += [
        "## Files",
        "",
        f"`{METADATA_FILENAME}` holds everything above as JSON; `{TRAINING_CONFIG_FILENAME}` "
        "the resolved training configuration; `stance_config.json` the model configuration.",
        "Load with `StanceClassifier.load(FOLDER)` or serve a store copy with `stance up`.",
        "",
    ]
    return "\n".join(lines)


def _metrics_table(metadata: Mapping[str, Any]) -> list[str]:
    rows: list[tuple[str, Mapping[str, Any]]] = []
    dev = metadata.get("dev_metrics")
    if isinstance(dev, Mapping) and dev:
        rows.append(("dev", dev))
    evaluations = metadata.get("eval_metrics")
    if isinstance(evaluations, Mapping):
        rows += [(str(k), v) for k, v in evaluations.items() if isinstance(v, Mapping)]
    if not rows:
        return ["Not recorded."]
    out = ["| data | n | macro-F1 | accuracy | ECE |", "|---|---|---|---|---|"]
    for name, m in rows:
        out.append(
            f"| {name} | {m.get('n', '')} | {_num(m.get('macro_f1'))} | "
            f"{_num(m.get('accuracy'))} | {_num(m.get('ece'))} |"
        )
    return out


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else ""
