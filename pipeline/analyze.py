"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, replace
from typing import Sequence
from functools import cached_property

from . import (cluster, db, descriptors, diarize, ingest, leads, outcomes, phrases, progress, reactions, reps, speakers, store,
               transcribe, transcripts)
from .embed import Embedder, embed_unique
from .errors import AudioError
from .phrases import Splitter
from .records import TRANSCRIPT, CallAnalysis, CallTurns, Outcome, Recording
from .settings import Settings
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

    def loaded(self):
        model = load(self)
        gc.freeze()
        return model

    loaded.__doc__ = load.__doc__
    return cached_property(loaded)


class Models:
    """The heavy models, each loaded on first use and then kept for the batch."""

    def __init__(self, settings: Settings):
        self.settings = settings

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
        return KindClassifier(self.embedder, pitch_examples=[e for d in declared for e in d.examples])

    @_kept
    def scorer(self):
        return reactions.ReactionScorer(self.embedder)


@dataclass(frozen=True)
class Summary:
    found: int
    new: int
    processed: int
    skipped_known: int
    skipped_failed: int
    failed: tuple[tuple[str, str], ...]  # (file, reason)
    audio_s: float
    wall_s: float
    outcomes_applied: int
    clustering: str
    model: str = ""


def audio_turns(audio: ingest.DecodedAudio, models: Models, settings: Settings,
                rep_channel: str | None = None, rep_prints: dict | None = None) -> CallTurns:
    """One decoded recording through transcribe → speakers.

    `rep_channel`: the call's own stereo mapping (its sidecar), overriding the settings.
    `rep_prints`: enrolled reps' voice prints by name (`reps.load`); the speaker that
    matches one is the rep, and the call's rep is that name.
    """
    progress.stage("transcribe")
    words = transcribe.transcribe(audio, models.transcriber)
    if not words:
        raise AudioError("no speech found")
    progress.stage("speakers")
    channel = source = voice_source = name = cosine = None
    if len(audio.channels) == 2:
        mapped = rep_channel or settings.rep_channel or speakers.STEREO_PRESETS.get(settings.stereo_preset or "")
        found, cosine = reps.match_channels(audio.channels, rep_prints or {}, models.voice_encoder, only=mapped)
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
    closes = [leads.close_reply(ps, c.turns) for ps, c in zip(pitch, calls)]
    # one scoring (and embedding) pass for every reply and close reply of the batch
    scores = iter(models.scorer.score([r.text for f in found for r in f] + [c for c in closes if c]))
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
                  labels: dict[str, Outcome], rep_prints: dict | None = None) -> list[Processed]:
    """Each recording read into turns on its own (a failure is that recording's), then the back half over all.

    `rep_prints`: enrolled reps' voice prints by name (`reps.load`), for recordings.
    """
    rep_names = settings.rep_names + transcripts.team_names(settings.team)
    front: list[Processed | CallTurns] = []
    for rec in recordings:
        label = labels.get(rec.call_id)
        try:
            if rec.source_kind == TRANSCRIPT:
                progress.stage("read")
                front.append(transcript_turns(rec, label, rep_names))
            else:
                audio = ingest.decode(rec, max_duration_s=settings.max_call_s)
                front.append(audio_turns(audio, models, settings, rep_channel=label.rep_channel if label else None,
                                         rep_prints=rep_prints))
        except FileNotFoundError as exc:  # moved away mid-batch: not the file's fault
            log.warning("%s", exc)
            front.append(Processed(rec))
        except AudioError as exc:
            log.warning("%s: %s", rec.source_file, exc)
            front.append(Processed(rec, error=str(exc)))
    analyzed = iter(analyze_calls([f for f in front if isinstance(f, CallTurns)], models, settings))
    return [f if isinstance(f, Processed) else Processed(rec, call=next(analyzed))
            for rec, f in zip(recordings, front)]


def save(con, result: Processed) -> None:
    """Store a processed recording: the call's rows in one transaction, or its ingest error."""
    save_batch(con, [result])


def save_batch(con, results: Sequence[Processed]) -> None:
    """Store processed recordings: all their calls' rows in one transaction, then each ingest error."""
    store.write_calls(con, [(r.call, r.recording.size_bytes) for r in results if r.call is not None])
    for r in results:
        if r.call is None and r.error is not None:
            store.record_error(con, r.recording, r.error)


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


def analyze(settings: Settings, *, models: Models | None = None) -> Summary:
    """Analyze every new recording in the inbox into the database, then cluster.

    Known recordings (same sha256) are skipped and their rows left as they are.
    Transcripts are analyzed in chunks of `settings.chunk_calls`, each chunk
    committed in one transaction; each audio call is committed on its own.
    """
    started = time.monotonic()
    recordings = ingest.find_recordings(settings.inbox)
    csv_rows = outcomes.load_csv(settings.outcomes) if settings.outcomes else {}
    labels = outcomes.resolve(recordings, csv_rows)  # validate before any slow work
    transcripts.team_names(settings.team)  # a missing team file is an error before any slow work
    if settings.descriptors:
        descriptors.read_csv(settings.descriptors)  # a bad descriptors file too
    models = models or Models(settings)
    failed: list[tuple[str, str]] = []
    processed, audio_s = 0, 0.0
    with db.opened(settings.db) as con:
        known, bad = store.known_call_ids(con), store.failed_hashes(con)
        rep_prints = reps.load(con)
        todo = new_recordings(recordings, known | bad)
        groups = chunks(todo, max(1, settings.chunk_calls))
        for group in progress.batches(groups, enabled=settings.progress, describe=lambda r: r.source_file):
            results = process_batch(group, models, settings, labels=labels, rep_prints=rep_prints)
            progress.stage("store")
            save_batch(con, results)
            for result in results:
                if result.error is not None:
                    failed.append((result.recording.source_file, result.error))
                elif result.call is not None:
                    processed += 1
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
        failed=tuple(failed),
        audio_s=audio_s,
        wall_s=time.monotonic() - started,
        outcomes_applied=applied,
        clustering=clustering,
        model=settings.model,
    )


def cluster_and_describe(con, models: Models, settings: Settings) -> str:
    """Refresh the wording clusters and every pitch phrase's descriptor; with `settings.descriptors`, the
    declared descriptors become that file's first (re-assigning phrases only when it changed)."""
    from .themes import SpacyNamer, WordNamer

    nlp = getattr(vars(models).get("splitter"), "nlp", None)  # spaCy, when this run loaded it: names themes
    clustering = cluster.update(con, namer=SpacyNamer(nlp) if nlp is not None else WordNamer())
    if settings.descriptors:
        clustering += "; " + descriptors.sync_file(con, settings.descriptors, models.embedder)
    return clustering


def new_recordings(recordings: list[Recording], skip: set[str]) -> list[Recording]:
    """Recordings whose content is not in `skip`; the same recording dropped twice is one call."""
    seen = set(skip)
    todo = []
    for rec in recordings:
        if rec.call_id not in seen:
            seen.add(rec.call_id)
            todo.append(rec)
    return todo
