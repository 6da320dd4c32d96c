"""A readable plain-text table of an ArticleAnalysis (for the command line)."""

from __future__ import annotations

from model.article.analyze import ArticleAnalysis

AUTHOR_LABEL = "(author)"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render_table(analysis: ArticleAnalysis, evidence_width: int = 60) -> str:
    """Speakers, targets, then one row per (speaker, target) with its best evidence."""
    lines: list[str] = []
    if analysis.speakers:
        names = [
            f"{s.name} ({'; '.join(s.roles)})" if s.roles else s.name for s in analysis.speakers
        ]
        lines.append("speakers: " + "; ".join(names))
    if analysis.targets:
        lines.append(
            "targets:  "
            + "; ".join(f"{t.name} ({len(t.mentions)} mentions)" for t in analysis.targets)
        )
    if analysis.noise:
        kinds = sorted({n.kind for n in analysis.noise})
        lines.append(f"removed:  {len(analysis.noise)} noise span(s): {', '.join(kinds)}")
    rows = [("speaker", "target", "stance", "p", "mentions", "evidence [start, end)")]
    for s in analysis.stances:
        best = s.evidence[0] if s.evidence else None
        where = f"[{best.start}, {best.end}) {_cut(best.text, evidence_width)}" if best else ""
        rows.append(
            (
                s.speaker or AUTHOR_LABEL,
                s.target,
                s.label,
                f"{s.probabilities[s.label]:.2f}",
                str(s.mentions),
                where,
            )
        )
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines.append("")
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(5)] + [row[5]]
            lines.append("  ".join(cells).rstrip())
    else:
        lines.append("no stances found")
    lines.extend(f"warning: {w}" for w in analysis.warnings)
    return "\n".join(lines)
