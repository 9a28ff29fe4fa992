"""Who said each word: `rep` or `prospect`, and the turns that follow from it.

Stereo calls: by channel; which channel is the rep comes from the call's sidecar,
the --rep-channel setting, a named stereo preset, or is detected (`rep_channel`).
Mono calls: by voice prints, in `diarize.py`.
"""

from __future__ import annotations

import re
from typing import Sequence

from pipeline.core.records import PROSPECT, REP, Turn, Word
from pipeline.core.settings import STEREO_PRESETS

CHUNK_GAP_S = 0.35
CHANNELS = ("left", "right")

# A rep introducing themselves and their company in the first words of the call.
INTRO = re.compile(
    r"\b(?:(?:this is|it's|it is|my name is|i'm|i am) (?:\w+ ){1,2}(?:from|with|at|over at|calling)"
    r"|calling (?:from|on behalf of|about)|reaching out (?:from|about))\b"
)
INTRO_WORDS = 40  # words of each channel searched for an introduction
OPENER_WORDS = 3  # "Hello?" of a prospect picking up is not the first speaker


def by_channel(words: Sequence[Word], rep_channel: str) -> list[str]:
    rep_idx = CHANNELS.index(rep_channel)
    return [REP if w.channel == rep_idx else PROSPECT for w in words]


def rep_channel(words: Sequence[Word], *, override: str | None = None, setting: str | None = None,
                preset: str | None = None, voice: tuple[str, str] | None = None) -> tuple[str, str]:
    """The rep's channel of a stereo call and how it was decided.

    In order: the call's sidecar (`sidecar`), the --rep-channel setting (`setting`),
    a stereo preset (`preset:NAME`), the channel whose voice matches an enrolled
    rep (`voice`: (channel, name) → `voice:NAME`); else detected: the one channel whose first
    words introduce the caller ("this is Sam from Clipcast", `detected:intro`),
    else the channel that first says a run of at least OPENER_WORDS words
    (`detected:first-speaker`), so a prospect's "Hello?" on picking up does not count.
    """
    if override:
        return override, "sidecar"
    if setting:
        return setting, "setting"
    if preset:
        return STEREO_PRESETS[preset], f"preset:{preset}"
    if voice:
        return voice[0], f"voice:{voice[1]}"
    intro = [introduces([w.text for w in words if w.channel == idx]) for idx in range(2)]
    if intro.count(True) == 1:
        return CHANNELS[intro.index(True)], "detected:intro"
    for group in chunks(words):
        if len(group) >= OPENER_WORDS:
            return CHANNELS[words[group[0]].channel or 0], "detected:first-speaker"
    return CHANNELS[(words[0].channel or 0) if words else 0], "detected:first-speaker"


def introduces(texts: Sequence[str]) -> bool:
    """Whether the first INTRO_WORDS of these words introduce the caller ("this is Sam from Clipcast")."""
    return bool(INTRO.search(_plain(list(texts)[:INTRO_WORDS])))


def _plain(words: list[str]) -> str:
    return re.sub(r"[^a-z' ]+", " ", " ".join(words).lower().replace("’", "'"))


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


# Short acknowledgements said while the other side keeps talking.
BACKCHANNEL_WORDS = frozenset({
    "mm", "mmm", "hm", "hmm", "mhm", "mm-hm", "mm-hmm", "uh-huh", "uh", "um", "ah", "oh",
    "yeah", "yes", "yep", "yup", "right", "okay", "ok", "sure", "i", "see", "got", "it", "alright",
})
BACKCHANNEL_MAX_WORDS = 3
BACKCHANNEL_GAP_S = 1.0  # the other side speaks within this long before and after it


def is_backchannel_text(words: Sequence[Word]) -> bool:
    """"mm-hm", "yeah", "okay, got it": at most three words, all acknowledgements."""
    tokens = [re.sub(r"[^\w'-]+", "", w.text.lower()) for w in words]
    return 0 < len(tokens) <= BACKCHANNEL_MAX_WORDS and all(t in BACKCHANNEL_WORDS for t in tokens)


def to_turns(words: Sequence[Word], speakers: Sequence[str]) -> list[Turn]:
    """Consecutive words of one speaker form a turn; a backchannel does not end the other's turn.

    A backchannel ("mm-hm" while the rep keeps talking: the rep speaks within
    BACKCHANNEL_GAP_S before and after it, and did not just ask a question) is a
    turn of its own marked `backchannel`, numbered by its start, and the speech
    around it stays one turn.
    """
    runs: list[tuple[str, list[Word]]] = []
    for word, speaker in zip(words, speakers):
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word]))
    aside = [
        0 < k < len(runs) - 1 and runs[k - 1][0] == runs[k + 1][0] and is_backchannel_text(ws)
        and ws[0].start_s is not None and not runs[k - 1][1][-1].text.endswith("?")  # an answer, not a backchannel
        and ws[0].start_s - runs[k - 1][1][-1].end_s <= BACKCHANNEL_GAP_S
        and runs[k + 1][1][0].start_s - ws[-1].end_s <= BACKCHANNEL_GAP_S
        for k, (_speaker, ws) in enumerate(runs)
    ]
    main: list[tuple[str, list[Word]]] = []
    for (speaker, ws), is_aside in zip(runs, aside):
        if is_aside:
            continue
        if main and main[-1][0] == speaker:  # only backchannels came between
            main[-1][1].extend(ws)
        else:
            main.append((speaker, list(ws)))
    pieces = [(ws[0].start_s, 0, speaker, ws, False) for speaker, ws in main]
    pieces += [(ws[0].start_s, 1, speaker, ws, True) for (speaker, ws), is_aside in zip(runs, aside) if is_aside]
    if all(p[0] is not None for p in pieces):
        pieces.sort(key=lambda p: (p[0], p[1]))
    return [_turn(idx, speaker, ws, backchannel) for idx, (_s, _o, speaker, ws, backchannel) in enumerate(pieces)]


def _turn(idx: int, speaker: str, words: list[Word], backchannel: bool = False) -> Turn:
    return Turn(
        turn_idx=idx,
        speaker=speaker,
        start_s=words[0].start_s,
        end_s=words[-1].end_s,
        text=" ".join(w.text for w in words),
        words=tuple(words),
        backchannel=backchannel,
    )
