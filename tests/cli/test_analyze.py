"""`stance analyze ARTICLE_FILE`: table and JSON output, and its error paths.

The model loader is replaced by the keyword classifier, so no trained model is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli.predict
from cli.app import app
from tests.keyword_stub import KeywordStanceClassifier

runner = CliRunner()

ARTICLE = """\
Visa deal signed
Tbilisi, 3 May 2023 | 09:12

Georgian Foreign Minister Ana Petrova signed the visa agreement on Monday.

“This agreement is an important step for every citizen,” Petrova told reporters.

The opposition leader, Davit Kurtsikidze, said the agreement was unacceptable.
###
Share this article
"""


@pytest.fixture()
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture()
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Replace model loading; records (model, backend) of each load."""
    calls: list[tuple[str, str]] = []

    def fake_load(model: str, backend: str = "auto") -> KeywordStanceClassifier:
        calls.append((model, backend))
        return KeywordStanceClassifier()

    monkeypatch.setattr(cli.predict, "load_classifier", fake_load)
    return calls


def test_table(article: Path, loaded: list[tuple[str, str]]) -> None:
    result = runner.invoke(app, ["analyze", str(article), "--target", "the visa agreement"])
    assert result.exit_code == 0, result.output
    assert loaded == [("stance:latest", "auto")]
    quote = ARTICLE.index("This agreement"), ARTICLE.index(",” Petrova")
    reported = ARTICLE.index("The opposition"), ARTICLE.index("unacceptable.") + 13
    author = ARTICLE.index("Georgian"), ARTICLE.index("on Monday.") + 10
    assert result.stdout.splitlines() == [
        "speakers: Ana Petrova (Georgian Foreign Minister); Davit Kurtsikidze (opposition leader)",
        "targets:  the visa agreement (3 mentions)",
        "removed:  3 noise span(s): boilerplate, dateline, separator",
        "",
        "speaker            target              stance    p     mentions  evidence [start, end)",
        "Ana Petrova        the visa agreement  positive  0.90  1         "
        f"[{quote[0]}, {quote[1]}) This agreement is an important step for every citizen",
        "Davit Kurtsikidze  the visa agreement  negative  0.90  1         "
        f"[{reported[0]}, {reported[1]}) The opposition leader, Davit Kurtsikidze, said the "
        "agreemen…",
        "(author)           the visa agreement  neutral   0.50  1         "
        f"[{author[0]}, {author[1]}) Georgian Foreign Minister Ana Petrova signed the visa "
        "agree…",  # evidence cut to 60 characters
    ]


def test_json_and_model_options(article: Path, loaded: list[tuple[str, str]]) -> None:
    result = runner.invoke(
        app, ["analyze", str(article), "--json", "--model", "runs/x/model", "--backend", "onnx"]
    )
    assert result.exit_code == 0, result.output
    assert loaded == [("runs/x/model", "onnx")]
    data = json.loads(result.stdout)
    assert {(s["speaker"], s["target"], s["label"]) for s in data["stances"]} == {
        ("Ana Petrova", "visa agreement", "positive"),
        ("Davit Kurtsikidze", "visa agreement", "negative"),
        (None, "visa agreement", "neutral"),
    }
    for stance in data["stances"]:
        for ev in stance["evidence"]:
            assert ARTICLE[ev["start"] : ev["end"]] == ev["text"]


def test_stdin(loaded: list[tuple[str, str]]) -> None:
    result = runner.invoke(app, ["analyze", "-", "--json"], input=ARTICLE)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text_length"] == len(ARTICLE)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "missing.txt: no such file"),
        (b"\xff\xfe broken", [], "not utf-8 text (invalid start byte at byte 0); pass --encoding"),
        (b"text", ["--encoding", "klingon"], "--encoding: unknown encoding 'klingon'"),
        (b"   \n", [], "text: is empty or only white space"),
        (b"Long enough text.", ["--max-chars", "5"], "17 characters is over the limit of 5"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    tmp_path: Path,
    loaded: list[tuple[str, str]],
    content: bytes | None,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "missing.txt"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["analyze", str(path), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
