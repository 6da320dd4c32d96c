"""`stance score --keep-fields`: input fields copied into every output row of their record.

The tiny model is untrained, so the expected rows are those of the same run without the
option, plus the kept fields (a row is fully determined by the model and its query).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from model.types import StanceQuery
from scoring.archive import ArchiveRecord, ReadOptions, ScoringError
from scoring.engines import HttpEngine, LocalEngine
from scoring.options import OUTPUT_COLUMNS, ScoringOptions
from scoring.ray_engine import records_from_table, records_to_table
from scoring.run import run_scoring

TEXTS = [
    "The minister praised the mission for its calm and professional work.",
    "Critics accused the agency of hiding the true cost of the project.",
    "The delegation arrived in Geneva on Tuesday for the second round of talks.",
    "The union described the company's offer as an insult to its members.",
]
# Written for these tests: a quoted, named speaker and a target mentioned three times.
ARTICLE = (
    "Opposition leader Marco Bellini criticised the new tax law on Monday. "
    '"The tax law hurts small farmers," Bellini told reporters. Mr. Bellini said the tax '
    "law would be challenged in court."
)
RECORDS: list[object] = [
    {"id": "a", "text": TEXTS[0], "target": ["the mission", "the union"], "date": "2024-03-04",
     "source": "wire"},
    {"id": "b", "text": TEXTS[1], "target": "the agency", "date": "2024-04-01"},
    {"id": "c", "text": TEXTS[2], "target": "The delegation", "date": 20240401,
     "source": {"desk": "Geneva", "pages": [1, 2]}},
    "{broken",
    {"id": "d", "text": TEXTS[3], "target": "the union", "date": "  ", "source": None},
]  # fmt: skip
# What each good record keeps, in JSONL: JSON types as they are; blank and absent are null.
KEPT = {
    "a": {"date": "2024-03-04", "source": "wire"},
    "b": {"date": "2024-04-01", "source": None},
    "c": {"date": 20240401, "source": {"desk": "Geneva", "pages": [1, 2]}},
    "d": {"date": None, "source": None},
}


def _jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _options(model_dir: Path, source: Path, output: Path, **kwargs: Any) -> ScoringOptions:
    read = ReadOptions(
        keep_fields=kwargs.pop("keep", ()), analyze_articles=kwargs.pop("articles", False)
    )
    return ScoringOptions(
        input=source, output=output, model=str(model_dir), read=read, progress=False, **kwargs
    )


def _cli() -> typer.Typer:
    from scoring.cli import score

    app = typer.Typer()
    app.command()(score)
    return app


@pytest.fixture()
def plain(engine: LocalEngine, model_dir: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """The rows of RECORDS scored without --keep-fields."""
    source = _jsonl(tmp_path / "in.jsonl", RECORDS)
    run_scoring(_options(model_dir, source, tmp_path / "plain.jsonl", part_size=2), engine=engine)
    rows = _read_jsonl(tmp_path / "plain.jsonl")
    assert [(r["id"], r["target"]) for r in rows] == [
        ("a", "the mission"),
        ("a", "the union"),
        ("b", "the agency"),
        ("c", "The delegation"),
        ("d", "the union"),
    ]
    return rows


def test_jsonl_rows_carry_the_kept_fields_with_their_json_types(engine, model_dir, plain, tmp_path):
    output = tmp_path / "kept.jsonl"
    options = _options(
        model_dir, tmp_path / "in.jsonl", output, part_size=2, keep=("date", "source")
    )
    summary = run_scoring(options, engine=engine)
    rows = _read_jsonl(output)
    assert rows == [{**row, **KEPT[row["id"]]} for row in plain]
    # Kept fields come after the output columns, in the order asked.
    assert [list(r) for r in rows] == [[*OUTPUT_COLUMNS, "date", "source"]] * 5
    # Error rows are unchanged: what a record keeps goes to its output rows only.
    assert (tmp_path / "kept.jsonl.errors.jsonl").read_bytes() == (
        tmp_path / "plain.jsonl.errors.jsonl"
    ).read_bytes()
    assert (summary.records, summary.rows, summary.errors) == (5, 5, 1)


def test_parquet_output_stores_kept_fields_as_strings(engine, model_dir, plain, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    output = tmp_path / "kept.parquet"
    options = _options(
        model_dir, tmp_path / "in.jsonl", output, part_size=2, keep=("source", "date")
    )
    run_scoring(options, engine=engine)
    table = pq.read_table(output)
    assert table.schema.names == [*OUTPUT_COLUMNS, "source", "date"]
    assert table.schema.field("source").type == table.schema.field("date").type == pa.string()
    as_text = {
        "a": {"source": "wire", "date": "2024-03-04"},
        "b": {"source": None, "date": "2024-04-01"},
        "c": {"source": '{"desk": "Geneva", "pages": [1, 2]}', "date": "20240401"},
        "d": {"source": None, "date": None},
    }
    assert table.to_pylist() == [{**row, **as_text[row["id"]]} for row in plain]


def test_parquet_input_dates_and_missing_values(engine, model_dir, tmp_path):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["p1", "p2"],
                "text": [TEXTS[0], TEXTS[1]],
                "target": ["the mission", "the agency"],
                "date": pa.array([datetime.date(2024, 3, 4), None], pa.date32()),
                "score": [0.5, float("nan")],
            }
        ),
        source,
    )
    output = tmp_path / "out.jsonl"
    # 'region' is in no record: null, not an error.
    run_scoring(
        _options(model_dir, source, output, keep=("date", "score", "region")), engine=engine
    )
    assert [(r["id"], r["date"], r["score"], r["region"]) for r in _read_jsonl(output)] == [
        ("p1", "2024-03-04", 0.5, None),
        ("p2", None, None, None),
    ]


def test_csv_cells_are_kept_as_text_and_blank_cells_as_null(engine, model_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text,target,date,pages\n"
        f'c1,"{TEXTS[0]}",the mission,2024-03-04,12\n'
        f'c2,"{TEXTS[1]}",the agency,,\n',
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output, keep=("date", "pages")), engine=engine)
    assert [(r["id"], r["date"], r["pages"]) for r in _read_jsonl(output)] == [
        ("c1", "2024-03-04", "12"),
        ("c2", None, None),
    ]


def test_article_rows_carry_the_kept_fields(engine, model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "art", "text": ARTICLE, "date": "2024-05-06", "source": "desk"},
            {"id": "t", "text": TEXTS[0], "target": "the mission", "date": "2024-05-07"},
        ],
    )
    run_scoring(_options(model_dir, source, tmp_path / "plain.jsonl", articles=True), engine=engine)
    plain = _read_jsonl(tmp_path / "plain.jsonl")
    assert [r["id"] for r in plain].count("art") >= 1  # the article gives stances
    output = tmp_path / "kept.jsonl"
    run_scoring(
        _options(model_dir, source, output, articles=True, keep=("date", "source")),
        engine=engine,
    )
    kept = {
        "art": {"date": "2024-05-06", "source": "desk"},
        "t": {"date": "2024-05-07", "source": None},
    }
    assert _read_jsonl(output) == [{**row, **kept[row["id"]]} for row in plain]


def test_txt_files_keep_nulls(engine, model_dir, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "one.txt").write_text(TEXTS[0], encoding="utf-8")
    output = tmp_path / "out.jsonl"
    options = ScoringOptions(
        input=archive,
        output=output,
        model=str(model_dir),
        read=ReadOptions(default_targets=("the mission",), keep_fields=("date",)),
        progress=False,
    )
    run_scoring(options, engine=engine)
    assert [(r["id"], r["date"]) for r in _read_jsonl(output)] == [("one", None)]


class _AnsweringHttp(HttpEngine):
    """The http engine with the service answered in process (the row merge is under test)."""

    def __init__(self, classifier: Any) -> None:
        super().__init__("http://127.0.0.1:9", batch_size=2)
        self.classifier = classifier

    def _post(self, items: list[dict[str, Any]]) -> list[Any]:
        queries = [StanceQuery(i["text"], i["target"], i["speaker"], id=i["id"]) for i in items]
        return [
            {**p.to_dict(), "model": "stance:served", "error": None}
            for p in self.classifier.predict(queries)
        ]


def test_http_engine_rows_carry_the_kept_fields(engine, model_dir, plain, tmp_path):
    output = tmp_path / "http.jsonl"
    options = ScoringOptions(
        input=tmp_path / "in.jsonl",
        output=output,
        engine="http",
        url="http://127.0.0.1:9",
        read=ReadOptions(keep_fields=("date", "source")),
        part_size=2,
        progress=False,
    )
    http = _AnsweringHttp(engine.classifier)
    run_scoring(options, engine=http)
    rows = _read_jsonl(output)
    assert [{k: r[k] for k in ("id", "target", "model", "date", "source")} for r in rows] == [
        {"id": p["id"], "target": p["target"], "model": "stance:served", **KEPT[p["id"]]}
        for p in plain
    ]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_engine_rows_carry_the_kept_fields(model_dir, plain, tmp_path):
    pytest.importorskip("ray")
    output = tmp_path / "ray.jsonl"
    options = _options(
        model_dir,
        tmp_path / "in.jsonl",
        output,
        part_size=2,
        engine="ray",
        workers=1,
        keep=("date", "source"),
    )
    run_scoring(options)
    rows = _read_jsonl(output)
    assert [(r["id"], r["target"], r["label"]) for r in rows] == [
        (p["id"], p["target"], p["label"]) for p in plain
    ]
    assert [{"date": r["date"], "source": r["source"]} for r in rows] == [
        KEPT[p["id"]] for p in plain
    ]


def test_ray_blocks_carry_kept_values_with_their_types():
    record = ArchiveRecord(
        index=3, file="in.jsonl", id="a", line=4, text="t", targets=("x",),
        kept={"date": 20240401, "source": {"pages": [1, 2]}, "region": None},
    )  # fmt: skip
    assert records_from_table(records_to_table([record])) == [record]


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ("date", "label"),
            "--keep-fields 'date,label': 'label' is an output column of stance score (id, "
            "target, speaker, label, probabilities, evidence, model, speaker_found, "
            "speaker_mentions_target, speaker_statements); rename that field in the input to "
            "keep it",
        ),
        (
            ("date", "", "source"),
            "--keep-fields 'date,,source': name 2 is empty; separate the field names with "
            "single commas, e.g. --keep-fields date,source",
        ),
        (
            ("date", "source", "date"),
            "--keep-fields 'date,source,date': 'date' is listed twice; name it once",
        ),
        (
            ("",),
            "--keep-fields is empty; name the input fields to copy into the output rows, "
            "e.g. --keep-fields date,source",
        ),
    ],
)
def test_bad_keep_fields_are_refused(names, message, tmp_path):
    options = ScoringOptions(
        input=tmp_path / "in.jsonl",
        output=tmp_path / "o.jsonl",
        model="m",
        read=ReadOptions(keep_fields=names),
    )
    with pytest.raises(ScoringError) as err:
        options.validate()
    assert str(err.value) == message


def test_cli_splits_the_names_and_refuses_bad_ones_with_exit_2(model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": "a", "text": TEXTS[0], "target": "the mission", "date": "2024-03-04"}],
    )
    args = [str(source), str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--no-progress"]
    bad = CliRunner().invoke(_cli(), [*args, "--keep-fields", "date,,source"])
    assert bad.exit_code == 2
    assert bad.stderr == (
        "error: --keep-fields 'date,,source': name 2 is empty; separate the field names with "
        "single commas, e.g. --keep-fields date,source\n"
    )
    assert not (tmp_path / "o.jsonl.parts").exists()
    ok = CliRunner().invoke(_cli(), [*args, "--keep-fields", " date , source "])
    assert ok.exit_code == 0, ok.output
    ((date, source),) = [(r["date"], r["source"]) for r in _read_jsonl(tmp_path / "o.jsonl")]
    assert (date, source) == ("2024-03-04", None)


# ----------------------------------------------------------------------------- resume
def test_resume_with_other_keep_fields_is_refused(recording, engine, model_dir, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"r{i}", "text": TEXTS[0], "target": "x", "date": f"2024-0{i + 1}-01"}
         for i in range(4)],
    )  # fmt: skip
    output = tmp_path / "out.jsonl"
    started = _options(model_dir, source, output, part_size=2, keep=("date",))
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_scoring(started, engine=recording(engine, crash_at=2))
    parts = tmp_path / "out.jsonl.parts"
    for keep, then_now in [
        ((), "  keep_fields: ['date'] (then) vs None (now)"),
        (("date", "source"), "  keep_fields: ['date'] (then) vs ['date', 'source'] (now)"),
    ]:
        with pytest.raises(ScoringError) as err:
            run_scoring(_options(model_dir, source, output, part_size=2, keep=keep), engine=engine)
        assert str(err.value) == (
            f"cannot resume {parts}: it was started with different arguments:\n{then_now}\n"
            f"Rerun with the original arguments to resume, or pass --overwrite (or delete "
            f"{parts}) to start over."
        )
    resumed = recording(engine)
    summary = run_scoring(started, engine=resumed)
    assert resumed.seen == [2, 3] and summary.resumed == 2
    assert [r["date"] for r in _read_jsonl(output)] == [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
    ]


# ----------------------------------------------------------------------------- report
def test_report_by_date_on_a_file_scored_with_keep_fields(model_dir, tmp_path):
    from cli.app import app
    from training.archive_report import ReportOptions, summarize

    dates = ["2024-03-04", "2024-03-20", "2024-04-02", None, "2024-04-30", "2024-05-01"]
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": f"r{i}", "text": TEXTS[i % 4], "target": "the mission", "date": d}
            for i, d in enumerate(dates)
        ],
    )
    scored = tmp_path / "scored.jsonl"
    args = ["score", str(source), str(scored), "--model", str(model_dir), "--no-progress"]
    result = CliRunner().invoke(app, [*args, "--keep-fields", "date"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", str(scored), str(page), "--time-field", "date", "--min-mentions", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Stance over time (per month, field date)" in page.read_text(encoding="utf-8")
    # Labels are the untrained model's; rows per month are the input's dates.
    summary = summarize(scored, ReportOptions(time_field="date", min_mentions=1))
    months = summary.series["the mission"]
    assert {p: c.total() for p, c in months.items()} == {
        "2024-03-01": 2,
        "2024-04-01": 2,
        "2024-05-01": 1,
    }
    assert summary.undated_rows == 1
    # The same from the Parquet output, whose kept dates are strings.
    parquet = tmp_path / "scored.parquet"
    result = CliRunner().invoke(
        app, ["score", str(source), str(parquet), *args[3:], "--keep-fields", "date"]
    )
    assert result.exit_code == 0, result.output
    again = summarize(parquet, ReportOptions(time_field="date", min_mentions=1))
    assert again.series == summary.series and again.undated_rows == 1


def test_report_without_the_time_field_points_to_keep_fields(engine, model_dir, plain, tmp_path):
    from training.archive_report import ReportError, ReportOptions, summarize

    with pytest.raises(ReportError) as err:
        summarize(tmp_path / "plain.jsonl", ReportOptions(time_field="date"))
    assert str(err.value) == (
        f"{tmp_path / 'plain.jsonl'}: no field 'date' in the first row; pass --time-field with "
        "a column of the scored file, or copy the date into the scored rows with "
        "`stance score --keep-fields date`"
    )
