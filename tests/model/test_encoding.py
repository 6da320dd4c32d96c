from __future__ import annotations

import pytest

from model import StanceConfig, StanceQuery
from model.encoding import QueryEncoder


@pytest.fixture(scope="module")
def encoder(base_classifier):
    return base_classifier.encoder


def _decode(base_classifier, ids):
    return base_classifier.tokenizer.decode(ids)


def test_markers_wrap_the_mention_and_query_holds_target_and_speaker(base_classifier, encoder):
    query = StanceQuery(
        text="The minister praised the Joint Monitoring Center on Monday.",
        target="Joint Monitoring Center",
        speaker="the minister",
    )
    enc = encoder.encode(query)
    assert enc.mentions_found == 1
    (window,) = enc.windows
    decoded = _decode(base_classifier, window.input_ids)
    assert decoded == (
        "[CLS] joint monitoring center ; said by the minister [SEP] the minister praised the "
        "<t> joint monitoring center </t> on monday. [SEP]"
    )
    pooled = _decode(base_classifier, [window.input_ids[p] for p in window.target_positions])
    assert pooled == "<t> joint monitoring center </t>"
    # Token types: 0 for [CLS] query [SEP], 1 for the text segment.
    sep = window.input_ids.index(base_classifier.tokenizer.sep_token_id)
    assert window.token_type_ids[: sep + 1] == [0] * (sep + 1)
    assert set(window.token_type_ids[sep + 1 :]) == {1}


def test_given_offsets_override_string_matching(base_classifier, encoder):
    text = "Smith met Smith's brother."
    query = StanceQuery(text=text, target="Smith", mentions=((10, 15),))
    (window,) = encoder.encode(query).windows
    assert "[SEP] smith met <t> smith </t> ' s brother" in _decode(
        base_classifier, window.input_ids
    )


def test_topic_target_absent_from_text_pools_the_query(base_classifier, encoder):
    query = StanceQuery(text="Taxes on fuel should be abolished.", target="energy policy")
    enc = encoder.encode(query)
    assert enc.mentions_found == 0
    (window,) = enc.windows
    pooled = _decode(base_classifier, [window.input_ids[p] for p in window.target_positions])
    assert pooled == "energy policy"


