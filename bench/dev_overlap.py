"""Training texts that come close to a contrast dev sentence, for a person to review.

The contrast dev set (bench/data/contrast_dev.jsonl) is only an honest estimate if no
training text says the same thing in other words. The writers of the training parts never
read it, but their briefs named kinds of dev errors, so every new part is compared with it
sentence by sentence before it is trained on. A training sentence is listed when it shares
four or more content words with a dev sentence, or three and a three-word phrase with at
least two content words. Most hits are set phrases ("would take effect on") or news roles
("student union president"); the ones that restate a dev claim, reuse its idiom or argue its
target's case get removed from the corpus (training/corpus/README.md).

    python bench/dev_overlap.py                       # every part in training/corpus
    python bench/dev_overlap.py training/corpus/part_q_quotes.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "bench" / "data" / "contrast_dev.jsonl"
CORPUS = ROOT / "training" / "corpus"
# Function words, reporting verbs ("said", "told") and the commonest news words: shared
# words that say nothing about a claim. (model.article.lexicon.STOP_WORDS serves noun-phrase
# finding and keeps the reporting verbs, which would make every "X said" sentence a hit.)
_FUNCTION_WORDS = """the a an of to and in on for with that this it is was be would will had
    has have said says by at as from its their his her they he she we our not no but while
    whereas told who which or than more new could been were are can one two every all into
    out over after before about them there what when also only just any those these such so
    up then other most year years"""
STOP = frozenset(_FUNCTION_WORDS.split())
Gram = tuple[str, ...]


def sentences(text: str) -> list[str]:
    """Sentences and paragraph lines of more than three words."""
    parts = re.split(r"(?<=[.!?”\"])\s+|\n+", text)
    return [s for s in parts if len(s.split()) > 3]


def _words(sentence: str) -> list[str]:
    # Curly and straight apostrophes are one ("council’s" = "council's").
    return re.findall(r"[a-z0-9']+", sentence.lower().replace("’", "'"))


def content_words(sentence: str) -> set[str]:
    """Lower-cased words of three letters or more that are not function words."""
    return {w for w in _words(sentence) if w not in STOP and len(w) > 2}


def phrases(sentence: str) -> set[Gram]:
    """Three-word phrases with at least two content words."""
    w = _words(sentence)
    grams = (tuple(w[i : i + 3]) for i in range(len(w) - 2))
    return {g for g in grams if sum(x not in STOP for x in g) >= 2}


def closest(
    text: str, dev: list[tuple[str, str, set[str], set[Gram]]]
) -> tuple[int, str, str, str] | None:
    """(score, dev id, training sentence, dev sentence) of the closest listed pair, or None.
    The score (shared content words + 2 x shared phrases) only orders the hits."""
    best: tuple[int, str, str, str] | None = None
    for sentence in sentences(text):
        words, grams = content_words(sentence), phrases(sentence)
        for dev_id, dev_sentence, dev_words, dev_grams in dev:
            shared, shared_grams = len(words & dev_words), len(grams & dev_grams)
            if shared >= 4 or (shared_grams and shared >= 3):
                score = shared + 2 * shared_grams
                if best is None or score > best[0]:
                    best = (score, dev_id, sentence, dev_sentence)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", help="part files (default: all in training/corpus)")
    args = parser.parse_args(argv)
    pairs = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    dev = [(p["id"], s, content_words(s), phrases(s)) for p in pairs for s in sentences(p["text"])]
    files = [Path(p) for p in args.parts] or sorted(CORPUS.glob("*.jsonl"))
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        parser.error(f"no such part file: {', '.join(missing)}")
    listed = 0
    for path in files:
        seen: set[str] = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            hit = closest(row["text"], dev)
            if hit:
                listed += 1
                score, dev_id, sentence, dev_sentence = hit
                print(f"{row['id']} ~ {dev_id} (score {score})")
                print(f"  T: {sentence}\n  D: {dev_sentence}")
    print(f"{listed} texts listed for review", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
