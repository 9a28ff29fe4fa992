"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import cached_property

from . import (cluster, db, diarize, ingest, leads, outcomes, phrases, progress, reactions, reps, speakers, store,
               transcribe, transcripts)
from .embed import Embedder
from .errors import AudioError
from .phrases import Splitter
from .records import AUDIO, TRANSCRIPT, AudioInfo, CallAnalysis, Outcome, Recording, Turn
from .settings import Settings
from .transcribe import Transcriber
from .voice import VoiceEncoder

log = logging.getLogger(__name__)


class Models:
    """The heavy models, each loaded on first use and then kept for the batch."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def transcriber(self) -> Transcriber:
        return transcribe.WhisperTranscriber(self.settings)

    @cached_property
    def splitter(self) -> Splitter:
        return phrases.SpacySplitter(max_words=self.settings.max_phrase_words)

    @cached_property
    def voice_encoder(self) -> VoiceEncoder:
        from .voice import ResemblyzerEncoder

        return ResemblyzerEncoder()

    @cached_property
    def embedder(self) -> Embedder:
        from .embed import MiniLMEmbedder

        return MiniLMEmbedder()

    @cached_property
    def kinds(self):
        from .kinds import KindClassifier

        return KindClassifier(self.embedder)

    @cached_property
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


def analyze_call(audio: ingest.DecodedAudio, models: Models, settings: Settings,
                 rep_channel: str | None = None, rep_prints: dict | None = None) -> CallAnalysis:
    """One decoded recording through transcribe → speakers → phrases → embed → kinds → reactions.

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
    turns = speakers.to_turns(words, who)
    model = getattr(models.transcriber, "name", settings.model)
    call = analyze_turns(audio.info, turns, speaker_method=method, model=model, models=models, settings=settings,
                         rep=name)
    return replace(call, rep_channel=channel, rep_channel_source=source, rep_voice_source=voice_source,
                   rep_voice_cosine=cosine)


def analyze_transcript(recording: Recording, label: Outcome | None, models: Models, settings: Settings,
                       rep_names: tuple[str, ...] = ()) -> CallAnalysis:
    """One transcript file through parsing → phrases → embed → kinds → reactions (no audio models)."""
    known = rep_names + ((label.rep,) if label and label.rep else ())
    t = transcripts.read(recording, rep_names=known)
    return analyze_turns(t.info, t.turns, speaker_method=t.speaker_method, model=None, models=models,
                         settings=settings, source_kind=TRANSCRIPT, rep=t.rep, outcome=t.outcome)


def analyze_turns(info: AudioInfo, turns: list[Turn] | tuple[Turn, ...], *, speaker_method: str,
                  model: str | None, models: Models, settings: Settings, source_kind: str = AUDIO,
                  rep: str | None = None, outcome: str | None = None) -> CallAnalysis:
    """The back half shared by audio and transcripts: turns → phrases → embed → kinds → reactions."""
    progress.stage("phrases")
    split = phrases.split_turns(turns, models.splitter)
    progress.stage("embed")
    vectors = models.embedder.embed([p.text for p in split])
    progress.stage("kinds + reactions")
    kinds = models.kinds.classify([p.text for p in split], vectors)
    pitch = [replace(p, kind=k.kind, kind_evidence=k.evidence) for p, k in zip(split, kinds)]
    paired = reactions.pair(pitch, turns, models.scorer, settings.reaction_window_s)
    return CallAnalysis(
        info=info,
        speaker_method=speaker_method,
        model=model,
        turns=tuple(turns),
        phrases=tuple(pitch),
        reactions=tuple(paired),
        embeddings=tuple(tuple(float(v) for v in row) for row in vectors),
        lead=leads.infer(pitch, paired, turns, models.scorer),
        source_kind=source_kind,
        rep=rep,
        outcome=outcome,
    )


@dataclass(frozen=True, eq=False)
class Processed:
    """What became of one recording: a call, a one-line reason it failed, or neither (vanished)."""

    recording: Recording
    call: CallAnalysis | None = None
    error: str | None = None


def process_recording(recording: Recording, models: Models, settings: Settings, *,
                      label: Outcome | None = None, rep_prints: dict | None = None) -> Processed:
    """Decode (or parse) and analyze one recording; needs no database, so nothing is held while it runs."""
    try:
        if recording.source_kind == TRANSCRIPT:
            rep_names = settings.rep_names + transcripts.team_names(settings.team)
            return Processed(recording, call=analyze_transcript(recording, label, models, settings, rep_names))
        audio = ingest.decode(recording, max_duration_s=settings.max_call_s)
        return Processed(recording, call=analyze_call(audio, models, settings,
                                                      rep_channel=label.rep_channel if label else None,
                                                      rep_prints=rep_prints))
    except FileNotFoundError as exc:  # moved away mid-batch: not the file's fault
        log.warning("%s", exc)
        return Processed(recording)
    except AudioError as exc:
        log.warning("%s: %s", recording.source_file, exc)
        return Processed(recording, error=str(exc))


def save(con, result: Processed) -> None:
    """Store a processed recording: the call's rows in one transaction, or its ingest error."""
    if result.call is not None:
        store.write_call(con, result.call, result.recording.size_bytes)
    elif result.error is not None:
        store.record_error(con, result.recording, result.error)


def analyze(settings: Settings, *, models: Models | None = None) -> Summary:
    """Analyze every new recording in the inbox into the database, then cluster.

    Known recordings (same sha256) are skipped and their rows left as they are;
    each new call is committed in its own transaction.
    """
    started = time.monotonic()
    recordings = ingest.find_recordings(settings.inbox)
    csv_rows = outcomes.load_csv(settings.outcomes) if settings.outcomes else {}
    labels = outcomes.resolve(recordings, csv_rows)  # validate before any slow work
    transcripts.team_names(settings.team)  # a missing team file is an error before any slow work
    models = models or Models(settings)
    failed: list[tuple[str, str]] = []
    processed, audio_s = 0, 0.0
    with db.opened(settings.db) as con:
        known, bad = store.known_call_ids(con), store.failed_hashes(con)
        rep_prints = reps.load(con)
        todo = new_recordings(recordings, known | bad)
        for rec in progress.calls(todo, enabled=settings.progress, describe=lambda r: r.source_file):
            result = process_recording(rec, models, settings, label=labels.get(rec.call_id), rep_prints=rep_prints)
            save(con, result)
            if result.error is not None:
                failed.append((rec.source_file, result.error))
            elif result.call is not None:
                processed += 1
                audio_s += result.call.info.duration_s or 0.0
        applied = store.apply_outcomes(con, labels)
        clustering = cluster.update(con)
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


def new_recordings(recordings: list[Recording], skip: set[str]) -> list[Recording]:
    """Recordings whose content is not in `skip`; the same recording dropped twice is one call."""
    seen = set(skip)
    todo = []
    for rec in recordings:
        if rec.call_id not in seen:
            seen.add(rec.call_id)
            todo.append(rec)
    return todo
