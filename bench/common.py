"""Shared helpers: timing, peak memory, machine description, subprocess runner."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
DEMO_TRUTH = ROOT / "data" / "demo_truth.json"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stopwatch:
    """Accumulates seconds under named keys."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, key: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(key, time.perf_counter() - start)

    def add(self, key: str, seconds: float) -> None:
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def wrap(self, key: str, fn):
        def timed(*args, **kwargs):
            with self.time(key):
                return fn(*args, **kwargs)

        return timed


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def run_child(name: str, params: dict, *, timeout_s: float | None = None) -> dict:
    """Run one measurement in a fresh interpreter; returns its JSON result (with peak_rss_mb)."""
    params = dict(params)
    root = Path(params.pop("checkout", ROOT))  # another checkout measures itself with its own bench code
    env = dict(os.environ, PYTHONPATH=str(root), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-m", "bench.child", name, json.dumps(params)]
    proc = subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"measurement {name} {params} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    versions = {}
    for pkg in ("faster-whisper", "ctranslate2", "duckdb", "numpy", "torch", "sentence-transformers", "spacy"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "gpu": "none used",
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": versions,
        "commit": commit,
    }
