"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from . import cluster, db, diarize, ingest, outcomes, phrases, reactions, speakers, store, transcribe
from .embed import Embedder
from .errors import AudioError
from .phrases import Splitter
from .records import CallAnalysis
from .settings import Settings
from .transcribe import Transcriber
from .voice import VoiceEncoder

log = logging.getLogger(__name__)


class Models:
    """The heavy models, each loaded on first use and then kept for the batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._transcriber = self._splitter = self._embedder = self._voice_encoder = None

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
    def voice_encoder(self) -> VoiceEncoder:
        if self._voice_encoder is None:
            from .voice import ResemblyzerEncoder

            self._voice_encoder = ResemblyzerEncoder()
        return self._voice_encoder

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
        who, method = diarize.diarize(words, audio.channels[0], models.voice_encoder).speakers, "voice-print"
    turns = speakers.to_turns(words, who)
    pitch = phrases.split_turns(turns, models.splitter)
    paired = reactions.pair(pitch, turns, settings.reaction_window_s)
    vectors = models.embedder.embed([p.text for p in pitch])
    return CallAnalysis(
        info=audio.info,
        speaker_method=method,
        model=getattr(models.transcriber, "name", settings.model),
        turns=tuple(turns),
        phrases=tuple(pitch),
        reactions=tuple(paired),
        embeddings=tuple(tuple(float(v) for v in row) for row in vectors),
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
                audio = ingest.decode(rec)
                call = analyze_call(audio, models, settings)
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
            audio_s += call.info.duration_s
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
