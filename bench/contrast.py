"""Contrast dev set: does the speaker change the answer? (issue 11)

    python bench/contrast.py --model stance:latest        # a store tag or a model folder
    python bench/contrast.py --model keyword              # no model: keyword stand-in

Reads ``bench/data/contrast_dev.jsonl`` (one text, one target, two speakers whose labels
differ; see bench/data/README.md) and prints, in one run:

1. **attribution** (model-free): pairs where, for both speakers, the speaker is found, their
   statements refer to the target, and the two speakers' statements do not overlap
   (model/speaker.py) — the evidence the classifier is given is the right speaker's;
2. **classifier path**, speaker given (``predict`` with ``speaker``): pair accuracy (both
   speakers right) and per-item macro-F1;
3. the same classifier on the **whole text** (the behaviour before issue 11: the speaker
   only in the query segment), as the baseline;
4. **article path** (``analyze_article(text, model, targets=[target])``): a speaker counts
   as right only when the analysis has a stance for them (matched by name, surname or role
   phrase) toward the target with the right label; pair accuracy and per-item macro-F1.

``--model keyword`` uses the test stub in tests/keyword_stub.py (it ignores target and
speaker and reads fixed phrases), for the attribution numbers and the article path only.
``--show-errors`` lists the pairs a path gets wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402

from model.article import ArticleAnalysis, analyze_article  # noqa: E402
from model.article.spans import Areas  # noqa: E402
from model.speaker import speaker_forms, speaker_statements  # noqa: E402
from model.types import StanceQuery  # noqa: E402

DEFAULT_DATA = ROOT / "bench" / "data" / "contrast_dev.jsonl"
MISSING = "<not found>"


def load_pairs(path: Path) -> list[dict[str, Any]]:
    """The pairs of a contrast file, checked: two speakers with different labels each."""
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        pair = json.loads(line)
        speakers = pair.get("speakers", [])
        if len(speakers) != 2 or speakers[0]["label"] == speakers[1]["label"]:
            raise ValueError(f"{path}:{n}: needs two speakers with different labels")
        pairs.append(pair)
    return pairs


def attribution_ok(pair: dict[str, Any]) -> bool:
    """Both speakers found, both refer to the target, and their statements are disjoint."""
    views = [
        speaker_statements(pair["text"], s["speaker"], pair["target"]) for s in pair["speakers"]
    ]
    if not all(v.found and v.mentions_target for v in views):
        return False
    first = Areas(views[0].statements)
    return not any(first.overlapping(lo, hi) for lo, hi in views[1].statements)


def article_label(analysis: ArticleAnalysis, speaker: str, target: str) -> str:
    """The analysis' label for ``speaker`` toward ``target``, or MISSING.

    A stance's speaker matches when one of the asked speaker's forms (name, surname, role
    phrase) occurs in the speaker's name or aliases, or one of those (two words or more)
    occurs in what was asked ("county council" for "a spokeswoman for the county council").
    """
    forms = speaker_forms(speaker)
    asked = " ".join(speaker.split()).casefold()
    aliases = {s.name: [s.name, *s.aliases] for s in analysis.speakers}
    for stance in analysis.stances:
        if stance.speaker is None or stance.target != target:
            continue
        names = [n.casefold() for n in aliases.get(stance.speaker, [stance.speaker])]
        named = any(re.search(rf"(?<!\w){re.escape(f)}(?!\w)", n) for f in forms for n in names)
        if named or any(len(n.split()) >= 2 and n in asked for n in names):
            return stance.label
    return MISSING


def speaker_queries(pairs: Sequence[dict[str, Any]]) -> list[StanceQuery]:
    """One query per (pair, speaker), speaker given, pairs flattened in order."""
    return [
        StanceQuery(text=p["text"], target=p["target"], speaker=s["speaker"])
        for p in pairs
        for s in p["speakers"]
    ]


def classifier_labels(pairs: Sequence[dict[str, Any]], model: Any) -> list[str]:
    """The classifier path's label per speaker (speaker given), pairs flattened in order."""
    return [r.label for r in model.predict(speaker_queries(pairs))]


