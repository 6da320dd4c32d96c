"""Encoder windows restricted to one speaker's statements (the classifier's speaker path).

When a query names a speaker, the model must answer for that speaker, not for the text: a
sentence such as "Ruiz praised the line, while Eklund called it a mistake" holds two
stances. :func:`encode_for_speaker` finds the speaker's statements (model/speaker.py) and
encodes each statement as its own piece of text, with the target references inside it as
the marked mentions; the windows' offsets are shifted back into the original text, so
evidence points at the speaker's words in the document the caller sent.

Fallback, always flagged on the result (and so on the prediction):

- the speaker is not in the text (``speaker_found`` False), or is but no statement of
  theirs was recognised (``speaker_statements`` 0): the whole text is encoded as before
  (with " ; said by <speaker>" in the query segment), so the answer is the text's stance;
- the speaker's statements never refer to the target (``speaker_mentions_target`` False):
  the statements are encoded without mention markers (the target is read as a topic), so a
  speaker who says nothing about the target comes out close to neutral.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from model.encoding import EncodedQuery, EncodedWindow, QueryEncoder
from model.speaker import speaker_statements
from model.types import StanceQuery


@dataclass(frozen=True)
class SpeakerEncodedQuery(EncodedQuery):
    """An encoded query with a speaker: what was found about that speaker.

    ``speaker_statements``: how many of the speaker's statements the windows cover
    (0: the whole text was encoded, see the module docstring).
    """

    speaker_found: bool = False
    speaker_mentions_target: bool = False
    speaker_statements: int = 0


def encode_for_speaker(
    encoder: QueryEncoder, query: StanceQuery, query_index: int, max_windows: int
) -> SpeakerEncodedQuery:
    """Windows of ``query`` (which has a speaker) covering only that speaker's statements,
    at most ``max_windows``; see the module docstring for the fallbacks."""
    speaker = query.speaker or ""
    view = speaker_statements(query.text, speaker, query.target, query.mentions)
    if not view.statements:
        whole = encoder.encode(query, query_index)
        return SpeakerEncodedQuery(
            windows=whole.windows,
            mentions_found=whole.mentions_found,
            mentions=whole.mentions,
            warnings=whole.warnings,
            speaker_found=view.found,
        )
    # Statements that refer to the target; all statements when none does (topic path).
    spans = [
        (lo, hi) for lo, hi in view.statements if any(lo <= a and b <= hi for a, b in view.mentions)
    ] or list(view.statements)
    windows: list[EncodedWindow] = []
    for lo, hi in spans:
        if len(windows) > max_windows:
            break  # bounded work: the statements past max_windows windows are not encoded
        inside = tuple((a - lo, b - lo) for a, b in view.mentions if lo <= a and b <= hi)
        piece = StanceQuery(
            text=query.text[lo:hi], target=query.target, speaker=query.speaker, mentions=inside
        )
        encoded = encoder.encode(piece, query_index)
        windows.extend(replace(w, start=w.start + lo, end=w.end + lo) for w in encoded.windows)
    warnings: tuple[str, ...] = ()
    if len(windows) > max_windows:
        warnings = (
            f"the speaker's statements need more than {max_windows} windows; only the first "
            f"{max_windows} were scored (up to character {windows[max_windows - 1].end}); "
            "split the text to score the rest",
        )
    return SpeakerEncodedQuery(
        windows=windows[:max_windows],
        mentions_found=len(view.mentions),
        mentions=view.mentions,
        warnings=warnings,
        speaker_found=True,
        speaker_mentions_target=view.mentions_target,
        speaker_statements=len(spans),
    )


def speaker_fields(query: StanceQuery, encoded: EncodedQuery) -> dict[str, Any]:
    """The speaker fields of a prediction: all None for a query without a speaker."""
    if not query.speaker or not isinstance(encoded, SpeakerEncodedQuery):
        return {"speaker_found": None, "speaker_mentions_target": None, "speaker_statements": None}
    return {
        "speaker_found": encoded.speaker_found,
        "speaker_mentions_target": encoded.speaker_mentions_target,
        "speaker_statements": encoded.speaker_statements,
    }
