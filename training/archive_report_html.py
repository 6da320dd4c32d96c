"""The HTML of `stance report`: one self-contained file, plots as inline SVG.

Inline SVG rather than matplotlib PNGs: the file stays small, text in the plots is
selectable and sharp at any zoom, and nothing is loaded from elsewhere. Every string that
comes from the data goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from training.archive_report import (
    KEY_SEP,
    ArchiveSummary,
    ReportError,
    ReportOptions,
    summarize,
)

LABEL_COLOURS = {"negative": "#c0392b", "neutral": "#a0a7ad", "positive": "#2e8b57"}
OTHER_COLOURS = ("#2f6fb0", "#d4892a", "#7d4fb3", "#1f9aa5", "#b5487a", "#6b8e23")
BAR_WIDTH = 440
NAME_WIDTH = 250


def _colours(labels: Sequence[str]) -> dict[str, str]:
    others = iter(OTHER_COLOURS * (1 + len(labels) // len(OTHER_COLOURS)))
    return {label: LABEL_COLOURS.get(label) or next(others) for label in labels}


def _name(group: str) -> str:
    """Display form of a group key ('speaker → target' for speaker,target)."""
    return " → ".join(group.split(KEY_SEP))


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _legend(labels: Sequence[str], colours: dict[str, str]) -> str:
    items = "".join(
        f'<span class="key"><i style="background:{colours[lab]}"></i>{_esc(lab)}</span>'
        for lab in labels
    )
    return f'<div class="legend">{items}</div>'


def stacked_bars(
    rows: Sequence[tuple[str, Counter[str]]], labels: Sequence[str], colours: dict[str, str]
) -> str:
    """Horizontal 100% bars, one per (name, label counts), with the row count at the end."""
    height = 24
    parts = []
    for i, (name, counts) in enumerate(rows):
        y = i * height
        total = counts.total()
        parts.append(
            f'<text x="{NAME_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"<title>{_esc(name)}</title>{_esc(_cut(name, 34))}</text>"
        )
        x = float(NAME_WIDTH)
        for label in labels:
            share = counts[label] / total if total else 0.0
            width = share * BAR_WIDTH
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{height - 6}" '
                    f'fill="{colours[label]}"><title>{_esc(name)}: {_esc(label)} '
                    f"{counts[label]} of {total} ({share:.0%})</title></rect>"
                )
                if width >= 34:
                    parts.append(
                        f'<text x="{x + width / 2:.1f}" y="{y + 16}" text-anchor="middle" '
                        f'class="in">{share:.0%}</text>'
                    )
            x += width
        parts.append(f'<text x="{NAME_WIDTH + BAR_WIDTH + 8}" y="{y + 16}">{total:,}</text>')
    total_width = NAME_WIDTH + BAR_WIDTH + 70
    return (
        f'<svg class="plot" width="{total_width}" height="{len(rows) * height}" '
        f'viewBox="0 0 {total_width} {len(rows) * height}" role="img">{"".join(parts)}</svg>'
    )


def line_plot(
    title: str,
    series: dict[str, Counter[str]],
    labels: Sequence[str],
    colours: dict[str, str],
) -> str:
    """Share of each label per period (lines), rows per period (grey bars behind)."""
    width, height, left, bottom, top = 470, 190, 40, 34, 22
    periods = sorted(series)
    plot_w, plot_h = width - left - 10, height - top - bottom
    step = plot_w / max(1, len(periods))
    most = max((series[p].total() for p in periods), default=1)
    parts = [f'<text x="{left}" y="14" class="title">{_esc(_cut(title, 60))}</text>']
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{frac:.0%}</text>')
    for i, period in enumerate(periods):
        n = series[period].total()
        bar = plot_h * n / most
        x = left + i * step
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - bar:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar:.1f}" class="count">'
            f"<title>{_esc(period)}: {n:,} rows</title></rect>"
        )
    for label in labels:
        points = " ".join(
            f"{left + (i + 0.5) * step:.1f},"
            f"{top + plot_h * (1 - series[p][label] / series[p].total()):.1f}"
            for i, p in enumerate(periods)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colours[label]}" '
            f'stroke-width="2"><title>{_esc(label)}</title></polyline>'
        )
    if periods:
        parts.append(f'<text x="{left}" y="{height - 16}">{_esc(periods[0])}</text>')
        parts.append(
            f'<text x="{width - 10}" y="{height - 16}" text-anchor="end">{_esc(periods[-1])}</text>'
        )
        parts.append(
            f'<text x="{left}" y="{height - 2}" class="note">grey bars: rows per period '
            f"(max {most:,}); lines: share of each stance</text>"
        )
    return (
        f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img">{"".join(parts)}</svg>'
    )


_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d1f21; margin: 1.5rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.plot { font: 12px system-ui, sans-serif; fill: #333; display: block; margin: .5rem 0; }
.plot .in { fill: #fff; font-weight: 600; } .plot .title { font-weight: 700; font-size: 13px; }
.plot .grid { stroke: #e3e3e3; } .plot .count { fill: #eceff1; } .plot .note { fill: #777; }
.legend { display: flex; gap: 1rem; font-size: .9rem; }
.key i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
         vertical-align: -1px; }
.small-multiples { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
blockquote { margin: .3rem 0 .6rem; padding: .2rem .8rem; border-left: 4px solid #ccc; }
.meta { color: #666; font-size: .85rem; }
"""


