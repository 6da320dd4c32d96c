"""`stance report`: aggregation of scored rows (JSONL and Parquet, one or many batches),
the HTML it writes, and the command's errors. Rows are written here, shaped like
`stance score` output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from training import archive_report
from training.archive_report import (
    KEY_SEP,
    Quote,
    ReportError,
    ReportOptions,
    summarize,
)
from training.archive_report_html import write_report

LABELS = ("negative", "neutral", "positive")


def _row(rid: str, target: str, speaker: str | None, label: str, p: float, date: str | None):
    probs = {lab: (p if lab == label else round((1 - p) / 2, 6)) for lab in LABELS}
    evidence = [{"text": f"Sentence of {rid}.", "start": 0, "end": 10, "probabilities": probs,
                 "weight": None}]  # fmt: skip
    return {"id": rid, "target": target, "speaker": speaker, "label": label,
            "probabilities": probs, "evidence": evidence, "model": "stance:test",
            "date": date}  # fmt: skip


ROWS = [
    _row("r1", "the mission", "Ana Petrova", "positive", 0.9, "2024-03-04"),
    _row("r2", "the mission", "Ana Petrova", "positive", 0.7, "2024-03-06T10:00:00Z"),
    _row("r3", "the mission", None, "negative", 0.6, "2024-03-11"),
    _row("r4", "the mission", "Ivo Marek", "neutral", 0.5, "2024-04-01"),
    _row("r5", "the treaty", "Ivo Marek", "negative", 0.95, "2024-04-02"),
    _row("r6", "the treaty", "Ivo Marek", "negative", 0.8, "not a date"),
    _row("r7", "the treaty", None, "positive", 0.55, None),
    _row("r8", "<b>the port</b>", None, "neutral", 0.4, "2024-04-03"),
]


@pytest.fixture()
def scored(tmp_path: Path) -> Path:
    path = tmp_path / "scored.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    errors = [{"index": 8, "id": "r9", "reason": "text: empty"},
              {"index": 9, "id": "r10", "target": "a", "reason": "x"},
              {"index": 9, "id": "r10", "target": "b", "reason": "x"}]  # fmt: skip
    (tmp_path / "scored.jsonl.errors.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in errors), encoding="utf-8"
    )
    return path


@pytest.fixture()
def scored_parquet(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "scored.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path, row_group_size=3)
    return path


def test_counts_confidence_and_top_groups_by_target(scored: Path) -> None:
    s = summarize(scored, ReportOptions(by="target", min_mentions=2))
    assert s.labels == LABELS and s.rows == 8
    assert dict(s.label_counts) == {"positive": 3, "negative": 3, "neutral": 2}
    assert s.top_groups == ["the mission", "the treaty"]  # the port has 1 row < 2
    assert dict(s.groups["the mission"]) == {"positive": 2, "negative": 1, "neutral": 1}
    assert s.mean_confidence("the mission") == pytest.approx((0.9 + 0.7 + 0.6 + 0.5) / 4)
    assert s.mean_confidence() == pytest.approx(
        (0.9 + 0.7 + 0.6 + 0.5 + 0.95 + 0.8 + 0.55 + 0.4) / 8
    )
    assert s.eligible_groups() == 2
    assert (s.error_rows, s.error_records) == (3, 2)
    assert s.quotes["the treaty"] == [
        Quote(0.95, "r5", "negative", "Sentence of r5."),
        Quote(0.8, "r6", "negative", "Sentence of r6."),
        Quote(0.55, "r7", "positive", "Sentence of r7."),
    ]
    assert [q.record_id for q in s.quotes["the mission"]] == ["r1", "r2", "r3"]


def test_speaker_and_pair_groupings_name_the_author(scored: Path) -> None:
    by_speaker = summarize(scored, ReportOptions(by="speaker", min_mentions=1))
    assert by_speaker.top_groups == ["(author)", "Ivo Marek", "Ana Petrova"]
    pairs = summarize(scored, ReportOptions(by="speaker,target", min_mentions=2))
    assert pairs.top_groups == [
        f"Ana Petrova{KEY_SEP}the mission",
        f"Ivo Marek{KEY_SEP}the treaty",
    ]


def test_monthly_and_weekly_series_skip_undated_rows(scored: Path) -> None:
    monthly = summarize(scored, ReportOptions(time_field="date", freq="M", min_mentions=2))
    assert {p: dict(c) for p, c in monthly.series["the mission"].items()} == {
        "2024-03-01": {"positive": 2, "negative": 1},
        "2024-04-01": {"neutral": 1},
    }
    assert {p: dict(c) for p, c in monthly.series["the treaty"].items()} == {
        "2024-04-01": {"negative": 1}
    }
    assert monthly.undated_rows == 2  # "not a date" and null
    weekly = summarize(scored, ReportOptions(time_field="date", freq="W", min_mentions=2))
    # Weeks start on Monday: 4 and 6 March 2024 share the week of the 4th.
    assert {p: dict(c) for p, c in weekly.series["the mission"].items()} == {
        "2024-03-04": {"positive": 2},
        "2024-03-11": {"negative": 1},
        "2024-04-01": {"neutral": 1},
    }


def test_parquet_and_many_small_batches_give_the_same_summary(
    scored: Path, scored_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = ReportOptions(time_field="date", min_mentions=2)
    whole = summarize(scored, options)
    monkeypatch.setattr(archive_report, "BATCH_ROWS", 2)
    monkeypatch.setattr(archive_report, "JSONL_BLOCK_BYTES", 700)  # about one row per block
    for path in (scored, scored_parquet):
        small = summarize(path, options)
        assert small.groups == whole.groups
        assert small.label_confidence == pytest.approx(whole.label_confidence)
        assert small.series == whole.series and small.quotes == whole.quotes
        assert small.undated_rows == whole.undated_rows


def test_html_is_self_contained_and_escapes_names(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(scored, out, ReportOptions(time_field="date", min_mentions=1))
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("<svg") == 1 + 1 + 3
    assert "&lt;b&gt;the port&lt;/b&gt;" in page and "<b>the port</b>" not in page
    assert not re.search(r"(?:src|href)=|https?://", page)
    assert "2 record(s) failed (3 error rows in" in page
    assert "<code>r5</code>" in page
    assert "2 rows of these groups have no readable date" in page


def test_cli_writes_the_report_and_names_bad_options(scored: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.html"
    ok = runner.invoke(app, ["report", str(scored), str(out), "--min-mentions", "2"])
    assert ok.exit_code == 0, ok.output
    assert "wrote" in ok.output and out.is_file()
    bad = runner.invoke(app, ["report", str(scored), str(out), "--by", "target,target"])
    assert bad.exit_code == 2
    assert (
        "error: --by 'target,target': name 1 to 3 different fields of the scored rows, "
        "separated by commas" in bad.output
    )
    absent = runner.invoke(app, ["report", str(scored), str(out), "--by", "source"])
    assert absent.exit_code == 2
    assert "source" in absent.output and "is it `stance score` output?" in absent.output


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_grouping_by_a_kept_field(tmp_path: Path, suffix: str) -> None:
    # A field copied by `stance score --keep-fields source` groups like target or speaker.
    rows = [{**r, "source": "Gazette" if i % 3 else "Courier"} for i, r in enumerate(ROWS)]
    rows[7]["source"] = None
    path = tmp_path / f"kept.{suffix}"
    if suffix == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    s = summarize(path, ReportOptions(by="source", min_mentions=1))
    assert s.top_groups == ["Gazette", "Courier", "(none)"]
    assert dict(s.groups["Courier"]) == {"positive": 2, "neutral": 1}  # r1, r7; r4
    pairs = summarize(path, ReportOptions(by="source,target", min_mentions=2))
    assert pairs.top_groups == [  # two rows each; ties keep the order of first appearance
        f"Courier{KEY_SEP}the mission",
        f"Gazette{KEY_SEP}the mission",
        f"Gazette{KEY_SEP}the treaty",
    ]


def test_input_errors_say_what_was_found(tmp_path: Path, scored_parquet: Path) -> None:
    with pytest.raises(ReportError, match=r"no such file; give the output of `stance score`"):
        summarize(tmp_path / "missing.jsonl", ReportOptions())
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"empty.jsonl: is empty; nothing to report"):
        summarize(empty, ReportOptions())
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "a", "text": "hi"}\n', encoding="utf-8")
    plain.with_name("p2.jsonl").write_text(
        json.dumps({k: v for k, v in ROWS[0].items() if k != "speaker"}) + "\n"
    )
    with pytest.raises(ReportError, match=r"plain.jsonl:1: no 'probabilities' object"):
        summarize(plain, ReportOptions())
    with pytest.raises(ReportError, match=r"no field 'published' in the schema; pass --time-field"):
        summarize(scored_parquet, ReportOptions(time_field="published", min_mentions=1))
    with pytest.raises(ReportError, match=r"no field 'speaker' in the first row; is it `stance"):
        summarize(plain.with_name("p2.jsonl"), ReportOptions(by="speaker"))
    with pytest.raises(ReportError, match=r"name the output file \*\.html"):
        write_report(scored_parquet, tmp_path / "r.txt", ReportOptions())


def test_line_blocks_cut_at_line_ends_even_for_long_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    data = b'{"a": 1}\n{"bb": "a line longer than the block size"}\n\n{"c": 3}'
    path.write_bytes(data)
    blocks = list(archive_report._line_blocks(path, 12))
    assert [b for _, b in blocks] == [
        b'{"a": 1}\n',
        b'{"bb": "a line longer than the block size"}\n\n',
        b'{"c": 3}',
    ]
    assert [data[o : o + len(b)] for o, b in blocks] == [b for _, b in blocks]
