"""Re-assigning every stored pitch phrase to the declared descriptors after they change (`descriptors.reassign`)."""

from __future__ import annotations

import time

import numpy as np

from pipeline.analysis import descriptors
from pipeline.storage import db

from .common import median, peak_rss_mb
from .synthetic import DIM, centroids, fill_clusters, fill_phrases

DESCRIPTORS = 6
EXAMPLES = 3


def _examples(con, d: int, c: np.ndarray, rng) -> None:
    for e in range(EXAMPLES):
        v = c + 0.3 * rng.normal(size=DIM) * np.linalg.norm(c) / np.sqrt(DIM)
        con.execute("INSERT INTO descriptor_examples VALUES (?, ?, ?)",
                    [d, f"example {d}.{e}", (v / np.linalg.norm(v)).astype(np.float32).tolist()])


def reassign(*, n: int, repeats: int = 3) -> dict:
    """n clustered phrases; DESCRIPTORS declared descriptors of EXAMPLES example lines each (near the first
    synthetic centroids) re-assign every phrase in SQL, in one transaction: first all of them at once
    (`first_s`), then, `repeats` times, one descriptor's examples replaced (`change_s`, the median). `*_cpu_s`:
    the process's CPU seconds (all DuckDB threads), which a busy shared machine inflates less than wall time."""
    con = db.connect(":memory:")
    fill_clusters(con)
    start = time.perf_counter()
    fill_phrases(con, n=n, clustered=True)
    build_s = time.perf_counter() - start
    rng = np.random.default_rng(1)
    tops = centroids()[:DESCRIPTORS]
    for d, c in enumerate(tops, start=1):
        con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) VALUES (?, ?, 'declared', ?)",
                    [d, f"benefit {d}", [f"example {d}.{e}" for e in range(EXAMPLES)]])
        _examples(con, d, c, rng)
    start, cpu = time.perf_counter(), time.process_time()
    descriptors.reassign(con)
    first_s, first_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    times, cpus = [], []
    for r in range(repeats):
        d = 1 + r % DESCRIPTORS
        with db.transaction(con):  # what `declare` does for a descriptor whose examples changed
            con.execute("DELETE FROM descriptor_examples WHERE descriptor_id = ?", [d])
            con.execute("DELETE FROM phrase_similarities WHERE descriptor_id = ?", [d])
            _examples(con, d, tops[d - 1], rng)
            start, cpu = time.perf_counter(), time.process_time()
            descriptors.reassign(con, in_transaction=True)
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    methods = dict(con.execute("SELECT descriptor_method, count(*) FROM pitch_phrases GROUP BY 1").fetchall())
    con.close()
    return {"n": n, "descriptors": DESCRIPTORS, "examples": DESCRIPTORS * EXAMPLES, "first_s": first_s,
            "first_cpu_s": first_cpu_s, "change_s": median(times), "change_cpu_s": median(cpus), "build_s": build_s, "methods": methods, "peak_rss_mb": peak_rss_mb()}
