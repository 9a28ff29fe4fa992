"""Clustering at scale: fitting (named fitters) and assigning a new batch in SQL."""

from __future__ import annotations

import time

import numpy as np

from pipeline import cluster, db

from .common import median, peak_rss_mb
from .synthetic import fill_clusters, fill_phrases, vectors

# Named fitting paths over an (n, 384) array; issue 5 adds an SQL path here.
FITTERS = {
    "numpy": lambda x: cluster.fit(x),
}

NEW_BATCH = 1000
NEW_TEXT = "a new pitch phrase"


def fit(*, n: int, fitter: str) -> dict:
    x = vectors(n)
    start = time.perf_counter()
    result = FITTERS[fitter](x)
    seconds = time.perf_counter() - start
    return {"n": n, "fitter": fitter, "fit_s": seconds, "k": int(len(result.centroids)),
            "silhouette": float(result.silhouette), "peak_rss_mb": peak_rss_mb()}


def kmeans_start(*, n: int, k: int = cluster.MAX_K) -> dict:
    """One k-means++ start at one k: cluster.fit runs 4 of these for every k in 2..20."""
    x = vectors(n).astype(np.float64)
    start = time.perf_counter()
    cluster.kmeans(x, k, n_init=1)
    seconds = time.perf_counter() - start
    runs = 4 * (cluster.MAX_K - 1)
    return {"n": n, "k": k, "one_start_s": seconds, "starts_in_fit": runs, "peak_rss_mb": peak_rss_mb()}


def assign(*, n: int, repeats: int = 3) -> dict:
    """n clustered phrases in the database, then a batch of NEW_BATCH new ones assigned in SQL
    (the batch is unassigned again between repeats; the median is reported)."""
    con = db.connect(":memory:")
    fill_clusters(con)
    start = time.perf_counter()
    fill_phrases(con, n=n, clustered=True)
    fill_phrases(con, n=NEW_BATCH, first=n, clustered=False, text=NEW_TEXT)
    build_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        con.execute(f"UPDATE pitch_phrases SET cluster_id = NULL WHERE text = '{NEW_TEXT}'")
        start = time.perf_counter()
        assigned = cluster.assign_new(con)
        times.append(time.perf_counter() - start)
    seconds = median(times)
    left = con.execute("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'").fetchone()[0]
    con.close()
    return {"n": n, "assigned": assigned, "unassigned_after": left, "assign_s": seconds,
            "build_s": build_s, "peak_rss_mb": peak_rss_mb()}
