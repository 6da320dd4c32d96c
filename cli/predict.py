"""`stance predict` (one text, some targets) and `stance analyze` (a whole article)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import KNOWN_ERRORS, BackendOpt, EncodingOpt, fail, load_classifier
from model.limits import MAX_ARTICLE_CHARS
from model.types import StanceQuery


def predict(
    model: Annotated[str, typer.Option(help="BentoML tag (stance:latest) or model folder")],
    text: Annotated[str, typer.Option(help="a sentence, quote or article ('-' reads stdin)")],
    target: Annotated[list[str], typer.Option(help="target entity; repeat for several")],
    speaker: Annotated[str | None, typer.Option(help="whose stance (default: the author)")] = None,
    backend: BackendOpt = "auto",
) -> None:
    """Print the stance toward each target as JSON (one object, or a list for several)."""
    if text == "-":
        text = sys.stdin.read()
    try:
        classifier = load_classifier(model, backend)
        queries = [StanceQuery(text=text, target=t, speaker=speaker) for t in target]
        predictions = classifier.predict(queries)
    except KNOWN_ERRORS as err:
        fail(err)
        return
    out = [p.to_dict() for p in predictions]
    typer.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False))


def _read_article(path: str, encoding: str) -> str:
    """The article text from a file ('-': stdin); unreadable input names the fix."""
    from model.article import ArticleError

    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise ArticleError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise ArticleError(
            f"{path}: not {encoding} text ({err.reason} at byte {err.start}); "
            "pass --encoding (e.g. cp1252)"
        ) from None
    except LookupError:
        raise ArticleError(f"--encoding: unknown encoding {encoding!r}") from None
    except OSError as err:
        raise ArticleError(f"{path}: cannot be read ({err.strerror})") from None


def analyze(
    article_file: Annotated[
        str, typer.Argument(metavar="ARTICLE_FILE", help="article text file ('-' reads stdin)")
    ],
    target: Annotated[
        list[str] | None,
        typer.Option(help="target to ask about; repeat for several (default: found in the text)"),
    ] = None,
    model: Annotated[
        str, typer.Option(help="BentoML tag (stance:latest) or model folder")
    ] = "stance:latest",
    as_json: Annotated[
        bool, typer.Option("--json", help="print the whole analysis as JSON instead of a table")
    ] = False,
    max_chars: Annotated[
        int, typer.Option(min=1, help="refuse longer articles (STANCE_MAX_ARTICLE_CHARS)")
    ] = MAX_ARTICLE_CHARS,
    encoding: EncodingOpt = "utf-8",
    backend: BackendOpt = "auto",
) -> None:
    """Who says what about whom in one scraped article: (speaker, target, stance) + evidence.

    Quotes and reported speech are attributed to speakers, text outside them to the author;
    evidence offsets point into the file as given, noise included.
    """
    from model.article import analyze_article, render_table

    try:
        text = _read_article(article_file, encoding)
        classifier = load_classifier(model, backend)
        analysis = analyze_article(text, classifier, target or None, max_chars)
    except KNOWN_ERRORS as err:
        fail(err)
        return
    if as_json:
        typer.echo(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_table(analysis))
