"""Quote detection and attribution on the team-written dev set (bench/data/attribution_*).

Measures the rules in model/article as they are (no model is involved):

- quote detection P/R/F1: a gold quote is found when one predicted quote covers at least
  half of its characters; a predicted quote is right when it covers half of some gold quote;
- speaker accuracy on found quotes: the predicted speaker names the gold one (for people the
  last name is enough; organisations need their name, "the" and case aside);
- found quotes left with no speaker (the product gives them to the author);
- attribution P/R/F1: a gold quote found with the right speaker, over predicted / gold;
- failure classes: missed, no speaker, wrong speaker (another speaker of the article vs a
  name nobody in the gold said anything: junk), non-speech quoted text taken as speech
  (titles, scare quotes), and per style tag (title, party, pron, noreopen, ...).

Usage: ``python -m bench.attribution [--set dev|heldout] [--show N]``; ``--show`` prints the
first N failures with their context, for error analysis.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.attribution_data import SETS, load
from model.article.attribution import QUOTE, attribute
from model.article.cleaning import clean_article
from model.article.lexicon import words
from model.article.quotes import find_quotes

_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# One-word organisation names too generic to identify which organisation is meant.
_GENERIC = words(
    "ministry office union group company bank agency council association department party "
    "daily paper newspaper committee government"
)


def name_tokens(name: str) -> list[str]:
    """Lower-case name words without "the", possessives, punctuation and Jr./II suffixes."""
    name = name.lower().replace("’", "'")
    words = re.findall(r"[^\W_][\w'-]*", name)
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    return [w for w in words if w not in _SUFFIXES and w != "the"]


def same_speaker(predicted: str | None, gold: str, org: bool) -> bool:
    """Whether ``predicted`` names the gold speaker (see the module docstring)."""
    if predicted is None:
        return False
    p, g = name_tokens(predicted), name_tokens(gold)
    if not p or not g:
        return False
    if not org:
        return p[-1] == g[-1]
    if p == g:
        return True
    short, long_ = (p, g) if len(p) < len(g) else (g, p)
    if len(short) == 1 and short[0] in _GENERIC:
        return False
    n = len(short)
    return any(long_[i : i + n] == short for i in range(len(long_) - n + 1))


@dataclass
class Predicted:
    """A predicted quote: its spans and speaker."""

    spans: tuple[tuple[int, int], ...]
    speaker: str | None

    def covered(self, lo: int, hi: int) -> int:
        """How many characters of [lo, hi) the quote's spans cover."""
        return sum(max(0, min(hi, b) - max(lo, a)) for a, b in self.spans)


def predict(text: str) -> list[Predicted]:
    """The rules' quotes with their speakers, for one article."""
    article = clean_article(text)
    scan = find_quotes(text, article.paragraphs)
    result = attribute(article, scan.quotes)
    return [Predicted(s.spans, s.speaker) for s in result.speeches if s.kind == QUOTE]


@dataclass
class Tally:
    """Counts over a set of articles."""

    gold: int = 0
    predicted: int = 0
    found: int = 0
    pred_right: int = 0
    right: int = 0
    no_speaker: int = 0

    def line(self) -> dict[str, float]:
        """The headline measures."""
        p = self.pred_right / self.predicted if self.predicted else 0.0
        r = self.found / self.gold if self.gold else 0.0
        ap = self.right / self.predicted if self.predicted else 0.0
        ar = self.right / self.gold if self.gold else 0.0
        return {
            "detection_p": p,
            "detection_r": r,
            "detection_f1": 2 * p * r / (p + r) if p + r else 0.0,
            "speaker_acc": self.right / self.found if self.found else 0.0,
            "no_speaker_share": self.no_speaker / self.found if self.found else 0.0,
            "attribution_f1": 2 * ap * ar / (ap + ar) if ap + ar else 0.0,
        }


def evaluate(articles: Sequence[dict[str, Any]], show: int = 0) -> tuple[Tally, Counter[str]]:
    """Score every article; print up to ``show`` failures with context."""
    tally = Tally()
    classes: Counter[str] = Counter()
    by_tag: dict[str, Counter[str]] = defaultdict(Counter)
    shown = 0
    for art in articles:
        text = art["text"]
        preds = predict(text)
        speakers = [q["speaker"] for q in art["quotes"]]
        tally.gold += len(art["quotes"])
        tally.predicted += len(preds)
        for pred in preds:
            hit = any(
                2 * pred.covered(q["start"], q["end"]) >= q["end"] - q["start"]
                for q in art["quotes"]
            )
            tally.pred_right += hit
            if not hit:
                fake = any(pred.covered(n["start"], n["end"]) for n in art["non_quotes"])
                classes["non-speech taken as speech" if fake else "spurious quote"] += 1
        for q in art["quotes"]:
            best = max(preds, key=lambda p: p.covered(q["start"], q["end"]), default=None)
            length = q["end"] - q["start"]
            found = best is not None and 2 * best.covered(q["start"], q["end"]) >= length
            tags = q["tags"] or ["plain"]
            for tag in tags:
                by_tag[tag]["n"] += 1
            outcome = "ok"
            if not found or best is None:
                outcome = "missed"
            else:
                tally.found += 1
                if best.speaker is None:
                    tally.no_speaker += 1
                    outcome = "no speaker"
                elif same_speaker(best.speaker, q["speaker"], q["org"]):
                    tally.right += 1
                else:
                    other = any(same_speaker(best.speaker, s, False) for s in speakers)
                    outcome = "wrong: another speaker" if other else "wrong: junk name"
            for tag in tags:
                by_tag[tag][outcome] += 1
            if outcome != "ok":
                classes[outcome] += 1
                if shown < show:
                    shown += 1
                    said = best.speaker if best is not None else None
                    ctx = text[max(0, q["start"] - 120) : q["start"] + 60].replace("\n", " / ")
                    print(f"[{art['id']}] {outcome}: gold={q['speaker']!r} got={said!r}")
                    print(f"    ...{ctx}...")
    for tag, counts in sorted(by_tag.items()):
        fails = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in {"n", "ok"})
        classes[f"tag {tag:9s} {counts['ok']:3d}/{counts['n']:<3d} right  {fails}"] = 0
    return tally, classes


def main(argv: Sequence[str] | None = None) -> None:
    """Print the measures for one set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=SETS, default="dev")
    parser.add_argument("--show", type=int, default=0, help="print the first N failures")
    args = parser.parse_args(argv)
    articles = load(args.set)
    tally, classes = evaluate(articles, args.show)
    print(
        f"set {args.set}: {len(articles)} articles, {tally.gold} gold quotes, "
        f"{tally.predicted} predicted"
    )
    for key, value in tally.line().items():
        print(f"  {key:18s} {value:.3f}")
    print(f"  found with no speaker: {tally.no_speaker} of {tally.found}")
    print("failure classes:")
    for key, value in sorted(classes.items()):
        print(f"  {key}" + (f": {value}" if value else ""))


if __name__ == "__main__":
    main()
