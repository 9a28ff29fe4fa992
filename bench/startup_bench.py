"""Start-up: from `pitchlab analyze` to the first stored call of a one-call inbox, with its parts; how long
`pitchlab leaderboard` takes on the demo database; one Whisper process with two threads against two with one each.

Each `pitchlab` here is a fresh interpreter (`bench/startup_probe.py` runs the real CLI, noting when each model
loaded and when the first call was stored), so imports are counted as a user meets them. `root` runs another
checkout of Pitchlab (e.g. `git worktree add /tmp/base main`) in the same run, for a before/after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import DEMO, ROOT, median

PROBE = Path(__file__).resolve().parent / "startup_probe.py"


def _env(root: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(root), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def startup(*, root: str = "", call: str = "call_01.wav", runs: int = 3, warm_cache: bool = True) -> dict:
    """`pitchlab analyze` on a one-call inbox into an empty database, `runs` times (median).

    `warm_cache`: a run first fills the models folder's caches (the scorers' examples), as any earlier
    analyze would have; otherwise every run starts from an empty models folder.
    """
    root_path = Path(root) if root else ROOT
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        shutil.copyfile(DEMO / call, inbox / call)
        models_dir = Path(tmp) / "models"
        if warm_cache:
            _probe(root_path, inbox, Path(tmp) / "warm.duckdb", models_dir)
        results = []
        for k in range(runs):
            if not warm_cache:
                shutil.rmtree(models_dir, ignore_errors=True)
            results.append(_probe(root_path, inbox, Path(tmp) / f"run{k}.duckdb", models_dir))
    keys = sorted({k for r in results for k in r})
    return {"root": str(root_path), "commit": _commit(root_path), "call": call, "warm_cache": warm_cache,
            "runs": results, "median": {k: median([r[k] for r in results if k in r]) for k in keys}}


def _probe(root: Path, inbox: Path, db: Path, models_dir: Path) -> dict:
    env = dict(_env(root), PITCHLAB_MODELS_DIR=str(models_dir))
    started = time.time()
    proc = subprocess.run([sys.executable, str(PROBE), "analyze", "--no-progress", "--inbox", str(inbox),
                           "--db", str(db)], env=env, cwd=root, capture_output=True, text=True)
    ended = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"pitchlab analyze failed: {proc.stderr.strip().splitlines()[-1:]}")
    marks = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {"first_stored_s": marks.pop("first_stored") - started, "exit_s": ended - started,
           "interpreter_s": marks.pop("started") - started}
    out.update({k: v for k, v in marks.items()})
    return out


def _commit(root: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip()


def leaderboard(*, db: str = "", runs: int = 5) -> dict:
    """`pitchlab leaderboard` on the demo database, `runs` times: wall seconds of the whole command, interpreter
    start included. The database: `db`, else $PITCHLAB_BENCH_DEMO_DB (one `make demo` made), else built here by
    `pitchlab analyze` of the demo calls with their outcomes and descriptors."""
    db = db or os.environ.get("PITCHLAB_BENCH_DEMO_DB", "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db) if db else Path(tmp) / "demo.duckdb"
        build_s = None
        if not db:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pipeline", "analyze", "--no-progress", "--inbox", str(DEMO),
                            "--db", str(path), "--outcomes", str(DEMO / "outcomes.csv"),
                            "--descriptors", str(DEMO / "descriptors.csv")], env=_env(ROOT), cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            build_s = time.perf_counter() - t
        walls = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pipeline", "leaderboard", "--db", str(path)], env=_env(ROOT),
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t)
        with_python = []
        for _ in range(runs):  # the interpreter alone, for scale
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            with_python.append(time.perf_counter() - t)
    return {"runs": walls, "wall_s": median(walls), "python_alone_s": median(with_python), "build_s": build_s}


def whisper_threads(*, calls: int = 6, model: str = "tiny.en") -> dict:
    """The first `calls` demo calls' channels through Whisper: one process with two CTranslate2 threads, against
    two processes with one thread each, each on half the calls, at the same time. Models loaded before timing."""
    from .corpus import make_corpus

    with tempfile.TemporaryDirectory() as tmp:
        make_corpus(Path(tmp) / "inbox", calls)
        files = sorted(str(p) for p in (Path(tmp) / "inbox").iterdir() if p.suffix in (".wav", ".mp3"))
        one = _whisper_procs([files], threads=2, model=model)
        two = _whisper_procs([files[0::2], files[1::2]], threads=1, model=model)
    return {"calls": calls, "one_process_two_threads_s": one, "two_processes_one_thread_s": two}


WHISPER_WORKER = """
import json, sys, time
from pipeline.audio import ingest, transcribe
from pipeline.core.settings import Settings
from pipeline.core.records import Recording
from pathlib import Path
files, threads, model = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = transcribe.WhisperTranscriber(Settings(model=model, cpu_threads=threads))
audio = [ingest.decode(Recording(Path(f), Path(f).name, f, 0)) for f in files]
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for a in audio:
    transcribe.transcribe(a, t)
print(json.dumps(time.perf_counter() - start), flush=True)
"""


def _whisper_procs(shares: list[list[str]], *, threads: int, model: str) -> float:
    """Wall seconds from the moment every process is ready (model loaded, audio decoded) until the last finishes."""
    procs = [subprocess.Popen([sys.executable, "-c", WHISPER_WORKER, json.dumps(s), str(threads), model],
                              env=_env(ROOT), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for s in shares]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.stdout.readline()
        p.wait()
    return time.perf_counter() - start
