"""Turn a (text, target, speaker) query into encoder inputs, windowing long texts.

Layout of one window, for a BERT-style tokenizer (other tokenizers use their own specials):

    [CLS] target [; said by speaker] [SEP] ... <t> mention </t> ... [SEP]

The text is tokenized once per query (with character offsets); windows are slices of that
token sequence, so a 100-sentence article costs one tokenizer call, not one per window.
Target mentions are wrapped in marker tokens so the encoder sees which span is meant (two
targets in one sentence can have opposite stances). A target that never occurs in the
text (a topic, as in SemEval) still works: the query segment carries it.

Long texts are never truncated silently: the text is split into sentences, each mention
gets a window of its sentence plus ``context_sentences`` on each side (merged while they
fit), and a text with no mention is covered by consecutive windows.

Work per query is bounded whatever the text: tokenizing, finding mentions and windowing are
linear in the text (n log n at worst), and windowing stops once ``config.max_windows``
windows are built. A text that needs more windows (a page that repeats the target thousands
of times, a very long article) is scored on its first ``max_windows`` windows, and the
query's ``warnings`` say so and where the scored part ends.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model.config import StanceConfig
from model.text import Span, find_mentions, split_sentences
from model.types import StanceQuery

SPEAKER_JOINER = " ; said by "


@dataclass(frozen=True)
class EncodedWindow:
    """One encoder input: token ids plus where it sits in the original text.

    ``target_positions`` index the tokens (markers included) that the ``target`` pooling
    head averages: the marked mentions, or the target in the query when the window has none.
    """

    query_index: int
    start: int
    end: int
    input_ids: list[int]
    token_type_ids: list[int]
    target_positions: list[int]


@dataclass(frozen=True)
class EncodedQuery:
    """All windows of one query and how many target mentions were found in its text."""

    windows: list[EncodedWindow]
    mentions_found: int
    mentions: tuple[Span, ...] = ()
    warnings: tuple[str, ...] = ()


class QueryEncoder:
    """Encodes queries for one tokenizer and config. Stateless after construction."""

    def __init__(self, tokenizer: Any, config: StanceConfig) -> None:
        self.tokenizer = tokenizer
        self.config = config
        self.start_id = self._marker_id(config.target_start)
        self.end_id = self._marker_id(config.target_end)
        self.uses_token_types = "token_type_ids" in tokenizer.model_input_names
        # Discover the pair template ([CLS] A [SEP] B [SEP], <s> A </s></s> B </s>, ...) once
        # by encoding two plain words: the special tokens around and between them are it.
        template: list[int] = tokenizer("hello", "world")["input_ids"]
        special = set(tokenizer.all_special_ids)
        plain = [i for i, tok in enumerate(template) if tok not in special]
        gap = next((k for k in range(1, len(plain)) if plain[k] != plain[k - 1] + 1), None)
        if not plain or gap is None:
            raise ValueError(f"cannot read the pair layout of tokenizer {type(tokenizer).__name__}")
        self._prefix = template[: plain[0]]
        self._middle = template[plain[gap - 1] + 1 : plain[gap]]
        self._suffix = template[plain[-1] + 1 :]
        self.num_special = len(self._prefix) + len(self._middle) + len(self._suffix)
        # The Rust tokenizer behind a "fast" transformers tokenizer, called directly: the
        # Python wrapper costs more than the tokenization itself on news sentences (~0.2 ms
        # of ~0.35 ms per query). Used only when it gives the same ids and offsets as the
        # wrapper on a probe text (a tokenizer whose wrapper adds behaviour keeps the wrapper).
        backend = getattr(tokenizer, "backend_tokenizer", None)
        self._fast: Any = backend if backend is not None and self._agrees(backend) else None
        # Token ids of targets and speakers: an archive names the same few thousand entities
        # over and over. Bounded: cleared when full.
        self._segment_ids: dict[str, list[int]] = {}
        self._joiner_ids = self._ids(SPEAKER_JOINER)
        # The last text's tokens: several targets of one text (POST /predict_targets, a
        # record with a list of targets) arrive as consecutive queries and share one
        # tokenizer call. One entry, replaced atomically, so it is safe and bounded.
        self._last: tuple[str, list[int], list[tuple[int, int]]] | None = None
        self.tokenizer_calls = 0

    def _marker_id(self, marker: str) -> int:
        ids = self.tokenizer.convert_tokens_to_ids([marker])
        unk = self.tokenizer.unk_token_id
        if not ids or ids[0] is None or ids[0] == unk:
            raise ValueError(
                f"marker {marker!r} is not a token of this tokenizer; build the model with "
                "StanceClassifier.from_base(), which adds the markers as special tokens"
            )
        return int(ids[0])

    def _agrees(self, backend: Any) -> bool:
        """Whether ``backend.encode`` gives the wrapper's ids and offsets on a probe text."""
        probe = (
            f"Mr. O'Neil’s {self.config.target_start}peace-keepers{self.config.target_end} "
            "said: «naïve» ÉTÉ, 12.5% — 😀 Straße\tend"
        )
        wrapped = self.tokenizer(
            probe, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        direct = backend.encode(probe, add_special_tokens=False)
        return bool(
            list(direct.ids) == list(wrapped["input_ids"])
            and [tuple(o) for o in direct.offsets] == [tuple(o) for o in wrapped["offset_mapping"]]
        )

    def _encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Word-piece ids and character offsets, no special tokens."""
        if self._fast is not None:
            encoding = self._fast.encode(text, add_special_tokens=False)
            return list(encoding.ids), list(encoding.offsets)
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return list(encoded["input_ids"]), [(int(a), int(b)) for a, b in encoded["offset_mapping"]]

    def _ids(self, text: str) -> list[int]:
        cached = self._segment_ids.get(text)
        if cached is None:
            if len(self._segment_ids) >= 4096:
                self._segment_ids.clear()
            cached = self._segment_ids[text] = self._encode(text)[0]
        return list(cached)  # callers extend it

    def _tokenize_text(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Word-piece ids and character offsets of ``text`` (cached for the last text)."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1], last[2]
        ids, offsets = self._encode(text)
        self.tokenizer_calls += 1
        self._last = (text, ids, offsets)
        return ids, offsets

    def encode(self, query: StanceQuery, query_index: int = 0) -> EncodedQuery:
        """All windows for ``query`` (at least one, at most ``config.max_windows``)."""
        target_ids = self._ids(query.target)[: self.config.max_length // 4]
        query_ids = list(target_ids)
        if query.speaker:
            speaker_ids = self._ids(query.speaker)[: self.config.max_length // 4]
            query_ids += self._joiner_ids + speaker_ids
        ids, offsets = self._tokenize_text(query.text)
        if query.mentions is not None:
            mentions = sorted(query.mentions)
        else:
            mentions = find_mentions(query.text, query.target)
        mention_tokens = _mention_token_ranges(mentions, offsets)
        # Room for text tokens: specials, the query, and 2 markers per mention in the window.
        budget = self.config.max_length - self.num_special - len(query_ids)
        max_windows = self.config.max_windows
        ranges = _window_token_ranges(
            query.text, offsets, mention_tokens, budget, self.config.context_sentences, max_windows
        )
        warnings: tuple[str, ...] = ()
        if len(ranges) > max_windows:
            ranges = ranges[:max_windows]
            warnings = (_cut_warning(max_windows, offsets[ranges[-1][1] - 1][1], mentions),)
        windows = [
            self._build(
                query_index, ids, offsets, start, end, mention_tokens, query_ids, target_ids
            )
            for start, end in ranges
        ]
        return EncodedQuery(
            windows=windows,
            mentions_found=len(mentions),
            mentions=tuple(mentions),
            warnings=warnings,
        )

    def _build(
        self,
        query_index: int,
        ids: Sequence[int],
        offsets: Sequence[tuple[int, int]],
        tok_start: int,
        tok_end: int,
        mention_tokens: Sequence[Span],
        query_ids: list[int],
        target_ids: list[int],
    ) -> EncodedWindow:
        text_ids: list[int] = []
        marked: list[int] = []  # positions within text_ids that belong to a marked mention
        # The mentions wholly inside the window: a contiguous run of the sorted, disjoint
        # ranges, read from its first member (work bounded by the window, not the text).
        opens: set[int] = set()
        closes: set[int] = set()
        k = bisect.bisect_left(mention_tokens, (tok_start, -1))
        while k < len(mention_tokens) and mention_tokens[k][1] <= tok_end:
            opens.add(mention_tokens[k][0])
            closes.add(mention_tokens[k][1])
            k += 1
        inside = False
        for t in range(tok_start, tok_end):
            if inside and t in closes:
                marked.append(len(text_ids))
                text_ids.append(self.end_id)
                inside = False
            if t in opens:
                marked.append(len(text_ids))
                text_ids.append(self.start_id)
                inside = True
            if inside:
                marked.append(len(text_ids))
            text_ids.append(ids[t])
        if inside:
            marked.append(len(text_ids))
            text_ids.append(self.end_id)
        input_ids = self._prefix + query_ids + self._middle + text_ids + self._suffix
        text_offset = len(self._prefix) + len(query_ids) + len(self._middle)
        if marked:
            target_positions = [text_offset + p for p in marked]
        else:
            target_positions = list(range(len(self._prefix), len(self._prefix) + len(target_ids)))
        if self.uses_token_types:
            first = len(self._prefix) + len(query_ids) + len(self._middle)
            token_type_ids = [0] * first + [1] * (len(input_ids) - first)
        else:
            token_type_ids = [0] * len(input_ids)
        char_start = offsets[tok_start][0] if tok_end > tok_start else 0
        char_end = offsets[tok_end - 1][1] if tok_end > tok_start else 0
        return EncodedWindow(
            query_index=query_index,
            start=char_start,
            end=char_end,
            input_ids=input_ids,
            token_type_ids=token_type_ids,
            target_positions=target_positions,
        )


def _cut_warning(max_windows: int, scored_to: int, mentions: Sequence[Span]) -> str:
    """What was left unread when a text needed more than ``max_windows`` windows."""
    if mentions:
        read = bisect.bisect_right([e for _, e in mentions], scored_to)
        return (
            f"the target is mentioned {len(mentions)} times; only the first {max_windows} "
            f"windows were scored (the first {read} mentions, up to character {scored_to}); "
            "split the text to score the rest"
        )
    return (
        f"the text needs more than {max_windows} windows; only the first {max_windows} were "
        f"scored (up to character {scored_to}); split the text to score the rest"
    )


def _mention_token_ranges(
    mentions: Sequence[Span], offsets: Sequence[tuple[int, int]]
) -> list[Span]:
    """Token ranges [start, end) covering each character mention; overlapping ones merged."""
    starts = [o[0] for o in offsets]
    ranges: list[Span] = []
    for m_start, m_end in mentions:
        first = max(0, bisect.bisect_right(starts, m_start) - 1)
        while first < len(offsets) and offsets[first][1] <= m_start:
            first += 1
        last = bisect.bisect_left(starts, m_end)
        if first < last:
            if ranges and first < ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            else:
                ranges.append((first, last))
    return ranges


class _Cost:
    """Tokens a window [start, end) takes, markers included, in O(log mentions).

    ``mention_tokens`` are sorted and disjoint, so their starts and ends both increase: the
    mentions wholly inside a window are a contiguous run found by two bisections. (A scan of
    every mention per call made windowing quadratic: minutes for a text that repeats the
    target 14,000 times.)
    """

    def __init__(self, mention_tokens: Sequence[Span]) -> None:
        self.starts = [s for s, _ in mention_tokens]
        self.ends = [e for _, e in mention_tokens]

    def inside(self, start: int, end: int) -> tuple[int, int]:
        """Index range [i, j) of the mentions wholly inside [start, end)."""
        i = bisect.bisect_left(self.starts, start)
        return i, max(i, bisect.bisect_right(self.ends, end))

    def __call__(self, start: int, end: int) -> int:
        i, j = self.inside(start, end)
        return end - start + 2 * (j - i)


def _window_token_ranges(
    text: str,
    offsets: Sequence[tuple[int, int]],
    mention_tokens: Sequence[Span],
    budget: int,
    context: int,
    max_windows: int,
) -> list[Span]:
    """Token ranges [start, end) to score; each fits ``budget`` including its markers.

    At most ``max_windows + 1`` ranges: the extra one only tells the caller that the text
    needed more than ``max_windows`` (the work stops there, whatever the text's length).
    Time O(n + m log m) for n tokens and m mentions.
    """
    n = len(offsets)
    if n == 0:
        return [(0, 0)]
    cost = _Cost(mention_tokens)
    if cost(0, n) <= budget:
        return [(0, n)]
    starts = [o[0] for o in offsets]
    # Sentence i as a token range [sent_tok[i], sent_tok[i+1]).
    sent_tok = sorted({bisect.bisect_left(starts, s.start) for s in split_sentences(text)} | {0})
    bounds = [*sent_tok, n]

    def sentence_of(token: int) -> int:
        return bisect.bisect_right(sent_tok, token) - 1

    if not mention_tokens:
        return _pack(bounds, budget, max_windows)
    ranges: list[Span] = []
    for m_start, m_end in mention_tokens:
        first, last = sentence_of(m_start), sentence_of(max(m_start, m_end - 1))
        window: Span | None = None
        for c in range(context, -1, -1):
            lo, hi = bounds[max(0, first - c)], bounds[min(len(bounds) - 1, last + c + 1)]
            if cost(lo, hi) <= budget:
                window = (lo, hi)
                break
        if window is None:
            # The mention's own sentence is too long: a token window centred on the mention.
            half = max(0, (budget - 2 - (m_end - m_start)) // 2)
            lo = max(0, m_start - half)
            window = (lo, _furthest_end(cost, lo, min(n, lo + budget), budget))
        if ranges and window[0] < ranges[-1][1] and cost(ranges[-1][0], window[1]) <= budget:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], window[1]))
        elif not ranges or window != ranges[-1]:
            if len(ranges) > max_windows:
                break  # only the last range can still grow: the first ones are final
            ranges.append(window)
    return ranges


def _furthest_end(cost: _Cost, lo: int, hi: int, budget: int) -> int:
    """The largest end in (lo, hi] with cost(lo, end) <= budget (lo + 1 at least).

    cost(lo, end) never decreases as end grows, so a bisection finds it in O(log^2).
    """
    good, bad = lo + 1, hi + 1
    while bad - good > 1:
        mid = (good + bad) // 2
        if cost(lo, mid) <= budget:
            good = mid
        else:
            bad = mid
    return good


def _pack(bounds: Sequence[int], budget: int, max_windows: int) -> list[Span]:
    """Greedy cover of the sentences by consecutive windows that fit ``budget`` (no mentions,
    so a window costs its length); stops after ``max_windows + 1`` windows."""
    ranges: list[Span] = []
    lo = bounds[0]
    for i in range(1, len(bounds)):
        if len(ranges) > max_windows:
            return ranges
        if bounds[i] - lo > budget and bounds[i - 1] > lo:
            ranges.append((lo, bounds[i - 1]))
            lo = bounds[i - 1]
        # A single sentence longer than the budget is cut into budget-sized pieces.
        while bounds[i] - lo > budget and len(ranges) <= max_windows:
            ranges.append((lo, lo + budget))
            lo += budget
    if bounds[-1] > lo and len(ranges) <= max_windows:
        ranges.append((lo, bounds[-1]))
    return ranges
