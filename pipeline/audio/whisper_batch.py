"""Whisper over the speech of several channels at once: faster-whisper's batched decoding.

faster-whisper's sequential `WhisperModel.transcribe` decodes one channel at a time, one
30 s window after another. Its `BatchedInferencePipeline` cuts the speech Silero finds into
pieces of at most 30 s and decodes them side by side; it takes one signal. Here the pieces
of every channel given (both sides of a stereo call) go into the same batches, and each
channel's words come back on that channel's own clock (`restore_speech_timestamps`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
CHUNK_S = 30  # Whisper's window: a piece of speech is at most this long


@dataclass(frozen=True)
class Vad:
    """Silero's settings for finding speech (faster-whisper's VadOptions, the ones tuned here)."""

    min_silence_duration_ms: int = 2000  # a pause this long ends a stretch of speech
    speech_pad_ms: int = 400  # kept around each stretch
    threshold: float = 0.5


@dataclass(frozen=True)
class Decoded:
    """One channel's Whisper segments (timed on the channel's clock) and the seconds of it Whisper decoded."""

    segments: list
    speech_s: float
    vad_s: float = 0.0  # wall seconds Silero took to find the speech


def decode_channels(model, channels: list[np.ndarray], *, batch_size: int, vad: Vad, language: str | None,
                    beam_size: int, hotwords: str | None, use_vad: bool = True) -> list[Decoded]:
    """Whisper segments with words of each channel, the speech of all channels decoded in shared batches.

    `model` is a faster_whisper.WhisperModel. Each channel's speech has pieces of its own (laying
    both channels' speech end to end to fill Whisper's 30 s windows saved 5% of the CPU time and
    raised the word error rate from 4.0% to 6.0% on 4 demo calls: docs/speed.md). With `use_vad`
    off each channel is one piece (at most CHUNK_S long: a rescued run is).
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import (BatchedInferencePipeline, Segment, TranscriptionOptions, Word,
                                           get_suppressed_tokens, restore_speech_timestamps)
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    options_vad = VadOptions(threshold=vad.threshold, min_silence_duration_ms=vad.min_silence_duration_ms,
                             speech_pad_ms=vad.speech_pad_ms, max_speech_duration_s=CHUNK_S)
    spans, vad_s = [], []
    for a in channels:
        started = time.perf_counter()
        spans.append((get_speech_timestamps(a, options_vad) if use_vad else [{"start": 0, "end": len(a)}])
                     if len(a) else [])
        vad_s.append(time.perf_counter() - started)
    groups = list(zip(channels, spans))
    pieces = []  # (group, features, metadata)
    for g, (audio, speech) in enumerate(groups):
        if speech:
            chunks, metadata = collect_chunks(audio, speech, max_duration=CHUNK_S)
            pieces += [(g, pad_or_trim(model.feature_extractor(c)[..., :-1]), m) for c, m in zip(chunks, metadata)]
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language=language or "en")
    options = TranscriptionOptions(
        beam_size=beam_size, best_of=5, patience=1, length_penalty=1, repetition_penalty=1,
        no_repeat_ngram_size=0, log_prob_threshold=None, no_speech_threshold=None,
        compression_ratio_threshold=None, condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
        temperatures=[0.0], initial_prompt=None, prefix=None, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), without_timestamps=False,
        max_initial_timestamp=0.0, word_timestamps=True, prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、", multilingual=False, max_new_tokens=None,
        clip_timestamps="0", hallucination_silence_threshold=None, hotwords=hotwords)
    pipeline = BatchedInferencePipeline(model)
    found: list[list] = [[] for _ in groups]
    for i in range(0, len(pieces), batch_size):
        batch = pieces[i:i + batch_size]
        pipeline.last_speech_timestamp = 0.0
        outputs = pipeline.forward(np.stack([f for _, f, _ in batch]), tokenizer, [m for _, _, m in batch], options)
        for (g, _, _), output in zip(batch, outputs):
            found[g] += [Segment(id=len(found[g]) + k + 1, seek=s["seek"], start=round(s["start"], 3),
                                 end=round(s["end"], 3), text=s["text"], tokens=s["tokens"],
                                 avg_logprob=s["avg_logprob"], compression_ratio=s["compression_ratio"],
                                 no_speech_prob=s["no_speech_prob"], words=[Word(**w) for w in s["words"]],
                                 temperature=0.0) for k, s in enumerate(output)]
    restored = [list(restore_speech_timestamps(segs, speech, SAMPLE_RATE)) if speech else []
                for segs, (_, speech) in zip(found, groups)]
    speech_s = [sum(c["end"] - c["start"] for c in sp) / SAMPLE_RATE for sp in spans]
    return [Decoded(segs, s, v) for segs, s, v in zip(restored, speech_s, vad_s)]
