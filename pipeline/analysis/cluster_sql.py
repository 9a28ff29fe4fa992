"""Spherical k-means fitted in DuckDB SQL over `pitch_phrases.embedding`: the measured alternative.

The same algorithm as `cluster.kmeans` from given initial centroids: assign each
phrase to the centroid of highest inner product (first one on ties, as numpy's
argmax), stop when no label changes, else move each non-empty cluster's centroid
to the unit-length mean of its phrases (an empty cluster keeps its centroid).
Everything runs in core DuckDB (no extensions) over temporary tables; only the
labels and the k centroids come back to Python.

Formulation, the fastest of those measured (docs/benchmarks.md, "SQL vs numpy fitting"):
- phrases are copied once, normalized, into a DOUBLE[384] temp table, so sums
  and similarities have numpy's float64 precision;
- assignment is one projection: the k centroids as one list value, a lambda
  takes `array_inner_product` with each, `list_position(s, list_max(s))` is the
  argmax (first on ties). No GROUP BY over phrases, so the labels table keeps
  the phrases' order and joins back by POSITIONAL JOIN (no hash join);
- the update is one GROUP BY label with one `sum(v[j])` per dimension (faster
  than unnesting 384 rows per phrase or reducing lists with a lambda).
numpy's matrix product is still several times faster (bench/, BENCHMARKS.md),
so `cluster.fit` stays on numpy.
"""

from __future__ import annotations

import duckdb
import numpy as np

DIM = 384
PHRASES = "SELECT embedding FROM pitch_phrases WHERE kind = 'pitch' ORDER BY phrase_id"
_TABLES = ("km_points", "km_centroids", "km_labels", "km_new")


def kmeans(con: duckdb.DuckDBPyConnection, init: np.ndarray, *, iterations: int = 100,
           phrases: str = PHRASES) -> tuple[np.ndarray, np.ndarray, float]:
    """k-means in SQL from the (k, 384) `init` centroids over the rows of `phrases` (a query of ours, not user
    input: one `embedding` column, in the order labels are wanted); returns (labels, centroids, inertia) like
    `cluster.kmeans`."""
    init = np.asarray(init, dtype=np.float64)
    if init.ndim != 2 or init.shape[1] != DIM or len(init) == 0:
        raise ValueError(f"init must be a (k, {DIM}) array of centroids, got shape {init.shape}")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    try:
        n = _load(con, phrases, init)
        if n == 0:
            return np.zeros(0, dtype=int), init.copy(), 0.0
        for _ in range(iterations):
            con.execute(_ASSIGN)
            if not con.execute("SELECT bool_or(changed) FROM km_new").fetchone()[0]:
                break
            con.execute("DROP TABLE km_labels")
            con.execute("ALTER TABLE km_new RENAME TO km_labels")
            con.execute(_UPDATE)
        labels = con.execute("SELECT label FROM km_labels").fetchnumpy()["label"].astype(int)
        centroids = _centroids(con)
        inertia = con.execute(
            "SELECT sum(1 - array_inner_product(p.v, c.v)) FROM km_points p POSITIONAL JOIN km_labels l "
            "JOIN km_centroids c ON c.c = l.label"
        ).fetchone()[0]
        return labels, centroids, float(inertia)
    finally:
        for table in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _load(con: duckdb.DuckDBPyConnection, phrases: str, init: np.ndarray) -> int:
    """Unit-length float64 phrases, the initial centroids as given (as numpy uses them), and labels of -1
    (so the first pass always changes)."""
    con.execute(
        f"""
        CREATE TEMP TABLE km_points AS
        SELECT list_transform(v, a -> a / CASE WHEN norm = 0 THEN 1 ELSE norm END)::DOUBLE[{DIM}] AS v
        FROM (SELECT embedding::DOUBLE[] AS v,
                     sqrt(array_inner_product(embedding::DOUBLE[{DIM}], embedding::DOUBLE[{DIM}])) AS norm
              FROM ({phrases}))
        """
    )
    con.execute(f"CREATE TEMP TABLE km_centroids (c INTEGER PRIMARY KEY, v DOUBLE[{DIM}])")
    # Centroids go in as text: exact float64 reprs, and one statement per row is cheap at k <= a few dozen.
    con.executemany(f"INSERT INTO km_centroids VALUES (?, ?::DOUBLE[{DIM}])",
                    [[c, "[" + ",".join(repr(float(a)) for a in row) + "]"] for c, row in enumerate(init)])
    con.execute("CREATE TEMP TABLE km_labels AS SELECT -1 AS label FROM km_points")
    return con.execute("SELECT count(*) FROM km_points").fetchone()[0]


# Labels are 0-based centroid numbers; the projection keeps km_points' order.
_ASSIGN = """
CREATE TEMP TABLE km_new AS
SELECT label, label <> old AS changed
FROM (SELECT list_position(s, list_max(s)) - 1 AS label, old
      FROM (SELECT list_transform(cs.vs, cv -> array_inner_product(p.v, cv)) AS s, l.label AS old
            FROM km_points p POSITIONAL JOIN km_labels l,
                 (SELECT list(v ORDER BY c) AS vs FROM km_centroids) cs))
"""

_SUMS = ", ".join(f"sum(p.v[{j + 1}])" for j in range(DIM))
_UPDATE = f"""
UPDATE km_centroids SET v = moved.v
FROM (SELECT label, list_transform(s, a -> a / CASE WHEN norm = 0 THEN 1 ELSE norm END)::DOUBLE[{DIM}] AS v
      FROM (SELECT label, s, sqrt(list_sum(list_transform(s, a -> a * a))) AS norm
            FROM (SELECT l.label, [{_SUMS}] AS s FROM km_points p POSITIONAL JOIN km_labels l GROUP BY l.label))
     ) AS moved
WHERE km_centroids.c = moved.label
"""


def _centroids(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    return np.array([r[0] for r in con.execute("SELECT v FROM km_centroids ORDER BY c").fetchall()], dtype=np.float64)
