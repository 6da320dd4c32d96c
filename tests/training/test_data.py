"""Tests for training/data.py: loading NewsMTSC / flat JSONL / CSV / TSV / Parquet, bad
records, label resolution. All data is synthetic and written to tmp_path."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from model.config import DEFAULT_LABELS
from model.labels import LabelRules, label_set
from model.types import StanceQuery
from records.columns import ColumnMap
from training.data import (
    DataError,
    LoadReport,
    StanceExample,
    detect_format,
    file_sha256,
    holdout_fraction,
    load_examples,
    resolve_labels,
    split_holdout,
)

# --------------------------------------------------------------------------- helpers

S1 = "Mayor Lena Ortiz praised the harbour plan, but critics said Ortiz ignored the fishermen."
S2 = "The ministry of transport denied that the new tunnel would be delayed again."


def _write_jsonl(path: Path, records: Sequence[object], encoding: str = "utf-8") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _newsmtsc_records() -> list[dict[str, Any]]:
    ortiz = S1.index("Lena Ortiz")
    critics = S1.index("critics")
    second_ortiz = S1.rindex("Ortiz")
    ministry = S2.index("ministry of transport")
    return [
        {
            "primary_gid": "doc1_s1",
            "sentence_normalized": S1,
            "targets": [
                {
                    "Input.gid": "doc1_s1_ortiz",
                    "from": ortiz,
                    "to": ortiz + len("Lena Ortiz"),
                    "mention": "Lena Ortiz",
                    "polarity": 6.0,
                    "further_mentions": [
                        {"from": second_ortiz, "to": second_ortiz + 5, "mention": "Ortiz"}
                    ],
                },
                {
                    "Input.gid": "doc1_s1_critics",
                    "from": critics,
                    "to": critics + len("critics"),
                    "mention": "critics",
                    "polarity": 2.0,
                },
            ],
        },
        {
            "primary_gid": "doc2_s7",
            "sentence_normalized": S2,
            "targets": [
                {
                    # no Input.gid: the id falls back to primary_gid#k
                    "from": ministry,
                    "to": ministry + len("ministry of transport"),
                    "mention": "ministry of transport",
                    "polarity": 4.0,
                }
            ],
        },
    ]


def _write_csv(
    path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------- NewsMTSC


def test_newsmtsc_detected_and_one_example_per_target(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "train.jsonl", _newsmtsc_records())
    assert detect_format(path) == "newsmtsc"

    report = load_examples(path)
    assert report.format == "newsmtsc"
    assert report.bad == []
    assert report.sha256 == file_sha256(path)
    assert len(report.examples) == 3

    ortiz, critics, ministry = report.examples
    assert [e.label for e in report.examples] == ["positive", "negative", "neutral"]
    assert [e.query.id for e in report.examples] == [
        "doc1_s1_ortiz",
        "doc1_s1_critics",
        "doc2_s7#0",
    ]
    assert [e.query.target for e in report.examples] == [
        "Lena Ortiz",
        "critics",
        "ministry of transport",
    ]
    assert ortiz.query.text == S1 and critics.query.text == S1 and ministry.query.text == S2
    assert ortiz.query.speaker is None

    # The annotated span is carried as the query's mention and points at the mention text.
    # (further_mentions, coreference spans, are added only when asked: see the next test.)
    for ex in report.examples:
        assert ex.query.mentions is not None and len(ex.query.mentions) == 1
        start, end = ex.query.mentions[0]
        assert ex.query.text[start:end] == ex.query.target
    assert ortiz.query.mentions == ((S1.index("Lena Ortiz"), S1.index("Lena Ortiz") + 10),)

    assert ortiz.where == f"{path}:1 targets[0]"
    assert critics.where == f"{path}:1 targets[1]"
    assert ministry.where == f"{path}:2 targets[0]"


def test_newsmtsc_further_mentions_are_marked_when_asked(tmp_path: Path) -> None:
    records = _newsmtsc_records()
    extra = records[0]["targets"][0]["further_mentions"]
    # Malformed or overlapping spans are skipped; the annotated span always stays.
    extra += [{"from": 3, "to": 999}, {"from": "a", "to": 4}, {"from": S1.index("Ortiz"), "to": 12}]
    path = _write_jsonl(tmp_path / "train.jsonl", records)
    ortiz, critics, _ = load_examples(path, further_mentions=True).examples
    first, second = S1.index("Lena Ortiz"), S1.rindex("Ortiz")
    assert ortiz.query.mentions == ((first, first + 10), (second, second + 5))
    assert critics.query.mentions == ((S1.index("critics"), S1.index("critics") + 7),)
    assert load_examples(path).examples[0].query.mentions == ((first, first + 10),)


def test_newsmtsc_forced_format_and_labels_resolve(tmp_path: Path) -> None:
    # A misleading extension-less detection is bypassed with fmt="newsmtsc".
    path = _write_jsonl(tmp_path / "data.ndjson", _newsmtsc_records())
    report = load_examples(path, fmt="newsmtsc")
    assert report.format == "newsmtsc"
    pairs, problems = resolve_labels(report.examples, DEFAULT_LABELS)
    assert problems == []
    assert [label for _, label in pairs] == [2, 0, 1]


def test_newsmtsc_with_utf8_bom_is_still_detected(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(_newsmtsc_records()[1]) + "\n").encode())
    assert detect_format(path) == "newsmtsc"
    report = load_examples(path)
    assert [e.query.id for e in report.examples] == ["doc2_s7#0"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda t: t.update({"from": 5, "to": 500}),
            f"field 'targets[0].from/to': span [5, 500) is outside the sentence (length {len(S2)})",
        ),
        (
            lambda t: t.update({"from": 10, "to": 10}),
            f"field 'targets[0].from/to': span [10, 10) is outside the sentence (length {len(S2)})",
        ),
        (
            lambda t: t.update({"from": -1}),
            f"field 'targets[0].from/to': span [-1, 25) is outside the sentence (length {len(S2)})",
        ),
        (lambda t: t.update({"from": "4"}), "field 'targets[0].from/to': must be integers"),
        (lambda t: t.pop("to"), "field 'targets[0].from/to': must be integers"),
        (
            lambda t: t.update({"polarity": 5.0}),
            "field 'targets[0].polarity': 5.0 is not 2.0, 4.0 or 6.0",
        ),
        (lambda t: t.pop("polarity"), "field 'targets[0].polarity': None is not 2.0, 4.0 or 6.0"),
        (lambda t: t.update({"mention": "  "}), "field 'mention': missing or empty"),
    ],
)
def test_newsmtsc_bad_target_exact_message(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], object], reason: str
) -> None:
    record = _newsmtsc_records()[1]
    assert record["targets"][0]["from"] == 4  # the -1 case above relies on to == 25
    mutate(record["targets"][0])
    path = _write_jsonl(tmp_path / "bad.jsonl", [_newsmtsc_records()[0], record])
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: 1 bad record(s):\n  {path}:2: {reason}\n"
        "Fix them, or pass --skip-bad to skip them."
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"primary_gid": "x", "sentence_normalized": S2, "targets": []},
            "field 'targets': must be a non-empty list",
        ),
        (
            {"primary_gid": "x", "sentence_normalized": S2, "targets": ["Ortiz"]},
            "field 'targets[0]': expected an object",
        ),
        (
            {"primary_gid": "x", "sentence_normalized": "", "targets": []},
            "field 'sentence_normalized': missing or empty",
        ),
    ],
)
def test_newsmtsc_bad_record_exact_message(
    tmp_path: Path, record: dict[str, Any], reason: str
) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl", [_newsmtsc_records()[0], record])
    report = load_examples(path, allow_bad=True)
    assert report.bad == [f"{path}:2: {reason}"]
    assert len(report.examples) == 2  # the good first record


def test_newsmtsc_bad_target_drops_whole_record(tmp_path: Path) -> None:
    record = _newsmtsc_records()[0]
    record["targets"][1]["polarity"] = 3.0
    path = _write_jsonl(tmp_path / "bad.jsonl", [record, _newsmtsc_records()[1]])
    report = load_examples(path, allow_bad=True)
    assert report.bad == [f"{path}:1: field 'targets[1].polarity': 3.0 is not 2.0, 4.0 or 6.0"]
    assert [e.query.id for e in report.examples] == ["doc2_s7#0"]


# --------------------------------------------------------------------------- flat JSONL


def test_flat_jsonl_default_columns(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "flat.jsonl",
        [
            {
                "id": "r1",
                "text": "The senator backed the wind farm.",
                "target": "wind farm",
                "label": "positive",
                "speaker": "the senator",
            },
            "",  # blank lines are skipped, not bad
            {
                "id": 7,
                "text": "Unions rejected the pension reform.",
                "target": "pension reform",
                "label": "AGAINST",
                "extra": "ignored",
            },
        ],
    )
    assert detect_format(path) == "jsonl"
    report = load_examples(path)
    assert report.format == "jsonl"
    assert report.bad == []
    first, second = report.examples
    assert first.query == StanceQuery(
        text="The senator backed the wind farm.", target="wind farm", speaker="the senator", id="r1"
    )
    assert first.label == "positive" and first.where == f"{path}:1"
    assert second.query.id == "7"  # non-string ids become strings
    assert second.query.speaker is None and second.query.mentions is None
    # Labels are read at load: a file of named spellings gets the default stances.
    assert second.label == "negative" and second.where == f"{path}:3"


def test_flat_jsonl_column_map(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "mapped.json",
        [
            {
                "sentence": "Farmers welcomed the subsidy.",
                "entity": "subsidy",
                "stance": "pro",
                "source": "farmers",
                "uid": "u1",
                "text": "not this",
                "label": "not this",
            }
        ],
    )
    columns = ColumnMap(
        text="sentence", target="entity", label="stance", speaker="source", id="uid"
    )
    (example,) = load_examples(path, columns=columns).examples
    assert example.query == StanceQuery(
        text="Farmers welcomed the subsidy.", target="subsidy", speaker="farmers", id="u1"
    )
    assert example.label == "positive"

    # speaker / id set to None: those fields are not read even if present
    no_extras = ColumnMap(text="sentence", target="entity", label="stance", speaker=None, id=None)
    (example,) = load_examples(path, columns=no_extras).examples
    assert example.query.speaker is None and example.query.id is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            '{"text": "A b.", "target": "b", "label": "pro"',
            "invalid JSON (Expecting ',' delimiter at column 47)",
        ),
        (
            '{"text": "A b.", "target": , "label": "pro"}',
            "invalid JSON (Expecting value at column 28)",
        ),
        ('["A b.", "b", "pro"]', "expected a JSON object, found list"),
        ('{"target": "b", "label": "pro"}', "field 'text': missing or empty"),
        ('{"text": "A b.", "target": "   ", "label": "pro"}', "field 'target': missing or empty"),
        ('{"text": "A b.", "target": null, "label": "pro"}', "field 'target': missing or empty"),
        ('{"text": "A b.", "target": "b", "label": ""}', "field 'label': missing or empty"),
    ],
)
def test_flat_jsonl_bad_line_exact_message(tmp_path: Path, line: str, reason: str) -> None:
    good = '{"text": "Voters liked the bridge.", "target": "bridge", "label": "pro"}'
    path = _write_jsonl(tmp_path / "bad.jsonl", [good, line, good])
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: 1 bad record(s):\n  {path}:2: {reason}\n"
        "Fix them, or pass --skip-bad to skip them."
    )
    report = load_examples(path, allow_bad=True)
    assert report.bad == [f"{path}:2: {reason}"]
    assert [e.where for e in report.examples] == [f"{path}:1", f"{path}:3"]


def test_allow_bad_counts_and_error_lists_first_five(tmp_path: Path) -> None:
    good = {"text": "Voters liked the bridge.", "target": "bridge", "label": "pro"}
    bad = {"text": "Voters liked the bridge.", "label": "pro"}
    path = _write_jsonl(tmp_path / "many.jsonl", [good, bad, bad, "{", bad, bad, bad, bad, good])

    report = load_examples(path, allow_bad=True)
    assert len(report.examples) == 2
    assert len(report.bad) == 7
    assert (
        report.bad[2]
        == f"{path}:4: invalid JSON (Expecting property name enclosed in double quotes at column 2)"
    )
    assert report.summary(shown=2) == (
        f"{path}: 2 examples (jsonl), 7 bad records skipped; first: "
        f"{path}:2: field 'target': missing or empty | {path}:3: field 'target': missing or empty"
    )

    with pytest.raises(DataError) as info:
        load_examples(path, allow_bad=False)
    message = str(info.value)
    assert message.startswith(
        f"{path}: 7 bad record(s):\n  {path}:2: field 'target': missing or empty\n"
    )
    assert f"{path}:6:" in message and f"{path}:7:" not in message  # first five shown
    assert message.endswith("\n  ... and 2 more\nFix them, or pass --skip-bad to skip them.")


def test_summary_without_bad_records(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "ok.jsonl", [{"text": "A b.", "target": "b", "label": "pro"}])
    assert load_examples(path).summary() == f"{path}: 1 examples (jsonl)"


def test_all_bad_with_allow_bad_is_no_examples(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "allbad.jsonl", [{"text": "A b.", "label": "pro"}])
    with pytest.raises(DataError) as info:
        load_examples(path, allow_bad=True)
    assert str(info.value) == f"{path}: no examples found"


def test_empty_file_has_no_examples(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == f"{path}: no examples found"


def test_path_and_format_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError) as info:
        load_examples(missing)
    assert str(info.value) == f"{missing}: no such file"

    with pytest.raises(DataError) as info:
        load_examples(missing, fmt="xml")
    assert (
        str(info.value)
        == "unknown format 'xml'; choose one of auto, newsmtsc, jsonl, csv, tsv, parquet"
    )

    odd = tmp_path / "data.txt"
    odd.write_text("text,target,label\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(odd)
    assert str(info.value) == (
        f"{odd}: cannot tell the format from the extension '.txt'; "
        "pass --format, one of newsmtsc, jsonl, csv, tsv, parquet"
    )
    # An explicit format overrides the extension.
    odd.write_text("text,target,label\nA b.,b,pro\n", encoding="utf-8")
    assert load_examples(odd, fmt="csv").examples[0].query.target == "b"


def test_non_utf8_jsonl_is_a_per_record_error_and_loads_with_encoding(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    record = {"text": "Café owners back the mayor’s plan.", "target": "plan", "label": "pro"}
    path.write_bytes(json.dumps(record, ensure_ascii=False).encode("cp1252") + b"\n")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: 1 bad record(s):\n  {path}:1: bytes not valid utf-8 at byte 14 "
        "(pass --encoding, e.g. --encoding cp1252)\n"
        "Fix them, or pass --skip-bad to skip them."
    )
    (example,) = load_examples(path, encoding="cp1252").examples
    assert example.query.text == "Café owners back the mayor’s plan."


def test_cp1252_newsmtsc_is_detected_and_loads_with_encoding(tmp_path: Path) -> None:
    record = _newsmtsc_records()[1]
    record["sentence_normalized"] = "“Again?” asked José. " + S2
    start = record["sentence_normalized"].index("ministry of transport")
    record["targets"][0].update({"from": start, "to": start + len("ministry of transport")})
    path = _write_jsonl(tmp_path / "cp.jsonl", [record], encoding="cp1252")
    assert detect_format(path) == "newsmtsc"
    assert detect_format(path, "cp1252") == "newsmtsc"
    with pytest.raises(DataError, match=r":1: bytes not valid utf-8 at byte 52 "):
        load_examples(path)
    (example,) = load_examples(path, encoding="cp1252").examples
    assert example.query.text.startswith("“Again?” asked José. The ministry")
    assert example.query.target == "ministry of transport"
    assert example.label == "neutral"


# --------------------------------------------------------------------------- CSV / TSV


def test_csv_default_columns_and_quoting(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "d.csv",
        [
            ["id", "text", "target", "label", "speaker"],
            ["c1", 'He said, "the levy is fair."', "levy", "positive", ""],
            ["", "", "", "", ""],  # an all-empty row is skipped
            ["c2", "Line one.\nLine two about the port.", "port", "neutral", "a dock worker"],
            ["c3", "Nobody trusts the audit.", "audit", "negative", "nurses"],
        ],
    )
    report = load_examples(path)
    assert report.format == "csv"
    first, second, third = report.examples
    assert first.query == StanceQuery(text='He said, "the levy is fair."', target="levy", id="c1")
    assert first.where == f"{path}:2"
    assert second.query.text == "Line one.\nLine two about the port."
    assert second.query.speaker == "a dock worker"
    assert third.where == f"{path}:6"  # line numbers count the embedded newline
    assert [e.label for e in report.examples] == ["positive", "neutral", "negative"]


def test_csv_with_bom_header(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "bom.csv",
        [["text", "target", "label"], ["A b.", "b", "con"]],
        encoding="utf-8-sig",
    )
    (example,) = load_examples(path).examples
    assert example.label == "negative"


def test_tsv_with_column_map(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "d.tsv",
        [
            ["uid", "sentence", "entity", "stance"],
            ["t1", "The council, again, delayed the stadium vote.", "stadium", "con"],
            ["t2", "Tenants cheered the rent cap.", "rent cap", "pro"],
        ],
        delimiter="\t",
    )
    columns = ColumnMap(text="sentence", target="entity", label="stance", id="uid", speaker=None)
    report = load_examples(path, columns=columns)
    assert report.format == "tsv"
    assert [e.query.text for e in report.examples] == [
        "The council, again, delayed the stadium vote.",
        "Tenants cheered the rent cap.",
    ]
    assert [e.query.id for e in report.examples] == ["t1", "t2"]


def test_csv_wrong_number_of_fields(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "id,text,target,label\n"
        "1,Pilots praised the new rota.,rota,pro\n"
        "2,Too few fields,x\n"
        "3,Too,many,fields,here\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: 2 bad record(s):\n"
        f"  {path}:3: expected 4 fields (as the header), found 3\n"
        f"  {path}:4: expected 4 fields (as the header), found 5\n"
        "Fix them, or pass --skip-bad to skip them."
    )
    report = load_examples(path, allow_bad=True)
    assert len(report.examples) == 1 and len(report.bad) == 2


def test_csv_missing_header_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,target\n1,A b.,b\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}:1: header has no column(s) ['label']; found ['id', 'text', 'target']. "
        "Map columns with --text-col / --target-col / --label-col"
    )
    # allow_bad does not help: the file as a whole is unusable
    with pytest.raises(DataError):
        load_examples(path, allow_bad=True)


SEMEVAL_ROWS = [
    ["ID", "Target", "Tweet", "Stance"],
    [
        "101",
        "Climate Change is a Real Concern",
        "“We act now or pay later” – café owners at the rally #SemST",
        "FAVOR",
    ],
    ["102", "Atheism", "Faith guides my every step, always. #SemST", "AGAINST"],
    ["103", "Hillary Clinton", "Watching the debate tonight with friends. #SemST", "NONE"],
]
SEMEVAL_COLUMNS = ColumnMap(text="Tweet", target="Target", label="Stance", id="ID", speaker=None)


def test_cp1252_semeval_csv_fails_under_utf8_per_record(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "semeval.csv", SEMEVAL_ROWS, encoding="cp1252")
    assert b"\x93" in path.read_bytes() and b"\xe9" in path.read_bytes()  # really cp1252 bytes

    with pytest.raises(DataError) as info:
        load_examples(path, columns=SEMEVAL_COLUMNS)
    assert str(info.value) == (
        f"{path}: 1 bad record(s):\n"
        f"  {path}:2: column 'Tweet': bytes not valid utf-8 (pass --encoding, e.g. --encoding "
        "cp1252)\n"
        "Fix them, or pass --skip-bad to skip them."
    )
    # Only the record with non-ASCII bytes is bad; the others load when skipping.
    report = load_examples(path, columns=SEMEVAL_COLUMNS, allow_bad=True)
    assert [e.query.id for e in report.examples] == ["102", "103"]
    assert len(report.bad) == 1


def test_cp1252_semeval_csv_loads_with_encoding(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "semeval.csv", SEMEVAL_ROWS, encoding="cp1252")
    report = load_examples(path, columns=SEMEVAL_COLUMNS, encoding="cp1252")
    assert report.bad == []
    assert [e.query.id for e in report.examples] == ["101", "102", "103"]
    assert report.examples[0].query.text == SEMEVAL_ROWS[1][2]
    assert report.examples[0].query.target == "Climate Change is a Real Concern"
    pairs, problems = resolve_labels(report.examples, label_set([e.label for e in report.examples]))
    assert problems == []
    assert [DEFAULT_LABELS[i] for _, i in pairs] == ["positive", "negative", "neutral"]


# --------------------------------------------------------------------------- Parquet


def test_parquet_with_column_map_and_missing_values(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "doc_id": [10, 11, 12],
            "sentence": [
                "Doctors endorsed the vaccine drive.",
                "Residents fought the landfill.",
                None,
            ],
            "entity": ["vaccine drive", "landfill", "x"],
            "stance": [1, -1, 0],
            "who": ["doctors", None, None],
        }
    )
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    columns = ColumnMap(
        text="sentence", target="entity", label="stance", speaker="who", id="doc_id"
    )

    # Integer labels are numbers: refused without a map (counts exclude the bad row 3).
    with pytest.raises(DataError) as info:
        load_examples(path, columns=columns, allow_bad=True)
    assert str(info.value) == (
        f"{path}: label values are numbers, whose meaning differs between datasets (VAST: "
        "0 = con; TweetEval: 0 = none), so they are not guessed: '-1' (1 record), "
        "'1' (1 record); say what each number means with --label-map (or label_map in the "
        "[data] table), e.g. --label-map '-1=NAME,1=NAME'"
    )
    rules = LabelRules(label_map={"1": "positive", "-1": "negative", "0": "neutral"})
    report = load_examples(path, columns=columns, allow_bad=True, label_rules=rules)
    assert report.format == "parquet"
    assert report.bad == [f"{path}:row 3: field 'sentence': missing or empty"]
    first, second = report.examples
    assert first.query == StanceQuery(
        text="Doctors endorsed the vaccine drive.",
        target="vaccine drive",
        speaker="doctors",
        id="10",
    )
    assert first.where == f"{path}:row 1"
    assert second.query.speaker is None
    assert [e.label for e in report.examples] == ["positive", "negative"]
    pairs, _ = resolve_labels(report.examples, DEFAULT_LABELS)
    assert [i for _, i in pairs] == [2, 0]


def test_parquet_missing_column_and_unreadable(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["A b."], "target": ["b"]}), path)
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: no column(s) ['label']; found ['text', 'target']. Map columns with "
        "--text-col / --target-col / --label-col"
    )
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(DataError) as info:
        load_examples(junk)
    assert str(info.value).startswith(f"{junk}: not a readable Parquet file (")


# --------------------------------------------------------------------------- folders


def test_folder_loads_every_supported_file_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    _write_jsonl(folder / "b_news.jsonl", _newsmtsc_records())
    _write_csv(
        folder / "a_flat.csv",
        [["text", "target", "label"], ["Drivers hate the toll.", "toll", "con"]],
    )
    _write_jsonl(folder / "c_flat.jsonl", [{"text": "A b.", "target": "b", "label": "neutral"}])
    (folder / "notes.txt").write_text("not data", encoding="utf-8")

    report = load_examples(folder)
    assert isinstance(report, LoadReport)
    assert report.format == "folder"
    assert report.path == folder
    # a_flat.csv (1), b_news.jsonl as NewsMTSC (3 targets), c_flat.jsonl (1)
    assert [e.label for e in report.examples] == [
        "negative",
        "positive",
        "negative",
        "neutral",
        "neutral",
    ]
    assert report.examples[0].where == f"{folder / 'a_flat.csv'}:2"
    assert report.examples[-1].where == f"{folder / 'c_flat.jsonl'}:1"

    digest = report.sha256
    assert len(digest) == 64 and load_examples(folder).sha256 == digest
    _write_jsonl(folder / "c_flat.jsonl", [{"text": "A b.", "target": "b", "label": "positive"}])
    assert load_examples(folder).sha256 != digest


def test_folder_bad_records_are_merged_or_raise(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    _write_jsonl(
        folder / "one.jsonl", [{"text": "A b.", "target": "b", "label": "pro"}, {"text": "x"}]
    )
    _write_jsonl(folder / "two.jsonl", [{"text": "C d.", "target": "d", "label": "con"}])
    report = load_examples(folder, allow_bad=True)
    assert len(report.examples) == 2
    assert report.bad == [f"{folder / 'one.jsonl'}:2: field 'target': missing or empty"]
    with pytest.raises(DataError, match="1 bad record"):
        load_examples(folder)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hi", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(tmp_path)
    assert str(info.value) == f"{tmp_path}: folder has no .jsonl/.csv/.tsv/.parquet files"


# --------------------------------------------------------------------------- labels


def _flat(path: Path, labels: Sequence[object]) -> Path:
    rows = [
        {"text": f"Sentence {i} about the plan.", "target": "plan", "label": label}
        for i, label in enumerate(labels)
    ]
    return _write_jsonl(path, rows)


def _read(path: Path, **rules: Any) -> list[str]:
    return [e.label for e in load_examples(path, label_rules=LabelRules(**rules)).examples]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["FAVOR", "AGAINST", "NONE"], ["positive", "negative", "neutral"]),
        (["pro", "con", "neutral"], ["positive", "negative", "neutral"]),
        (["Favour", " against ", "neither"], ["positive", "negative", "neutral"]),
        (["Positive", "NEGATIVE", "Neutral"], ["positive", "negative", "neutral"]),
    ],
)
def test_named_spellings_read_as_default_stances(
    tmp_path: Path, raw: list[str], expected: list[str]
) -> None:
    assert _read(_flat(tmp_path / "d.jsonl", raw)) == expected
    assert label_set(expected) == DEFAULT_LABELS


# VAST writes 0 = con, 1 = pro, 2 = neutral; TweetEval's stance task 0 = none, 1 = against,
# 2 = favor. The same digits, different stances: neither is guessed.
VAST_ROWS = [
    ["post", "topic_str", "label"],
    ["Taxing sugar will make children healthier.", "sugar tax", "1"],
    ["The sugar tax punishes the poor.", "sugar tax", "0"],
    ["Parliament debates the sugar tax today.", "sugar tax", "2"],
    ["Nobody asked for a sugar tax.", "sugar tax", "0"],
]
VAST_COLUMNS = ColumnMap(text="post", target="topic_str", label="label", speaker=None, id=None)
TWEETEVAL_ROWS = [
    ["text", "target", "label"],
    ["Science says the planet is warming; act now.", "climate change", "2"],
    ["Climate alarmism is a scam.", "climate change", "1"],
    ["Lunch by the river today.", "climate change", "0"],
]


def test_vast_style_numbers_are_refused_without_a_map(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "vast.csv", VAST_ROWS)
    with pytest.raises(DataError) as info:
        load_examples(path, columns=VAST_COLUMNS)
    assert str(info.value) == (
        f"{path}: label values are numbers, whose meaning differs between datasets (VAST: "
        "0 = con; TweetEval: 0 = none), so they are not guessed: '0' (2 records), "
        "'1' (1 record), '2' (1 record); say what each number means with --label-map (or "
        "label_map in the [data] table), e.g. --label-map '0=NAME,1=NAME,2=NAME'"
    )


def test_vast_style_numbers_with_a_map(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "vast.csv", VAST_ROWS)
    # con / pro are named spellings: they read as negative / positive.
    rules = LabelRules(label_map={"0": "con", "1": "pro", "2": "neutral"})
    report = load_examples(path, columns=VAST_COLUMNS, label_rules=rules)
    assert [e.label for e in report.examples] == ["positive", "negative", "neutral", "negative"]
    pairs, problems = resolve_labels(report.examples, label_set([e.label for e in report.examples]))
    assert problems == [] and [i for _, i in pairs] == [2, 0, 1, 0]


def test_tweeteval_style_numbers_are_refused_then_mapped(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "tweeteval.tsv", TWEETEVAL_ROWS, delimiter="\t")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: label values are numbers, whose meaning differs between datasets (VAST: "
        "0 = con; TweetEval: 0 = none), so they are not guessed: '0' (1 record), "
        "'1' (1 record), '2' (1 record); say what each number means with --label-map (or "
        "label_map in the [data] table), e.g. --label-map '0=NAME,1=NAME,2=NAME'"
    )
    rules = LabelRules(label_map={"0": "none", "1": "against", "2": "favor"})
    report = load_examples(path, label_rules=rules)
    # Same digits as VAST, opposite meaning for 2: the map decides, not the loader.
    assert [e.label for e in report.examples] == ["positive", "negative", "neutral"]


def test_numbers_the_map_does_not_cover_are_refused(tmp_path: Path) -> None:
    path = _flat(tmp_path / "d.jsonl", [0, 1, 3, 3.0, "1.0"])
    with pytest.raises(DataError) as info:
        _read(path, label_map={"0": "negative", "1": "positive"})
    assert str(info.value) == (
        f"{path}: label values are numbers, whose meaning differs between datasets (VAST: "
        "0 = con; TweetEval: 0 = none), so they are not guessed: '3' (1 record), "
        "'3.0' (1 record); add them to the map (--label-map, or label_map in the [data] table)"
    )
    # Map keys match numerically: '1.0' and 1 both meet the key '1'.
    assert _read(path, label_map={"0": "negative", "1": "positive", "3.0": "neutral"}) == [
        "negative",
        "positive",
        "neutral",
        "neutral",
        "positive",
    ]


def test_newsmtsc_numbers_only_inside_newsmtsc(tmp_path: Path) -> None:
    # In NewsMTSC's own format 2.0 / 4.0 / 6.0 are its polarity (see the NewsMTSC tests);
    # the same numbers in a generic file are refused like any other.
    path = _flat(tmp_path / "d.jsonl", [6.0, 2.0, 4.0])
    with pytest.raises(DataError, match=r"so they are not guessed: '2.0' \(1 record\), "):
        _read(path)


def test_binary_data_gives_a_binary_label_set(tmp_path: Path) -> None:
    names = _read(_flat(tmp_path / "d.jsonl", ["FAVOR", "AGAINST", "AGAINST"]))
    assert names == ["positive", "negative", "negative"]
    assert label_set(names) == ("negative", "positive")


def test_custom_label_set_keeps_its_names(tmp_path: Path) -> None:
    # "support" is also a spelling of positive, but this file is not a stance file.
    raw = ["support", "deny", "query", "comment", " deny", "comment"]
    names = _read(_flat(tmp_path / "d.jsonl", raw))
    assert names == ["support", "deny", "query", "comment", "deny", "comment"]
    assert label_set(names) == ("comment", "deny", "query", "support")


def test_labels_of_the_model_are_matched_or_named_in_the_error(tmp_path: Path) -> None:
    path = _flat(tmp_path / "d.jsonl", ["FAVOR", "AGAINST", "NONE", "NONE"])
    assert _read(path, labels=DEFAULT_LABELS) == ["positive", "negative", "neutral", "neutral"]
    # An explicit set keeps its own spelling; named spellings match it case-insensitively.
    explicit = ("Against", "Favor", "None")
    assert _read(path, labels=explicit) == ["Favor", "Against", "None", "None"]
    with pytest.raises(DataError) as info:
        _read(path, labels=("negative", "positive"))
    assert str(info.value) == (
        f"{path}: label(s) 'NONE' (2 records) not among the model's labels "
        "['negative', 'positive']; map them onto those with --label-map, or remove those records"
    )


def test_aliases_off_keeps_named_spellings(tmp_path: Path) -> None:
    path = _flat(tmp_path / "d.jsonl", ["FAVOR", "positive"])
    assert _read(path, aliases=False) == ["FAVOR", "positive"]
    with pytest.raises(DataError, match=r"label\(s\) 'FAVOR' \(1 record\) not among"):
        _read(path, labels=DEFAULT_LABELS, aliases=False)


def _examples(labels: list[str]) -> list[StanceExample]:
    return [
        StanceExample(
            StanceQuery(text=f"Sentence {i} about the plan.", target="plan"), label, f"f:{i}"
        )
        for i, label in enumerate(labels)
    ]


def test_resolve_labels_indexes_and_reports_unknown_labels() -> None:
    pairs, problems = resolve_labels(_examples(["positive", "maybe", "negative"]), DEFAULT_LABELS)
    assert [i for _, i in pairs] == [2, 0]
    assert problems == ["f:1: label 'maybe' is not one of ['negative', 'neutral', 'positive']"]


def test_resolve_labels_validates_queries() -> None:
    bad = StanceExample(
        StanceQuery(text="Short.", target="x", mentions=((0, 50),)), "positive", "f:9"
    )
    pairs, problems = resolve_labels([bad, *_examples(["negative"])], DEFAULT_LABELS)
    assert [i for _, i in pairs] == [0]
    assert problems == [
        "f:9: mentions: span [0, 50] is not a [start, end) pair inside the text (length 6)"
    ]


# --------------------------------------------------------------------------- holdout dev


def _per_text_examples(texts: Sequence[str], per_text: int = 2) -> list[StanceExample]:
    return [
        StanceExample(StanceQuery(text=t, target=f"t{k}"), "neutral", f"line {i} target {k}")
        for i, t in enumerate(texts)
        for k in range(per_text)
    ]


def test_split_holdout_keeps_texts_whole_and_is_stable() -> None:
    texts = [f"Sentence number {i} about the harbour plan." for i in range(2000)]
    train, held = split_holdout(_per_text_examples(texts), 0.1)
    held_texts = {e.query.text for e in held}
    assert held_texts.isdisjoint(e.query.text for e in train)
    assert len(train) + len(held) == 4000 and len(held) % 2 == 0  # both targets go together
    assert 170 <= len(held_texts) <= 230  # about 10% of 2,000 texts
    # The same texts whatever the order, and whitespace does not move a text.
    again = split_holdout(_per_text_examples(list(reversed(texts))), 0.1)[1]
    assert {e.query.text for e in again} == held_texts
    spaced = split_holdout(_per_text_examples([t.replace(" ", "  ") for t in texts]), 0.1)[1]
    assert {" ".join(e.query.text.split()) for e in spaced} == held_texts


@pytest.mark.parametrize(
    ("dev", "expected"),
    [(None, None), ("newsmtsc-dev-rw", None), ("holdout:0.1", 0.1), ("holdout:0.5", 0.5)],
)
def test_holdout_fraction_values(dev: str | None, expected: float | None) -> None:
    assert holdout_fraction(dev) == expected


@pytest.mark.parametrize("dev", ["holdout:", "holdout:0", "holdout:0.6", "holdout:ten"])
def test_holdout_fraction_errors(dev: str) -> None:
    with pytest.raises(DataError) as info:
        holdout_fraction(dev)
    assert str(info.value) == (
        f"[data].dev: {dev!r} needs a fraction in (0, 0.5] after 'holdout:', e.g. 'holdout:0.1'"
    )
