"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from contextlib import ExitStack, closing
from dataclasses import dataclass, replace
from typing import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import duckdb

from . import (cluster, db, descriptors, diarize, ingest, leads, outcomes, phrases, progress, reactions, redact, reps,
               speakers, store, transcribe, transcripts)
from .embed import Embedder, embed_unique
from .errors import AudioError, PitchlabError
from .example_cache import ExampleCache
from .phrases import Splitter
from .records import TRANSCRIPT, CallAnalysis, CallTurns, Outcome, Recording, Word
from .settings import Settings
from .terminal import printable
from .transcribe import Transcriber
from .voice import VoiceEncoder

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
        from .voice import ResemblyzerEncoder

        return ResemblyzerEncoder()

    @_kept
    def embedder(self) -> Embedder:
        from .embed import MiniLMEmbedder

        return MiniLMEmbedder()

    @_kept
    def kinds(self):
        from .kinds import KindClassifier

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
    def redactor(self):
        from .redact import PresidioRedactor

        return PresidioRedactor()


@dataclass(frozen=True)
class Summary:
    found: int
    new: int
    processed: int
    skipped_known: int
    skipped_failed: int
    failed: tuple[tuple[str, str], ...]  # (file, reason)
    audio_s: float  # of the audio calls analyzed (transcripts have none)
    wall_s: float
    outcomes_applied: int
    clustering: str
    model: str = ""
    skipped_forgotten: tuple[str, ...] = ()  # files in the inbox that `pitchlab forget` removed
    transcripts: int = 0  # of `processed`


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
    return CallTurns(audio.info, tuple(speakers.to_turns(words, who)), method, model=model, rep=name,
                     rep_channel=channel, rep_channel_source=source, rep_voice_source=voice_source,
                     rep_voice_cosine=cosine)


def transcript_turns(recording: Recording, label: Outcome | None, rep_names: tuple[str, ...] = ()) -> CallTurns:
    """One transcript file parsed into turns (no audio models)."""
    known = rep_names + ((label.rep,) if label and label.rep else ())
    t = transcripts.read(recording, rep_names=known)
    return CallTurns(t.info, t.turns, t.speaker_method, source_kind=TRANSCRIPT, rep=t.rep, outcome=t.outcome)


