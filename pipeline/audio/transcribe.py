"""Speech to timed words with faster-whisper; stereo channels are transcribed separately
(with `batch_size`, their speech decoded in shared batches: `whisper_batch`).

Whisper invents text on silence, hold music and noise ("Thank you." over and over);
such segments are dropped before they can become anyone's words (`hallucination`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from pipeline.audio.ingest import TELEPHONE, DecodedAudio
from pipeline.audio.whisper_batch import Vad, decode_channels
from pipeline.core.errors import ModelError, PitchlabError
from pipeline.core.records import Word
from pipeline.core.settings import Settings

log = logging.getLogger(__name__)

# Whisper's own thresholds (openai/whisper transcribe(): no_speech_threshold,
# logprob_threshold, compression_ratio_threshold), applied here as a final filter.
NO_SPEECH_PROB = 0.6  # with LOW_LOGPROB: the model thinks it heard nothing and is unsure of its text
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4  # gzip ratio of the text: higher is repetitive
LOOP_REPEATS = {1: 6, 2: 4, 3: 4, 4: 4}  # an n-gram said this many times in a row is a loop
SAMPLE_RATE = 16000
RESCUE_MAX_S = 2.5  # speech runs this short are transcribed again on their own (0: never)
RUN_PAUSE_S = 0.2  # a pause this long ends a run of speech
RUN_PAD_S = 0.1
RUN_OVER_FLOOR_DB = 12.0
RUN_MIN_S = 0.12
RUN_SLACK_S = 0.15  # first-pass words this close to a run count as heard on it
RESCUE_PAD_S = 0.5  # silence around the runs transcribed again
RESCUE_GAP_S = 1.0  # silence between two runs transcribed again in one clip
RESCUE_CLIP_S = 28.0  # the runs of a channel transcribed again together, in clips of at most this (Whisper: 30 s)
RESCUE_MAX_HEARD = 0  # a run is rescued only when the first pass put at most this many words on it
# A rescued run is decoded greedily once: Whisper's fallback (decoding again at temperatures 0.2 ... 1.0, five
# samples each, when the text is unsure) went to 1.0 on 6 of 15 runs of 10 telephone calls and took 23% of their
# Whisper time (69.0 s against 55.9 s), for words drawn at random ("for both." where greedy heard "Okay.").
RESCUE_TEMPERATURE = 0.0
# Where the first pass's greedy decoding of a window looks unsure (Whisper's own test: its text compresses more
# than 2.4 or its mean log-probability is under -1, and it is not silence), the window is decoded again by beam
# search of this width, not by Whisper's fallback, which samples at temperatures 0.2 ... 1.0 with no seed that
# reaches ctranslate2's decoding threads: the same quiet 8 kHz channel came back as "Yes, do not do. Oh, yes."
# in one run and "Thank you for watching." in the next (docs/phone.md, "The same call, other words").
FALLBACK_BEAM = 5
# Whisper's encoder reads a 30 s window whatever it holds: a reply of 4 s is encoded with 26 s of padding. The
# window is cut to its audio plus at least ENCODER_PAD_S of padding, rounded up to a multiple of ENCODER_STEP_S
# (10, 20 or 30 s); 0: always 30 s, as faster-whisper does. Whisper's CPU time 109.0 s -> 89.7 s on real read speech
# and the demo's channels, the same 91 errors in 1,966 words (in steps of 1 s: 85.3 s but 103 errors); the demo's
# analysis 0.90 of the wall time (docs/speed.md, "Whisper's encoder reads what the window holds"). Wideband calls
# only: a telephone-band call is encoded in whole windows (`windows_for`).
ENCODER_STEP_S = 10
ENCODER_PAD_S = 1.0
FRAMES_PER_S = 100  # Whisper's log-mel frames: a hop of 10 ms
# Pieces of speech (<= 30 s) decoded side by side; 0: faster-whisper's sequential decoding, the default: batched
# decoding took 0.88 of the CPU time but raised the word error rate on real read speech from 4.7% to 5.6%
# (docs/speed.md), more than the 0.3 points allowed.
BATCH_SIZE = 0
# Silero's settings: faster-whisper's sequential defaults (a 2 s pause ends a stretch of speech, 0.4 s kept
# around it). A 0.5 s pause and 0.1 s pad decode 1.09x the speech instead of 1.28x but raised the word error
# rate by 0.8 points on the demo calls and 2 points with the read speech (docs/speed.md), so they are not used.
VAD = Vad(min_silence_duration_ms=2000, speech_pad_ms=400)


def _repeatable_whisper(path: str, **options):
    """faster-whisper's WhisperModel whose fallback for an unsure window is beam search (FALLBACK_BEAM), not
    sampling: the same audio always gives the same words."""
    from dataclasses import replace as with_options

    from faster_whisper import WhisperModel

    class RepeatableWhisper(WhisperModel):
        def generate_with_fallback(self, encoder_output, prompt, tokenizer, options):
            greedy = with_options(options, temperatures=[0.0])
            first = super().generate_with_fallback(encoder_output, prompt, tokenizer, greedy)
            if list(options.temperatures) == [0.0] or options.beam_size >= FALLBACK_BEAM or not _unsure(first, options):
                return first
            second = super().generate_with_fallback(encoder_output, prompt, tokenizer,
                                                    with_options(greedy, beam_size=FALLBACK_BEAM))
            if not _unsure(second, options):
                return second
            # both unsure: Whisper's own choice among its tries, the better mean log-probability of those whose
            # text is not too repetitive
            tried = [r for r in (first, second) if r[3] <= options.compression_ratio_threshold] or [first, second]
            return max(tried, key=lambda r: r[1])

        encoder_step: int | None = None  # None: ENCODER_STEP_S; 0 for a telephone-band call (`windows_for`)

        def encode(self, features):
            return super().encode(encoder_window(features, self.encoder_step))

    return RepeatableWhisper(path, **options)


def encoder_window(features: np.ndarray, step_s: int | None = None) -> np.ndarray:
    """Whisper's log-mel window (..., 80, 3000) cut after its audio. faster-whisper pads a window's features with
    zeros to 30 s (`pad_or_trim`); a frame of sound is never exactly zero in all 80 bands. The cut keeps at least
    ENCODER_PAD_S of the padding and rounds up to a multiple of `step_s` (None: ENCODER_STEP_S; 0: no cut), so
    every frame of audio stays (word times are aligned on those frames only)."""
    step_s = ENCODER_STEP_S if step_s is None else step_s
    if not step_s:
        return features
    frames = features.shape[-1]
    sounding = np.flatnonzero(np.any(features != 0, axis=tuple(range(features.ndim - 1))))
    audio = int(sounding[-1]) + 1 if len(sounding) else 0
    step = step_s * FRAMES_PER_S
    keep = min(frames, max(step, -(-(audio + int(ENCODER_PAD_S * FRAMES_PER_S)) // step) * step))
    return features if keep == frames else np.ascontiguousarray(features[..., :keep])


def _unsure(decoded, options) -> bool:
    """Whisper's test for decoding a window again (faster-whisper's generate_with_fallback)."""
    result, avg_logprob, _temperature, compression_ratio = decoded
    if (options.no_speech_threshold is not None and result.no_speech_prob > options.no_speech_threshold
            and options.log_prob_threshold is not None and avg_logprob < options.log_prob_threshold):
        return False  # silence
    return bool((options.compression_ratio_threshold is not None
                 and compression_ratio > options.compression_ratio_threshold)
                or (options.log_prob_threshold is not None and avg_logprob < options.log_prob_threshold))


class Transcriber(Protocol):
    def words(self, audio: np.ndarray) -> list[Word]:
        """Timed words of 16 kHz mono float32 audio."""


class WhisperTranscriber:
    """faster-whisper with word timestamps and Silero VAD, loaded once per batch."""

    def __init__(self, settings: Settings, *, batch_size: int = BATCH_SIZE, vad: Vad = VAD):
        from pipeline.core.models import whisper_model_dir

        self.name = settings.model
        self.settings = settings
        self.batch_size, self.vad = batch_size, vad
        self.heard_s = self.decoded_s = 0.0  # audio given to Whisper, and what of it was decoded after VAD
        self.vad_s = 0.0  # wall seconds of Silero VAD in the batched decoding (the benchmark's stage split)
        self.hotwords = hotwords(read_vocabulary(settings.vocabulary)) if settings.vocabulary else None
        path = whisper_model_dir(settings.model, settings.models_dir)
        log.info("loading Whisper %s from %s", settings.model, path)
        try:
            self.model = _repeatable_whisper(
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
        return self.channel_words([audio])[0]

    def channel_words(self, channels: list[np.ndarray]) -> list[list[Word]]:
        """Timed words of each channel; with a batch size the channels' speech is decoded in shared batches."""
        if self.batch_size:
            found = self._decode_batched(channels)
        else:
            found = [self._decode(audio) for audio in channels]
        if RESCUE_MAX_S:
            found = [rescue_short_runs(audio, words, lambda clip: self._decode(clip, vad=False))
                     for audio, words in zip(channels, found)]
        return found

    def _decode_batched(self, channels: list[np.ndarray]) -> list[list[Word]]:
        decoded = decode_channels(self.model, channels, batch_size=self.batch_size, vad=self.vad,
                                  language=self.settings.language, beam_size=self.settings.beam_size,
                                  hotwords=self.hotwords)
        self.heard_s += sum(len(a) for a in channels) / SAMPLE_RATE
        self.decoded_s += sum(d.speech_s for d in decoded)
        self.vad_s += sum(d.vad_s for d in decoded)
        return [self._kept(d.segments) for d in decoded]

    def _decode(self, audio: np.ndarray, vad: bool = True) -> list[Word]:
        segments, info = self.model.transcribe(
            audio,
            no_speech_threshold=NO_SPEECH_PROB,
            log_prob_threshold=LOW_LOGPROB,
            language=self.settings.language,
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=vad,  # off for a rescued run: Silero is what missed it
            **({} if vad else {"temperature": RESCUE_TEMPERATURE}),
            condition_on_previous_text=False,
            hotwords=self.hotwords,  # in every window's prompt (an initial_prompt would reach only the first)
        )
        words = self._kept(segments)
        self.heard_s += info.duration
        self.decoded_s += info.duration_after_vad
        return words

    @staticmethod
    def _kept(segments) -> list[Word]:
        words, dropped = segments_to_words(segments)
        if dropped:
            log.info("dropped %d Whisper segments as hallucinations: %s", sum(dropped.values()),
                     ", ".join(f"{n} {why}" for why, n in sorted(dropped.items())))
        return words


