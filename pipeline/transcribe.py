"""Speech to timed words with faster-whisper; stereo channels are transcribed separately."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

import numpy as np

from .ingest import DecodedAudio
from .records import Word
from .settings import Settings

log = logging.getLogger(__name__)


class Transcriber(Protocol):
    def words(self, audio: np.ndarray) -> list[Word]:
        """Timed words of 16 kHz mono float32 audio."""


class WhisperTranscriber:
    """faster-whisper with word timestamps and Silero VAD, loaded once per batch."""

    def __init__(self, settings: Settings):
        from faster_whisper import WhisperModel

        from .models import whisper_model_dir

        self.name = settings.model
        self.settings = settings
        path = whisper_model_dir(settings.model, settings.models_dir)
        log.info("loading Whisper %s from %s", settings.model, path)
        self.model = WhisperModel(
            path,
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
        )

    def words(self, audio: np.ndarray) -> list[Word]:
        segments, _info = self.model.transcribe(
            audio,
            language=self.settings.language,
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        out = []
        for seg_idx, segment in enumerate(segments):
            for w in segment.words or ():
                text = w.word.strip()
                if text:
                    out.append(Word(round(float(w.start), 3), round(float(w.end), 3), text, None, seg_idx))
        return out


def transcribe(audio: DecodedAudio, transcriber: Transcriber) -> list[Word]:
    """All words of a call in time order; each word knows its channel when stereo."""
    if len(audio.channels) == 1:
        return transcriber.words(audio.channels[0])
    words: list[Word] = []
    segment_offset = 0
    for channel, samples in enumerate(audio.channels):
        channel_words = transcriber.words(samples)
        words.extend(replace(w, channel=channel, segment=w.segment + segment_offset) for w in channel_words)
        segment_offset += 1 + max((w.segment for w in channel_words), default=0)
    return sorted(words, key=lambda w: (w.start_s, w.channel))
