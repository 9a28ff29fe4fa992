"""Who said each word: `rep` or `prospect`, and the turns that follow from it.

Stereo calls: by channel (the rep's channel is a setting, left by default).
Mono calls, a simple documented method until real diarization lands:
the words are cut into chunks at Whisper segment boundaries and at pauses of
`CHUNK_GAP_S`; each chunk gets a voice fingerprint (its mean log power in
`BANDS` frequency bands between 80 Hz and 4 kHz); the fingerprints are split
into two groups by 2-means; the group that speaks first is the rep (the rep
opens the call).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .records import PROSPECT, REP, Turn, Word

CHUNK_GAP_S = 0.35
BANDS = 24
SAMPLE_RATE = 16000


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


def fingerprint(samples: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Mean log power per frequency band of the audio in [start_s, end_s]."""
    lo, hi = int(start_s * SAMPLE_RATE), int(end_s * SAMPLE_RATE)
    clip = samples[lo:hi]
    frame, hop = 512, 256
    if len(clip) < frame:
        clip = np.pad(clip, (0, frame - len(clip)))
    n = 1 + (len(clip) - frame) // hop
    frames = np.lib.stride_tricks.as_strided(
        clip, shape=(n, frame), strides=(clip.strides[0] * hop, clip.strides[0])
    )
    power = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1 / SAMPLE_RATE)
    edges = np.geomspace(80, 4000, BANDS + 1)
    bands = np.stack(
        [power[:, (freqs >= a) & (freqs < b)].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])],
        axis=1,
    )
    loudness = bands.sum(axis=1)
    voiced = loudness > 0.1 * np.median(loudness) if n > 4 else np.ones(n, bool)
    logb = np.log(bands[voiced] + 1e-10)
    logb -= logb.mean(axis=1, keepdims=True)  # shape of the spectrum, not its loudness
    return logb.mean(axis=0)


def two_means(points: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Labels 0/1 splitting the rows into two groups; deterministic (farthest-pair start)."""
    if len(points) < 2:
        return np.zeros(len(points), dtype=int)
    z = (points - points.mean(axis=0)) / (points.std(axis=0) + 1e-9)
    d = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2)
    a, b = np.unravel_index(np.argmax(d), d.shape)
    centers = z[[a, b]]
    labels = np.zeros(len(z), dtype=int)
    for _ in range(iterations):
        dist = ((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        if (new == labels).all():
            break
        labels = new
        for k in (0, 1):
            if (labels == k).any():
                centers[k] = z[labels == k].mean(axis=0)
    return labels


def by_voice(words: Sequence[Word], samples: np.ndarray) -> list[str]:
    """Mono: two voices by spectral 2-means over chunks; the first speaker is the rep."""
    if not words:
        return []
    groups = chunks(words)
    prints = np.stack([fingerprint(samples, words[g[0]].start_s, words[g[-1]].end_s) for g in groups])
    labels = two_means(prints)
    rep_label = labels[0]
    speakers: list[str] = [REP] * len(words)
    for group, label in zip(groups, labels):
        for i in group:
            speakers[i] = REP if label == rep_label else PROSPECT
    return speakers


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
