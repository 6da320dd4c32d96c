"""Sets of character spans with logarithmic look-up.

A megabyte-long article has thousands of quotes, cues and speeches; checking every position
against every span would be quadratic, so spans are merged, sorted and binary-searched.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from model.types import Span


class Areas:
    """A union of spans (overlapping ones are merged), searched by binary search."""

    def __init__(self, spans: Iterable[Span] = ()) -> None:
        merged: list[Span] = []
        for lo, hi in sorted(s for s in spans if s[1] > s[0]):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        self.spans = merged
        self.starts = [lo for lo, _ in merged]

    def _around(self, pos: int) -> Span | None:
        k = bisect.bisect_right(self.starts, pos) - 1
        return self.spans[k] if k >= 0 else None

    def holds(self, pos: int) -> bool:
        """Whether ``pos`` lies inside the union."""
        area = self._around(pos)
        return area is not None and area[0] <= pos < area[1]

    def covers(self, span: Span) -> bool:
        """Whether ``span`` lies entirely inside one merged span."""
        area = self._around(span[0])
        return area is not None and area[0] <= span[0] and span[1] <= area[1]

    def overlapping(self, lo: int, hi: int) -> list[Span]:
        """The merged spans that intersect [lo, hi)."""
        k = max(0, bisect.bisect_right(self.starts, lo) - 1)
        out: list[Span] = []
        while k < len(self.spans) and self.spans[k][0] < hi:
            if self.spans[k][1] > lo:
                out.append(self.spans[k])
            k += 1
        return out

    def subtract_from(self, span: Span) -> list[Span]:
        """``span`` minus the union, as sorted pieces."""
        lo, hi = span
        pieces: list[Span] = []
        for h_lo, h_hi in self.overlapping(lo, hi):
            if h_lo > lo:
                pieces.append((lo, h_lo))
            lo = max(lo, h_hi)
        if hi > lo:
            pieces.append((lo, hi))
        return pieces
