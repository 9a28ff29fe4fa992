"""One analysis worker in its own process (a Ray actor, or a local pool process): models built once, kept.

Shared by `ray_engine` (a Ray cluster) and `pool` (worker processes on this machine). A worker
reads each recording by path and returns a picklable frozen `Processed`; it never opens the database.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from pipeline.core.records import Outcome, Recording
from pipeline.core.settings import Settings

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_models(settings: Settings):
    from pipeline.process import Models

    return Models(settings)


def limit_threads(threads: int) -> None:
    """This process's math libraries (torch, OpenMP, BLAS) to `threads` threads, as Whisper's `cpu_threads`:
    two workers of one thread each on two cores then do not oversubscribe them."""
    for name in THREAD_VARIABLES:  # read when those libraries load, which is later in a fresh process
        os.environ[name] = str(threads)
    if "torch" in sys.modules:  # already loaded: told directly
        sys.modules["torch"].set_num_threads(threads)


class Worker:
    """Its own models, loaded on first use and kept (as `process.Models` does in one process)."""

    def __init__(self, settings: Settings, make_models: Callable[[Settings], object]):
        self.settings = settings
        self.models = make_models(settings)

    def process(self, recording: Recording, label: Outcome | None, rep_prints: dict | None):
        from pipeline.process import process_recording

        return process_recording(recording, self.models, self.settings, label=label, rep_prints=rep_prints)
