"""The team-written attribution dev set: marked-up source -> JSONL with exact offsets.

The articles are written (invented people, organisations and places) in
``bench/data/attribution_{dev,heldout}.txt`` with inline marks, so nobody counts offsets by
hand:

- ``### id`` starts an article; its text runs to the next ``###`` line (outer blank lines
  dropped);
- ``{{Speaker Name|quoted text|tag,tag}}`` is a gold quote: ``quoted text`` (exactly what
  stands between the quotation marks, which are written outside the braces; for a quote over
  several paragraphs, everything from the first word to the last) spoken by ``Speaker Name``
  (canonical: the fullest name; ``@`` before it marks an organisation). Tags name the style
  or trap the quote tests (``party``, ``pron``, ``noreopen``, ...); they are optional;
- ``{{-|text|tag}}`` marks quoted text that is not speech (a book title, a scare quote): a
  predicted quote there is a false positive of that class.

Run ``python -m bench.attribution_data`` to rebuild the JSONL files after editing a source.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
SETS = ("dev", "heldout")
_MARK = re.compile(r"\{\{(.*?)\|(.*?)(?:\|([\w,]*))?\}\}", re.DOTALL)


def parse_marked(source: str) -> list[dict[str, Any]]:
    """Articles of a marked-up source: ``{id, text, quotes, non_quotes}`` each."""
    articles: list[dict[str, Any]] = []
    chunks = re.split(r"^### +(\S+)[ \t]*\n", source, flags=re.MULTILINE)
    if chunks[0].strip():
        raise ValueError(f"text before the first '### id' line: {chunks[0][:60]!r}")
    for art_id, body in zip(chunks[1::2], chunks[2::2], strict=True):
        body = body.strip("\n")
        text_parts: list[str] = []
        quotes: list[dict[str, Any]] = []
        non_quotes: list[dict[str, Any]] = []
        pos, length = 0, 0
        for match in _MARK.finditer(body):
            plain = body[pos : match.start()]
            text_parts.append(plain)
            length += len(plain)
            who, said, tags = match.group(1), match.group(2), match.group(3) or ""
            if "{{" in said:
                raise ValueError(f"{art_id}: nested or unclosed mark near {said[:60]!r}")
            if said != said.strip():
                raise ValueError(f"{art_id}: gold quote with outer white space: {said[:60]!r}")
            entry: dict[str, Any] = {
                "start": length,
                "end": length + len(said),
                "tags": [t for t in tags.split(",") if t],
            }
            if who == "-":
                non_quotes.append(entry)
            else:
                entry["speaker"] = who.lstrip("@")
                entry["org"] = who.startswith("@")
                quotes.append(entry)
            text_parts.append(said)
            length += len(said)
            pos = match.end()
        text_parts.append(body[pos:])
        text = "".join(text_parts)
        if "{{" in text or "}}" in text:
            raise ValueError(f"{art_id}: a mark was not closed properly")
        articles.append({"id": art_id, "text": text, "quotes": quotes, "non_quotes": non_quotes})
    return articles


def load(name: str) -> list[dict[str, Any]]:
    """The JSONL articles of set ``name`` ("dev" or "heldout")."""
    path = DATA / f"attribution_{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def build(name: str) -> list[dict[str, Any]]:
    """Parse the source of set ``name``."""
    return parse_marked((DATA / f"attribution_{name}.txt").read_text(encoding="utf-8"))


def main() -> None:
    """Rebuild every JSONL file from its source and print the sizes."""
    for name in SETS:
        articles = build(name)
        with (DATA / f"attribution_{name}.jsonl").open("w", encoding="utf-8") as out:
            for art in articles:
                out.write(json.dumps(art, ensure_ascii=False) + "\n")
        n = sum(len(a["quotes"]) for a in articles)
        print(f"{name}: {len(articles)} articles, {n} quotes", file=sys.stderr)


if __name__ == "__main__":
    main()
