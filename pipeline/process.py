"""One recording (or a batch) into call analyses, with no database: the models, the audio and transcript front
halves, the shared back half, and each recording's one-line error.
"""

from __future__ import annotations

import gc
import logging
import threading
import traceback
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Sequence

from pipeline.analysis import descriptors
from pipeline.audio import ingest, transcribe, transcripts
from pipeline.audio.transcribe import Transcriber
from pipeline.core import progress
from pipeline.core.errors import AudioError, PitchlabError
from pipeline.core.records import CallAnalysis, CallTurns, Outcome, Recording, TRANSCRIPT, Word
from pipeline.core.settings import Settings
from pipeline.language import leads, phrases, reactions, redact, rehear
from pipeline.language.embed import Embedder, embed_unique
from pipeline.language.example_cache import ExampleCache
from pipeline.language.phrases import Splitter
from pipeline.voices import diarize, reps, speakers
from pipeline.voices.voice import VoiceEncoder

log = logging.getLogger(__name__)


def _kept(load):
    """A model loader whose result lives as long as the process: once it is loaded, every object
    alive is moved out of the garbage collector's sight (`gc.freeze`).

    faster-whisper's `decode_audio` runs a full `gc.collect()` for every file, which walked all the
    loaded models' objects: 0.46 s a call with spaCy, torch and MiniLM loaded, 13 s of the 28 demo
    calls' 99 s (BENCHMARKS.md, "Waste found and fixed"). Frozen, a collection walks only what the
    call itself made.
    """

    name = load.__name__

    def loaded(self):
        with self._loading(name):  # one load even when two threads ask at once (see `preload`)
            if name in vars(self):
                return vars(self)[name]
            model = load(self)
            gc.freeze()
            return model

    loaded.__doc__ = load.__doc__
    return cached_property(loaded)


class Models:
    """The heavy models, each loaded on first use and then kept for the batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._locks: dict[str, threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def _loading(self, name: str) -> threading.RLock:
        with self._locks_lock:
            return self._locks.setdefault(name, threading.RLock())

    @_kept
    def transcriber(self) -> Transcriber:
        return transcribe.WhisperTranscriber(self.settings)

    @_kept
    def splitter(self) -> Splitter:
        return phrases.SpacySplitter(max_words=self.settings.max_phrase_words)

    @_kept
    def voice_encoder(self) -> VoiceEncoder:
        from pipeline.voices.voice import ResemblyzerEncoder

        return ResemblyzerEncoder()

    @_kept
    def embedder(self) -> Embedder:
        from pipeline.language.embed import MiniLMEmbedder

        return MiniLMEmbedder()

    @_kept
    def kinds(self):
        from pipeline.language.kinds import KindClassifier

        # a phrase close to a declared benefit's example line is a pitch
        declared = descriptors.read_csv(self.settings.descriptors) if self.settings.descriptors else ()
        return KindClassifier(self.embedder, pitch_examples=[e for d in declared for e in d.examples],
                              cache=self.example_cache)

    @_kept
    def scorer(self):
        return reactions.ReactionScorer(self.embedder, cache=self.example_cache)

    @property
    def example_cache(self) -> ExampleCache:
        """The kind and reaction scorers' examples, embedded (and fitted) once per model and kept in models_dir."""
        return ExampleCache(self.settings.models_dir / "cache" / "examples", getattr(self.embedder, "cache_id", None))

    @_kept
    def listener(self):
        """Moonshine base, hearing replies on telephone-band calls again (rehear.py); loaded only for such calls."""
        from pipeline.audio.moonshine import MoonshineListener

        return MoonshineListener(threads=self.settings.cpu_threads, cache=self.settings.models_dir / "cache" / "moonshine")

    @_kept
    def redactor(self):
        from pipeline.language.redact import PresidioRedactor

        return PresidioRedactor()


def listen(rec: Recording, models: Models, settings: Settings,
           stage=progress.stage) -> tuple[ingest.DecodedAudio, list[Word]]:
    """One recording decoded and transcribed: the part of a call that Whisper's threads do."""
    audio = ingest.decode(rec, max_duration_s=settings.max_call_s)
    return audio, heard_words(audio, models, stage)


