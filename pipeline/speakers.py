"""Who said each word: `rep` or `prospect`, and the turns that follow from it.

Stereo calls: by channel (the rep's channel is a setting, left by default).
Mono calls, a simple documented method until real diarization lands:
the words are cut into chunks at Whisper segment boundaries and at pauses of
`CHUNK_GAP_S`; each chunk's voice pitch is measured (median fundamental
frequency of its voiced frames); the chunks are split into two groups by
2-means on log pitch; the group heard most in the first `OPENING_S` seconds
is the rep (the rep opens the call). Chunks too short to measure join their nearest measured neighbour.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .records import PROSPECT, REP, Turn, Word

CHUNK_GAP_S = 0.35
SAMPLE_RATE = 16000
VOICED = 0.5  # normalised autocorrelation peak that makes a frame voiced
MIN_VOICED_FRAMES = 3
OPENING_S = 5.0  # the voice heard most in the call's first seconds is the rep


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


def pitch(samples: np.ndarray, start_s: float, end_s: float) -> float | None:
    """Median log fundamental frequency of the voiced frames in [start_s, end_s], or None.

    Autocorrelation pitch: 40 ms frames every 20 ms; a frame is voiced when its
    normalised autocorrelation peaks above VOICED between 60 and 400 Hz.
    """
    clip = samples[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)].astype(np.float64)
    frame, hop = 640, 320
    if len(clip) < frame:
        return None
    n = 1 + (len(clip) - frame) // hop
    frames = np.lib.stride_tricks.as_strided(
        clip, shape=(n, frame), strides=(clip.strides[0] * hop, clip.strides[0])
    )
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, n=2 * frame, axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    energy = ac[:, 0]
    keep = energy > 1e-6
    if not keep.any():
        return None
    ac = ac[keep] / energy[keep, None]
    lo, hi = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    lags = lo + ac[:, lo:hi].argmax(axis=1)
    peaks = ac[np.arange(len(ac)), lags]
    voiced = lags[peaks > VOICED]
    if len(voiced) < MIN_VOICED_FRAMES:
        return None
    return float(np.median(np.log(SAMPLE_RATE / voiced)))


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
    """Mono: two voices by 2-means on each chunk's pitch; the opening voice is the rep.

    A chunk too short or unvoiced to measure takes the speaker of the measured
    chunk nearest to it in time.
    """
    if not words:
        return []
    groups = chunks(words)
    spans = [(words[g[0]].start_s, words[g[-1]].end_s) for g in groups]
    pitches = [pitch(samples, a, b) for a, b in spans]
    measured = [i for i, p in enumerate(pitches) if p is not None]
    if not measured:
        return [REP] * len(words)
    labels = two_means(np.array([[pitches[i]] for i in measured]))
    label_of = dict(zip(measured, labels))
    rep_label = _opening_voice(measured, labels, spans)
    speakers: list[str] = [REP] * len(words)
    for c, group in enumerate(groups):
        nearest = c if c in label_of else min(measured, key=lambda m: _gap(spans[m], spans[c]))
        for i in group:
            speakers[i] = REP if label_of[nearest] == rep_label else PROSPECT
    return speakers


def _opening_voice(measured: list[int], labels: np.ndarray, spans: list[tuple[float, float]]) -> int:
    """The label that talks most in the first OPENING_S seconds: the rep opens the call."""
    opening_end = spans[measured[0]][0] + OPENING_S
    talk = {0: 0.0, 1: 0.0}
    for i, label in zip(measured, labels):
        a, b = spans[i]
        talk[int(label)] += max(0.0, min(b, opening_end) - a)
    return max(talk, key=lambda k: (talk[k], k == labels[0]))


def _gap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(a[0] - b[1], b[0] - a[1], 0.0)


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
