"""The demo calls analyzed locally and on a local Ray cluster with 1 and 2 workers, side by side.

Each run is a fresh database and includes model loading (a Ray worker loads its own models, so
that is part of what Ray costs); the local run uses one thread like each Ray worker, so the
ratios show what fanning out buys. The per-call figures feed BENCHMARKS.md's projection.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pipeline import analyze as analyze_mod
from pipeline.core.settings import Settings
from pipeline.storage import db

from .common import peak_rss_mb
from .corpus import make_corpus


def _run(settings: Settings) -> dict:
    start = time.perf_counter()
    summary = analyze_mod.analyze(settings)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "audio_s": summary.audio_s, "processed": summary.processed,
            "failed": len(summary.failed)}


def ray_vs_local(*, calls: int = 28, workers: tuple[int, ...] = (1, 2)) -> dict:
    """Wall time of `calls` demo calls: local (1 thread), then Ray with each worker count (1 thread each)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    out: dict = {"calls": calls, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        make_corpus(inbox, calls)
        base = dict(inbox=inbox, progress=False, cpu_threads=1)
        out["runs"]["local"] = _run(Settings(db=Path(tmp) / "local.duckdb", **base))
        start = time.perf_counter()
        ray.init(num_cpus=max(workers), include_dashboard=False, log_to_driver=False)
        out["ray_start_s"] = time.perf_counter() - start
        try:
            for n in workers:
                out["runs"][f"ray_{n}"] = _run(Settings(db=Path(tmp) / f"ray{n}.duckdb", engine="ray",
                                                        ray_workers=n, **base))
        finally:
            ray.shutdown()
        with db.opened(Path(tmp) / "local.duckdb", read_only=True) as con:
            out["phrases"] = con.execute("SELECT count(*) FROM pitch_phrases").fetchone()[0]
    local = out["runs"]["local"]["wall_s"]
    for n in workers:
        r = out["runs"][f"ray_{n}"]
        r["speedup_vs_local"] = local / r["wall_s"]
        r["overhead_per_call_s"] = (r["wall_s"] * n - local) / calls  # worker-seconds beyond the local run's
    out["peak_rss_mb"] = peak_rss_mb()
    return out