def heard_words(audio: ingest.DecodedAudio, models: Models, stage=progress.stage) -> list[Word]:
    stage("transcribe")
    words = transcribe.transcribe(audio, models.transcriber)
    if not words:
        raise AudioError("no speech found")
    return words


def audio_turns(audio: ingest.DecodedAudio, models: Models, settings: Settings,
                rep_channel: str | None = None, rep_prints: dict | None = None,
                words: list[Word] | None = None) -> CallTurns:
    """One decoded recording through transcribe → speakers.

    `rep_channel`: the call's own stereo mapping (its sidecar), overriding the settings.
    `rep_prints`: enrolled reps' voice prints by name (`reps.load`); the speaker that
    matches one is the rep, and the call's rep is that name.
    `words`: its words, when it was transcribed already (`listen`).
    """
    if words is None:
        words = heard_words(audio, models)
    progress.stage("speakers")
    channel = source = voice_source = name = cosine = None
    if len(audio.channels) == 2:
        mapped = rep_channel or settings.rep_channel or speakers.STEREO_PRESETS.get(settings.stereo_preset or "")
        found, cosine = (reps.match_channels(audio.channels, rep_prints, models.voice_encoder, only=mapped)
                         if rep_prints else (None, None))  # no enrolled voice: the voice encoder is not loaded
        channel, source = speakers.rep_channel(words, override=rep_channel, setting=settings.rep_channel,
                                               preset=settings.stereo_preset,
                                               voice=(speakers.CHANNELS[found.speaker], found.name) if found else None)
        if found and speakers.CHANNELS[found.speaker] == channel:
            name = found.name
        log.info("%s: rep on the %s channel (%s)", audio.info.source_file, channel, source)
        who, method = speakers.by_channel(words, channel), "channel"
    else:
        d = diarize.diarize(words, audio.channels[0], models.voice_encoder, rep_prints=rep_prints)
        who, method, voice_source, name, cosine = d.speakers, "voice-print", d.rep_by, d.rep_name, d.rep_cosine
        log.info("%s: rep voice by %s", audio.info.source_file, d.rep_by)
    model = getattr(models.transcriber, "name", settings.model)
    prospect = (rehear.prospect_signal(audio.channels, channel)
                if settings.rehear and audio.info.band == ingest.TELEPHONE else None)
    return CallTurns(audio.info, tuple(speakers.to_turns(words, who)), method, model=model, rep=name,
                     rep_channel=channel, rep_channel_source=source, rep_voice_source=voice_source,
                     rep_voice_cosine=cosine, prospect_audio=prospect)


def transcript_turns(recording: Recording, label: Outcome | None, rep_names: tuple[str, ...] = ()) -> CallTurns:
    """One transcript file parsed into turns (no audio models)."""
    known = rep_names + ((label.rep,) if label and label.rep else ())
    t = transcripts.read(recording, rep_names=known)
    return CallTurns(t.info, t.turns, t.speaker_method, source_kind=TRANSCRIPT, rep=t.rep, outcome=t.outcome)