def analyze_calls(calls: Sequence[CallTurns], models: Models, settings: Settings) -> list[CallAnalysis]:
    """The back half shared by audio and transcripts: turns → phrases → embed → kinds → reactions → lead.

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
    quiet = [reactions.silences(ps, c.turns, settings.reaction_window_s) for ps, c in zip(pitch, calls)]
    pitch = [[replace(p, silence_after_s=q[p.phrase_idx]) if p.phrase_idx in q else p for p in ps]
             for ps, q in zip(pitch, quiet)]
    closes = [leads.close_reply(ps, c.turns) for ps, c in zip(pitch, calls)]
    # one scoring (and embedding) pass for every reply and close reply of the batch
    answered = [r for f in found for r in f]
    close_replies = [c for c in closes if c]
    scores = iter(models.scorer.score([r.text for r in answered] + close_replies,
                                      [r.pitch for r in answered] + [None] * len(close_replies)))
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
    if settings.redact and turns:
        progress.stage("redact")
        turns = redact.redact_calls(turns, models.redactor, keep=kept_names(settings, labels, rep_prints))
        redacted = iter(turns)
        front = [next(redacted) if isinstance(f, CallTurns) else f for f in front]
    analyzed = iter(analyze_each_alone_on_failure(turns, models, settings))
    out = []
    for rec, f in zip(recordings, front):
        if isinstance(f, Processed):
            out.append(f)
            continue
        result = next(analyzed)
        out.append(Processed(rec, call=result) if isinstance(result, CallAnalysis)
                   else Processed(rec, error=file_error(rec, result)))
    return out


def overlapped(groups: Sequence[list[Recording]], models: Models, settings: Settings, *,
               labels: dict[str, Outcome], rep_prints: dict | None = None) -> Iterator[list[Processed]]:
    """`process_batch` over each group, in order, while the next group's audio is decoded and transcribed.

    Whisper (CTranslate2, which lets go of the GIL) works on call N+1 on a second thread while
    this one puts call N through voice prints, spaCy, embeddings and the store, so a core is not
    idle while the back half runs. At most two calls are transcribed ahead. Each result is the
    one `process_batch` alone would give: the same calls in the same order, a failure the same
    one-line error, a set-up error raised here.
    """
    listener = _Listener(models, settings)
    ahead: deque = deque()
    todo = iter(groups)

    def queue_next() -> None:
        group = next(todo, None)
        if group is not None:
            ahead.append((group, {r.call_id: listener.submit(r) for r in group if r.source_kind != TRANSCRIPT}))

    try:
        queue_next()
        queue_next()
        while ahead:
            group, heard = ahead.popleft()
            yield process_batch(group, models, settings, labels=labels, rep_prints=rep_prints, heard=heard)
            queue_next()
    finally:
        listener.close()


class _Listener:
    """One daemon thread that runs `listen` on the recordings submitted, in order.

    A daemon, so Ctrl-C ends the process at once, not after the call Whisper is on
    (nothing is written from this thread: the database is only ever written by the caller).
    """

    def __init__(self, models: Models, settings: Settings):
        self.models, self.settings = models, settings
        self.closed = False
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="pitchlab-listen", daemon=True)
        self.thread.start()

    def submit(self, rec: Recording) -> Future:
        future: Future = Future()
        self.jobs.put((rec, future))
        return future

    def close(self) -> None:
        """Stop after the recording in hand; what is queued behind it is left (the caller stopped asking)."""
        self.closed = True
        self.jobs.put(None)

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None and not self.closed:
            rec, future = job
            try:
                future.set_result(listen(rec, self.models, self.settings, stage=_quiet))
            except BaseException as exc:  # handed to the caller, who decides (file error or set-up error)
                future.set_exception(exc)


def _quiet(_stage: str) -> None:
    """The progress bar names the stage of the call the caller is on, not the call transcribed ahead."""


def analyze_each_alone_on_failure(calls: Sequence[CallTurns], models: Models,
                                  settings: Settings) -> list[CallAnalysis | Exception]:
    """`analyze_calls` over all; if that fails, each call alone, so one bad call loses only itself."""
    try:
        return analyze_calls(calls, models, settings)
    except Exception as exc:
        if _stops_the_batch(exc):
            raise
        if len(calls) == 1:
            return [exc]
        log.warning("analyzing %d calls together failed (%s); analyzing each alone", len(calls), _one_line(exc))
        return [analyze_each_alone_on_failure([call], models, settings)[0] for call in calls]


def kept_names(settings: Settings, labels: dict[str, Outcome], rep_prints: dict | None) -> tuple[str, ...]:
    """What redaction leaves alone: the reps (flags, team file, outcome labels, enrolled voices) and the vocabulary."""
    from .transcribe import read_vocabulary

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


def save(con, result: Processed) -> Processed:
    """Store a processed recording: the call's rows in one transaction, or its ingest error; returns it as stored."""
    return save_batch(con, [result])[0]


def save_batch(con, results: Sequence[Processed]) -> list[Processed]:
    """Store processed recordings: all their calls' rows in one transaction, then each ingest error.

    If that transaction fails, each recording is stored on its own, and a call
    that still cannot be written becomes its recording's ingest error. Returns
    the results as stored.
    """
    results = list(results)
    calls = [(r.call, r.recording.size_bytes) for r in results if r.call is not None]
    try:
        store.write_calls(con, calls)
    except Exception as exc:
        if _stops_the_batch(exc):
            raise
        if len(calls) > 1:
            log.warning("storing %d calls together failed (%s); storing each alone", len(calls), _one_line(exc))
            return [stored for r in results for stored in save_batch(con, [r])]
        reason = AudioError(f"could not be stored ({exc.__class__.__name__}: {_one_line(exc)})")
        results = [Processed(r.recording, error=file_error(r.recording, reason)) if r.call is not None else r
                   for r in results]
    for r in results:
        if r.call is None and r.error is not None:
            store.record_error(con, r.recording, r.error)
    return results


