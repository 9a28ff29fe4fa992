"""Speech to timed words with faster-whisper; stereo channels are transcribed separately.

Whisper invents text on silence, hold music and noise ("Thank you." over and over);
such segments are dropped before they can become anyone's words (`hallucination`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from .errors import ModelError, PitchlabError
from .ingest import DecodedAudio
from .records import Word
from .settings import Settings

log = logging.getLogger(__name__)

# Whisper's own thresholds (openai/whisper transcribe(): no_speech_threshold,
# logprob_threshold, compression_ratio_threshold), applied here as a final filter.
NO_SPEECH_PROB = 0.6  # with LOW_LOGPROB: the model thinks it heard nothing and is unsure of its text
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4  # gzip ratio of the text: higher is repetitive
LOOP_REPEATS = {1: 6, 2: 4, 3: 4, 4: 4}  # an n-gram said this many times in a row is a loop


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
        self.hotwords = hotwords(read_vocabulary(settings.vocabulary)) if settings.vocabulary else None
        path = whisper_model_dir(settings.model, settings.models_dir)
        log.info("loading Whisper %s from %s", settings.model, path)
        try:
            self.model = WhisperModel(
                path,
                device="cpu",
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
            )
        except Exception as exc:  # a damaged or foreign model.bin, too little memory: ctranslate2 raises plain errors
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"Whisper model {settings.model!r} cannot be loaded from {path} ({reason}): "
                             "use tiny.en or base (bundled), or a folder holding a faster-whisper model") from None

    def words(self, audio: np.ndarray) -> list[Word]:
        segments, _info = self.model.transcribe(
            audio,
            language=self.settings.language,
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
            hotwords=self.hotwords,  # in every window's prompt (an initial_prompt would reach only the first)
        )
        words, dropped = segments_to_words(segments)
        if dropped:
            log.info("dropped %d Whisper segments as hallucinations: %s", sum(dropped.values()),
                     ", ".join(f"{n} {why}" for why, n in sorted(dropped.items())))
        return words


def read_vocabulary(path: Path) -> tuple[str, ...]:
    """Product and company names, one a line; blank lines and `#` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise PitchlabError(f"vocabulary file {path} not readable ({exc.strerror or exc}): "
                            "give a text file with one product or company name a line") from exc
    return tuple(t for t in (line.split("#", 1)[0].strip() for line in lines) if t)


def hotwords(terms: Iterable[str]) -> str | None:
    """The names as Whisper's hotwords, e.g. "Clipcast, HubSpot, Salesforce"; None when there are none."""
    return ", ".join(dict.fromkeys(terms)) or None


def segments_to_words(segments: Iterable) -> tuple[list[Word], Counter]:
    """Timed words of faster-whisper segments, and how many segments were dropped, by reason."""
    out: list[Word] = []
    dropped: Counter = Counter()
    for seg_idx, segment in enumerate(segments):
        why = hallucination(segment)
        if why:
            log.debug("dropped segment at %.1f s (%s): %r", segment.start, why, segment.text)
            dropped[why] += 1
            continue
        for w in segment.words or ():
            text = w.word.strip()
            if text:
                out.append(Word(round(float(w.start), 3), round(float(w.end), 3), text, None, seg_idx))
    return out, dropped


def hallucination(segment) -> str | None:
    """Why a Whisper segment is not speech (`no speech`, `compression ratio`, `repetition loop`), else None."""
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB:
        return "no speech"
    if segment.compression_ratio > MAX_COMPRESSION_RATIO:
        return "compression ratio"
    if repetition_loop(re.sub(r"[^\w' ]+", " ", segment.text.lower()).split()):
        return "repetition loop"
    return None


def repetition_loop(words: list[str]) -> bool:
    """True when some n-gram (n = 1..4) is said LOOP_REPEATS[n] times in a row."""
    for n, repeats in LOOP_REPEATS.items():
        for start in range(len(words) - n * repeats + 1):
            gram = words[start:start + n]
            if all(words[start + k * n:start + (k + 1) * n] == gram for k in range(1, repeats)):
                return True
    return False


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