def _article(n_filler: int) -> tuple[str, list[int]]:
    filler = [
        f"Paragraph {i} describes the weather and the roads in some detail."
        for i in range(n_filler)
    ]
    key = "The governor said the new railway was a disaster for the valley."
    sentences = [*filler[: n_filler // 2], key, *filler[n_filler // 2 :]]
    text = " ".join(sentences)
    return text, [text.index(key)]


def test_long_text_is_windowed_around_mentions_with_exact_offsets(base_classifier):
    config = StanceConfig(max_length=64, context_sentences=1)
    encoder = QueryEncoder(base_classifier.tokenizer, config)
    text, (key_start,) = _article(40)
    enc = encoder.encode(StanceQuery(text=text, target="the new railway"))
    assert enc.mentions_found == 1
    assert len(enc.windows) == 1
    window = enc.windows[0]
    assert len(window.input_ids) <= 64
    assert window.start <= key_start < window.end
    assert "the new railway was a disaster" in text[window.start : window.end]
    assert "<t> the new railway </t>" in _decode(base_classifier, window.input_ids)


def test_text_without_mentions_is_fully_covered_by_windows(base_classifier):
    config = StanceConfig(max_length=64, max_windows=1000)
    encoder = QueryEncoder(base_classifier.tokenizer, config)
    text, _ = _article(30)
    enc = encoder.encode(StanceQuery(text=text, target="the harbour authority"))
    assert enc.mentions_found == 0
    assert len(enc.windows) > 1
    assert all(len(w.input_ids) <= 64 for w in enc.windows)
    # Consecutive windows tile the text: no gap and no overlap between them.
    assert enc.windows[0].start == 0
    assert enc.windows[-1].end == len(text)
    for left, right in zip(enc.windows, enc.windows[1:], strict=False):
        assert text[left.end : right.start].strip() == ""


def test_max_windows_caps_cost(base_classifier):
    config = StanceConfig(max_length=64, max_windows=3)
    encoder = QueryEncoder(base_classifier.tokenizer, config)
    text, _ = _article(60)
    assert len(encoder.encode(StanceQuery(text=text, target="nothing here")).windows) == 3


def test_single_over_long_sentence_is_cut_around_the_mention(base_classifier):
    config = StanceConfig(max_length=48)
    encoder = QueryEncoder(base_classifier.tokenizer, config)
    words = ["word"] * 300
    words[200] = "Gazprom"
    text = " ".join(words) + "."
    (window,) = encoder.encode(StanceQuery(text=text, target="Gazprom")).windows
    assert len(window.input_ids) <= 48
    assert "Gazprom" in text[window.start : window.end]
    assert "<t> gazprom </t>" in _decode(base_classifier, window.input_ids)


def test_several_targets_of_one_text_share_one_tokenizer_call(base_classifier):
    encoder = QueryEncoder(base_classifier.tokenizer, StanceConfig(max_length=64))
    text = "The minister praised NATO and criticised the agency."
    first = encoder.encode(StanceQuery(text=text, target="NATO"))
    second = encoder.encode(StanceQuery(text=text, target="the agency"))
    assert encoder.tokenizer_calls == 1
    assert "<t> nato </t>" in base_classifier.tokenizer.decode(first.windows[0].input_ids)
    assert "<t> the agency </t>" in base_classifier.tokenizer.decode(second.windows[0].input_ids)
    encoder.encode(StanceQuery(text=text + " Again.", target="NATO"))
    assert encoder.tokenizer_calls == 2


def test_direct_rust_tokenizer_encodes_exactly_like_the_wrapper(base_classifier):
    fast = QueryEncoder(base_classifier.tokenizer, base_classifier.config)
    slow = QueryEncoder(base_classifier.tokenizer, base_classifier.config)
    assert fast._fast is not None, "MiniLM's tokenizer is a fast one: the direct path is used"
    slow._fast = None  # the transformers wrapper, as for a tokenizer that fails the probe
    filler = "Délégués met in Genève; naïve “quotes” — and 12.5% more. "
    queries = [
        StanceQuery(text="Ilham Aliyev’s remarks on the peacekeepers", target="peacekeepers"),
        StanceQuery(
            text="Straße\tclosed 😀 by the city", target="the city", speaker="Mayor O'Neil"
        ),
        StanceQuery(text=filler * 30 + "The ferry operator was praised.", target="ferry operator"),
    ]
    for query in queries:
        assert fast.encode(query) == slow.encode(query)
    # target/speaker ids are cached, and a caller extending the returned list cannot change it
    ids = fast._ids("the city")
    ids.append(-1)
    assert fast._ids("the city") == slow._ids("the city")


def test_a_tokenizer_that_disagrees_with_its_wrapper_keeps_the_wrapper(base_classifier):
    class Skewed:
        """A backend whose offsets are shifted by one character."""

        def __init__(self, real):
            self.real = real

        def encode(self, text, add_special_tokens=False):
            enc = self.real.encode(text, add_special_tokens=add_special_tokens)
            return type(
                "E", (), {"ids": enc.ids, "offsets": [(a + 1, b + 1) for a, b in enc.offsets]}
            )

    encoder = QueryEncoder(base_classifier.tokenizer, base_classifier.config)
    assert encoder._agrees(base_classifier.tokenizer.backend_tokenizer)
    assert not encoder._agrees(Skewed(base_classifier.tokenizer.backend_tokenizer))


# ----------------------------------------------------------------- bounded work (issue 16)
def _reference_windows(text, offsets, mention_tokens, budget, context):
    """The former quadratic windowing (one scan of every mention per cost), kept as the
    reference the linear version must reproduce exactly on inputs small enough for it."""
    import bisect

    from model.text import split_sentences

    n = len(offsets)
    if n == 0:
        return [(0, 0)]

    def cost(start, end):
        return end - start + sum(2 for s, e in mention_tokens if s >= start and e <= end)

    if cost(0, n) <= budget:
        return [(0, n)]
    starts = [o[0] for o in offsets]
    sent_tok = sorted({bisect.bisect_left(starts, s.start) for s in split_sentences(text)} | {0})
    bounds = [*sent_tok, n]
    if not mention_tokens:
        ranges, lo = [], bounds[0]
        for i in range(1, len(bounds)):
            if cost(lo, bounds[i]) > budget and bounds[i - 1] > lo:
                ranges.append((lo, bounds[i - 1]))
                lo = bounds[i - 1]
            while cost(lo, bounds[i]) > budget:
                ranges.append((lo, lo + budget))
                lo += budget
        if bounds[-1] > lo:
            ranges.append((lo, bounds[-1]))
        return ranges
    ranges = []
    for m_start, m_end in mention_tokens:
        first = bisect.bisect_right(sent_tok, m_start) - 1
        last = bisect.bisect_right(sent_tok, max(m_start, m_end - 1)) - 1
        window = None
        for c in range(context, -1, -1):
            lo, hi = bounds[max(0, first - c)], bounds[min(len(bounds) - 1, last + c + 1)]
            if cost(lo, hi) <= budget:
                window = (lo, hi)
                break
        if window is None:
            half = max(0, (budget - 2 - (m_end - m_start)) // 2)
            lo = max(0, m_start - half)
            hi = min(n, lo + budget)
            while hi > lo + 1 and cost(lo, hi) > budget:
                hi -= 1
            window = (lo, hi)
        if ranges and window[0] < ranges[-1][1] and cost(ranges[-1][0], window[1]) <= budget:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], window[1]))
        elif not ranges or window != ranges[-1]:
            ranges.append(window)
    return ranges


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (_article(40)[0], "the new railway"),
        (_article(40)[0].replace("weather", "railway"), "railway"),
        (_article(30)[0], "nothing here"),
        ("Russia " * 300, "Russia"),
        ("Russia, Russia and Russia. " * 40 + "word " * 200 + "Russia.", "Russia"),
        (" ".join(["word"] * 300 + ["Gazprom"] + ["word"] * 50) + ".", "Gazprom"),
    ],
)
def test_linear_windowing_reproduces_the_former_windows_exactly(base_classifier, text, target):
    from model.encoding import _mention_token_ranges, _window_token_ranges
    from model.text import find_mentions

    config = StanceConfig(max_length=64, max_windows=1000)
    encoder = QueryEncoder(base_classifier.tokenizer, config)
    _, offsets = encoder._encode(text)
    tokens = _mention_token_ranges(find_mentions(text, target), offsets)
    budget = 64 - encoder.num_special - len(encoder._ids(target))
    expected = _reference_windows(text, offsets, tokens, budget, 1)
    assert _window_token_ranges(text, offsets, tokens, budget, 1, 1000) == expected
    # With a cap, the first max_windows are the same; one extra says "there is more".
    capped = _window_token_ranges(text, offsets, tokens, budget, 1, 3)
    assert capped[:3] == expected[:3]
    assert len(capped) == min(len(expected), 4)


