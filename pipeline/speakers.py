"""Who said each word: `rep` or `prospect`, and the turns that follow from it.

Stereo calls: by channel (the rep's channel is a setting, left by default).
Mono calls: by voice prints, in `diarize.py`.
"""

from __future__ import annotations

from typing import Sequence

from .records import PROSPECT, REP, Turn, Word

CHUNK_GAP_S = 0.35


def by_channel(words: Sequence[Word], rep_channel: str) -> list[str]:
    rep_idx = 0 if rep_channel == "left" else 1
    return [REP if w.channel == rep_idx else PROSPECT for w in words]


def chunks(words: Sequence[Word], gap_s: float = CHUNK_GAP_S) -> list[list[int]]:
    """Indices of words grouped into runs with no segment change or long pause."""
    groups: list[list[int]] = []
    for i, w in enumerate(words):
        if groups:
            prev = words[groups[-1][-1]]
            if w.segment == prev.segment and w.start_s - prev.end_s < gap_s:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def to_turns(words: Sequence[Word], speakers: Sequence[str]) -> list[Turn]:
    """Consecutive words of one speaker form a turn."""
    turns: list[Turn] = []
    run: list[Word] = []
    for word, speaker in zip(words, speakers):
        if run and speaker != current:
            turns.append(_turn(len(turns), current, run))
            run = []
        run.append(word)
        current = speaker
    if run:
        turns.append(_turn(len(turns), current, run))
    return turns


def _turn(idx: int, speaker: str, words: list[Word]) -> Turn:
    return Turn(
        turn_idx=idx,
        speaker=speaker,
        start_s=words[0].start_s,
        end_s=words[-1].end_s,
        text=" ".join(w.text for w in words),
        words=tuple(words),
    )