def chunks(recordings: list[Recording], size: int) -> list[list[Recording]]:
    """Transcripts in chunks of `size`; each audio recording alone, stored as soon as it is transcribed."""
    out: list[list[Recording]] = []
    pending: list[Recording] = []
    for rec in recordings:
        if rec.source_kind != TRANSCRIPT:
            out.append([rec])
            continue
        pending.append(rec)
        if len(pending) == size:
            out.append(pending)
            pending = []
    return out + ([pending] if pending else [])


def analyze(settings: Settings, *, models: Models | None = None, make_models=None) -> Summary:
    """Analyze every new recording in the inbox into the database, then cluster.

    Known recordings (same sha256) are skipped and their rows left as they are.
    Transcripts are analyzed in chunks of `settings.chunk_calls`, each chunk
    committed in one transaction; each audio call is committed on its own.
    With `settings.engine == "ray"` audio recordings are analyzed on a Ray cluster, each
    worker with models from `make_models(settings)` (default: `Models`), and stored here
    a few at a time as they arrive.
    """
    started = time.monotonic()
    recordings = ingest.find_recordings(settings.inbox)
    csv_rows = outcomes.load_csv(settings.outcomes) if settings.outcomes else {}
    labels = outcomes.resolve(recordings, csv_rows)  # validate before any slow work
    transcripts.team_names(settings.team)  # a missing team file is an error before any slow work
    if settings.descriptors:
        descriptors.read_csv(settings.descriptors)  # a bad descriptors file too
    models = models or Models(settings)
    new = _not_done(recordings, settings.db) if settings.engine == "local" else []
    if any(r.source_kind != TRANSCRIPT for r in new):
        models.transcriber  # a model that cannot load is a one-line error here, before the database is touched
    if new:  # then, on a second thread, while the first call decodes and Whisper transcribes it
        preload(models, BACK_HALF_MODELS)
    failed: list[tuple[str, str]] = []
    processed, transcripts_done, audio_s = 0, 0, 0.0
    with db.opened(settings.db) as con, ExitStack() as stack:
        known, bad = store.known_call_ids(con), store.failed_hashes(con)
        gone = store.forgotten_hashes(con)
        for rec in recordings:
            if rec.call_id in gone:
                log.warning("%s: skipped, it was forgotten (pitchlab forget); remove it from the inbox", rec.source_file)
        rep_prints = reps.load(con)
        todo = new_recordings(recordings, known | bad | gone)
        groups = chunks(todo, max(1, settings.chunk_calls))
        if settings.engine == "ray":
            stream = progress.arriving(_on_ray(groups, models, settings, labels=labels, rep_prints=rep_prints,
                                               make_models=make_models),
                                       total=len(todo), enabled=settings.progress,
                                       describe=lambda p: printable(p.recording.source_file))
        elif settings.overlap:
            ahead = stack.enter_context(closing(overlapped(groups, models, settings, labels=labels,
                                                           rep_prints=rep_prints)))
            stream = (next(ahead) for _group in progress.batches(groups, enabled=settings.progress,
                                                                    describe=lambda r: printable(r.source_file)))
        else:
            stream = (process_batch(group, models, settings, labels=labels, rep_prints=rep_prints)
                      for group in progress.batches(groups, enabled=settings.progress,
                                                    describe=lambda r: printable(r.source_file)))
        for results in stream:
            progress.stage("store")
            results = save_batch(con, results)
            for result in results:
                if result.error is not None:
                    failed.append((result.recording.source_file, result.error))
                elif result.call is not None:
                    processed += 1
                    if result.call.source_kind == TRANSCRIPT:
                        transcripts_done += 1
                    else:
                        audio_s += result.call.info.duration_s or 0.0
        applied = store.apply_outcomes(con, labels)
        clustering = cluster_and_describe(con, models, settings)
        log.info("clusters: %s", clustering)
    return Summary(
        found=len(recordings),
        new=len(todo),
        processed=processed,
        skipped_known=sum(1 for r in recordings if r.call_id in known),
        skipped_failed=sum(1 for r in recordings if r.call_id in bad),
        skipped_forgotten=tuple(r.source_file for r in recordings if r.call_id in gone),
        failed=tuple(failed),
        audio_s=audio_s,
        wall_s=time.monotonic() - started,
        outcomes_applied=applied,
        clustering=clustering,
        model=settings.model,
        transcripts=transcripts_done,
    )