def article_labels(pairs: Sequence[dict[str, Any]], model: Any) -> list[str]:
    """The article path's label per speaker (MISSING when not found), pairs flattened."""
    out: list[str] = []
    for pair in pairs:
        analysis = analyze_article(pair["text"], model, targets=[pair["target"]])
        out.extend(article_label(analysis, s["speaker"], pair["target"]) for s in pair["speakers"])
    return out


def score(
    name: str, gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Pair accuracy (items come in pairs, in order) and per-item macro-F1."""
    pairs = len(gold) // 2
    both = sum(
        gold[2 * i] == predicted[2 * i] and gold[2 * i + 1] == predicted[2 * i + 1]
        for i in range(pairs)
    )
    f1 = f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0)
    items = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return {
        "path": name,
        "pairs_right": both,
        "pairs": pairs,
        "pair_accuracy": round(both / max(pairs, 1), 4),
        "item_accuracy": round(items / max(len(gold), 1), 4),
        "macro_f1": round(float(f1), 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print a table and a JSON line per path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="store tag, model folder, or 'keyword'")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    pairs = load_pairs(args.data)
    gold = [s["label"] for p in pairs for s in p["speakers"]]
    results: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}

    started = time.perf_counter()
    attributed = [attribution_ok(p) for p in pairs]
    results.append(
        {
            "path": "attribution (model-free)",
            "pairs_right": sum(attributed),
            "pairs": len(pairs),
            "pair_accuracy": round(sum(attributed) / len(pairs), 4),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    errors["attribution"] = [p["id"] for p, ok in zip(pairs, attributed, strict=True) if not ok]

    model: Any
    if args.model == "keyword":
        # The keyword stub is test code (not shipped); only this no-model mode needs it.
        from tests.keyword_stub import KeywordStanceClassifier

        model = KeywordStanceClassifier()
    else:
        from model.classifier import StanceClassifier
        from model.store import resolve_model

        model = StanceClassifier.load(resolve_model(args.model)[0], backend=args.backend)
        queries = speaker_queries(pairs)
        model.predict(queries[:8])  # warm-up, so neither timed path pays for it
        started = time.perf_counter()
        predicted = classifier_labels(pairs, model)
        row = score("classifier, speaker given", gold, predicted, model.labels)
        row["seconds"] = round(time.perf_counter() - started, 2)
        results.append(row)
        errors["classifier"] = _wrong(pairs, gold, predicted)
        # Baseline: the same model on the whole text (speaker only in the query segment).
        started = time.perf_counter()
        encoded = [model.encoder.encode(q, i) for i, q in enumerate(queries)]
        logits = model.window_logits([w for e in encoded for w in e.windows])
        whole = [r.label for r in model.combine(queries, encoded, logits)]
        row = score("classifier, whole text (baseline)", gold, whole, model.labels)
        row["seconds"] = round(time.perf_counter() - started, 2)
        results.append(row)

    started = time.perf_counter()
    article = article_labels(pairs, model)
    row = score("article path", gold, article, model.labels)
    row["seconds"] = round(time.perf_counter() - started, 2)
    row["speakers_not_found"] = article.count(MISSING)
    row["pairs_both_speakers_found"] = sum(
        MISSING not in article[2 * i : 2 * i + 2] for i in range(len(pairs))
    )
    results.append(row)
    errors["article"] = _wrong(pairs, gold, article)

    print(f"contrast dev set: {len(pairs)} pairs, model {args.model}")
    print(f"{'path':<38} {'pairs right':>12} {'pair acc':>9} {'item acc':>9} {'macro-F1':>9}")
    for r in results:
        print(
            f"{r['path']:<38} {r['pairs_right']:>5} / {r['pairs']:<4} {r['pair_accuracy']:>9.3f} "
            f"{r.get('item_accuracy', float('nan')):>9.3f} {r.get('macro_f1', float('nan')):>9.3f}"
        )
    for r in results:
        print(json.dumps(r))
    if args.show_errors:
        for path, ids in errors.items():
            print(f"{path} wrong ({len(ids)}): {' '.join(ids)}")
    return 0


def _wrong(
    pairs: Sequence[dict[str, Any]], gold: Sequence[str], predicted: Sequence[str]
) -> list[str]:
    return [
        p["id"]
        for i, p in enumerate(pairs)
        if gold[2 * i] != predicted[2 * i] or gold[2 * i + 1] != predicted[2 * i + 1]
    ]


if __name__ == "__main__":
    raise SystemExit(main())