ADVERSARIAL = [
    # (text, target, windows' character spans, warning)
    (
        "Russia " * 14285,
        "Russia",
        [(7 * k, 139 + 7 * k) for k in range(16)],
        "the target is mentioned 14285 times; only the first 16 windows were scored (the "
        "first 35 mentions, up to character 244); split the text to score the rest",
    ),
    (
        "." * 100_000,
        "Russia",
        [(60 * k, 60 * (k + 1)) for k in range(16)],
        "the text needs more than 16 windows; only the first 16 were scored (up to character "
        "960); split the text to score the rest",
    ),
    (
        "!?" * 50_000,
        "Russia",
        [(60 * k, 60 * (k + 1)) for k in range(16)],
        "the text needs more than 16 windows; only the first 16 were scored (up to character "
        "960); split the text to score the rest",
    ),
]


@pytest.mark.parametrize(("text", "target", "spans", "warning"), ADVERSARIAL)
def test_adversarial_texts_are_encoded_fast_with_a_warning(
    base_classifier, text, target, spans, warning
):
    import time

    encoder = QueryEncoder(base_classifier.tokenizer, StanceConfig(max_length=64))
    started = time.perf_counter()
    enc = encoder.encode(StanceQuery(text=text, target=target))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s of model-free work"
    assert [(w.start, w.end) for w in enc.windows] == spans
    assert enc.warnings == (warning,)
    assert all(len(w.input_ids) <= 64 for w in enc.windows)


def test_a_text_within_max_windows_has_no_warning(base_classifier):
    encoder = QueryEncoder(base_classifier.tokenizer, StanceConfig(max_length=64))
    enc = encoder.encode(StanceQuery(text="Russia " * 20, target="Russia"))
    assert len(enc.windows) == 1 and enc.warnings == ()
