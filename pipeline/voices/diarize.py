"""Mono calls: which of two voices said each word, from voice prints.

1. Speech: WebRTC VAD frames of 30 ms (`voice.speech_frames`).
2. Windows of WINDOW_S every HOP_S over the speech (at least half voiced)
   each get a voice print from the speaker encoder.
3. The prints are centred (the call's mean print, mostly the line and the
   room, is subtracted) and split into two voices by spherical 2-means
   (cosine), started both from the two least similar windows and from the prints'
   sides of their first principal axis; the tighter of the two splits is kept.
4. Each word's times are narrowed to the speech frames inside them (`on_speech`: Whisper stretches a
   short reply over the pauses around it), then each word is scored by the windows near it, weighted
   by how close the word is to each window's centre, using only windows inside the word's own
   pause-separated run of words when there are any; a run shorter
   than SHORT_S (a short reply such as "yes, sounds great") is also printed on
   its own (a WINDOW_S window centred on it) and that print counts as much as
   the windows, or alone when no window lies inside the run, so a short reply is not
   swallowed by the long turns around it.
5. Which voice is the rep: the voice whose print matches an enrolled rep's
   (`reps.match`: the closest (voice, rep) pair with cosine at least
   reps.MATCH_MIN), which also names the rep; otherwise the one voice whose
   first words introduce the caller ("this is Sam from Clipcast", as for stereo
   calls: `speakers.INTRO`), so a prospect who picks up and talks first is not
   taken for the rep; otherwise the voice heard most in the call's first
   OPENING_S seconds of speech (the rep opens the call).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from pipeline.core.records import PROSPECT, REP, Word
from pipeline.voices.speakers import chunks, introduces
from pipeline.voices.voice import (
    SAMPLE_RATE, VAD_FRAME_S, VoiceEncoder, embed_spans, normalize_volume, speech_frames, match,
)

log = logging.getLogger(__name__)

# Windows shorter than the encoder's 1.6 s training length follow turn changes more closely: on the
# real two-speaker clip 1.0-1.2 s windows put 69-70 of 75 words right, 1.6 s every 0.4 s 64. A hop
# of 0.4 s puts as many words right as 0.2 s (70 and 69 of 75; demo mono 99.8% both) with half the
# windows (docs/reps-and-voices.md, "Mono recordings", scripts/eval_diarization.py --hop).
WINDOW_S = 1.0
HOP_S = 0.4
MIN_VOICED = 0.5  # a window is used when at least this share of its frames is speech
SHORT_S = 2.0  # runs of words shorter than this are also printed on their own
CHUNK_GAP_S = 0.25  # a pause this long separates runs of words
MIN_CLIP_S = 0.5  # shorter runs are padded with their surroundings to this length
OPENING_S = 5.0
RUN_SLACK_S = 0.2  # a window is inside a run of words when it strays at most this far


@dataclass(frozen=True)
class Diarization:
    speakers: tuple[str, ...]  # REP or PROSPECT per word
    rep_by: str  # how the rep voice was chosen: "voice:<name>", "intro" or "opening"
    voice_similarity: float  # cosine between the two voices' centroids (1 = one voice)
    rep_name: str | None = None  # the enrolled rep whose voice matched
    rep_cosine: float | None = None  # best cosine between a voice and an enrolled rep (None: none enrolled)


def windows(frames: np.ndarray, duration_s: float) -> list[tuple[float, float]]:
    """(start, end) of the analysis windows that are mostly speech."""
    out = []
    start = 0.0
    per = int(round(WINDOW_S / VAD_FRAME_S))
    while start + WINDOW_S <= duration_s + 1e-9 or not out and start == 0.0:
        f0 = int(start / VAD_FRAME_S)
        voiced = frames[f0 : f0 + per]
        if len(voiced) and voiced.mean() >= MIN_VOICED:
            out.append((start, min(start + WINDOW_S, duration_s)))
        start = round(start + HOP_S, 6)
        if start + WINDOW_S > duration_s + 1e-9:
            break
    return out


def two_voices(prints: np.ndarray, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0/1 and the two unit centroids: spherical 2-means from two starts, keeping the split
    whose prints lie closer to their centroids (the larger sum of cosines).

    The starts: the two least similar windows (an odd window, a cough or a burst of line noise, can
    be one of them), and each print's side of the prints' first principal axis (the direction along
    which the windows differ most). Two alike voices are split better from the second: on the three
    telephone calls whose voices are most alike, 80-87% of words right from the first start alone,
    83-90% with both (docs/speakers.md)."""
    if len(prints) < 2:
        return np.zeros(len(prints), dtype=int), np.stack([prints[0], prints[0]]) if len(prints) else np.zeros((2, 0))
    sim = prints @ prints.T
    a, b = np.unravel_index(np.argmin(sim), sim.shape)
    centred = prints - prints.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    side = (centred @ axis > 0).astype(int)
    from_axis = np.stack([_unit(prints[side == k].mean(axis=0)) for k in (0, 1)]) if 0 < side.sum() < len(side) else None
    best = None
    for centroids in (prints[[a, b]].copy(), from_axis):
        if centroids is None:
            continue
        labels, centroids = _two_means(prints, centroids, iterations)
        fit = float((prints @ centroids.T)[np.arange(len(prints)), labels].sum())
        if best is None or fit > best[0] + 1e-9:
            best = (fit, labels, centroids)
    return best[1], best[2]