def analyze_calls(calls: Sequence[CallTurns], models: Models, settings: Settings,
                  keep: Sequence[str] = ()) -> list[CallAnalysis]:
    """The back half shared by audio and transcripts: turns → phrases → embed → kinds → reactions → lead.

    `keep`: with --redact, the names redaction leaves alone (`kept_names`), for replies heard again.

    Many calls go through together: one spaCy pass over all their rep turns, one
    embedding pass over all their phrases and one over all their replies, each
    distinct text once. A call gets what it would get on its own, but for the
    last bits of its embeddings (a matrix product rounds a little differently
    with other rows beside it; tests/test_batch.py).
    """
    progress.stage("phrases")
    split = phrases.split_calls([c.turns for c in calls], models.splitter)
    texts = [p.text for ps in split for p in ps]
    progress.stage("embed")
    vectors = embed_unique(models.embedder, texts)
    progress.stage("kinds + reactions")
    kinds = iter(models.kinds.classify(texts, vectors))
    pitch = [[replace(p, kind=k.kind, kind_evidence=k.evidence) for p, k in zip(ps, kinds)] for ps in split]
    found = [reactions.replies(ps, c.turns, settings.reaction_window_s) for ps, c in zip(pitch, calls)]
    if any(c.prospect_audio is not None and f for c, f in zip(calls, found)):
        progress.stage("hear replies again")
        found = rehear.rehear(found, [c.prospect_audio for c in calls], models.listener)
        if settings.redact:
            found = rehear.redacted(found, models.redactor, keep)
    quiet = [reactions.silences(ps, c.turns, settings.reaction_window_s) for ps, c in zip(pitch, calls)]
    pitch = [[replace(p, silence_after_s=q[p.phrase_idx]) if p.phrase_idx in q else p for p in ps]
             for ps, q in zip(pitch, quiet)]
    closes = [leads.close_reply(ps, c.turns) for ps, c in zip(pitch, calls)]
    # one scoring (and embedding) pass for every reply and close reply of the batch
    answered = [r for f in found for r in f]
    close_replies = [c for c in closes if c]
    scores = iter(models.scorer.score([r.text for r in answered] + close_replies,
                                      [r.pitch for r in answered] + [None] * len(close_replies),
                                      [r.other_hearing for r in answered] + [None] * len(close_replies)))
    paired = [reactions.to_reactions(f, [next(scores) for _ in f]) for f in found]
    close_scores = [next(scores) if c else None for c in closes]
    out, row = [], 0
    for call, ps, rs, close, close_score in zip(calls, pitch, paired, closes, close_scores):
        rows = vectors[row : row + len(ps)]
        row += len(ps)
        out.append(CallAnalysis(
            info=call.info,
            speaker_method=call.speaker_method,
            model=call.model,
            turns=call.turns,
            phrases=tuple(ps),
            reactions=tuple(rs),
            embeddings=tuple(map(tuple, rows.tolist())),
            lead=leads.guess(close, close_score, rs),
            source_kind=call.source_kind,
            rep=call.rep,
            outcome=call.outcome,
            rep_channel=call.rep_channel,
            rep_channel_source=call.rep_channel_source,
            rep_voice_source=call.rep_voice_source,
            rep_voice_cosine=call.rep_voice_cosine,
        ))
    return out


@dataclass(frozen=True, eq=False)
class Processed:
    """What became of one recording: a call, a one-line reason it failed, or neither (vanished)."""

    recording: Recording
    call: CallAnalysis | None = None
    error: str | None = None


def process_recording(recording: Recording, models: Models, settings: Settings, *,
                      label: Outcome | None = None, rep_prints: dict | None = None) -> Processed:
    """Decode (or parse) and analyze one recording; needs no database, so nothing is held while it runs."""
    return process_batch([recording], models, settings, labels={recording.call_id: label} if label else {},
                         rep_prints=rep_prints)[0]


