"""The audio half in worker processes on this machine: the local twin of `ray_engine`.

`--workers N` starts N processes (spawned, never forked: the driver may hold torch and DuckDB),
each with its own models, loaded once, and `cpu_threads` threads for Whisper and torch alike.
Each runs `process.process_recording` on recordings it reads by path and sends back the frozen
`Processed`; the driver, the only process that writes the DuckDB file, stores them as they arrive.
Without `--workers 2` or more none of this runs.

Faults: a worker that dies (killed, out of memory) breaks the whole pool (`BrokenProcessPool`);
the recordings not yet back are given to a fresh pool once (`RESTARTS`), so nothing is lost and,
each result being taken once, nothing is stored twice. If that pool breaks too, each of them
becomes its `ingest_errors` row (`pitchlab retry` tries it again). Workers ignore Ctrl-C (the
driver stops them) and die with the driver (Linux: `PR_SET_PDEATHSIG`), even a killed one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Callable, Iterator, Sequence

from pipeline.core.errors import PitchlabError
from pipeline.core.records import Outcome, Recording
from pipeline.core.settings import Settings
from pipeline.core.terminal import log_to_stderr
from pipeline.worker import Worker, default_models, limit_threads

log = logging.getLogger(__name__)

RESTARTS = 1  # a pool that breaks is started again once; recordings lost to a second break become ingest errors
START_METHOD = "spawn"  # a fresh interpreter: never a fork of a process that holds torch, CTranslate2 or DuckDB
WORKER_MODELS = ("transcriber", "voice_encoder", "embedder", "kinds", "scorer", "splitter")  # loaded at start

_worker: Worker | None = None  # this worker process's models


class Pool:
    """Worker processes, started on first use and kept until `close` (a `with` block closes them)."""

    def __init__(self, settings: Settings, *, workers: int | None = None,
                 make_models: Callable[[Settings], object] = default_models):
        self.settings = replace(settings, progress=False)  # a worker draws no bar: the driver's counts calls
        self.size = max(1, workers or settings.workers)
        self.make_models = make_models
        self.restarts_left = RESTARTS
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(now=exc_type is not None)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            log.info("starting %d worker processes of %d threads", self.size, self.settings.cpu_threads)
            self._executor = ProcessPoolExecutor(
                max_workers=self.size, mp_context=multiprocessing.get_context(START_METHOD),
                initializer=_start_worker,
                initargs=(self.settings, self.make_models, os.getpid(), logging.getLogger("pipeline").getEffectiveLevel()))
        return self._executor

    def close(self, now: bool = True) -> None:
        """Stop the workers now, mid-recording too (what they were on is not stored), and wait for them to end;
        `now=False`: let them finish what they were given and end on their own (all results are in)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not now:
            executor.shutdown(wait=True)
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()

    def process(self, recordings: Sequence[Recording], *, labels: dict[str, Outcome],
                rep_prints: dict | None = None) -> Iterator[list]:
        """Hand `recordings` to the workers now; the iterator returned yields lists of `Processed` as they come
        back (in the order they finish). A set-up error in a worker (a model that cannot load) is raised there,
        one line."""
        pending: dict[Future, Recording] = {}
        self.restarts_left = RESTARTS  # per batch (a watch hands out many)
        self._submit(pending, recordings, labels, rep_prints)  # workers start in this directory: paths hold
        return self._collect(pending, labels, rep_prints)

    def _submit(self, pending: dict, recordings: Sequence[Recording], labels: dict, rep_prints: dict | None) -> None:
        pool = self._pool()
        for rec in recordings:
            pending[pool.submit(_analyze, rec, labels.get(rec.call_id), rep_prints)] = rec

    def _collect(self, pending: dict[Future, Recording], labels: dict, rep_prints: dict | None) -> Iterator[list]:
        from pipeline.process import Processed

        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                out, lost = [], []
                for future in done:
                    self._take(pending, future, out, lost)
                if lost:  # every recording still out is lost with the pool: collect them all
                    for future in wait(pending).done:
                        self._take(pending, future, out, lost)
                    self.close()
                    if self.restarts_left > 0:
                        self.restarts_left -= 1
                        log.warning("a worker process died; %d recordings go to fresh workers", len(lost))
                        self._submit(pending, lost, labels, rep_prints)
                    else:
                        out += [Processed(rec, error="its worker process died twice (killed, or out of memory?): "
                                          "`pitchlab retry` tries it again, --workers 1 analyzes it in one process")
                                for rec in lost]
                if out:
                    yield out
        finally:
            for future in pending:
                future.cancel()
            if pending:  # stopped early (Ctrl-C, a set-up error, the consumer gone): stop what is running too
                self.close()

    @staticmethod
    def _take(pending: dict[Future, Recording], future: Future, out: list, lost: list) -> None:
        rec = pending.pop(future)
        try:
            out.append(future.result())
        except BrokenProcessPool:
            lost.append(rec)


def _start_worker(settings: Settings, make_models: Callable[[Settings], object], parent: int, log_level: int) -> None:
    """A worker process's start: die with the driver, leave Ctrl-C to it, its threads, its models loaded."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the driver stops us
    _die_with(parent)
    log_to_stderr(log_level)  # a file's warning (or, with -v, each step) as the CLI logs it
    limit_threads(settings.cpu_threads)
    _worker = Worker(settings, make_models)
    for name in WORKER_MODELS:  # loaded now, beside the other workers; one that fails fails again when used,
        try:  # where `process_recording` turns it into the set-up error it is
            getattr(_worker.models, name)
        except Exception:
            break
    limit_threads(settings.cpu_threads)  # torch is loaded now


def _analyze(recording: Recording, label: Outcome | None, rep_prints: dict | None):
    """One recording in a worker. What escapes `process_recording` is a set-up error: sent back as one line."""
    try:
        return _worker.process(recording, label, rep_prints)
    except PitchlabError as exc:
        raise type(exc)(str(exc)) from None  # no traceback to pickle
    except Exception as exc:
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise PitchlabError(f"a worker process could not analyze {recording.source_file} "
                            f"({type(exc).__name__}: {text})") from None


def _die_with(parent: int) -> None:
    """Ask Linux to SIGTERM this process when the driver ends, however it ends (elsewhere: nothing)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the driver ended before we asked
        os._exit(0)