def _two_means(prints: np.ndarray, centroids: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """Spherical 2-means from the given unit centroids."""
    labels = np.full(len(prints), -1)
    for _ in range(iterations):
        new = (prints @ centroids.T).argmax(axis=1)
        if (new == labels).all():
            break
        labels = new
        for k in (0, 1):
            if (labels == k).any():
                c = prints[labels == k].mean(axis=0)
                centroids[k] = c / (np.linalg.norm(c) or 1.0)
    return labels, centroids


def _clip(start_s: float, end_s: float) -> tuple[float, float]:
    """The span printed for start_s..end_s: at least MIN_CLIP_S, centred on it, not before 0."""
    mid, half = (start_s + end_s) / 2, max(end_s - start_s, MIN_CLIP_S) / 2
    return max(0.0, mid - half), mid + half


def _centred_window(start_s: float, end_s: float) -> tuple[float, float]:
    """WINDOW_S centred on a run of words: as long as the analysis windows, so the encoder runs
    them in the same dense batches (a run's own length would be a batch of its own)."""
    mid = (start_s + end_s) / 2
    return _clip(mid - WINDOW_S / 2, mid + WINDOW_S / 2)


def diarize(
    words: Sequence[Word],
    samples: np.ndarray,
    encoder: VoiceEncoder,
    *,
    rep_prints: dict[str, np.ndarray] | None = None,
) -> Diarization:
    """REP/PROSPECT for each word of a mono call."""
    if not words:
        return Diarization((), "opening", 1.0)
    samples = normalize_volume(samples.astype(np.float32))
    duration = len(samples) / SAMPLE_RATE
    frames = speech_frames(samples)
    spans = windows(frames, duration)
    words = on_speech(words, frames)  # Whisper's times stretch a short reply over the pauses around it
    if len(spans) < 2:  # too little speech for windows: one print per run of words
        spans = [(words[g[0]].start_s, words[g[-1]].end_s) for g in chunks(words, CHUNK_GAP_S)]
    runs = [g for g in chunks(words, CHUNK_GAP_S) if words[g[-1]].end_s - words[g[0]].start_s < SHORT_S]
    # the windows and the short runs printed together: one spectrogram, one set of batches
    both = embed_spans(encoder, samples, [_clip(a, b) for a, b in spans]
                       + [_centred_window(words[g[0]].start_s, words[g[-1]].end_s) for g in runs])
    prints, run_prints = both[: len(spans)], both[len(spans) :]
    mean = prints.mean(axis=0)
    labels, centroids = two_voices(_centred(prints, mean))
    score, windowed = _word_scores(words, spans, _centred(prints, mean) @ (centroids[0] - centroids[1]))
    if runs:
        run_score = _centred(run_prints, mean) @ (centroids[0] - centroids[1])
        for g, s in zip(runs, run_score):
            # no window inside the run: the windows near it lie across a pause, often the other voice
            score[g] = (score[g] + s) / 2 if windowed[g].all() else s
    voice = (score < 0).astype(int)  # 0 or 1
    voices = np.stack([_unit(prints[labels == k].mean(axis=0)) if (labels == k).any() else _unit(mean) for k in (0, 1)])
    found, cosine = match(voices, rep_prints or {})
    intro = _intro_voice(words, voice)
    if found:
        rep_voice, rep_by = found.speaker, f"voice:{found.name}"
    elif intro is not None:
        rep_voice, rep_by = intro, "intro"
    else:
        rep_voice, rep_by = _opening_voice(words, voice), "opening"
    speakers = tuple(REP if v == rep_voice else PROSPECT for v in voice)
    return Diarization(speakers, rep_by, float(voices[0] @ voices[1]),
                       rep_name=found.name if found else None, rep_cosine=cosine)


def on_speech(words: Sequence[Word], frames: np.ndarray) -> list[Word]:
    """Each word's times narrowed to the longest stretch of speech frames inside them (unchanged where it has none).

    Whisper often stretches a word over the pause next to it ("right" 16.23-17.45 s where it was said
    16.76-17.19 s, in a telephone call), which joins a short reply to the pitch before it into one run of
    words: it is then scored by the rep's windows and never printed on its own.
    """
    out = []
    for w in words:
        f0 = int(w.start_s / VAD_FRAME_S)
        longest = _longest_run(frames[f0 : int(np.ceil(w.end_s / VAD_FRAME_S))])
        if longest:
            w = replace(w, start_s=max(w.start_s, (f0 + longest[0]) * VAD_FRAME_S),
                        end_s=min(w.end_s, (f0 + longest[1]) * VAD_FRAME_S))
        out.append(w)
    return out


def _longest_run(flags: np.ndarray) -> tuple[int, int] | None:
    """(first, past the last) index of the longest run of True in `flags` (the first of equals); None: no True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    if not len(edges):
        return None
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def _centred(prints: np.ndarray, mean: np.ndarray) -> np.ndarray:
    c = prints - mean
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9)


def _word_scores(words: Sequence[Word], spans: list[tuple[float, float]],
                 window_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per word: centre-weighted mean score of the windows near it, and whether any of them lay inside its run.

    Windows that lie inside the word's pause-separated run of words are used
    when there are any, so the voice across a pause (often the other speaker,
    e.g. a short reply) does not bleed into the words next to it.
    """
    starts = np.array([a for a, _ in spans])
    ends = np.array([b for _, b in spans])
    centres = (starts + ends) / 2
    out, windowed = np.zeros(len(words)), np.zeros(len(words), dtype=bool)
    for run in chunks(words, CHUNK_GAP_S):
        r0, r1 = words[run[0]].start_s - RUN_SLACK_S, words[run[-1]].end_s + RUN_SLACK_S
        inside = (starts >= r0) & (ends <= r1)
        for i in run:
            mid = (words[i].start_s + words[i].end_s) / 2
            weight = np.clip(1 - np.abs(centres - mid) / (WINDOW_S / 2 + 0.2), 0, None)
            if (weight * inside).sum() > 0:
                weight = weight * inside
                windowed[i] = True
            if weight.sum() == 0:  # no window near: the nearest one decides
                weight = (np.abs(centres - mid) == np.abs(centres - mid).min()).astype(float)
            out[i] = float(weight @ window_score / weight.sum())
    return out, windowed


def _intro_voice(words: Sequence[Word], voice: np.ndarray) -> int | None:
    """The one voice whose first words introduce the caller ("this is Sam from Clipcast",
    `speakers.introduces`), or None when neither or both do."""
    hits = [introduces([w.text for w, v in zip(words, voice) if v == k]) for k in (0, 1)]
    return hits.index(True) if hits.count(True) == 1 else None


def _opening_voice(words: Sequence[Word], voice: np.ndarray) -> int:
    """The voice heard most in the first OPENING_S seconds: the rep opens the call."""
    opening_end = words[0].start_s + OPENING_S
    talk = np.zeros(2)
    for w, v in zip(words, voice):
        talk[v] += max(0.0, min(w.end_s, opening_end) - w.start_s)
    if talk[0] == talk[1]:
        return int(voice[0])
    return int(np.argmax(talk))