def process_batch(recordings: Sequence[Recording], models: Models, settings: Settings, *,
                  labels: dict[str, Outcome], rep_prints: dict | None = None,
                  heard: dict[str, Future] | None = None) -> list[Processed]:
    """Each recording read into turns on its own (a failure is that recording's), then the back half over all.

    Any exception while one recording is read or analyzed becomes that
    recording's one-line error, and the others go on; only set-up errors (a
    `PitchlabError` that is not an `AudioError`, a model that cannot load) stop
    the batch. `rep_prints`: enrolled reps' voice prints by name (`reps.load`), for recordings.
    `heard`: recordings already being decoded and transcribed (`listen`, on `overlapped`'s
    thread), by call id; their result, or their exception, is taken from there.
    """
    rep_names = settings.rep_names + transcripts.team_names(settings.team)
    if any(rec.source_kind != TRANSCRIPT for rec in recordings):
        models.transcriber  # loaded outside any one recording's error handling: a model error stops the batch
    front: list[Processed | CallTurns] = []
    for rec in recordings:
        label = labels.get(rec.call_id)
        try:
            if rec.source_kind == TRANSCRIPT:
                progress.stage("read")
                front.append(transcript_turns(rec, label, rep_names))
            else:
                if heard is not None and rec.call_id in heard:
                    progress.stage("transcribe")
                    audio, words = heard[rec.call_id].result()  # its exception, if it failed, is raised here
                else:
                    audio, words = listen(rec, models, settings)
                front.append(audio_turns(audio, models, settings, rep_channel=label.rep_channel if label else None,
                                         rep_prints=rep_prints, words=words))
        except FileNotFoundError as exc:  # moved away mid-batch: not the file's fault
            log.warning("%s", exc)
            front.append(Processed(rec))
        except Exception as exc:
            front.append(Processed(rec, error=file_error(rec, exc)))
    turns = [f for f in front if isinstance(f, CallTurns)]
    keep = kept_names(settings, labels, rep_prints) if settings.redact else ()
    if settings.redact and turns:
        progress.stage("redact")
        turns = redact.redact_calls(turns, models.redactor, keep=keep)
        redacted = iter(turns)
        front = [next(redacted) if isinstance(f, CallTurns) else f for f in front]
    analyzed = iter(analyze_each_alone_on_failure(turns, models, settings, keep))
    out = []
    for rec, f in zip(recordings, front):
        if isinstance(f, Processed):
            out.append(f)
            continue
        result = next(analyzed)
        out.append(Processed(rec, call=result) if isinstance(result, CallAnalysis)
                   else Processed(rec, error=file_error(rec, result)))
    return out


def analyze_each_alone_on_failure(calls: Sequence[CallTurns], models: Models, settings: Settings,
                                  keep: Sequence[str] = ()) -> list[CallAnalysis | Exception]:
    """`analyze_calls` over all; if that fails, each call alone, so one bad call loses only itself."""
    try:
        return analyze_calls(calls, models, settings, keep)
    except Exception as exc:
        if _stops_the_batch(exc):
            raise
        if len(calls) == 1:
            return [exc]
        log.warning("analyzing %d calls together failed (%s); analyzing each alone", len(calls), _one_line(exc))
        return [analyze_each_alone_on_failure([call], models, settings, keep)[0] for call in calls]


def kept_names(settings: Settings, labels: dict[str, Outcome], rep_prints: dict | None) -> tuple[str, ...]:
    """What redaction leaves alone: the reps (flags, team file, outcome labels, enrolled voices) and the vocabulary."""
    from pipeline.audio.transcribe import read_vocabulary

    names = settings.rep_names + transcripts.team_names(settings.team) + tuple(rep_prints or ())
    names += tuple(o.rep for o in labels.values() if o and o.rep)
    return names + (read_vocabulary(settings.vocabulary) if settings.vocabulary else ())


def file_error(rec: Recording, exc: Exception) -> str:
    """The one-line `ingest_errors` reason for an exception while reading or analyzing `rec`; re-raises set-up errors."""
    if _stops_the_batch(exc):
        raise exc
    if isinstance(exc, AudioError):
        reason = _one_line(exc, limit=500)
    else:  # a defect met on this file, not a reason to stop the others
        log.debug("%s failed", rec.source_file, exc_info=exc)
        reason = f"could not be analyzed ({exc.__class__.__name__}: {_one_line(exc)})"
    log.warning("%s: %s", rec.source_file, reason)
    return reason


def _stops_the_batch(exc: BaseException) -> bool:
    """Set-up errors, not one file's: a PitchlabError other than AudioError, or any error while a model loads."""
    if isinstance(exc, PitchlabError):
        return not isinstance(exc, AudioError)
    return any(frame.f_code in _MODEL_LOADERS for frame, _ in traceback.walk_tb(exc.__traceback__))


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MODEL_LOADERS = {getattr(Models, name).func.__code__ for name in dir(Models)
                  if isinstance(getattr(Models, name), cached_property)}
