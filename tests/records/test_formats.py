"""The shared record layer: each format's located raw records and per-record errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from records.columns import ColumnMap, is_missing, type_name
from records.formats import (
    InputError,
    RawRecord,
    format_of,
    iter_file,
    iter_jsonl,
    read_columns,
)


def test_one_extension_map_names_every_format():
    assert [format_of(Path(f"a{e}")) for e in (".jsonl", ".NDJSON", ".json", ".csv", ".tsv")] == [
        "jsonl",
        "jsonl",
        "jsonl",
        "csv",
        "tsv",
    ]
    assert format_of(Path("a.pq")) == format_of(Path("a.parquet")) == "parquet"
    assert format_of(Path("a.txt")) is None


def test_missing_value_rule_and_column_map_defaults():
    assert [is_missing(v) for v in (None, float("nan"), "  ", "", "x", 0, [])] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert ColumnMap() == ColumnMap("text", "target", "label", "speaker", "id")
    assert [type_name(v) for v in (None, {}, [], "s", True, 1.5)] == [
        "null",
        "object",
        "list",
        "string",
        "boolean",
        "float",
    ]


def test_jsonl_records_errors_and_locations(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"text": "a"}\n\n{"text": \n[1]\n{"text": "caf\xe9"}\n{"text": "b"}'
    )
    assert list(iter_file(path, "jsonl")) == [
        RawRecord(line=1, fields={"text": "a"}),
        RawRecord(line=3, error="invalid JSON (Expecting value at column 10)"),
        RawRecord(line=4, error="expected a JSON object, found list"),
        RawRecord(
            line=5,
            error="bytes not valid utf-8 at byte 14 (pass --encoding, e.g. --encoding cp1252)",
        ),
        RawRecord(line=6, fields={"text": "b"}),
    ]
    assert list(iter_file(path, "jsonl", "cp1252"))[3] == RawRecord(line=5, fields={"text": "café"})


def test_jsonl_skip_counts_without_parsing_and_long_lines_are_errors():
    handle = io.BytesIO(b'{"a": 1}\nnot json\n{"t": "' + b"x" * 50 + b'"}\n{"b": 2}\n')
    records = list(iter_jsonl(handle, "utf-8", line_limit=20, max_chars=3, skip=lambda p: p == 1))
    assert records == [
        RawRecord(line=1, fields={"a": 1}),
        None,  # skipped: its bad JSON is never seen
        RawRecord(
            line=3,
            error="line is 60 bytes, longer than any record --max-chars 3 allows; split the "
            "article or raise --max-chars",
        ),
        RawRecord(line=4, fields={"b": 2}),
    ]


def test_csv_rows_start_lines_field_counts_and_undecodable_cells(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'id,text\n1,"two\nlines"\n\n2\n3,caf\xe9\n4,ok\n')
    seen: list[list[str]] = []
    records = list(iter_file(path, "csv", check_columns=seen.append))
    assert seen == [["id", "text"]]
    assert records[0] == RawRecord(line=2, fields={"id": "1", "text": "two\nlines"})
    assert records[1] == RawRecord(line=5, error="expected 2 fields (as the header), found 1")
    assert records[2].line == 6 and records[2].fields is not None
    assert records[2].error == (
        "column 'text': bytes not valid utf-8 (pass --encoding, e.g. --encoding cp1252)"
    )
    assert records[3] == RawRecord(line=7, fields={"id": "4", "text": "ok"})
    assert read_columns(path, "csv") == ["id", "text"]


def test_tsv_does_not_treat_quote_marks_as_quoting(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text('\ufefftext\tid\n"quoted" start\t7\n', encoding="utf-8")
    assert list(iter_file(path, "tsv")) == [
        RawRecord(line=2, fields={"text": '"quoted" start', "id": "7"})
    ]


def test_parquet_rows_projection_and_skipped_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    table = pa.table({"text": ["a", "b", "c"], "other": [1, 2, 3]})
    pq.write_table(table, path, row_group_size=2)
    records = list(iter_file(path, "parquet", columns=["text"], skip=lambda p: p < 2))
    assert records == [None, None, RawRecord(row=3, fields={"text": "c"})]
    assert read_columns(path, "parquet") == ["text", "other"]
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"junk.parquet: not a readable Parquet file \("):
        list(iter_file(junk, "parquet"))
