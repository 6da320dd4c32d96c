"""Input limits: the one place the service, the scoring engines, the CLI and the article
analysis take them from, so that every way in accepts and refuses the same inputs.

Each limit can be changed with an environment variable, read once at import time (set it
before starting the service or a scoring run). A value that is not a positive integer is
refused with a message naming the variable.
"""

from __future__ import annotations

import os


def env_int(name: str, default: int) -> int:
    """``int(os.environ[name])``, or ``default`` when unset; ValueError if not positive."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be > 0")
    return value


# Characters of the text of one query (a sentence, quote or paragraph to score toward targets):
# POST /predict*, and every archive record with targets, whatever the engine.
MAX_TEXT_CHARS = env_int("STANCE_MAX_TEXT_CHARS", 100_000)
# Characters of a whole article analysed at once (POST /analyze_article, `stance analyze`,
# archive records analysed with --analyze-articles).
MAX_ARTICLE_CHARS = env_int("STANCE_MAX_ARTICLE_CHARS", 1_000_000)
MAX_TARGET_CHARS = env_int("STANCE_MAX_TARGET_CHARS", 200)
MAX_SPEAKER_CHARS = env_int("STANCE_MAX_SPEAKER_CHARS", 200)
MAX_ID_CHARS = 200
# Items of one POST /predict_batch request.
MAX_BATCH_ITEMS = env_int("STANCE_MAX_BATCH_ITEMS", 256)
# Targets named in one request (POST /predict_targets, /analyze_article).
MAX_TARGETS = env_int("STANCE_MAX_TARGETS", 32)
# Targets one article analysis asks about (named by the caller or found in the text).
MAX_ARTICLE_TARGETS = 64
