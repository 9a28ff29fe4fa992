"""Clustering at scale: fitting (named fitters) and assigning a new batch in SQL."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.analysis import cluster, cluster_sql, wordings
from pipeline.storage import db, store

from .common import median, peak_rss_mb
from . import synthetic
from .synthetic import fill_clusters, fill_phrases, vectors

# Named fitting paths over an (n, 384) array (the SQL k-means is compared at fixed k in fit_engines).
FITTERS = {
    "numpy": lambda x: cluster.fit(x),
    "wordings": lambda x: wordings.fit(x),  # what `cluster.refit` runs: wording clusters by a cosine threshold
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


def fit_engines(*, n: int, k: int = synthetic.STORED_CLUSTERS, iterations: int = cluster.FINAL_ITERATIONS,
                repeats: int = 3, new: int = NEW_BATCH, sql: bool = True) -> dict:
    """The same k-means (k, initial centroids, iteration cap) over n phrases stored in a DuckDB file, fitted
    by numpy (vectors read from DuckDB, then `cluster.kmeans`) and in SQL (`cluster_sql.kmeans`), runs
    alternating, medians reported; then a batch of `new` phrases assigned to the fitted centroids both ways.
    `sql=False` fits in numpy only (for sizes where the SQL fit would take too long)."""
    with tempfile.TemporaryDirectory() as tmp:
        con = db.connect(Path(tmp) / "fit.duckdb")
        start = time.perf_counter()
        insert_vectors(con, vectors(n), prefix="p")
        build_s = time.perf_counter() - start
        init = cluster._kmeanspp(read_vectors(con), k, np.random.default_rng(0))
        runs: dict[str, list[dict]] = {"numpy": [], "sql": []}
        for _ in range(repeats):
            start = time.perf_counter()
            x = read_vectors(con)
            read_s = time.perf_counter() - start
            labels, centroids, _ = cluster.kmeans(x, k, init=init, iterations=iterations)
            runs["numpy"].append({"read_s": read_s, "total_s": time.perf_counter() - start})
            del x
            if sql:
                start = time.perf_counter()
                sql_labels, _, _ = cluster_sql.kmeans(con, init, iterations=iterations)
                runs["sql"].append({"total_s": time.perf_counter() - start})
        same = float((labels == sql_labels).mean()) if sql else None
        store_fit(con, labels, centroids)
        insert_vectors(con, vectors(new, seed=1), prefix="q")
        assign = {"numpy": [], "sql": []}
        for _ in range(repeats):
            for engine, assign_new in (("numpy", assign_new_numpy), ("sql", cluster.assign_new)):
                con.execute("UPDATE pitch_phrases SET cluster_id = NULL WHERE phrase_id LIKE 'q%'")
                start = time.perf_counter()
                assign_new(con)
                assign[engine].append(time.perf_counter() - start)
                assign[engine + "_labels"] = con.execute(
                    "SELECT cluster_id FROM pitch_phrases WHERE phrase_id LIKE 'q%' ORDER BY phrase_id").fetchall()
        con.close()
    return {
        "n": n, "k": k, "iterations_cap": iterations, "repeats": repeats, "build_s": build_s,
        "numpy_read_s": median([r["read_s"] for r in runs["numpy"]]),
        "numpy_s": median([r["total_s"] for r in runs["numpy"]]),
        "sql_s": median([r["total_s"] for r in runs["sql"]]) if sql else None,
        "same_labels": same,
        "new": new, "assign_numpy_s": median(assign["numpy"]), "assign_sql_s": median(assign["sql"]),
        "assign_same": assign["numpy_labels"] == assign["sql_labels"],
        "peak_rss_mb": peak_rss_mb(),
    }


def insert_vectors(con, x: np.ndarray, *, prefix: str) -> None:
    """Rows of x as pitch phrases `{prefix}000000...` in row order (DuckDB scans the dict of columns)."""
    cols = {f"d{j}": np.ascontiguousarray(x[:, j], dtype=np.float32) for j in range(x.shape[1])}  # noqa: F841
    vector = ", ".join(f"d{j}" for j in range(x.shape[1]))
    con.execute(
        f"INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence, embedding)"
        f" SELECT printf('{prefix}%09d', row_number() OVER () - 1), 'c', 0, 0, 1, 'a synthetic pitch phrase', 'pitch', '',"
        f" [{vector}]::FLOAT[{x.shape[1]}] FROM cols"
    )


def read_vectors(con, where: str = "TRUE") -> np.ndarray:
    """Unit-length float64 vectors of the pitch phrases in phrase_id order, as numpy needs them."""
    rows = con.execute(f"SELECT embedding FROM pitch_phrases WHERE kind = 'pitch' AND {where} ORDER BY phrase_id")
    column = rows.fetchnumpy()["embedding"]
    return cluster._unit(np.stack(column).astype(np.float64)) if len(column) else np.zeros((0, synthetic.DIM))


def store_fit(con, labels: np.ndarray, centroids: np.ndarray) -> None:
    """The fit as clusters 1..k and every stored phrase's cluster_id."""
    con.executemany(
        f"INSERT INTO clusters (cluster_id, label, size, example, centroid) VALUES (?, ?, 0, '', ?::FLOAT[{synthetic.DIM}])",
        [[c + 1, f"cluster {c + 1}", store.vector_literal(v)] for c, v in enumerate(centroids)])
    ids = [r[0] for r in con.execute("SELECT phrase_id FROM pitch_phrases WHERE kind = 'pitch' ORDER BY phrase_id").fetchall()]
    con.execute("UPDATE pitch_phrases SET cluster_id = a.c FROM (SELECT unnest(?) AS id, unnest(?) AS c) a "
                "WHERE pitch_phrases.phrase_id = a.id", [ids, (labels + 1).tolist()])


def assign_new_numpy(con) -> int:
    """`cluster.assign_new` done in numpy: read the unassigned phrases and the centroids, argmax, write back."""
    ids = [r[0] for r in con.execute("SELECT phrase_id FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch' "
                                     "ORDER BY phrase_id").fetchall()]
    x = read_vectors(con, "cluster_id IS NULL")
    rows = con.execute("SELECT cluster_id, centroid FROM clusters WHERE cluster_id <> ? ORDER BY cluster_id",
                       [cluster.UNCLUSTERED_ID]).fetchall()
    centroids = cluster._unit(np.array([r[1] for r in rows], dtype=np.float64))
    sims = x @ centroids.T
    best = np.where(sims.max(axis=1) >= cluster.UNCLUSTERED_BELOW,
                    np.array([r[0] for r in rows])[sims.argmax(axis=1)], cluster.UNCLUSTERED_ID)
    with db.transaction(con):
        con.execute("UPDATE pitch_phrases SET cluster_id = a.c FROM (SELECT unnest(?) AS id, unnest(?) AS c) a "
                    "WHERE pitch_phrases.phrase_id = a.id", [ids, best.tolist()])
        cluster._refresh_sizes(con)
    return len(ids)
