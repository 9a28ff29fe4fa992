"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from . import cluster, db, ingest, outcomes, phrases, reactions, speakers, store, transcribe, transcripts
from .embed import Embedder
from .errors import AudioError
from .phrases import Splitter
from .records import AUDIO, TRANSCRIPT, AudioInfo, CallAnalysis, Outcome, Recording, Turn
from .settings import Settings
from .transcribe import Transcriber

log = logging.getLogger(__name__)


class Models:
    """The three heavy models, each loaded on first use and then kept for the batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._transcriber = self._splitter = self._embedder = None

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = transcribe.WhisperTranscriber(self.settings)
        return self._transcriber

    @property
    def splitter(self) -> Splitter:
        if self._splitter is None:
            self._splitter = phrases.SpacySplitter(max_words=self.settings.max_phrase_words)
        return self._splitter

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from .embed import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder


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


def analyze_call(audio: ingest.DecodedAudio, models: Models, settings: Settings) -> CallAnalysis:
    """One decoded recording through transcribe → speakers → phrases → reactions → embed."""
    words = transcribe.transcribe(audio, models.transcriber)
    if not words:
        raise AudioError("no speech found")
    if len(audio.channels) == 2:
        who, method = speakers.by_channel(words, settings.rep_channel), "channel"
    else:
        who, method = speakers.by_voice(words, audio.channels[0]), "spectral-2means"
    turns = speakers.to_turns(words, who)
    model = getattr(models.transcriber, "name", settings.model)
    return analyze_turns(audio.info, turns, speaker_method=method, model=model, models=models, settings=settings)


def analyze_transcript(recording: Recording, label: Outcome | None, models: Models, settings: Settings,
                       rep_names: tuple[str, ...] = ()) -> CallAnalysis:
    """One transcript file through parsing → phrases → reactions → embed (no audio models)."""
    known = rep_names + ((label.rep,) if label and label.rep else ())
    t = transcripts.read(recording, rep_names=known)
    return analyze_turns(t.info, t.turns, speaker_method=t.speaker_method, model=None, models=models,
                         settings=settings, source_kind=TRANSCRIPT, rep=t.rep, outcome=t.outcome)


def analyze_turns(info: AudioInfo, turns: list[Turn] | tuple[Turn, ...], *, speaker_method: str,
                  model: str | None, models: Models, settings: Settings, source_kind: str = AUDIO,
                  rep: str | None = None, outcome: str | None = None) -> CallAnalysis:
    """The back half shared by audio and transcripts: turns → phrases → reactions → embed."""
    pitch = phrases.split_turns(turns, models.splitter)
    paired = reactions.pair(pitch, turns, settings.reaction_window_s)
    vectors = models.embedder.embed([p.text for p in pitch])
    return CallAnalysis(
        info=info,
        speaker_method=speaker_method,
        model=model,
        turns=tuple(turns),
        phrases=tuple(pitch),
        reactions=tuple(paired),
        embeddings=tuple(tuple(float(v) for v in row) for row in vectors),
        source_kind=source_kind,
        rep=rep,
        outcome=outcome,
    )


def analyze(settings: Settings, *, models: Models | None = None) -> Summary:
    """Analyze every new recording in the inbox into the database, then cluster.

    Known recordings (same sha256) are skipped and their rows left as they are;
    each new call is committed in its own transaction.
    """
    started = time.monotonic()
    recordings = ingest.find_recordings(settings.inbox)
    csv_rows = outcomes.load_csv(settings.outcomes) if settings.outcomes else {}
    labels = outcomes.resolve(recordings, csv_rows)  # validate before any slow work
    rep_names = settings.rep_names + transcripts.team_names(settings.team)
    models = models or Models(settings)
    failed: list[tuple[str, str]] = []
    processed, audio_s = 0, 0.0
    with db.opened(settings.db) as con:
        known, bad = store.known_call_ids(con), store.failed_hashes(con)
        seen: set[str] = set()
        todo = []
        for rec in recordings:
            if rec.call_id in known or rec.call_id in bad or rec.call_id in seen:
                continue
            seen.add(rec.call_id)  # the same recording dropped twice is one call
            todo.append(rec)
        for rec in _progress(todo, settings, "calls"):
            try:
                if rec.source_kind == TRANSCRIPT:
                    call = analyze_transcript(rec, labels.get(rec.call_id), models, settings, rep_names)
                else:
                    call = analyze_call(ingest.decode(rec), models, settings)
            except FileNotFoundError as exc:  # moved away mid-batch: not the file's fault
                log.warning("%s", exc)
                continue
            except AudioError as exc:
                log.warning("%s: %s", rec.source_file, exc)
                store.record_error(con, rec, str(exc))
                failed.append((rec.source_file, str(exc)))
                continue
            store.write_call(con, call, rec.size_bytes)
            processed += 1
            audio_s += call.info.duration_s or 0.0
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


def _progress(items, settings: Settings, unit: str):
    """A progress bar on a terminal; plain iteration otherwise."""
    if not settings.progress or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, unit=unit, desc="analyzing", file=sys.stderr)