def short_runs(audio: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of the runs of sound no longer than RESCUE_MAX_S.

    Loudness, not Silero: at 8 kHz Silero misses short words of a low voice whose
    fundamental the line cut off ("Not for us." at 25 dB above the line noise). A 20 ms frame
    is sound when it is RUN_OVER_FLOOR_DB above the channel's floor (its 10th-percentile frame);
    runs are split at RUN_PAUSE_S of quiet, kept from RUN_MIN_S, padded by RUN_PAD_S.
    """
    hop = int(0.02 * SAMPLE_RATE)
    n = len(audio) // hop
    if n == 0:
        return []
    rms = np.sqrt((audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    loud = rms > np.percentile(rms, 10) * 10 ** (RUN_OVER_FLOOR_DB / 20)
    runs, start, quiet = [], None, 0
    for k, on in enumerate(np.append(loud, False)):
        if on:
            start, quiet = (k if start is None else start), 0
        elif start is not None:
            quiet += 1
            if quiet * 0.02 >= RUN_PAUSE_S or k == n:
                runs.append((start * 0.02, (k - quiet + 1) * 0.02))
                start, quiet = None, 0
    dur = len(audio) / SAMPLE_RATE
    return [(round(max(0.0, a - RUN_PAD_S), 3), round(min(dur, b + RUN_PAD_S), 3)) for a, b in runs
            if RUN_MIN_S <= b - a <= RESCUE_MAX_S]


def rescue_short_runs(audio: np.ndarray, words: list[Word], decode) -> list[Word]:
    """`words` with the short runs of speech that Whisper skipped in context put back.

    Whisper leaves out a short reply said between two of the other side's sentences (mono)
    or alone on a quiet channel: "Okay." or "Not for us." after a pitch. The short runs of
    sound (`short_runs`) on which the first pass put no word are transcribed again without
    their context (`_decode_apart`), with the same hallucination guards. (Letting the run
    alone replace one first-pass word made "Sure, what's up?" into "Sure, it's it." on the
    telephone set, so RESCUE_MAX_HEARD is 0.)
    Runs the first pass heard are left alone, so a call costs one more decoding per
    window of skipped runs (and one per run lying within a heard word), not a second pass.
    """
    mid = [(w.start_s + w.end_s) / 2 for w in words]
    inside, apart = [], []
    for a, b in short_runs(audio):
        core = [w for w, m in zip(words, mid) if a <= m <= b]
        if len(core) <= RESCUE_MAX_HEARD:
            # a run within one heard word's times ("ask" 2.28-3.88 s holding a run at 3.18-3.76 s) may be a piece of
            # it: alone it is heard as the word again ("Ask!") or, at 8 kHz, as a piece of it ("S", dropped below
            # by _pieces_of), beside other runs as a piece of one
            holding = _holding(words, a, b)
            (inside if holding else apart).append((a, b, core, holding))
    heard = [again for run in inside for again in _decode_apart(audio, [run[:2]], decode)]
    heard += _decode_apart(audio, [run[:2] for run in apart], decode)
    out = list(words)
    segment = 1 + max((w.segment for w in words), default=-1)
    for (a, b, core, holding), again in sorted(zip(inside + apart, heard), key=lambda pair: pair[0][0]):
        near = [w for w, m in zip(words, mid) if a - RUN_SLACK_S <= m <= b + RUN_SLACK_S]
        if not again or set(_tokens(again)) <= set(_tokens(near)) or _pieces_of(again, holding):
            continue
        out = [w for w in out if w not in core]
        out += [replace(w, start_s=round(min(max(a, w.start_s), b), 3), end_s=round(max(min(b, w.end_s), a), 3),
                        segment=segment) for w in again]
        log.debug("rescued %r at %.1f s (first pass: %r)", " ".join(w.text for w in again), a,
                  " ".join(w.text for w in core))
        segment += 1
    return sorted(out, key=lambda w: (w.start_s, w.end_s))


def _holding(words: list[Word], a: float, b: float) -> list[Word]:
    """The heard words whose times hold the whole run a..b."""
    return [w for w in words if w.start_s <= a and b <= w.end_s]


def _pieces_of(again: list[Word], holding: list[Word]) -> bool:
    """True when every token heard again is a piece of a word heard around it: a run inside "ask" heard
    alone at 8 kHz as "S" is the end of that word, not a word said (real read speech through the telephone
    line, scripts/eval_asr_line.py)."""
    whole = _tokens(holding)
    return bool(whole) and all(any(t in h for h in whole) for t in _tokens(again))


def _decode_apart(audio: np.ndarray, runs: list[tuple[float, float]], decode) -> list[list[Word]]:
    """The words of each run, in the call's time, heard without the speech around it.

    The runs are laid one after another with RESCUE_GAP_S of silence between them (RESCUE_PAD_S at
    the ends) into clips of at most RESCUE_CLIP_S, each decoded once: Whisper pads every clip to a
    30 s window, so one clip per run cost a whole window for a word or two. A word belongs to the
    run nearest its middle.
    """
    out: list[list[Word]] = []
    pad = np.zeros(int(RESCUE_PAD_S * SAMPLE_RATE), dtype=audio.dtype)
    gap = np.zeros(int(RESCUE_GAP_S * SAMPLE_RATE), dtype=audio.dtype)
    i = 0
    while i < len(runs):
        pieces, placed, at = [pad], [], RESCUE_PAD_S
        while i < len(runs):
            a, b = runs[i]
            clip = audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
            if placed and at + len(clip) / SAMPLE_RATE + RESCUE_PAD_S > RESCUE_CLIP_S:
                break
            if placed:
                pieces.append(gap)
                at += RESCUE_GAP_S
            pieces.append(clip)
            placed.append((at, at + len(clip) / SAMPLE_RATE, a))
            at += len(clip) / SAMPLE_RATE
            i += 1
        pieces.append(pad)
        heard: list[list[Word]] = [[] for _ in placed]
        for w in decode(np.concatenate(pieces)):
            m = (w.start_s + w.end_s) / 2
            k = min(range(len(placed)), key=lambda j: max(placed[j][0] - m, m - placed[j][1], 0.0))
            shift = placed[k][2] - placed[k][0]
            heard[k].append(replace(w, start_s=w.start_s + shift, end_s=w.end_s + shift))
        out += heard
    return out


def _tokens(words: list[Word]) -> list[str]:
    return [t for w in words for t in re.sub(r"[^\w']+", " ", w.text.lower()).split()]


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


@contextmanager
def windows_for(transcriber: Transcriber, band: str | None):
    """Whisper's windows encoded whole (30 s) while a telephone-band call is transcribed: cut after their audio
    (ENCODER_STEP_S), real read speech sent through the telephone set's line lost 2-3 times the words (G.711
    mu-law 9 -> 21 errors of 150, GSM 11 -> 20, Opus 10 -> 13; `scripts/eval_asr_line.py`), where as recorded
    it lost none (docs/phone.md, "Whisper's whole windows on the phone line")."""
    model = getattr(transcriber, "model", None)
    if band != TELEPHONE or not hasattr(model, "encoder_step"):
        yield
        return
    model.encoder_step = 0
    try:
        yield
    finally:
        model.encoder_step = None


def transcribe(audio: DecodedAudio, transcriber: Transcriber) -> list[Word]:
    """All words of a call in time order; each word knows its channel when stereo.

    A transcriber that has `channel_words` (Whisper) decodes both channels in shared batches.
    """
    with windows_for(transcriber, audio.info.band):
        return _transcribe(audio, transcriber)


def _transcribe(audio: DecodedAudio, transcriber: Transcriber) -> list[Word]:
    if len(audio.channels) == 1:
        return transcriber.words(audio.channels[0])
    both = getattr(transcriber, "channel_words", None)
    found = both(list(audio.channels)) if both else [transcriber.words(samples) for samples in audio.channels]
    words: list[Word] = []
    segment_offset = 0
    for channel, channel_words in enumerate(found):
        words.extend(replace(w, channel=channel, segment=w.segment + segment_offset) for w in channel_words)
        segment_offset += 1 + max((w.segment for w in channel_words), default=0)
    return sorted(words, key=lambda w: (w.start_s, w.channel))
