"""Re-assigning every stored pitch phrase to the declared descriptors after they change (`descriptors.reassign`)."""

from __future__ import annotations

import time

import numpy as np

from pipeline import db, descriptors

from .common import median, peak_rss_mb
from .synthetic import DIM, centroids, fill_clusters, fill_phrases

DESCRIPTORS = 6
EXAMPLES = 3


def reassign(*, n: int, repeats: int = 3) -> dict:
    """n clustered phrases and DESCRIPTORS declared descriptors of EXAMPLES example lines each (their vectors
    near the first synthetic centroids), then every phrase re-assigned in SQL, in one transaction (median of
    `repeats`)."""
    con = db.connect(":memory:")
    fill_clusters(con)
    start = time.perf_counter()
    fill_phrases(con, n=n, clustered=True)
    build_s = time.perf_counter() - start
    rng = np.random.default_rng(1)
    for d, c in enumerate(centroids()[:DESCRIPTORS], start=1):
        con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) VALUES (?, ?, 'declared', ?)",
                    [d, f"benefit {d}", [f"example {d}.{e}" for e in range(EXAMPLES)]])
        for e in range(EXAMPLES):
            v = c + 0.3 * rng.normal(size=DIM) * np.linalg.norm(c) / np.sqrt(DIM)
            con.execute("INSERT INTO descriptor_examples VALUES (?, ?, ?)",
                        [d, f"example {d}.{e}", (v / np.linalg.norm(v)).astype(np.float32).tolist()])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        descriptors.reassign(con)
        times.append(time.perf_counter() - start)
    methods = dict(con.execute("SELECT descriptor_method, count(*) FROM pitch_phrases GROUP BY 1").fetchall())
    con.close()
    return {"n": n, "descriptors": DESCRIPTORS, "examples": DESCRIPTORS * EXAMPLES, "reassign_s": median(times),
            "build_s": build_s, "methods": methods, "peak_rss_mb": peak_rss_mb()}