def _on_ray(groups: list[list[Recording]], models: Models, settings: Settings, *,
            labels: dict[str, Outcome], rep_prints: dict | None, make_models=None) -> Iterator[list[Processed]]:
    """Transcripts here (they are quick), every audio recording on the Ray cluster; results as they come."""
    from . import ray_engine

    for group in groups:
        if group[0].source_kind == TRANSCRIPT:
            yield process_batch(group, models, settings, labels=labels, rep_prints=rep_prints)
    audio = [r for g in groups for r in g if r.source_kind != TRANSCRIPT]
    if not audio:  # transcripts only: no cluster to start
        return
    with ray_engine.session(settings.ray_address):
        yield from ray_engine.process(audio, settings, labels=labels, rep_prints=rep_prints,
                                      workers=settings.ray_workers,
                                      make_models=make_models or ray_engine.default_models)


def cluster_and_describe(con, models: Models, settings: Settings) -> str:
    """Refresh the wording clusters and every pitch phrase's descriptor; with `settings.descriptors`, the
    declared descriptors become that file's first (re-assigning phrases only when it changed)."""
    from .themes import SpacyNamer, WordNamer

    nlp = getattr(vars(models).get("splitter"), "nlp", None)  # spaCy, when this run loaded it: names themes
    clustering = cluster.update(con, namer=SpacyNamer(nlp) if nlp is not None else WordNamer())
    if settings.descriptors:
        clustering += "; " + descriptors.sync_file(con, settings.descriptors, models.embedder)
    return clustering


def _audio_to_do(recordings: list[Recording], db_path: Path) -> bool:
    """Whether some recording is audio that is neither stored nor failed yet."""
    return any(r.source_kind != TRANSCRIPT for r in _not_done(recordings, db_path))


def _not_done(recordings: list[Recording], db_path: Path) -> list[Recording]:
    """The recordings neither stored nor failed (nor forgotten) yet.

    The database is only peeked at, read-only: it is not created, migrated or waited for
    (unreadable or busy: everything counts as to do, which at worst loads the models early).
    """
    if not recordings or not db_path.is_file():
        return list(recordings)
    try:
        with closing(duckdb.connect(str(db_path), read_only=True)) as con:
            done = store.known_call_ids(con) | store.failed_hashes(con) | store.forgotten_hashes(con)
    except duckdb.Error:
        return list(recordings)
    return [r for r in recordings if r.call_id not in done]


BACK_HALF_MODELS = ("embedder", "kinds", "scorer", "splitter")  # what every new call needs after its turns


def preload(models: Models, names: Sequence[str]) -> threading.Thread:
    """Load these models on a daemon thread, in order, while the caller goes on (Whisper loads, the first call
    decodes and is transcribed). A model that fails to load here is left unloaded: the caller's own first use
    loads it again and meets the error where it always did."""

    def run() -> None:
        for name in names:
            try:
                getattr(models, name)
            except Exception as exc:
                log.debug("preloading %s failed (%s); it loads when first used", name, _one_line(exc))
                return

    thread = threading.Thread(target=run, name="pitchlab-preload", daemon=True)
    thread.start()
    return thread


def new_recordings(recordings: list[Recording], skip: set[str]) -> list[Recording]:
    """Recordings whose content is not in `skip`; the same recording dropped twice is one call."""
    seen = set(skip)
    todo = []
    for rec in recordings:
        if rec.call_id not in seen:
            seen.add(rec.call_id)
            todo.append(rec)
    return todo
