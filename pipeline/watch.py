"""`pitchlab watch`: analyze recordings as they are dropped into a folder, day after day.

A loop over three small steps, each reusing the batch pipeline's pieces:
scan the inbox for files that have stopped changing, analyze each new one
(no database held meanwhile) and store it in a short write, then, once the
inbox has been quiet for a while, re-read outcomes and refresh the clusters.
watchdog events wake the loop at once; it also rescans every `poll_s`
seconds, which covers network drives whose changes raise no events.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import duckdb

from pipeline.analysis import cluster
from pipeline.analyze import cluster_and_describe, new_recordings, save
from pipeline.audio import ingest, outcomes
from pipeline.core.errors import DatabaseBusy, PitchlabError
from pipeline.core.records import TRANSCRIPT, Outcome, Recording
from pipeline.core.settings import AUDIO_EXTENSIONS, Settings
from pipeline.process import Models, process_recording
from pipeline.storage import db, store
from pipeline.voices import reps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchTiming:
    settle_s: float = 3.0  # a file is read once its size and mtime have not changed for this long
    poll_s: float = 2.0  # rescan interval, with or without filesystem events
    debounce_s: float = 5.0  # refresh clusters once no new call has been stored for this long
    max_stale_s: float = 120.0  # ... or at the latest this long after the first unrefreshed call
    busy_retry_s: float = 2.0  # wait between tries while another process holds the database
    resync_s: float = 30.0  # re-read which files failed (for `pitchlab retry`)


@dataclass(frozen=True)
class WatchSummary:
    processed: int
    failed: int


def _refresh(con, models: Models, settings: Settings) -> str:
    """Clusters and descriptors refreshed; a descriptors file broken while watching is a log line, not a crash."""
    try:
        return cluster_and_describe(con, models, settings)
    except PitchlabError as exc:
        log.warning("descriptors not updated: %s", exc)
        return cluster_and_describe(con, models, replace(settings, descriptors=None))


class Stopped(Exception):
    """Asked to stop while waiting for the database."""


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or the first Ctrl-C; a second Ctrl-C interrupts at once."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if signum == signal.SIGINT:
            log.warning("stopping after the current file (Ctrl-C again to stop now)")
        else:
            log.warning("stopping after the current file (%s)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def watch(
    settings: Settings,
    *,
    models: Models | None = None,
    stop: threading.Event | None = None,
    timing: WatchTiming = WatchTiming(),
    make_models=None,
) -> WatchSummary:
    """Process what is in the inbox, then every new recording, until `stop` is set.

    With `settings.workers` > 1, audio recordings ready together are analyzed in that many worker processes
    (pool.py; kept for the whole watch, each with models from `make_models(settings)`, default `Models`),
    and stored one by one as they come back; transcripts are read here."""
    if not settings.inbox.is_dir():
        raise PitchlabError(f"inbox {settings.inbox} does not exist: create it, then run `pitchlab watch` again")
    stop = stop or threading.Event()
    models = models or Models(settings)
    if any(path.suffix.lower() in AUDIO_EXTENSIONS for path, _rel in ingest.candidates(settings.inbox)):
        models.transcriber  # a model that cannot load is a one-line error now, not at the first new recording
    loop = _Loop(settings, models, stop, timing)
    if settings.workers > 1:
        from pipeline import pool, worker

        loop.pool = pool.Pool(settings, make_models=make_models or worker.default_models)
    wake = threading.Event()
    observer = _start_observer(settings.inbox, wake)
    log.info("watching %s (database %s); Ctrl-C to stop", settings.inbox, settings.db)
    try:
        loop.start()
        while not stop.is_set():
            loop.step()
            if wake.wait(timing.poll_s if not loop.busy else 0):
                wake.clear()
        loop.finish()
    except Stopped:
        pass
    finally:
        if loop.pool is not None:
            loop.pool.close()
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
    return WatchSummary(processed=loop.processed, failed=loop.failed)


class _Loop:
    """The watcher's memory between scans: file signatures, hashes, what is done."""

    def __init__(self, settings: Settings, models: Models, stop: threading.Event, timing: WatchTiming):
        self.settings, self.models, self.stop, self.timing = settings, models, stop, timing
        self.seen: dict[str, tuple[tuple[int, int], float]] = {}  # rel -> (size, mtime_ns), since
        self.hashes: dict[str, tuple[tuple[int, int], str]] = {}  # rel -> (size, mtime_ns), sha256
        self.known: set[str] = set()
        self.failed_hashes: set[str] = set()
        self.forgotten: set[str] = set()  # `pitchlab forget`: skipped, with one log line per file
        self.told_forgotten: set[str] = set()
        self.rep_prints: dict = {}  # enrolled reps' voice prints, re-read with what is known
        self.synced_at = float("-inf")
        self.outcome_signature: tuple = ()
        self.csv_rows: dict[str, Outcome] = {}  # the last outcomes CSV that could be read
        self.warned: set[str] = set()
        self.unclustered_since: float | None = None
        self.last_write = 0.0
        self.processed = self.failed = 0
        self.busy = False  # more ready work than one step did
        self.pool = None  # worker processes (settings.workers > 1), or None: everything in this process

    def start(self) -> None:
        """Bring the schema up to date; finish the clustering a killed run may have left undone."""
        with self.holding() as con:
            unclustered = con.execute("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'").fetchone()[0]
        if unclustered:
            self.unclustered_since = self.last_write = time.monotonic() - self.timing.debounce_s

    def finish(self) -> None:
        """On a clean stop, refresh the clusters now rather than at the next start."""
        if self.unclustered_since is None:
            return
        try:
            with db.opened(self.settings.db) as con:
                log.info("clusters: %s", _refresh(con, self.models, self.settings))
        except DatabaseBusy:
            log.warning("database busy: the clusters will be refreshed at the next start")

    def step(self) -> None:
        ready = self.ready_recordings()
        pending = [r for r in ready if r.call_id not in self.known and r.call_id not in self.forgotten]
        stale = time.monotonic() - self.synced_at > self.timing.resync_s
        if pending and (stale or any(r.call_id not in self.failed_hashes for r in pending)):
            self.sync()  # what other processes stored, and failures forgotten by `pitchlab retry`
        for rec in ready:
            if rec.call_id in self.forgotten and rec.source_file not in self.told_forgotten:
                log.warning("%s: skipped, it was forgotten (pitchlab forget); remove it from the inbox",
                            rec.source_file)
                self.told_forgotten.add(rec.source_file)
        todo = new_recordings(ready, self.known | self.failed_hashes | self.forgotten)
        labels = self._labels(ready) if todo else {}  # a sidecar may map the stereo channels, name the rep
        self.busy = False
        elsewhere = [r for r in todo if r.source_kind != TRANSCRIPT] if self.pool is not None else []
        for rec in todo:
            if self.stop.is_set():
                return
            if rec not in elsewhere:
                self.process(rec, labels.get(rec.call_id))
                self.busy = True  # rescan before idling: more files may have arrived
        if elsewhere:
            self.busy = True
            log.info("analyzing %d recordings in %d worker processes", len(elsewhere), self.pool.size)
            for results in self.pool.process(elsewhere, labels=labels, rep_prints=self.rep_prints):
                for result in results:
                    self.store(result.recording, result)
                if self.stop.is_set():  # what the workers are on is left: read again at the next start
                    return
        if not self.busy:
            self.refresh(ready)

    def ready_recordings(self) -> list[Recording]:
        """Recordings whose size and mtime have stood still for `settle_s`."""
        now, wall = time.monotonic(), time.time()
        ready, present = [], set()
        for path, rel in ingest.candidates(self.settings.inbox):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            present.add(rel)
            signature = (st.st_size, st.st_mtime_ns)
            previous = self.seen.get(rel)
            if previous is None or previous[0] != signature:
                self.seen[rel] = (signature, now)
                if previous is None and wall - st.st_mtime_ns / 1e9 < self.timing.settle_s:
                    log.info("%s: waiting until it stops changing", rel)
                continue
            quiet_wall = wall - st.st_mtime_ns / 1e9 >= self.timing.settle_s
            if not quiet_wall and now - previous[1] < self.timing.settle_s:
                continue
            if self.hashes.get(rel, (None,))[0] != signature:
                try:
                    self.hashes[rel] = (signature, ingest.sha256_of(path))
                except FileNotFoundError:
                    continue
                except OSError as exc:  # e.g. no read permission: skipped until it changes
                    self._warn_once(f"{rel}: not readable ({exc.strerror or exc}); skipped")
                    continue
            ready.append(Recording(path=path, source_file=rel, call_id=self.hashes[rel][1], size_bytes=st.st_size))
        for rel in set(self.seen) - present:
            del self.seen[rel]
            self.hashes.pop(rel, None)
        return ready

    def process(self, rec: Recording, label: Outcome | None) -> None:
        log.info("analyzing %s", rec.source_file)
        self.store(rec, process_recording(rec, self.models, self.settings, label=label, rep_prints=self.rep_prints))

    def store(self, rec: Recording, result) -> None:
        """A processed recording into the database, unless it changed, was stored or forgotten meanwhile."""
        if not _unchanged(rec):
            log.info("%s changed while it was analyzed; it will be read again", rec.source_file)
            return
        with self.holding() as con:
            if rec.call_id in store.known_call_ids(con):  # another process stored it meanwhile
                self.known.add(rec.call_id)
                return
            if rec.call_id in store.forgotten_hashes(con):  # `pitchlab forget` ran meanwhile
                self.forgotten.add(rec.call_id)
                log.warning("%s: not stored, it was forgotten (pitchlab forget) while it was analyzed",
                            rec.source_file)
                return
            result = save(con, result)
        if result.call is not None:
            self.known.add(rec.call_id)
            self.processed += 1
            self.unclustered_since = self.unclustered_since or time.monotonic()
            self.last_write = time.monotonic()
            log.info("stored %s (%.0f s, %d pitch phrases)", rec.source_file,
                     result.call.info.duration_s or 0.0,  # None for a transcript without times
                     sum(p.kind == "pitch" for p in result.call.phrases))
        elif result.error is not None:
            self.failed_hashes.add(rec.call_id)
            self.failed += 1

    def refresh(self, ready: list[Recording]) -> None:
        """Outcomes when their files changed; clusters once the inbox has been quiet (debounced)."""
        now = time.monotonic()
        due = self.unclustered_since is not None and (
            now - self.last_write >= self.timing.debounce_s
            or now - self.unclustered_since >= self.timing.max_stale_s
        )
        signature = self._outcome_signature(ready)
        if not due and signature == self.outcome_signature:
            return
        labels = self._labels(ready) if signature != self.outcome_signature else None
        if not due and not labels:
            self.outcome_signature = signature
            return
        with self.holding() as con:
            if labels:
                log.info("outcomes applied to %d calls", store.apply_outcomes(con, labels))
            if due:
                log.info("clusters: %s", _refresh(con, self.models, self.settings))
                self.unclustered_since = None
        self.outcome_signature = signature

    def _outcome_signature(self, ready: list[Recording]) -> tuple:
        """Changes when the outcomes CSV, a sidecar, or the set of stored calls changes."""
        files = [self.settings.outcomes] if self.settings.outcomes else []
        files += [p for r in ready if (p := outcomes.sidecar_path(r)) is not None]
        stats = []
        for path in files:
            try:
                st = path.stat()
                stats.append((str(path), st.st_size, st.st_mtime_ns))
            except OSError:
                stats.append((str(path), None, None))
        return (tuple(stats), frozenset(r.call_id for r in ready if r.call_id in self.known))

    def _labels(self, ready: list[Recording]) -> dict[str, Outcome]:
        """Labels of the ready recordings; an unusable sidecar or CSV row is logged, not a stop."""
        return outcomes.resolve(ready, self._csv_rows(), warn=self._warn_once, strict=False)

    def _csv_rows(self) -> dict[str, Outcome]:
        """The outcomes CSV's rows; while it cannot be read (mid-save, a bad row), the last good ones."""
        path = self.settings.outcomes
        if path is None or not path.exists():
            self.csv_rows = {}
            return self.csv_rows
        try:
            self.csv_rows = outcomes.load_csv(path, warn=self._warn_once)
        except PitchlabError as exc:
            self._warn_once(f"outcomes not updated: {exc}; keeping the last good outcomes "
                            f"({len(self.csv_rows)} rows)")
        return self.csv_rows

    def _warn_once(self, message: str) -> None:
        """Log a warning the first time it comes up (outcomes are re-read after every stored call)."""
        if message not in self.warned:
            self.warned.add(message)
            log.warning("%s", message)

    def sync(self) -> None:
        with self.holding(read_only=True) as con:
            self.known = store.known_call_ids(con)
            self.failed_hashes = store.failed_hashes(con)
            self.forgotten = store.forgotten_hashes(con)
            self.rep_prints = reps.load(con)
        self.synced_at = time.monotonic()

    @contextmanager
    def holding(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The database, opened only for this short write; waits while another process holds it."""
        waited = False
        while True:
            try:
                con = db.connect(self.settings.db, read_only=read_only)
                break
            except DatabaseBusy as exc:
                if not waited:
                    log.warning("waiting for the database: %s; retrying every %g s", exc, self.timing.busy_retry_s)
                    waited = True
                if self.stop.wait(self.timing.busy_retry_s):
                    raise Stopped from exc
        if waited:
            log.warning("database free again; continuing")
        try:
            yield con
        finally:
            con.close()


def _unchanged(rec: Recording) -> bool:
    try:
        return rec.path.stat().st_size == rec.size_bytes and ingest.sha256_of(rec.path) == rec.call_id
    except OSError:  # gone, or no longer readable: read again once it can be
        return False


def _start_observer(inbox: Path, wake: threading.Event):
    """watchdog events on the inbox (recursive) just wake the loop; None if they are unavailable."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event):
                wake.set()

        observer = Observer()
        observer.schedule(Wake(), str(inbox), recursive=True)
        observer.start()
        return observer
    except Exception as exc:  # e.g. inotify watch limit reached: polling still works
        log.warning("no filesystem events for %s (%s); polling every few seconds instead", inbox, exc)
        return None
