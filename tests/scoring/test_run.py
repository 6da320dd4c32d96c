"""Archive scoring: readers, error rows, resumable exactly-once parts, engines, CLI.

One tiny untrained model is built per module (plumbing tests do not need a trained one).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from records.columns import ColumnMap
from scoring.archive import ArchiveError, ReadOptions, ScoringError, generated_id
from scoring.engines import HttpEngine
from scoring.options import ScoringOptions
from scoring.run import run_scoring
from scoring.workfolder import WorkFolder

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    "The minister praised the mission for its calm and professional work.",
    "Critics accused the agency of hiding the true cost of the project.",
    "The delegation arrived in Geneva on Tuesday for the second round of talks.",
    "The union described the company's offer as an insult to its members.",
]


def _jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _options(model_dir: Path, source: Path, output: Path, **kwargs) -> ScoringOptions:
    read = kwargs.pop("read", ReadOptions())
    return ScoringOptions(
        input=source, output=output, model=str(model_dir), read=read, progress=False, **kwargs
    )


def _pairs(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["id"], r["target"]) for r in rows]


# ----------------------------------------------------------------------------- JSONL
def test_jsonl_rows_errors_order_and_generated_ids(engine, model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "text": TEXTS[0], "target": "the mission"},
            {"text": TEXTS[1], "target": ["the agency", "Critics", "the agency"], "speaker": "X"},
            "{not json",
            "",
            {"id": "m", "target": "x"},
            "[1, 2]",
            {"id": 7, "text": TEXTS[2], "target": "The delegation"},
            {"id": "long", "text": "x" * 81, "target": "x"},
            {"id": "t", "text": TEXTS[3], "target": ["the union", ""]},
            '{"id": "s", "text": "bad \\ud800 escape", "target": "bad"}',
            {"id": "sp", "text": TEXTS[3], "target": "the union", "speaker": 3},
        ],
    )
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, source, output, read=ReadOptions(max_chars=80), part_size=3)
    summary = run_scoring(options, engine=engine)

    rows = _read_jsonl(output)
    generated = generated_id("in.jsonl", "line 2")
    assert generated == hashlib.sha1(b"in.jsonl:line 2").hexdigest()[:20]
    # Input order; one row per distinct target; the duplicate target is dropped.
    assert _pairs(rows) == [
        ("a", "the mission"),
        (generated, "the agency"),
        (generated, "Critics"),
        ("7", "The delegation"),
    ]
    assert rows[1]["speaker"] == "X" and rows[0]["speaker"] is None
    assert all(r["model"] == str(model_dir) for r in rows)
    assert set(rows[0]) == {
        "id",
        "target",
        "speaker",
        "label",
        "probabilities",
        "evidence",
        "model",
        "speaker_found",
        "speaker_mentions_target",
        "speaker_statements",
    }
    # Row 0 asks about no speaker: the speaker columns are null; row 1 asks about "X".
    assert [rows[0][k] for k in ("speaker_found", "speaker_statements")] == [None, None]
    assert rows[1]["speaker_found"] is False and rows[1]["speaker_statements"] == 0
    assert sum(rows[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert rows[0]["evidence"][0]["text"] == TEXTS[0]

    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["line"], e["id"], e["reason"]) for e in errors] == [
        (
            3,
            generated_id("in.jsonl", "line 3"),
            "invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        (5, "m", "field 'text' is missing (map the text field with --text-col)"),
        (6, generated_id("in.jsonl", "line 6"), "expected a JSON object, found list"),
        (
            8,
            "long",
            "field 'text' has 81 characters, over --max-chars 80; split the article or raise "
            "--max-chars",
        ),
        (9, "t", "field 'target': target 2 must be a non-empty string, found ''"),
        (10, "s", "field 'text': contains an unpaired surrogate escape at character 5"),
        (11, "sp", "field 'speaker': expected a string or null, found int"),
    ]
    assert all(e["file"] == "in.jsonl" for e in errors)
    # Blank line 4 is not a record: 10 records, indices 0..9.
    assert [e["index"] for e in errors] == [2, 3, 4, 6, 7, 8, 9]
    assert (summary.records, summary.rows, summary.errors) == (10, 4, 7)
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_line_longer_than_any_allowed_record_is_an_error_row(engine, model_dir, tmp_path):
    huge = json.dumps({"id": "huge", "text": "y" * 1_100_000, "target": "y"})
    source = _jsonl(tmp_path / "in.jsonl", [huge, {"id": "ok", "text": "Fine, ok.", "target": "x"}])
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output, read=ReadOptions(max_chars=10)), engine=engine)
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert errors == [
        {
            "index": 0,
            "id": generated_id("in.jsonl", "line 1"),
            "file": "in.jsonl",
            "line": 1,
            "reason": f"line is {len(huge) + 1} bytes, longer than any record --max-chars 10 "
            "allows; split the article or raise --max-chars",
        }
    ]
    assert _pairs(_read_jsonl(output)) == [("ok", "x")]


def test_undecodable_jsonl_line(engine, model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    bad = b'{"id": "bad", "text": "caf\xe9 owners", "target": "owners"}\n'
    ok = json.dumps({"id": "ok", "text": TEXTS[0], "target": "x"}).encode() + b"\n"
    source.write_bytes(bad + ok)
    run_scoring(_options(model_dir, source, tmp_path / "o.jsonl"), engine=engine)
    errors = _read_jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert bad.index(b"\xe9") + 1 == 27
    assert [(e["line"], e["id"], e["reason"]) for e in errors] == [
        (
            1,
            generated_id("in.jsonl", "line 1"),
            "bytes not valid utf-8 at byte 27 (pass --encoding, e.g. --encoding cp1252)",
        )
    ]
    assert _pairs(_read_jsonl(tmp_path / "o.jsonl")) == [("ok", "x")]


# ----------------------------------------------------------------------------- CSV / TSV
CSV_BYTES = (
    b"id,text,target,speaker\n"
    b"c1,The minister praised the mission.,the mission; the minister;,\n"
    b'c2,"A quoted\nmulti-line text about the agency.","[""the agency"", ""A""]",critics\n'
    b"c3,A caf\xe9 near the court.,the court,\n"
    b"c4,too,many,fields,here,x\n"
    b",,the bank,\n"
    b"\n"
    b'c6,Text about the union.,"[not json",\n'
)


def test_csv_rows_and_error_rows(engine, model_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(CSV_BYTES)
    output = tmp_path / "out.jsonl"
    summary = run_scoring(_options(model_dir, source, output, part_size=2), engine=engine)
    rows = _read_jsonl(output)
    assert _pairs(rows) == [
        ("c1", "the mission"),
        ("c1", "the minister"),
        ("c2", "the agency"),
        ("c2", "A"),
    ]
    assert rows[2]["speaker"] == "critics" and rows[0]["speaker"] is None
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["line"], e["id"], e["reason"]) for e in errors] == [
        (5, "c3", "column 'text': bytes not valid utf-8 (pass --encoding, e.g. --encoding cp1252)"),
        (6, generated_id("in.csv", "line 6"), "expected 4 fields (as the header), found 6"),
        (7, generated_id("in.csv", "line 7"), "field 'text' is empty"),
        (
            9,
            "c6",
            "field 'target': looks like a JSON list but is not valid JSON (Expecting value at "
            "column 2)",
        ),
    ]
    assert (summary.records, summary.rows, summary.errors) == (6, 4, 4)


def test_csv_encoding_option_decodes_the_row(engine, model_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(CSV_BYTES)
    output = tmp_path / "out.jsonl"
    read = ReadOptions(encoding="cp1252")
    run_scoring(_options(model_dir, source, output, read=read), engine=engine)
    rows = _read_jsonl(output)
    assert ("c3", "the court") in _pairs(rows)
    assert (
        next(r for r in rows if r["id"] == "c3")["evidence"][0]["text"] == "A café near the court."
    )


def test_tsv_with_mapped_columns_and_default_target(engine, model_dir, tmp_path):
    source = tmp_path / "in.tsv"
    source.write_text('doc\tbody\n1\t"Quoted" start: the mission worked.\n2\t\n', encoding="utf-8")
    read = ReadOptions(
        fields=ColumnMap(text="body", target="topic", speaker=None, id="doc"),
        default_targets=("the mission",),
    )
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output, read=read), engine=engine)
    rows = _read_jsonl(output)
    assert _pairs(rows) == [("1", "the mission")]
    assert rows[0]["evidence"][0]["text"] == '"Quoted" start: the mission worked.'
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["line"], e["id"], e["reason"]) for e in errors] == [
        (3, "2", "field 'body' is empty")
    ]


def test_csv_without_text_column_is_refused(engine, model_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,body,target\n1,hello,x\n", encoding="utf-8")
    with pytest.raises(ArchiveError) as err:
        run_scoring(_options(model_dir, source, tmp_path / "o.jsonl"), engine=engine)
    assert str(err.value) == (
        f"{source}:line 1: no column(s) ['text']; found ['id', 'body', 'target']. Map the "
        "columns with --text-col / --target-col, or pass --target to score every record "
        "against fixed targets"
    )
    assert not (tmp_path / "o.jsonl.parts").exists()


# ----------------------------------------------------------------------------- Parquet
def test_parquet_rows_errors_and_missing_column(engine, model_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    table = pa.table(
        {
            "id": ["p1", "p2", None, "p4"],
            "text": [TEXTS[0], None, TEXTS[1], TEXTS[2]],
            "target": [["the mission", "the minister"], ["x"], ["the agency"], []],
        }
    )
    pq.write_table(table, source, row_group_size=2)
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output, part_size=3), engine=engine)
    assert _pairs(_read_jsonl(output)) == [
        ("p1", "the mission"),
        ("p1", "the minister"),
        (generated_id("in.parquet", "row 3"), "the agency"),
    ]
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["row"], e["id"], e["reason"]) for e in errors] == [
        (2, "p2", "field 'text' is empty"),
        (4, "p4", "field 'target': the list of targets is empty"),
    ]

    missing = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"body": ["a"], "target": ["b"]}), missing)
    with pytest.raises(ArchiveError) as err:
        run_scoring(_options(model_dir, missing, tmp_path / "o2.jsonl"), engine=engine)
    assert str(err.value) == (
        f"{missing}: no column(s) ['text']; found ['body', 'target']. Map the columns with "
        "--text-col / --target-col, or pass --target to score every record against fixed "
        "targets"
    )


def test_parquet_output_holds_the_same_rows_as_jsonl(engine, model_dir, tmp_path):
    import pyarrow.parquet as pq

    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": f"r{i}", "text": t, "target": ["the mission", "the union"]}
            for i, t in enumerate(TEXTS)
        ]
        + ["oops"],
    )
    run_scoring(_options(model_dir, source, tmp_path / "o.jsonl", part_size=2), engine=engine)
    run_scoring(_options(model_dir, source, tmp_path / "o.parquet", part_size=2), engine=engine)
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.schema.field("probabilities").type.names == ["negative", "neutral", "positive"]
    assert table.to_pylist() == _read_jsonl(tmp_path / "o.jsonl")
    assert (tmp_path / "o.parquet.errors.jsonl").read_bytes() == (
        tmp_path / "o.jsonl.errors.jsonl"
    ).read_bytes()


# ----------------------------------------------------------------------------- folders
def test_folder_of_txt_and_jsonl_files(engine, model_dir, tmp_path):
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    (archive / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    _jsonl(
        archive / "b.jsonl",
        [{"text": TEXTS[1], "target": "the agency"}, {"id": "b2", "text": TEXTS[2]}],
    )
    (archive / "c.txt").write_text("  \n", encoding="utf-8")
    (archive / "notes.md").write_text("not an article", encoding="utf-8")
    (archive / "sub" / "d.txt").write_bytes(b"Bad \xff byte about the mission.")
    (archive / "sub" / "e.txt").write_text(TEXTS[3], encoding="utf-8")
    output = tmp_path / "out.jsonl"
    notes: list[str] = []
    read = ReadOptions(default_targets=("the mission",))
    summary = run_scoring(_options(model_dir, archive, output, read=read), engine, notes.append)
    assert notes == [
        "note: 1 file(s) in the input folder are not .txt/.jsonl and are skipped (first: notes.md)"
    ]
    assert _pairs(_read_jsonl(output)) == [
        ("a", "the mission"),
        (generated_id("b.jsonl", "line 1"), "the agency"),
        ("b2", "the mission"),
        ("sub/e", "the mission"),
    ]
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert errors == [
        {"index": 3, "id": "c", "file": "c.txt", "reason": "file is empty"},
        {
            "index": 4,
            "id": "sub/d",
            "file": "sub/d.txt",
            "reason": "bytes not valid utf-8 at byte 5 (pass --encoding, e.g. --encoding cp1252)",
        },
    ]
    assert summary.records == 6


def test_folder_of_txt_needs_a_target_and_output_outside(engine, model_dir, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    with pytest.raises(ArchiveError, match=r"\.txt files carry no target; pass the target"):
        run_scoring(_options(model_dir, archive, tmp_path / "o.jsonl"), engine=engine)
    read = ReadOptions(default_targets=("x",))
    with pytest.raises(ArchiveError, match="is inside the input folder"):
        run_scoring(_options(model_dir, archive, archive / "o.jsonl", read=read), engine=engine)


def test_generated_ids_are_stable_across_runs_and_locations(engine, model_dir, tmp_path):
    rows = [{"text": t, "target": "the mission"} for t in TEXTS]
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = _jsonl(tmp_path / "one" / "news.jsonl", rows)
    b = _jsonl(tmp_path / "two" / "news.jsonl", rows)
    run_scoring(_options(model_dir, a, tmp_path / "a.jsonl"), engine=engine)
    run_scoring(_options(model_dir, b, tmp_path / "b.jsonl"), engine=engine)
    run_scoring(_options(model_dir, a, tmp_path / "a.jsonl", overwrite=True), engine=engine)
    ids_a = [r["id"] for r in _read_jsonl(tmp_path / "a.jsonl")]
    ids_b = [r["id"] for r in _read_jsonl(tmp_path / "b.jsonl")]
    assert ids_a == ids_b == [generated_id("news.jsonl", f"line {n}") for n in range(1, 5)]
    assert len(set(ids_a)) == 4


# ----------------------------------------------------------------------------- resume
def test_crash_then_resume_scores_each_record_once(recording, engine, model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[i % 4], "target": "the mission"} for i in range(10)],
    )
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, source, output, part_size=3, batch_size=2)
    crashing = recording(engine, crash_at=7)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_scoring(options, engine=crashing)
    assert not output.exists()  # never visible before it is complete
    assert sorted(p.name for p in (tmp_path / "out.jsonl.parts").glob("*.done.json")) == [
        "part-00000.done.json",
        "part-00001.done.json",
    ]
    resumed = recording(engine)
    summary = run_scoring(options, engine=resumed)
    assert resumed.seen == [6, 7, 8, 9]  # committed parts were not scored again
    assert summary.resumed == 6 and summary.records == 10
    assert [r["id"] for r in _read_jsonl(output)] == [f"r{i}" for i in range(10)]


def test_resume_refuses_different_arguments(recording, engine, model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[0], "target": "x"} for i in range(4)],
    )
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, source, output, part_size=2)
    with pytest.raises(RuntimeError):
        run_scoring(options, engine=recording(engine, crash_at=2))
    changed = _options(model_dir, source, output, part_size=2, read=ReadOptions(max_chars=500))
    with pytest.raises(ScoringError) as err:
        run_scoring(changed, engine=engine)
    parts = tmp_path / "out.jsonl.parts"
    assert str(err.value) == (
        f"cannot resume {parts}: it was started with different arguments:\n"
        "  max_chars: 100000 (then) vs 500 (now)\n"
        f"Rerun with the original arguments to resume, or pass --overwrite (or delete {parts}) "
        "to start over."
    )
    # A changed input is refused too (size and modification time are fingerprinted).
    with source.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "new", "text": TEXTS[1], "target": "x"}) + "\n")
    with pytest.raises(ScoringError, match="input_fingerprint"):
        run_scoring(options, engine=engine)
    # --overwrite discards the old work folder and starts over with the new arguments.
    summary = run_scoring(
        _options(model_dir, source, output, part_size=2, overwrite=True), engine=engine
    )
    assert summary.resumed == 0 and summary.records == 5


def test_finished_output_is_not_overwritten_without_flag(engine, model_dir, tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXTS[0], "target": "x"}])
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output), engine=engine)
    before = output.read_bytes()
    # The same command again: complete, nothing scored, nothing rewritten.
    logs: list[str] = []
    summary = run_scoring(_options(model_dir, source, output), engine=engine, log=logs.append)
    assert logs == [
        f"{output} is complete: the same command already scored its 1 records; nothing to do "
        "(pass --overwrite to score again)"
    ]
    assert (summary.records, summary.rows, summary.errors, summary.resumed) == (1, 1, 0, 1)
    assert output.read_bytes() == before
    # Other arguments would give another result: refused.
    with pytest.raises(ScoringError, match="already exists and there is no unfinished run"):
        run_scoring(_options(model_dir, source, output, part_size=7), engine=engine)
    # An OUTPUT changed since is not vouched for either.
    output.write_bytes(before + b"\n")
    with pytest.raises(ScoringError, match="already exists and there is no unfinished run"):
        run_scoring(_options(model_dir, source, output), engine=engine)


def test_crash_while_assembling_leaves_no_partial_output(
    recording, engine, model_dir, tmp_path, monkeypatch
):
    import scoring.workfolder as scoring

    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[i % 4], "target": "x"} for i in range(5)],
    )
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, source, output, part_size=2)
    real_copy = scoring._copy
    calls = {"n": 0}

    def crashing_copy(src, dst):
        calls["n"] += 1
        if calls["n"] == 5:  # errors file done (3 parts), output half copied
            raise OSError("disk full (simulated)")
        real_copy(src, dst)

    monkeypatch.setattr(scoring, "_copy", crashing_copy)
    with pytest.raises(OSError, match="simulated"):
        run_scoring(options, engine=engine)
    assert not output.exists()
    assert not list(tmp_path.glob(".out.jsonl.tmp-*"))
    monkeypatch.setattr(scoring, "_copy", real_copy)
    resumed = recording(engine)
    summary = run_scoring(options, engine=resumed)
    assert resumed.seen == [] and summary.resumed == 5
    assert [r["id"] for r in _read_jsonl(output)] == [f"r{i}" for i in range(5)]


def test_crash_while_tidying_up_only_tidies_up(recording, engine, model_dir, tmp_path, monkeypatch):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[i % 4], "target": "x"} for i in range(3)] + ["{"],
    )
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, source, output, part_size=2)

    def killed(self):
        next(self.dir.glob("part-*.done.json")).unlink()  # half-way through removing parts
        raise OSError("killed (simulated)")

    monkeypatch.setattr(WorkFolder, "cleanup", killed)
    with pytest.raises(OSError, match="simulated"):
        run_scoring(options, engine=engine)
    monkeypatch.undo()
    complete = output.read_bytes()
    resumed = recording(engine)
    summary = run_scoring(options, engine=resumed)
    assert resumed.seen == []  # nothing is scored again, not even the part whose marker went
    assert (summary.records, summary.rows, summary.errors, summary.resumed) == (4, 3, 1, 4)
    assert output.read_bytes() == complete
    assert [r["id"] for r in _read_jsonl(output)] == ["r0", "r1", "r2"]
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_second_writer_is_refused(engine, model_dir, tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXTS[0], "target": "x"}])
    output = tmp_path / "out.jsonl"
    holder = WorkFolder(output)
    holder.open({"any": 1}, overwrite=False)
    try:
        with pytest.raises(ScoringError, match="another `stance score` is writing"):
            run_scoring(_options(model_dir, source, output, overwrite=True), engine=engine)
    finally:
        holder.release()


KILL_RECORDS = 120


def _kill_archive(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """A JSONL archive; returns the expected (id, target) pairs and the ids of bad records."""
    lines: list[object] = []
    pairs: list[tuple[str, str]] = []
    bad: list[str] = []
    for i in range(KILL_RECORDS):
        rid = f"k{i:03d}"
        if i % 23 == 5:
            lines.append(json.dumps({"id": rid, "text": "cut"})[:-8])  # truncated: an error row
            bad.append(generated_id(path.name, f"line {i + 1}"))
            continue
        targets = ["the mission", "the agency"] if i % 3 == 0 else ["the union"]
        lines.append({"id": rid, "text": TEXTS[i % 4], "target": targets})
        pairs.extend((rid, t) for t in targets)
    _jsonl(path, lines)
    return pairs, bad


def test_sigkill_at_random_points_then_resume_is_exactly_once(model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    expected_pairs, expected_bad = _kill_archive(source)
    output = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    command = [
        sys.executable,
        "-m",
        "scoring.cli",
        str(source),
        str(output),
        "--model",
        str(model_dir),
        "--part-size",
        "2",
        "--no-progress",
    ]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    rng = random.Random(20240607)

    def committed() -> int:
        return len(list(parts.glob("*.done.json"))) if parts.is_dir() else 0

    kills = 0
    # First kill lands at a random moment early on (start-up, manifest, first part); the
    # others once more parts were committed, plus a random delay (mid-part, mid-rename...).
    # Small parts keep the run far from its end when a kill lands, even on a fast machine;
    # if a run does finish first, its output must already be whole (never a partial file).
    for attempt in range(3):
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if attempt == 0:
            deadline = time.monotonic() + rng.uniform(0.5, 3.0)
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
        else:
            goal = committed() + rng.randint(1, 3)
            while committed() < goal and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        if output.exists():  # the kill came after the final rename: the output is whole
            assert _pairs(_read_jsonl(output)) == expected_pairs and not parts.exists()
            return
    assert kills == 3
    assert committed() > 0
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records"] == KILL_RECORDS and summary["resumed"] > 0
    rows = _read_jsonl(output)
    assert _pairs(rows) == expected_pairs  # each pair exactly once, in input order
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [e["id"] for e in errors] == expected_bad
    assert summary["rows"] == len(expected_pairs) and summary["errors"] == len(expected_bad)
    assert not parts.exists()


# ----------------------------------------------------------------------------- http engine
class _FakeService:
    """A real HTTP server on 127.0.0.1 answering /predict_batch with the tiny model.

    Its first call answers 503 (the engine must retry without duplicating rows); items whose
    target is 'FAIL' get a per-item error.
    """

    def __init__(self, classifier) -> None:
        self.classifier = classifier
        self.calls = 0
        self.items_seen = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_POST(self):
                from model import StanceQuery

                service.calls += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/predict_batch":
                    self._send(404, {"detail": "not found"})
                    return
                if service.calls == 1:
                    self._send(503, {"detail": "warming up"}, {"Retry-After": "0"})
                    return
                items = body["items"]
                service.items_seen += len(items)
                good = [it for it in items if it["target"] != "FAIL"]
                preds = iter(
                    service.classifier.predict(
                        [
                            StanceQuery(it["text"], it["target"], it["speaker"], id=it["id"])
                            for it in good
                        ]
                    )
                )
                results = []
                for it in items:
                    if it["target"] == "FAIL":
                        results.append({"id": it["id"], "target": it["target"], "error": "boom"})
                        continue
                    p = next(preds).to_dict()
                    results.append(
                        {
                            "id": p["id"],
                            "target": p["target"],
                            "speaker": p["speaker"],
                            "label": p["label"],
                            "probabilities": p["probabilities"],
                            "evidence": p["evidence"],
                            "model": "stance:served",
                            "error": None,
                        }
                    )
                self._send(200, {"results": results})

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_http_engine_retries_503_without_duplicating_rows(engine, model_dir, tmp_path):
    records = [
        {
            "id": f"h{i}",
            "text": TEXTS[i % 4],
            "target": ["the mission", "FAIL"] if i == 2 else "the union",
        }
        for i in range(7)
    ] + ["broken"]
    source = _jsonl(tmp_path / "in.jsonl", records)
    with _FakeService(engine.classifier) as service:
        options = ScoringOptions(
            input=source,
            output=tmp_path / "http.jsonl",
            engine="http",
            url=service.url,
            part_size=3,
            batch_size=4,
            progress=False,
        )
        logs: list[str] = []
        summary = run_scoring(options, log=logs.append)
        # One line per retry, with the reason.
        (retry,) = [line for line in logs if "retry" in line]
        assert re.fullmatch(
            rf"POST {service.url}/predict_batch: HTTP 503; retry 1 of 8 in \d+\.\d s", retry
        )
        # 8 good items in batches of <= 4 cut at part boundaries: parts [0-2]=4 items -> 1
        # request, [3-5]=3 -> 1, [6]=1 -> 1; plus the 503 that was retried.
        assert service.calls == 4
        assert service.items_seen == 8
    rows = _read_jsonl(tmp_path / "http.jsonl")
    assert _pairs(rows) == [
        ("h0", "the union"),
        ("h1", "the union"),
        ("h2", "the mission"),
        ("h3", "the union"),
        ("h4", "the union"),
        ("h5", "the union"),
        ("h6", "the union"),
    ]
    assert {r["model"] for r in rows} == {"stance:served"}
    errors = _read_jsonl(tmp_path / "http.jsonl.errors.jsonl")
    assert [(e["id"], e.get("target"), e["reason"]) for e in errors] == [
        ("h2", "FAIL", "service: boom"),
        (generated_id("in.jsonl", "line 8"), None, "invalid JSON (Expecting value at column 1)"),
    ]
    assert summary.rows == 7 and summary.errors == 2
    # Same probabilities as scoring in-process.
    run_scoring(_options(model_dir, source, tmp_path / "local.jsonl", part_size=3), engine=engine)
    local = {(r["id"], r["target"]): r for r in _read_jsonl(tmp_path / "local.jsonl")}
    for row in rows:
        expected = local[(row["id"], row["target"])]["probabilities"]
        assert row["probabilities"] == pytest.approx(expected, abs=1e-6)


def test_http_engine_gives_up_with_a_clear_error(tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXTS[0], "target": "x"}])
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]  # a port nothing listens on once closed
    url = f"http://127.0.0.1:{port}"
    sleeps: list[float] = []
    http = HttpEngine(url, retries=2, backoff=0.01, sleep=sleeps.append)
    options = ScoringOptions(input=source, output=tmp_path / "o.jsonl", engine="http", url=url)
    with pytest.raises(ScoringError) as err:
        run_scoring(options, engine=http)
    assert str(err.value).startswith(f"POST {url}/predict_batch failed 3 times (last: ConnectError")
    assert str(err.value).endswith("committed parts are kept: run the same command again to resume")
    # Exponential backoff (0.01 s, then 0.02 s) with up to 50 % jitter taken off.
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02
    assert http.requests == 3


# ----------------------------------------------------------------------------- CLI
def _cli() -> typer.Typer:
    from scoring.cli import score

    app = typer.Typer()
    app.command()(score)
    return app


def test_cli_fail_on_error_sets_the_exit_code(model_dir, tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXTS[0], "target": "x"}, "{bad"])
    runner = CliRunner()
    args = [str(source), str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--no-progress"]
    result = runner.invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["errors"] == 1
    result = runner.invoke(
        _cli(), [*args[:1], str(tmp_path / "o2.jsonl"), *args[2:], "--fail-on-error"]
    )
    assert result.exit_code == 1
    assert (
        f"error: 1 error row(s) (--fail-on-error); see {tmp_path / 'o2.jsonl.errors.jsonl'}"
        in result.stderr
    )
    assert (tmp_path / "o2.jsonl").is_file()  # the run still completed


def test_cli_reports_unusable_input_with_exit_code_2(model_dir, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        _cli(),
        [str(tmp_path / "missing.jsonl"), str(tmp_path / "o.jsonl"), "--model", str(model_dir)],
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'missing.jsonl'}: no such file or folder\n"
    result = runner.invoke(
        _cli(), [str(tmp_path), str(tmp_path / "o.txt"), "--model", str(model_dir)]
    )
    assert result.exit_code == 2
    assert "OUTPUT must end in .jsonl or .parquet (found '.txt')" in result.stderr


def test_score_is_registered_as_a_stance_command():
    from cli.app import app

    result = CliRunner().invoke(app, ["score", "--help"])
    assert result.exit_code == 0, result.output
    assert "Score every (record, target) of an archive" in result.stdout


# ----------------------------------------------------------------------------- ray engine
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_engine_matches_local_engine_and_resumes_a_local_run(
    recording, engine, model_dir, tmp_path
):
    pytest.importorskip("ray")
    records: list[object] = [
        {"id": f"y{i}", "text": TEXTS[i % 4], "target": ["the mission", "the union"][: 1 + i % 2]}
        for i in range(12)
    ]
    records.insert(6, "{broken")
    source = _jsonl(tmp_path / "in.jsonl", records)
    run_scoring(_options(model_dir, source, tmp_path / "local.jsonl", part_size=4), engine=engine)
    ray_options = _options(
        model_dir, source, tmp_path / "ray.parquet", part_size=4, engine="ray", workers=2
    )
    # Part 0 is committed by a local run that then dies; Ray must do parts 1-3 only (the
    # engine may change on resume: same model, same rows).
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_scoring(ray_options, engine=recording(engine, crash_at=4))
    summary = run_scoring(ray_options)
    import pyarrow.parquet as pq

    local = _read_jsonl(tmp_path / "local.jsonl")
    remote = pq.read_table(tmp_path / "ray.parquet").to_pylist()
    assert _pairs(remote) == _pairs(local)
    for a, b in zip(local, remote, strict=True):
        assert a["label"] == b["label"] and a["model"] == b["model"] == str(model_dir)
        assert b["probabilities"] == pytest.approx(a["probabilities"], abs=1e-5)
        assert [e["text"] for e in a["evidence"]] == [e["text"] for e in b["evidence"]]
    assert (tmp_path / "ray.parquet.errors.jsonl").read_bytes() == (
        tmp_path / "local.jsonl.errors.jsonl"
    ).read_bytes()
    assert (summary.records, summary.rows, summary.errors, summary.resumed) == (13, 18, 1, 4)


def test_default_limits_are_the_services(tmp_path):
    # --engine local/ray must refuse exactly what POST /predict refuses (model/limits.py).
    from model.limits import MAX_ARTICLE_CHARS, MAX_TEXT_CHARS
    from scoring.archive import plan_archive
    from scoring.readers import iter_records
    from service.schemas import MAX_TEXT_CHARS as SERVICE_TEXT_CHARS

    assert ReadOptions().text_limit == MAX_TEXT_CHARS == SERVICE_TEXT_CHARS == 100_000
    long_text = "y" * (MAX_TEXT_CHARS + 1)
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": "a", "text": long_text, "target": "y"}, {"id": "b", "text": long_text}],
    )
    (error, article) = iter_records(
        plan_archive(source, ReadOptions(analyze_articles=True))[0],
        ReadOptions(analyze_articles=True),
    )
    assert error.error == (
        f"field 'text' has {MAX_TEXT_CHARS + 1} characters, over --max-chars {MAX_TEXT_CHARS}; "
        "split the article or raise --max-chars"
    )
    # A whole article analysed without targets may be as long as POST /analyze_article allows.
    assert article.error is None and article.targets == ()
    assert ReadOptions(analyze_articles=True).record_limit == MAX_ARTICLE_CHARS


def test_cli_default_target_field_accepts_targets_lists(model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": "a", "text": TEXTS[0], "targets": ["the mission", "the union"]}],
    )
    output = tmp_path / "o.jsonl"
    args = [str(source), str(output), "--model", str(model_dir), "--no-progress"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert _pairs(_read_jsonl(output)) == [("a", "the mission"), ("a", "the union")]
    # The same command again: it is complete, exit 0.
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert f"{output} is complete: the same command already scored its 1 records" in (result.stderr)


def test_cli_every_record_failing_exits_1_with_the_most_common_reason(model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[i % 4], "topic": "the union"} for i in range(3)] + ["{bad"],
    )
    output = tmp_path / "o.jsonl"
    result = CliRunner().invoke(
        _cli(), [str(source), str(output), "--model", str(model_dir), "--no-progress"]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: every record failed (4 of 4); most common (3): no target field 'target' or "
        "'targets'; the record has ['id', 'text', 'topic']. Map it with --target-col, pass "
        "--target to score every record against fixed targets, or --analyze-articles to "
        f"analyse records without targets as whole articles; see {output}.errors.jsonl"
    )
    # Mapped, the same archive scores (the bad line alone fails): exit 0.
    result = CliRunner().invoke(
        _cli(),
        [
            str(source),
            str(tmp_path / "o2.jsonl"),
            "--model",
            str(model_dir),
            "--no-progress",
            "--target-col",
            "topic",
        ],
    )
    assert result.exit_code == 0, result.output
