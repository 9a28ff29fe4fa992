"""The whole pipeline over an inbox, in one short function: `analyze`."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import ExitStack, closing
from dataclasses import dataclass
from typing import Iterator, Sequence
from pathlib import Path

import duckdb

from pipeline.analysis import cluster, descriptors
from pipeline.audio import ingest, outcomes, transcripts
from pipeline.core import progress
from pipeline.core.errors import AudioError
from pipeline.core.records import TRANSCRIPT, Outcome, Recording
from pipeline.core.settings import Settings
from pipeline.core.terminal import printable
from pipeline.process import (
    Models, audio_turns, transcript_turns, analyze_calls, Processed, process_recording, process_batch,
    analyze_each_alone_on_failure, kept_names, file_error, _stops_the_batch, _one_line, heard_words, listen,
)
from pipeline.storage import db, store
from pipeline.voices import reps

log = logging.getLogger(__name__)


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
    With `settings.engine == "ray"` audio recordings are analyzed on a Ray cluster, or with
    `settings.workers` > 1 in that many local worker processes (pool.py), each worker with models
    from `make_models(settings)` (default: `Models`), and stored here as they arrive.
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
    if new:  # then, on a second thread, while the first call decodes and Whisper transcribes it (in worker
        # processes only spaCy is needed here, to name the clusters as one process would)
        alone = settings.workers == 1 or any(r.source_kind == TRANSCRIPT for r in new)
        preload(models, BACK_HALF_MODELS if alone else ("splitter",))
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
        if settings.engine == "ray" or settings.workers > 1:
            elsewhere = _on_ray if settings.engine == "ray" else _on_pool
            stream = progress.arriving(elsewhere(groups, models, settings, labels=labels, rep_prints=rep_prints,
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
    from pipeline import ray_engine

    yield from _transcripts_here(groups, models, settings, labels=labels, rep_prints=rep_prints)
    audio = _audio_of(groups)
    if not audio:  # transcripts only: no cluster to start
        return
    with ray_engine.session(settings.ray_address):
        yield from ray_engine.process(audio, settings, labels=labels, rep_prints=rep_prints,
                                      workers=settings.ray_workers,
                                      make_models=make_models or ray_engine.default_models)


def _on_pool(groups: list[list[Recording]], models: Models, settings: Settings, *,
             labels: dict[str, Outcome], rep_prints: dict | None, make_models=None) -> Iterator[list[Processed]]:
    """Transcripts here, every audio recording in `settings.workers` worker processes (pool.py); results as they
    come. The audio is handed out first, so the workers load their models and start while transcripts are analyzed."""
    from pipeline import pool, worker

    audio = _audio_of(groups)
    with pool.Pool(settings, workers=min(settings.workers, max(1, len(audio))),
                   make_models=make_models or worker.default_models) as workers:
        results = workers.process(audio, labels=labels, rep_prints=rep_prints) if audio else iter(())
        yield from _transcripts_here(groups, models, settings, labels=labels, rep_prints=rep_prints)
        yield from results


def _audio_of(groups: list[list[Recording]]) -> list[Recording]:
    return [r for g in groups for r in g if r.source_kind != TRANSCRIPT]


def _transcripts_here(groups: list[list[Recording]], models: Models, settings: Settings, *,
                      labels: dict[str, Outcome], rep_prints: dict | None) -> Iterator[list[Processed]]:
    for group in groups:
        if group[0].source_kind == TRANSCRIPT:
            yield process_batch(group, models, settings, labels=labels, rep_prints=rep_prints)


def cluster_and_describe(con, models: Models, settings: Settings) -> str:
    """Refresh the wording clusters and every pitch phrase's descriptor; with `settings.descriptors`, the
    declared descriptors become that file's first (re-assigning phrases only when it changed)."""
    from pipeline.analysis.themes import SpacyNamer, WordNamer

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
