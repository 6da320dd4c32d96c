"""Articles: who says what about whom in a raw scraped news article.

``analyze_article(text, classifier, targets=None)`` cleans the scrape (keeping offsets into
the original text), finds direct quotes (also across paragraphs) and reported speech,
attributes them to speakers, resolves later references ("the president", "Mr. Aliyev",
"he") to the full name introduced earlier, finds or takes targets with their mentions
grouped, asks the stance model about every speaker's sentences that mention a target and
aggregates per (speaker, target) with evidence sentences.

Why rules and not a statistical parser: the usual tools for quote attribution and
coreference (spaCy / CoreNLP pipelines, neural coreference models) need model files that
are downloaded at run time or installed from unofficial re-uploads, which this product does
not accept, and a trained coreference model would be a second model to ship, version and
calibrate. News prose is formulaic where it matters here — "“...,” X said.", "X said:
“...”", "according to X", "X emphasized that ...", titles before names, "Mr. Surname" and
"the president" afterwards — so closed word lists and a few ordered rules cover the
common cases predictably, run in linear time on a megabyte of text, and every decision can
be explained from the text. The limits of each step are listed in its module docstring.

This package never imports training, service or bentoml code.
"""

from __future__ import annotations

from model.article.analyze import (
    DEFAULT_MAX_CHARS,
    ArticleAnalysis,
    ArticleError,
    ArticleEvidence,
    ArticleSpeaker,
    ArticleStance,
    ArticleTarget,
    StanceClassifierLike,
    analyze_article,
)
from model.article.attribution import Speech, attribute
from model.article.cleaning import CleanedArticle, NoiseSpan, Paragraph, clean_article
from model.article.quotes import Quote, QuotePart, find_quotes
from model.article.report import render_table

__all__ = [
    "DEFAULT_MAX_CHARS",
    "ArticleAnalysis",
    "ArticleError",
    "ArticleEvidence",
    "ArticleSpeaker",
    "ArticleStance",
    "ArticleTarget",
    "CleanedArticle",
    "NoiseSpan",
    "Paragraph",
    "Quote",
    "QuotePart",
    "Speech",
    "StanceClassifierLike",
    "analyze_article",
    "attribute",
    "clean_article",
    "find_quotes",
    "render_table",
]
