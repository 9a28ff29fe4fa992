"""Enrolled reps: a voice print per rep, so calls can say which speaker is the rep and who.

A voice print is the mean of the unit voice prints of the speech windows of a
sample (`diarize.windows`, the windows mono diarization uses), made unit length
again. A call's speaker (a mono voice or a stereo channel) is an enrolled rep
when the cosine between the two prints is at least MATCH_MIN, measured with
scripts/eval_rep_voice.py (docs/reps-and-voices.md, "Enrolled reps").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np

from pipeline.core.errors import AudioError, PitchlabError
from pipeline.storage.db import transaction
from pipeline.storage.store import vector_literal
from pipeline.voices.voice import (
    SAMPLE_RATE, VoiceEncoder, embed_spans, normalize_volume, speech_frames, MATCH_MIN, Match, match,
)

log = logging.getLogger(__name__)

MIN_SPEECH_S = 3.0  # an enrollment sample needs at least this much speech (all samples together)


@dataclass(frozen=True)
class Rep:
    name: str
    voice_print: np.ndarray
    samples: tuple[str, ...]
    seconds: float


def window_prints(samples: np.ndarray, encoder: VoiceEncoder) -> np.ndarray:
    """Unit voice prints of the speech windows of 16 kHz mono audio; (0, d) when there are none."""
    from pipeline.voices.diarize import windows

    samples = normalize_volume(samples.astype(np.float32))
    spans = windows(speech_frames(samples), len(samples) / SAMPLE_RATE)
    if not spans:
        return np.zeros((0, 0), dtype=np.float32)
    return embed_spans(encoder, samples, spans)


def speech_seconds(samples: np.ndarray) -> float:
    from pipeline.voices.voice import VAD_FRAME_S

    return float(speech_frames(normalize_volume(samples.astype(np.float32))).sum() * VAD_FRAME_S)


def mean_print(prints: np.ndarray) -> np.ndarray:
    mean = prints.mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def voice_print(clips: Sequence[np.ndarray], encoder: VoiceEncoder) -> tuple[np.ndarray, float]:
    """One voice print over all clips' speech windows, and the seconds of speech it rests on.

    Raises AudioError when the clips hold less than MIN_SPEECH_S of speech.
    """
    seconds = sum(speech_seconds(c) for c in clips)
    prints = [p for p in (window_prints(c, encoder) for c in clips) if len(p)]
    if seconds < MIN_SPEECH_S or not prints:
        raise AudioError(f"only {seconds:.1f} s of speech; a voice sample needs at least {MIN_SPEECH_S:g} s "
                         "of the rep talking alone")
    return mean_print(np.concatenate(prints)), seconds


def match_channels(channels: Sequence[np.ndarray], reps: dict[str, np.ndarray], encoder: VoiceEncoder, *,
                   only: str | None = None) -> tuple[Match | None, float | None]:
    """Stereo: which channel (0 left, 1 right) is an enrolled rep; only channel `only` when the mapping is known."""
    if not reps:
        return None, None
    sides = [i for i, side in enumerate(("left", "right")) if only in (None, side)]
    prints = {i: window_prints(channels[i], encoder) for i in sides}
    kept = [i for i in sides if len(prints[i])]
    found, best = match(np.stack([mean_print(prints[i]) for i in kept]) if kept else np.zeros((0, 0)), reps)
    return (Match(kept[found.speaker], found.name, found.cosine) if found else None), best


def enroll(con: duckdb.DuckDBPyConnection, name: str, files: Sequence[Path], *, encoder: VoiceEncoder,
           channel: str | None = None) -> Rep:
    """Store (or replace) rep `name`'s voice print from one or more recordings of the rep alone.

    A stereo sample needs `channel` ("left"/"right": the rep's side); nothing is stored on error.
    """
    name = name.strip()
    if not name:
        raise PitchlabError("a rep needs a name: pitchlab reps enroll NAME sample.wav")
    clips = [_decode(Path(f), channel) for f in files]
    print_, seconds = voice_print(clips, encoder)
    samples = tuple(Path(f).name for f in files)
    with transaction(con):
        con.execute("DELETE FROM reps WHERE name = ?", [name])
        con.execute(f"INSERT INTO reps (name, voice_print, samples, seconds) VALUES (?, ?::FLOAT[{len(print_)}], ?, ?)",
                    [name, vector_literal(print_), list(samples), round(seconds, 2)])
    return Rep(name, print_, samples, seconds)


def _decode(path: Path, channel: str | None) -> np.ndarray:
    from pipeline.audio import ingest
    from pipeline.core.records import Recording

    if not path.is_file():
        raise PitchlabError(f"voice sample {path} not found: give an audio file of the rep speaking")
    try:
        audio = ingest.decode(Recording(path=path, source_file=path.name, call_id="", size_bytes=path.stat().st_size))
    except AudioError as exc:
        raise AudioError(f"voice sample {path}: {exc}") from None
    if len(audio.channels) == 1:
        return audio.channels[0]
    if channel is None:
        raise PitchlabError(f"voice sample {path} is stereo: say which channel is the rep's with --channel left|right")
    return audio.channels[("left", "right").index(channel)]


def load(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """Enrolled reps' voice prints by name."""
    rows = con.execute("SELECT name, voice_print FROM reps").fetchall()
    return {name: np.asarray(vec, dtype=np.float32) for name, vec in rows}


def listed(con: duckdb.DuckDBPyConnection) -> list[tuple[str, tuple[str, ...], float, object]]:
    """(name, samples, seconds, enrolled_at) of every enrolled rep, by name."""
    rows = con.execute("SELECT name, samples, seconds, enrolled_at FROM reps ORDER BY name").fetchall()
    return [(n, tuple(s), sec, at) for n, s, sec, at in rows]


def remove(con: duckdb.DuckDBPyConnection, name: str) -> None:
    with transaction(con):
        if not con.execute("SELECT count(*) FROM reps WHERE name = ?", [name]).fetchone()[0]:
            known = [r[0] for r in con.execute("SELECT name FROM reps ORDER BY name").fetchall()]
            raise PitchlabError(f"no enrolled rep named {name!r}"
                                + (f": enrolled are {', '.join(known)}" if known else ": none is enrolled"))
        con.execute("DELETE FROM reps WHERE name = ?", [name])
