"""Replies to a pitch on telephone-band calls, heard a second time by a model made for short speech.

Whisper `tiny.en` garbles most short replies on an 8 kHz line ("Not for us." heard as "Napa."), and the
reaction label is read from those words. Moonshine base (`pipeline.audio.moonshine`) heard them better:
each reply cut from the prospect's side of the call by its turn times (PAD_S around them, peak-normalized)
and heard alone raised the reaction labels' macro-F1 on both generated telephone sets and lowered it a
little at 16 kHz, so only telephone-band calls are heard again (docs/phone.md, "Replies heard again").

The reply's turns keep Whisper's words; the reaction's text is what was heard again and scored
(`reactions.text`, with `reactions.heard_by` naming the model).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, Sequence

import numpy as np

from pipeline.language.reactions import Reply

RATE = 16000
PAD_S = 0.3  # audio kept on each side of the reply's turns
MAX_S = 30.0  # a longer reply is heard from its first 30 s
PEAK = 0.5  # each clip is scaled to this peak: the far end of a line is often 6-16 dB quieter


class Listener(Protocol):
    name: str

    def hear(self, clips: Sequence[np.ndarray]) -> list[str]: ...


def clip(signal: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """The reply's audio with PAD_S on each side (at most MAX_S), scaled to PEAK; empty if there is none."""
    a = int(max(0.0, start_s - PAD_S) * RATE)
    b = min(int((end_s + PAD_S) * RATE), a + int(MAX_S * RATE), len(signal))
    return scaled(signal[a:b])


def scaled(samples: np.ndarray) -> np.ndarray:
    """float32 samples scaled to PEAK; empty if they hold no sound."""
    out = np.asarray(samples, dtype=np.float32)
    peak = float(np.abs(out).max()) if out.size else 0.0
    return out * (PEAK / peak) if peak > 1e-4 else out[:0]


def rehear(found: Sequence[Sequence[Reply]], signals: Sequence[np.ndarray | None],
           listener: Listener) -> list[list[Reply]]:
    """Each call's replies, those of calls with a signal heard again by `listener` in one pass over all."""
    where, clips = [], []
    for c, (replies, signal) in enumerate(zip(found, signals)):
        for r, reply in enumerate(replies if signal is not None else ()):
            start, end = reply.turns[0].start_s, reply.turns[-1].end_s
            piece = clip(signal, start, end) if start is not None and end is not None else None
            if piece is not None and piece.size:
                where.append((c, r))
                clips.append(piece)
    out = [list(replies) for replies in found]
    for (c, r), text in zip(where, listener.hear(clips) if clips else []):
        if text.strip():
            out[c][r] = replace(out[c][r], heard=text.strip(), heard_by=listener.name)
    return out


def redacted(found: Sequence[Sequence[Reply]], redactor, keep: Sequence[str] = ()) -> list[list[Reply]]:
    """`--redact`: the texts heard again redacted as the turns were (they never passed through the turns'
    redaction, which runs before replies are found); `redactor` is a `redact.Redactor`."""
    where = [(c, r) for c, replies in enumerate(found) for r, reply in enumerate(replies) if reply.heard is not None]
    out = [list(replies) for replies in found]
    texts = redactor.redact([found[c][r].heard for c, r in where], keep) if where else []
    for (c, r), text in zip(where, texts):
        out[c][r] = replace(out[c][r], heard=text)
    return out


def prospect_signal(channels: Sequence[np.ndarray], rep_channel: str | None) -> np.ndarray:
    """The prospect's side: the channel that is not the rep's on a stereo call, the mixdown of a mono one."""
    if len(channels) == 2:
        return channels[1] if rep_channel == "left" else channels[0]
    return channels[0]
