"""Tests for model/article/cleaning.py: noise removal with offsets into the original text."""

from __future__ import annotations

import pytest

from model.article.cleaning import (
    BOILERPLATE,
    DATELINE,
    REPEATED,
    SEPARATOR,
    NoiseSpan,
    Paragraph,
    clean_article,
)

SCRAPE = (
    "Aliyev: Russian peacekeepers' performance satisfactory\n"
    "Aliyev: Russian peacekeepers' performance satisfactory\n"
    "Baku, 12 March 2021, 14:35\n"
    "\n"
    "BAKU, March 12 (AZERTAC) — President Ilham Aliyev held a press conference.\n"
    "###\n"
    "He said the mission was working.\n"
    "Share prices fell.\n"
    "Photo: AFP\n"
    "Follow us on Twitter | © 2021 News.az"
)


def _texts(text: str, spans) -> list[str]:
    return [text[s.start : s.end] for s in spans]


def test_scrape_noise_is_classified_and_body_kept_with_original_offsets() -> None:
    article = clean_article(SCRAPE)
    assert article.headline == (0, 54)
    assert SCRAPE[0:54] == "Aliyev: Russian peacekeepers' performance satisfactory"
    assert _texts(SCRAPE, article.paragraphs) == [
        "President Ilham Aliyev held a press conference.",
        "He said the mission was working.",
        "Share prices fell.",  # a sentence, not the "Share" button
    ]
    assert [(n.kind, SCRAPE[n.start : n.end]) for n in article.noise] == [
        (REPEATED, "Aliyev: Russian peacekeepers' performance satisfactory"),
        (DATELINE, "Baku, 12 March 2021, 14:35"),
        (DATELINE, "BAKU, March 12 (AZERTAC) — "),
        (SEPARATOR, "###"),
        (BOILERPLATE, "Photo: AFP"),
        (BOILERPLATE, "Follow us on Twitter | © 2021 News.az"),
    ]
    # The paragraph after the separator starts a block; the next one follows it directly.
    assert [p.blank_before for p in article.paragraphs] == [True, True, False]


def test_clean_text_maps_back_to_original_offsets() -> None:
    article = clean_article(SCRAPE)
    clean, starts = article.clean_text()
    assert clean == (
        "President Ilham Aliyev held a press conference.\n\n"
        "He said the mission was working.\n\n"
        "Share prices fell."
    )
    assert starts == [0, 49, 83]
    word = clean.index("mission")
    original = article.to_original(word)
    assert SCRAPE[original : original + len("mission")] == "mission"
    assert original == article.paragraphs[1].start + clean[49:].index("mission")


@pytest.mark.parametrize(
    "line",
    [
        "12.03.2021 14:35",
        "Published: 2021-03-12T10:45:00Z",
        "Updated 14:35 GMT",
        "Baku | 12 March 2021 | 14:35",
        "March 12, 2021",
        "Tuesday",
    ],
)
def test_dateline_lines(line: str) -> None:
    text = f"{line}\nThe ministry said the talks would resume next week."
    article = clean_article(text)
    assert [(n.kind, text[n.start : n.end]) for n in article.noise] == [(DATELINE, line)]


@pytest.mark.parametrize(
    "line",
    [
        "On 12 March 2021 the president met the envoy.",  # a sentence with a date
        "Talks resumed at 14:00 in the capital after a long pause.",
        '"We will meet on 12 March," he said.',
    ],
)
def test_sentences_with_dates_are_kept(line: str) -> None:
    text = f"Intro line of the body text here.\n{line}"
    article = clean_article(text)
    assert _texts(text, article.paragraphs)[-1] == line
    assert article.noise == ()


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("* * *", SEPARATOR),
        ("-----", SEPARATOR),
        ("#Azerbaijan #Russia", SEPARATOR),
        ("Share this article", BOILERPLATE),
        ("Read more: Peacekeepers extend mandate", BOILERPLATE),
        ("Tags: weather, roads", BOILERPLATE),
        ("Facebook Twitter WhatsApp", BOILERPLATE),
        ("Home | World | Politics", BOILERPLATE),
        ("All rights reserved.", BOILERPLATE),
        ("Advertisement", BOILERPLATE),
    ],
)
def test_separators_and_boilerplate(line: str, kind: str) -> None:
    text = f"The ministry said the talks would resume.\n{line}"
    article = clean_article(text)
    start = text.index(line)
    assert article.noise == (NoiseSpan(start, start + len(line), kind),)


def test_headline_is_first_short_line_without_final_punctuation() -> None:
    text = "Storm closes highway\nHeavy rain closed the highway on Sunday."
    article = clean_article(text)
    assert article.headline == (0, 20)
    assert article.paragraphs == (Paragraph(21, 61, True),)


def test_first_line_that_is_a_sentence_is_body() -> None:
    text = "Heavy rain closed the highway on Sunday.\nCrews worked all night."
    article = clean_article(text)
    assert article.headline is None
    assert _texts(text, article.paragraphs) == [
        "Heavy rain closed the highway on Sunday.",
        "Crews worked all night.",
    ]


def test_near_duplicate_headline_with_site_suffix_is_repeated() -> None:
    text = (
        "Kremlin defends peacekeeping mission\n"
        "Kremlin defends peacekeeping mission - News.az\n"
        "The Kremlin on Friday defended the mission."
    )
    article = clean_article(text)
    assert article.headline == (0, 36)
    assert [n.kind for n in article.noise] == [REPEATED]
    assert _texts(text, article.paragraphs) == ["The Kremlin on Friday defended the mission."]


def test_only_noise_leaves_no_paragraphs() -> None:
    text = "###\n12 March 2021 14:35\nShare this article\n* * *"
    article = clean_article(text)
    assert article.paragraphs == ()
    assert [n.kind for n in article.noise] == [SEPARATOR, DATELINE, BOILERPLATE, SEPARATOR]
    with pytest.raises(ValueError, match="no body text"):
        article.to_original(0)


def test_windows_line_endings_keep_offsets() -> None:
    text = "Storm closes highway\r\n\r\nHeavy rain closed the highway.\r\n###\r\n"
    article = clean_article(text)
    assert _texts(text, article.paragraphs) == ["Heavy rain closed the highway."]
    assert [text[n.start : n.end] for n in article.noise] == ["###"]
