"""Fake models for worker processes (Ray actors, pipeline/pool.py), importable by name in a worker process
(tests/ is on its PYTHONPATH, or on sys.path, which a spawned process inherits)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeModels, ScriptTranscriber, words

REP_SCRIPT = words("Hi, this is Dana from Clipcast. You see exactly who watched your video.", 0.0, segment=0) \
    + words("Every view syncs into Salesforce automatically.", 8.0, segment=1)
PROSPECT_SCRIPT = words("Oh nice, how does that work?", 5.0, segment=0) + words("We already have a CRM.", 12.0, segment=1)


def fake_models(settings=None) -> FakeModels:
    """The fakes tests/test_analyze.py uses: a stereo call's left channel is the rep, the right the prospect."""
    return FakeModels(ScriptTranscriber([REP_SCRIPT, PROSPECT_SCRIPT]))


class CrashOnce(ScriptTranscriber):
    """Kills its own worker process the first time any worker transcribes (the marker file is then written)."""

    def __init__(self, marker: Path):
        super().__init__([REP_SCRIPT, PROSPECT_SCRIPT])
        self.marker = marker

    def words(self, audio):
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)  # the actor dies mid-recording, as a killed worker would
        return super().words(audio)


class Broken(ScriptTranscriber):
    def words(self, audio):
        raise ValueError("the decoder choked")


class CrashingModels:
    """make_models: fakes whose transcriber kills its worker once (marker absent)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __call__(self, settings):
        return FakeModels(CrashOnce(self.marker))


def broken_models(settings):
    return FakeModels(Broken([]))


class CrashAlways(ScriptTranscriber):
    def words(self, audio):
        os._exit(1)  # every worker that transcribes dies


def crashing_always_models(settings):
    return FakeModels(CrashAlways([]))


class NoModel:
    """make_models whose Whisper cannot load: a set-up error, not one recording's."""

    def __init__(self, settings):
        pass

    @property
    def transcriber(self):
        from pipeline.core.errors import ModelError

        raise ModelError("model folder /nowhere has no model.bin: give a folder holding a faster-whisper model")


class Slow(ScriptTranscriber):
    """Writes its worker's pid into `folder`, then transcribes for a minute (a worker to kill mid-recording)."""

    def __init__(self, folder: Path):
        super().__init__([REP_SCRIPT, PROSPECT_SCRIPT])
        self.folder = folder

    def words(self, audio):
        (self.folder / str(os.getpid())).write_text("")
        import time

        time.sleep(60)
        return super().words(audio)


class SlowModels:
    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, settings):
        return FakeModels(Slow(self.folder))


def threads_seen() -> tuple[str | None, int]:
    """In a worker: OMP_NUM_THREADS and torch's intra-op threads."""
    import torch

    return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()
