"""Waste found in the pipeline and fixed, each measured against the way it was, side by side.

decode_gc: faster-whisper's `decode_audio` ends with a full `gc.collect()`; with the models
    loaded that walked every model object for each file. `Models` now freezes what it loads
    (`gc.freeze`). Measured: the demo calls decoded with the models' objects frozen and not.
voice_split: the mono voice-print split (`diarize.diarize`) as it was (float32 LSTM, a window
    every 0.2 s, each short run printed at its own length, a mel spectrogram per clip) and as it
    is (bfloat16 where the CPU has it, every 0.4 s, short runs printed over a window, so every
    print batches together, one mel spectrogram per call).
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline.analyze import Models
from pipeline.audio import ingest
from pipeline.core.settings import Settings
from pipeline.voices import diarize
from pipeline.voices.voice import ResemblyzerEncoder

from .common import DEMO, median, peak_rss_mb


def _demo_audio(mono_only: bool = False) -> list[ingest.DecodedAudio]:
    out = []
    for rec in ingest.find_recordings(DEMO):
        if rec.source_kind == "audio":
            audio = ingest.decode(rec)
            if not mono_only or len(audio.channels) == 1:
                out.append(audio)
    return out


def decode_gc(*, repeats: int = 3) -> dict:
    """Seconds to decode every demo call with the models loaded: objects frozen (now) and not (before)."""
    models = Models(Settings(inbox=DEMO, db=Path("unused.duckdb"), progress=False))
    for name in ("transcriber", "splitter", "embedder", "voice_encoder", "kinds", "scorer"):
        getattr(models, name)
    recordings = [r for r in ingest.find_recordings(DEMO) if r.source_kind == "audio"]
    seconds: dict[str, list[float]] = {"before (not frozen)": [], "after (frozen)": []}
    for _ in range(repeats):
        for name in seconds:
            if name.startswith("before"):
                gc.unfreeze()
            else:
                gc.freeze()
            start = time.perf_counter()
            for rec in recordings:
                ingest.decode(rec)
            seconds[name].append(time.perf_counter() - start)
    return {"calls": len(recordings), "repeats": repeats, "frozen_objects": gc.get_freeze_count(),
            "median_s": {k: median(v) for k, v in seconds.items()}, "peak_rss_mb": peak_rss_mb()}


class _ClipByClip:
    """The encoder without `embed_spans`: each clip cut out and given its own mel spectrogram."""

    def __init__(self, encoder):
        self.embed = encoder.embed


@contextmanager
def _as_before():
    """diarize as it was: a window every 0.2 s, short runs printed at their own length."""
    hop, centred = diarize.HOP_S, diarize._centred_window
    diarize.HOP_S, diarize._centred_window = 0.2, diarize._clip
    try:
        yield
    finally:
        diarize.HOP_S, diarize._centred_window = hop, centred


def voice_split(*, repeats: int = 3) -> dict:
    """Seconds to split the demo's mono calls by voice, before and after, on the same Whisper words."""
    models = Models(Settings(inbox=DEMO, db=Path("unused.duckdb"), progress=False))
    calls = [(a, models.transcriber.words(a.channels[0])) for a in _demo_audio(mono_only=True)]
    encoders = {"before": _ClipByClip(ResemblyzerEncoder(precision="float32")), "after": ResemblyzerEncoder()}
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    speakers: dict[str, list] = {}
    for _ in range(repeats):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            if name == "before":
                with _as_before():
                    speakers[name] = [diarize.diarize(w, a.channels[0], encoder).speakers for a, w in calls]
            else:
                speakers[name] = [diarize.diarize(w, a.channels[0], encoder).speakers for a, w in calls]
            seconds[name].append(time.perf_counter() - start)
    words = sum(len(w) for _, w in calls)
    same = sum(x == y for b, a in zip(speakers["before"], speakers["after"]) for x, y in zip(b, a))
    return {"calls": len(calls), "audio_s": sum(a.info.duration_s for a, _ in calls), "words": words,
            "same_speaker_words": same, "precision_after": encoders["after"].precision, "repeats": repeats,
            "median_s": {k: median(v) for k, v in seconds.items()}, "peak_rss_mb": peak_rss_mb()}
