"""`stance score --analyze-articles`: records without a target are analysed as whole articles.

The tiny model is untrained, so labels are arbitrary: these tests check structure (the rows
are what ``analyze_article`` finds for the same text and model), offsets and exactly-once
accounting (parts count records, so an article with no stance is committed, never redone).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scoring.archive import ArchiveError, ReadOptions, ScoringError, generated_id
from scoring.engines import HttpEngine, LocalEngine
from scoring.options import OUTPUT_COLUMNS, ScoringOptions
from scoring.run import run_scoring

ROOT = Path(__file__).resolve().parents[2]

# Written for these tests: a named speaker, quoted, and a target mentioned more than once
# (discovered targets need two mentions).
ARTICLES = {
    "a": (
        "Foreign Minister Ana Petrova said the monitoring centre was a very important step. "
        '"The monitoring centre protects civilians," Petrova said. She added that the '
        "monitoring centre must stay open."
    ),
    "b": (
        "Opposition leader Marco Bellini criticised the new tax law on Monday. "
        '"The tax law hurts small farmers," Bellini told reporters. Mr. Bellini said the tax '
        "law would be challenged in court."
    ),
    "c": (
        "Health Minister Lena Ortiz praised the vaccination campaign on Friday. "
        '"The vaccination campaign saved thousands of lives," Ortiz said.\n\n'
        "Union leader Tom Becker said the vaccination campaign had exhausted nurses. "
        '"Nurses cannot carry the vaccination campaign alone," Becker said.'
    ),
}
# Nothing to ask about: zero rows, and no error row either.
NO_STANCE = {
    "n1": "The weather was mild in the capital on Sunday.",
    "n2": "Trains ran on time across the region this morning.",
}


@pytest.fixture(scope="module")
def expected(engine: LocalEngine) -> dict[str, list[dict]]:
    """What analyze_article itself finds in every article, with the same model."""
    from model.article import analyze_article

    found = {
        ident: [s.to_dict() for s in analyze_article(text, engine.classifier).stances]
        for ident, text in {**ARTICLES, **NO_STANCE}.items()
    }
    # The articles must exercise the feature: stances in each (two speakers in 'c'), none
    # in the no-stance texts.
    assert [len(found[k]) > 0 for k in ARTICLES] == [True, True, True]
    assert {s["speaker"] for s in found["c"]} == {"Lena Ortiz", "Tom Becker"}
    assert all(found[k] == [] for k in NO_STANCE)
    return found


def _jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _folder(root: Path, names: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in names.items():
        (root / f"{name}.txt").write_text(text, encoding="utf-8")
    return root


def _options(model_dir: Path, source: Path, output: Path, **kwargs) -> ScoringOptions:
    read = kwargs.pop("read", ReadOptions(analyze_articles=True))
    return ScoringOptions(
        input=source, output=output, model=str(model_dir), read=read, progress=False, **kwargs
    )


def _rows_for(ident: str, stances: list[dict]) -> list[tuple]:
    """(id, speaker, target, label, evidence spans) of the rows an article should give."""
    return [
        (
            ident,
            s["speaker"],
            s["target"],
            s["label"],
            [(e["start"], e["end"], e["text"]) for e in s["evidence"]],
        )
        for s in stances
    ]


def _shape(rows: list[dict]) -> list[tuple]:
    return [
        (
            r["id"],
            r["speaker"],
            r["target"],
            r["label"],
            [(e["start"], e["end"], e["text"]) for e in r["evidence"]],
        )
        for r in rows
    ]


def test_txt_folder_rows_are_what_analyze_article_finds(engine, model_dir, expected, tmp_path):
    archive = _folder(tmp_path / "archive", {**ARTICLES, "n1": NO_STANCE["n1"]})
    output = tmp_path / "out.jsonl"
    summary = run_scoring(_options(model_dir, archive, output, part_size=2), engine=engine)

    rows = _read_jsonl(output)
    # Files in name order (a, b, c, n1); ids are the file names; n1 gives no row.
    want = [row for k in ("a", "b", "c") for row in _rows_for(k, expected[k])]
    assert _shape(rows) == want
    for row in rows:
        assert tuple(row) == OUTPUT_COLUMNS
        assert row["model"] == str(model_dir)
        stance = next(
            s
            for s in expected[row["id"]]
            if (s["speaker"], s["target"]) == (row["speaker"], row["target"])
        )
        assert row["probabilities"] == pytest.approx(stance["probabilities"], abs=1e-6)
        assert list(row["probabilities"]) == list(engine.labels)
        text = ARTICLES[row["id"]]
        for evidence in row["evidence"]:
            assert text[evidence["start"] : evidence["end"]] == evidence["text"]
            assert set(evidence) == {"text", "start", "end", "probabilities", "weight"}
            assert evidence["weight"] is None
    assert not (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8")
    # Four records scored, however many rows they gave.
    assert (summary.records, summary.rows, summary.errors) == (4, len(want), 0)

    # The Parquet output (fixed evidence struct) holds exactly the same rows.
    import pyarrow.parquet as pq

    run_scoring(_options(model_dir, archive, tmp_path / "out.parquet", part_size=2), engine=engine)
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == rows


def test_without_the_flag_untargeted_input_fails_as_before(engine, model_dir, tmp_path):
    archive = _folder(tmp_path / "archive", {"a": ARTICLES["a"]})
    plain = ReadOptions()
    with pytest.raises(ArchiveError) as err:
        run_scoring(_options(model_dir, archive, tmp_path / "o.jsonl", read=plain), engine=engine)
    assert str(err.value) == (
        f"{archive}: .txt files carry no target; pass the target(s) to score with --target, "
        "or --analyze-articles to find the speakers and targets in each article"
    )
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": ARTICLES["a"]}])
    run_scoring(_options(model_dir, source, tmp_path / "o.jsonl", read=plain), engine=engine)
    assert _read_jsonl(tmp_path / "o.jsonl") == []
    assert _read_jsonl(tmp_path / "o.jsonl.errors.jsonl") == [
        {
            "index": 0,
            "id": "x",
            "file": "in.jsonl",
            "line": 1,
            "reason": "no target field 'target' or 'targets'; the record has ['id', 'text']. "
            "Map it with --target-col, pass --target to score every record against fixed "
            "targets, or --analyze-articles to analyse records without targets as whole "
            "articles",
        }
    ]


def test_http_engine_refuses_the_flag(engine, tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": ARTICLES["a"]}])
    message = (
        "--analyze-articles needs --engine local or ray; the service's POST /analyze_article "
        "endpoint analyses one article per request"
    )
    options = ScoringOptions(
        input=source,
        output=tmp_path / "o.jsonl",
        engine="http",
        url="http://127.0.0.1:9",
        read=ReadOptions(analyze_articles=True),
        progress=False,
    )
    with pytest.raises(ScoringError) as err:
        run_scoring(options)
    assert str(err.value) == message
    assert not (tmp_path / "o.jsonl.parts").exists()  # refused before any work folder
    # An HttpEngine handed untargeted records directly refuses them too (no silent 0 rows).
    from scoring.archive import ArchiveRecord

    http = HttpEngine("http://127.0.0.1:9")
    try:
        record = ArchiveRecord(index=0, file="in.jsonl", id="x", line=1, text="Some text.")
        with pytest.raises(ScoringError) as err:
            http.score([record])
        assert str(err.value) == f"in.jsonl:line 1: no target; {message}"
        assert http.requests == 0
    finally:
        http.close()


def test_an_article_the_analysis_refuses_is_an_error_row_of_its_own():
    from model import QueryError
    from model.article import analyze_article
    from scoring.archive import ArchiveRecord
    from scoring.rows import article_row
    from tests.keyword_stub import KeywordStanceClassifier

    class Refusing(KeywordStanceClassifier):
        """Refuses sentences about the monitoring centre (as a model may refuse a query)."""

        def predict(self, queries):
            if any("monitoring centre" in q.text for q in queries):
                raise QueryError("query 0: text: refused by the stub")
            return super().predict(queries)

    stub = LocalEngine(Refusing(), "stub")
    records = [
        ArchiveRecord(index=0, file="in.jsonl", id="a", line=1, text=ARTICLES["a"]),
        ArchiveRecord(index=1, file="in.jsonl", id="b", line=2, text=ARTICLES["b"]),
    ]
    refused, scored = stub.score(records)
    assert (refused.index, refused.rows) == (0, [])
    assert refused.errors == [
        {
            "index": 0,
            "id": "a",
            "file": "in.jsonl",
            "line": 1,
            "reason": "article analysis: query 0: text: refused by the stub",
        }
    ]
    # The next article of the same batch is analysed as usual.
    stances = analyze_article(ARTICLES["b"], Refusing()).stances
    assert stances
    assert (scored.index, scored.errors) == (1, [])
    assert scored.rows == [article_row("b", s, "stub") for s in stances]


def _cli() -> typer.Typer:
    from scoring.cli import score

    app = typer.Typer()
    app.command()(score)
    return app


def test_mixed_jsonl_through_the_cli(engine, model_dir, expected, tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "t1", "text": ARTICLES["b"], "target": ["the tax law", "farmers"]},
            {"id": "a1", "text": ARTICLES["a"]},  # no target field
            "{broken",
            {"id": "a2", "text": ARTICLES["c"], "target": []},  # empty list
            {"id": "n1", "text": NO_STANCE["n1"], "target": None},
            {"text": ARTICLES["b"], "target": ""},  # generated id
            {"id": "bad", "text": ARTICLES["a"], "target": ["ok", ""]},  # still an error
        ],
    )
    output = tmp_path / "out.jsonl"
    args = [str(source), str(output), "--model", str(model_dir), "--no-progress"]
    result = CliRunner().invoke(_cli(), [*args, "--analyze-articles", "--part-size", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])

    rows = _read_jsonl(output)
    generated = generated_id("in.jsonl", "line 6")
    # The targeted record is scored per target, exactly as without the flag.
    targeted = [r for r in rows if r["id"] == "t1"]
    assert [(r["target"], r["speaker"]) for r in targeted] == [
        ("the tax law", None),
        ("farmers", None),
    ]
    for row in targeted:
        evidence = row["evidence"][0]
        assert ARTICLES["b"][evidence["start"] : evidence["end"]] == evidence["text"]
        assert isinstance(evidence["weight"], float)  # a window weight, unlike article rows
    assert _shape(rows[2:]) == (
        _rows_for("a1", expected["a"])
        + _rows_for("a2", expected["c"])
        + _rows_for(generated, expected["b"])
    )
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["line"], e["id"], e["reason"]) for e in errors] == [
        (
            3,
            generated_id("in.jsonl", "line 3"),
            "invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        (7, "bad", "field 'target': target 2 must be a non-empty string, found ''"),
    ]
    assert (summary["records"], summary["rows"], summary["errors"]) == (7, len(rows), 2)

    # Same targeted rows as a run without the flag (probabilities included).
    plain = tmp_path / "plain.jsonl"
    result = CliRunner().invoke(_cli(), [str(source), str(plain), *args[2:]])
    assert result.exit_code == 0, result.output
    assert [r for r in _read_jsonl(plain)] == targeted


def test_csv_without_a_target_column(engine, model_dir, expected, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text\n" + "".join(f'{k},"{ARTICLES[k].replace(chr(34), chr(34) * 2)}"\n' for k in "ab"),
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    run_scoring(_options(model_dir, source, output), engine=engine)
    assert _shape(_read_jsonl(output)) == _rows_for("a", expected["a"]) + _rows_for(
        "b", expected["b"]
    )


def test_crash_then_resume_counts_articles_without_stances_once(
    recording, engine, model_dir, expected, tmp_path
):
    # Part size 2: part 0 = a, b; part 1 = n1, n2 (no stance at all); part 2 = c.
    names = {"a": ARTICLES["a"], "b": ARTICLES["b"], "m1": NO_STANCE["n1"]}
    names |= {"m2": NO_STANCE["n2"], "z": ARTICLES["c"]}
    archive = _folder(tmp_path / "archive", names)
    output = tmp_path / "out.jsonl"
    options = _options(model_dir, archive, output, part_size=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_scoring(options, engine=recording(engine, crash_at=4))
    parts = tmp_path / "out.jsonl.parts"
    marker = json.loads((parts / "part-00001.done.json").read_text(encoding="utf-8"))
    assert marker == {"part": 1, "records": 2, "rows": 0, "errors": 0}

    # Another flag is another run: refused, like any changed argument.
    changed = _options(
        model_dir, archive, output, part_size=2, read=ReadOptions(default_targets=("the tax law",))
    )
    with pytest.raises(ScoringError) as err:
        run_scoring(changed, engine=engine)
    assert "  analyze_articles: True (then) vs None (now)\n" in str(err.value)

    resumed = recording(engine)
    summary = run_scoring(options, engine=resumed)
    assert resumed.seen == [4]  # the part without any row was not scored again
    assert (summary.records, summary.resumed, summary.errors) == (5, 4, 0)
    want = _rows_for("a", expected["a"]) + _rows_for("b", expected["b"])
    want += _rows_for("z", expected["c"])
    assert _shape(_read_jsonl(output)) == want
    assert summary.rows == len(want)


def test_sigkill_then_resume_is_exactly_once(engine, model_dir, expected, tmp_path):
    # 24 articles, a third of them without stances, one per part: a kill lands between
    # parts or inside one; the rerun must give every row once, in order.
    texts = {f"r{i:02d}": [ARTICLES["a"], NO_STANCE["n1"], ARTICLES["c"]][i % 3] for i in range(24)}
    archive = _folder(tmp_path / "archive", texts)
    output = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    command = [
        sys.executable,
        "-m",
        "scoring.cli",
        str(archive),
        str(output),
        "--model",
        str(model_dir),
        "--analyze-articles",
        "--part-size",
        "1",
        "--no-progress",
    ]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}

    def committed() -> int:
        return len(list(parts.glob("*.done.json"))) if parts.is_dir() else 0

    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while committed() < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not output.exists()
    before = committed()
    assert 2 <= before < 24

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records"] == 24 and summary["resumed"] >= before
    by_text = {ARTICLES["a"]: "a", NO_STANCE["n1"]: "n1", ARTICLES["c"]: "c"}
    want = [row for k, t in texts.items() for row in _rows_for(k, expected[by_text[t]])]
    assert _shape(_read_jsonl(output)) == want
    assert summary["rows"] == len(want) and summary["errors"] == 0
    assert not parts.exists()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_engine_gives_the_local_rows(engine, model_dir, expected, tmp_path):
    pytest.importorskip("ray")
    archive = _folder(tmp_path / "archive", {**ARTICLES, **NO_STANCE})
    options = _options(
        model_dir, archive, tmp_path / "ray.jsonl", part_size=2, engine="ray", workers=1
    )
    summary = run_scoring(options)
    rows = _read_jsonl(tmp_path / "ray.jsonl")
    want = [row for k in ("a", "b", "c") for row in _rows_for(k, expected[k])]
    assert _shape(rows) == want
    assert (summary.records, summary.rows, summary.errors) == (5, len(want), 0)