def render(summary: ArchiveSummary) -> str:
    """The whole report as one HTML document."""
    labels, opts = summary.labels, summary.options
    colours = _colours(labels)
    by = " → ".join(opts.group_fields)
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Stance report: {_esc(summary.source)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Stance report</h1><p class='meta'>{_esc(summary.source)}: {summary.rows:,} scored "
        f"rows, {len(summary.groups):,} {_esc(by)} groups ({summary.eligible_groups():,} with at "
        f"least {opts.min_mentions} rows).</p>",
        "<h2>Labels</h2>",
        _legend(labels, colours),
        stacked_bars([("all rows", summary.label_counts)], labels, colours),
        "<table><thead><tr><th>stance</th><th class='num'>rows</th><th class='num'>share</th>"
        "<th class='num'>mean confidence</th></tr></thead><tbody>",
    ]
    for label in labels:
        n = summary.label_counts[label]
        share = n / summary.rows if summary.rows else 0.0
        conf = summary.label_confidence[label] / n if n else 0.0
        out.append(
            f"<tr><td>{_esc(label)}</td><td class='num'>{n:,}</td><td class='num'>{share:.1%}"
            f"</td><td class='num'>{conf:.3f}</td></tr>"
        )
    out.append(
        f"<tr><th>all</th><td class='num'>{summary.rows:,}</td><td class='num'>100%</td>"
        f"<td class='num'>{summary.mean_confidence():.3f}</td></tr></tbody></table>"
    )
    out.append(_errors(summary))
    out.append(f"<h2>Stance by {_esc(by)}</h2>")
    if summary.top_groups:
        out.append(
            f"<p class='meta'>The {len(summary.top_groups)} groups with the most rows (at least "
            f"{opts.min_mentions}); confidence is the mean probability of the assigned stance."
            "</p>"
        )
        out.append(_legend(labels, colours))
        out.append(
            stacked_bars(
                [(_name(g), summary.groups[g]) for g in summary.top_groups], labels, colours
            )
        )
        out.append(_group_table(summary))
    else:
        out.append(f"<p>No group has {opts.min_mentions} or more rows (--min-mentions).</p>")
    if opts.time_field:
        out.append(_time_section(summary, colours))
    out.append(_quotes_section(summary, colours))
    out.append("</body></html>\n")
    return "".join(out)


def _errors(summary: ArchiveSummary) -> str:
    if summary.errors_path is None:
        return "<p class='meta'>Errors: no errors file beside the input.</p>"
    return (
        f"<p><strong>Errors:</strong> {summary.error_records:,} record(s) failed "
        f"({summary.error_rows:,} error rows in {_esc(summary.errors_path)}).</p>"
    )


def _group_table(summary: ArchiveSummary) -> str:
    labels = summary.labels
    head = "".join(f"<th class='num'>{_esc(lab)}</th>" for lab in labels)
    rows = []
    for g in summary.top_groups:
        counts = summary.groups[g]
        cells = "".join(
            f"<td class='num'>{counts[lab] / counts.total():.0%}</td>" for lab in labels
        )
        rows.append(
            f"<tr><td>{_esc(_name(g))}</td><td class='num'>{counts.total():,}</td>{cells}"
            f"<td class='num'>{summary.mean_confidence(g):.3f}</td></tr>"
        )
    return (
        f"<table><thead><tr><th>group</th><th class='num'>rows</th>{head}"
        f"<th class='num'>mean confidence</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _time_section(summary: ArchiveSummary, colours: dict[str, str]) -> str:
    opts = summary.options
    unit = {"W": "week", "M": "month"}[opts.freq]
    parts = [
        f"<h2>Stance over time (per {unit}, field {_esc(opts.time_field)})</h2>",
        _legend(summary.labels, colours),
    ]
    if summary.undated_rows:
        parts.append(
            f"<p class='meta'>{summary.undated_rows:,} rows of these groups have no readable "
            "date and are left out of the plots.</p>"
        )
    plots = [
        line_plot(
            f"{_name(g)} ({sum(c.total() for c in summary.series[g].values()):,} rows)",
            summary.series[g],
            summary.labels,
            colours,
        )
        for g in summary.top_groups
        if g in summary.series
    ]
    if not plots:
        parts.append("<p>No dated rows in the top groups.</p>")
    parts.append(f"<div class='small-multiples'>{''.join(plots)}</div>")
    return "".join(parts)


def _quotes_section(summary: ArchiveSummary, colours: dict[str, str]) -> str:
    parts = ["<h2>Most confident evidence per group</h2>"]
    for g in summary.top_groups:
        quotes = summary.quotes.get(g, [])
        if not quotes:
            continue
        parts.append(f"<h3>{_esc(_name(g))}</h3>")
        for q in quotes:
            parts.append(
                f"<blockquote style='border-color:{colours[q.label]}'>{_esc(_cut(q.text, 400))}"
                f"<div class='meta'>{_esc(q.label)} {q.confidence:.3f} · record "
                f"<code>{_esc(q.record_id)}</code></div></blockquote>"
            )
    return "".join(parts)


def write_report(scored: Path, output: Path, options: ReportOptions) -> ArchiveSummary:
    """Aggregate ``scored`` and write the HTML report to ``output`` (replaced atomically)."""
    if output.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"{output}: the report is HTML; name the output file *.html")
    summary = summarize(scored, options)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(render(summary), encoding="utf-8")
    partial.replace(output)
    return summary
