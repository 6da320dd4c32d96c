"""The seed-style press-conference article (tests/model/data/seed_press_conference.txt, written
by the team in the shape of the article the product was designed around): every (speaker,
target, stance) with a trained model, the four expected Ilham Aliyev triples checked, and
whether any author row's evidence lies inside his quotes.

    python bench/seed_article.py --model stance:latest     # a store tag or a model folder
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.article import analyze_article  # noqa: E402
from model.classifier import StanceClassifier  # noqa: E402
from model.store import resolve_model  # noqa: E402

ARTICLE = ROOT / "tests" / "model" / "data" / "seed_press_conference.txt"
EXPECTED = {
    "Russian peacekeepers": "positive",
    "Turkish-Russian Joint Monitoring Center": "positive",
    "other foreign forces": "negative",
    "Armenian sabotage group": "negative",
}
SPEAKER = "Ilham Aliyev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="store tag or model folder")
    opts = parser.parse_args()
    classifier = StanceClassifier.load(resolve_model(opts.model)[0])
    text = ARTICLE.read_text(encoding="utf-8")
    asked = analyze_article(text, classifier, targets=list(EXPECTED)).to_dict()
    quoted = [
        (lo, hi)
        for speech in asked["speeches"]
        if speech["speaker"] == SPEAKER
        for lo, hi in (tuple(span) for span in speech["spans"])
    ]
    right = 0
    for row in asked["stances"]:
        label, p = row["label"], max(row["probabilities"].values())
        print(f"{row['speaker'] or '(author)':14} {row['target']:42} {label:9} {p:.2f}")
        if row["speaker"] == SPEAKER and EXPECTED.get(row["target"]) == label:
            right += 1
    inside = [
        e
        for row in asked["stances"]
        if row["speaker"] is None
        for e in row["evidence"]
        if any(lo <= e["start"] < hi for lo, hi in quoted)
    ]
    auto = analyze_article(text, classifier).to_dict()
    names = [t["name"] for t in auto["targets"]]
    print(f"\n{SPEAKER} triples right: {right} / {len(EXPECTED)}")
    print(f"author evidence sentences inside his {len(quoted)} speech spans: {len(inside)}")
    print(f"auto targets: {names}")
    return 0 if right == len(EXPECTED) and not inside else 1


if __name__ == "__main__":
    raise SystemExit(main())
