"""Tests for model/article/quotes.py: quote spans, multi-paragraph quotes, unbalanced marks."""

from __future__ import annotations

from model.article.cleaning import clean_article
from model.article.quotes import Quote, QuotePart, QuoteScan, find_quotes


def _scan(text: str) -> QuoteScan:
    return find_quotes(text, clean_article(text).paragraphs)


def _parts(text: str, quote: Quote) -> list[str]:
    return [text[p.start : p.end] for p in quote.parts]


def test_curly_quote_span_excludes_marks() -> None:
    text = "Body starts here.\n“We welcome the decision,” Aliyev said."
    scan = _scan(text)
    assert len(scan.quotes) == 1
    quote = scan.quotes[0]
    open_at = text.index("“")
    assert quote.parts == (QuotePart(open_at + 1, open_at + 25, open_at, open_at + 25, 1),)
    assert _parts(text, quote) == ["We welcome the decision,"]
    assert quote.closed


def test_straight_quotes_open_and_close_by_context() -> None:
    text = 'Aliyev said: "The performance is satisfactory." He left.'
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [["The performance is satisfactory."]]
    assert scan.unclosed == [] and scan.stray == []


def test_news_style_multi_paragraph_quote() -> None:
    text = (
        "Aliyev spoke on Tuesday.\n\n"
        "“The performance of the peacekeepers is satisfactory. They do their job.\n\n"
        "“At the same time, we expect more,” he said.\n\n"
        "The talks ended."
    )
    scan = _scan(text)
    assert len(scan.quotes) == 1
    quote = scan.quotes[0]
    assert _parts(text, quote) == [
        "The performance of the peacekeepers is satisfactory. They do their job.",
        "At the same time, we expect more,",
    ]
    assert [p.paragraph for p in quote.parts] == [1, 2]
    assert quote.parts[0].close_mark is None  # the closing mark is left off in news style
    assert quote.parts[1].open_mark == text.index("“At")
    assert quote.closed and scan.unclosed == []


def test_hard_wrapped_quote_continues_on_next_line() -> None:
    text = (
        "The minister spoke.\n\n"
        "“The agreement is an important step for the\n"
        "whole region,” the minister said."
    )
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["The agreement is an important step for the", "whole region,"]
    ]
    assert scan.quotes[0].parts[1].open_mark is None


def test_unbalanced_quote_closes_at_paragraph_end_and_is_reported() -> None:
    text = (
        "The minister spoke.\n\n"
        "“We will keep working with our partners, said Akar.\n\n"
        "The centre opened in January."
    )
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["We will keep working with our partners, said Akar."]
    ]
    assert not scan.quotes[0].closed
    assert scan.unclosed == [text.index("“")]


def test_reopened_mark_without_close_splits_quotes() -> None:
    text = "“We regret the incident very much. “This is unacceptable,” Aliyev said."
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["We regret the incident very much."],
        ["This is unacceptable,"],
    ]
    assert [q.closed for q in scan.quotes] == [False, True]
    assert scan.unclosed == [0]


def test_stray_closing_mark_is_reported_not_paired() -> None:
    text = "The minister spoke” and left the room."
    scan = _scan(text)
    assert scan.quotes == []
    assert scan.stray == [text.index("”")]


def test_interrupted_quote_is_one_quote_of_two_parts() -> None:
    text = "“We welcome it,” he said, “and we hope it will last for years.”"
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["We welcome it,", "and we hope it will last for years."]
    ]


def test_scare_quotes_are_not_speech_but_short_sentences_are() -> None:
    # "was called “unacceptable”": a short phrase under a cue verb is speech (issue 12).
    text = (
        "The so-called “peacekeeping mission” was called “unacceptable” by critics. "
        "“This is unacceptable.” The end."
    )
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["unacceptable"],
        ["This is unacceptable."],
    ]


def test_guillemets_and_low_opening_marks() -> None:
    text = "Er sagte: „Das ist ein wichtiger Schritt.“ Sie sagte: «Das ist nicht gut genug.»"
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["Das ist ein wichtiger Schritt."],
        ["Das ist nicht gut genug."],
    ]


def test_only_marks_never_crash() -> None:
    text = '"' * 101
    scan = _scan(text)
    assert scan.quotes == []  # no words inside any pair


# --------------------------------------------------------------------------- issue 12


def test_a_quote_runs_on_into_the_next_paragraph_without_a_reopening_mark() -> None:
    # The seed article's shape: opened after "the battlefield:", closed a paragraph later.
    text = (
        "The president spoke on Tuesday.\n\n"
        'He then turned to the battlefield: "The activity of foreign soldiers is '
        "regulated.\n\n"
        'Other foreign forces are not a subject of discussion."\n\n'
        "The talks ended."
    )
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        [
            "The activity of foreign soldiers is regulated.",
            "Other foreign forces are not a subject of discussion.",
        ]
    ]
    assert scan.quotes[0].closed
    assert scan.unclosed == [] and scan.stray == []


def test_a_lost_closing_mark_still_ends_at_the_paragraph_when_the_next_one_opens() -> None:
    text = 'He said: "We will win this fight.\n\nThe mayor called it "a good day" for all.'
    scan = _scan(text)
    assert [_parts(text, q) for q in scan.quotes] == [
        ["We will win this fight."],
        ["a good day"],
    ]
    assert scan.unclosed == [text.index('"')]


def test_short_phrases_under_a_speech_verb_are_speech() -> None:
    text = (
        'She called the plan "illogical." He said the process had been "difficult but '
        'honest," and the board described it as "fair."'
    )
    assert [_parts(text, q) for q in _scan(text).quotes] == [
        ["illogical."],
        ["difficult but honest,"],
        ["fair."],
    ]


def test_scare_quotes_and_titles_are_not_speech() -> None:
    text = (
        'The so-called "mission" ended. Her novel, "The Salt Orchard," follows a family. '
        'The review ran as "LOST AT SEA." The film "Winter Harbour of the North" won. '
        'The agency rated her "well qualified".'
    )
    assert _scan(text).quotes == []


def test_an_interrupted_quote_is_not_merged_across_a_sentence_end() -> None:
    text = 'Jane Doe called it "illogical." Owen Marsh called the film "a beautiful mess."'
    assert [_parts(text, q) for q in _scan(text).quotes] == [
        ["illogical."],
        ["a beautiful mess."],
    ]
