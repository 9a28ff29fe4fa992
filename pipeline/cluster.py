"""Descriptor clusters of pitch phrases (kind 'pitch'), stored in DuckDB.

The first batch fits clusters (spherical k-means on the unit-length
embeddings, k chosen by the best cosine silhouette); later batches only assign
their new phrases to the nearest stored centroid in SQL, so cluster ids users
have seen never change. Each cluster is labelled by its top descriptor terms
(class-based TF-IDF) and its most central phrase.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np

from .db import transaction

log = logging.getLogger(__name__)

MAX_K = 20
SILHOUETTE_SAMPLE = 2000
SELECT_SAMPLE = 2000  # phrases k is chosen on
FINAL_ITERATIONS = 20  # k-means passes over all phrases from the sample's centroids


@dataclass(frozen=True, eq=False)
class Fit:
    labels: np.ndarray  # cluster index per row, 0..k-1
    centroids: np.ndarray  # (k, dim), unit length
    silhouette: float


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, n_init: int = 4, iterations: int = 100,
           init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Spherical k-means with k-means++ starts (or the given `init` centroids); returns (labels, centroids, inertia)."""
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(1 if init is not None else n_init):
        centers = init.copy() if init is not None else _kmeanspp(x, k, rng)
        labels = np.full(len(x), -1)
        for _ in range(iterations):
            sims = x @ centers.T
            new = sims.argmax(axis=1)
            if (new == labels).all():
                break
            labels = new
            # each cluster's rows summed in row order, as np.add.at would (bit for bit), several times faster
            sums = np.stack([x[labels == c].sum(axis=0) for c in range(k)])
            filled = np.bincount(labels, minlength=k) > 0
            centers[filled] = _unit(sums[filled])
        inertia = float((1 - (x @ centers.T)[np.arange(len(x)), labels]).sum())
        if best is None or inertia < best[2]:
            best = (labels.copy(), centers.copy(), inertia)
    return best


def _kmeanspp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centers = [x[rng.integers(len(x))]]
    dist = 1 - x @ centers[0]
    for _ in range(1, k):
        weights = np.clip(dist, 0, None) ** 2
        idx = rng.choice(len(x), p=weights / weights.sum()) if weights.sum() > 0 else rng.integers(len(x))
        centers.append(x[idx])
        dist = np.minimum(dist, 1 - x @ x[idx])
    return np.array(centers, dtype=np.float64)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm == 0, 1, norm)


def silhouette(x: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float:
    """Mean cosine silhouette (on a fixed random sample when large)."""
    if len(x) > SILHOUETTE_SAMPLE:
        idx = np.random.default_rng(seed).choice(len(x), SILHOUETTE_SAMPLE, replace=False)
        x, labels = x[idx], labels[idx]
    dist = 1 - x @ x.T
    ks = np.unique(labels)
    if len(ks) < 2:
        return -1.0
    mean_to = np.stack([dist[:, labels == c].mean(axis=1) for c in ks], axis=1)
    sizes = np.array([(labels == c).sum() for c in ks])
    own = np.searchsorted(ks, labels)
    a = mean_to[np.arange(len(x)), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)
    mean_to[np.arange(len(x)), own] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(sizes[own] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def fit(vectors: np.ndarray, *, seed: int = 0, max_k: int = MAX_K) -> Fit:
    """Choose k in 2..max_k (at most one cluster per 3 phrases) by silhouette, then fit all phrases.

    k is chosen on a fixed random sample of at most SELECT_SAMPLE phrases (all of
    them on small data); the chosen sample centroids then seed k-means over every
    phrase, so large batches cost a few passes, not a search. Fewer than 6 phrases
    make one cluster.
    """
    x = _unit(vectors.astype(np.float64))
    if len(x) < 6:
        return Fit(np.zeros(len(x), dtype=int), _unit(x.sum(axis=0, keepdims=True)), 0.0)
    rng = np.random.default_rng(seed)
    sample = x if len(x) <= SELECT_SAMPLE else x[np.sort(rng.choice(len(x), SELECT_SAMPLE, replace=False))]
    best = None
    for k in range(2, min(max_k, len(sample) // 3) + 1):
        labels, centers, _ = kmeans(sample, k, seed=seed)
        score = silhouette(sample, labels, seed=seed)
        log.debug("k=%d silhouette=%.4f", k, score)
        if best is None or score > best.silhouette:
            best = Fit(labels, centers, score)
    if sample is x:
        return best
    labels, centers, _ = kmeans(x, len(best.centroids), init=best.centroids, iterations=FINAL_ITERATIONS)
    return Fit(labels, centers, best.silhouette)


def label_terms(cluster_terms: list[list[str]], top: int = 2) -> list[list[str]]:
    """Top terms per cluster by class-based TF-IDF: tf in the cluster * log(1 + avg terms / total tf)."""
    counts = [Counter(terms) for terms in cluster_terms]
    total = Counter()
    for c in counts:
        total.update(c)
    avg = sum(total.values()) / max(len(counts), 1)
    out = []
    for c in counts:
        scored = sorted(c, key=lambda t: (-c[t] * math.log(1 + avg / total[t]), t))
        out.append(scored[:top])
    return out


def update(con: duckdb.DuckDBPyConnection, *, seed: int = 0) -> str:
    """Fit clusters if there are none yet, else assign unclustered phrases; returns what it did."""
    has_clusters = con.execute("SELECT count(*) FROM clusters").fetchone()[0] > 0
    if not has_clusters:
        return refit(con, seed=seed)
    assigned = assign_new(con)
    return f"assigned {assigned} new phrases to existing clusters"


def assign_new(con: duckdb.DuckDBPyConnection) -> int:
    """Nearest centroid by array_cosine_similarity, in SQL; sizes refreshed."""
    with transaction(con):
        n = con.execute(
            "SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'"
        ).fetchone()[0]
        con.execute(
            """
            UPDATE pitch_phrases SET cluster_id = best.cluster_id
            FROM (
                SELECT p.phrase_id,
                       arg_max(c.cluster_id, array_cosine_similarity(p.embedding, c.centroid)) AS cluster_id
                FROM pitch_phrases p CROSS JOIN clusters c
                WHERE p.cluster_id IS NULL AND p.kind = 'pitch'
                GROUP BY p.phrase_id
            ) AS best
            WHERE pitch_phrases.phrase_id = best.phrase_id
            """
        )
        _refresh_sizes(con)
    return n


def _refresh_sizes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        UPDATE clusters SET size = coalesce(
            (SELECT count(*) FROM pitch_phrases p WHERE p.cluster_id = clusters.cluster_id), 0)
        """
    )


def refit(con: duckdb.DuckDBPyConnection, *, seed: int = 0, keep_ids: bool = False) -> str:
    """Cluster every pitch phrase from scratch and replace the clusters table.

    With `keep_ids` (`pitchlab recluster`), a new cluster whose centroid is
    close to an old one (cosine >= MATCH_SIMILARITY, best pairs first) keeps the
    old id; the others get fresh ids. Every replaced cluster is kept in
    `cluster_history` with the id that succeeded it.
    """
    # NumPy arrays, not Python tuples: at 100k phrases a tuple per float costs seconds and gigabytes
    rows = con.execute(
        "SELECT phrase_id, text, embedding FROM pitch_phrases WHERE kind = 'pitch' ORDER BY phrase_id"
    ).fetchnumpy()
    if not len(rows["phrase_id"]):
        return "no phrases to cluster"
    ids = rows["phrase_id"].tolist()
    texts = rows["text"].tolist()
    x = _unit(np.stack(rows["embedding"]).astype(np.float64))
    del rows
    result = fit(x, seed=seed)
    terms_by_phrase: dict[str, list[str]] = {}
    for pid, term in con.execute("SELECT phrase_id, term FROM descriptors").fetchall():
        terms_by_phrase.setdefault(pid, []).append(term)
    k = len(result.centroids)
    order = [c for c in sorted(range(k), key=lambda c: (-(result.labels == c).sum(), c)) if (result.labels == c).any()]
    old = con.execute("SELECT cluster_id, centroid FROM clusters ORDER BY cluster_id").fetchall()
    new_id, similarity = _ids_for(order, result.centroids, old if keep_ids else [], con)
    members = {c: np.flatnonzero(result.labels == c) for c in order}
    names = label_terms([[t for i in members[c] for t in terms_by_phrase.get(ids[i], [])] for c in order])
    with transaction(con):
        for old_id, _ in old:  # a kept cluster's successor is itself; a retired one has none
            con.execute(
                """
                INSERT INTO cluster_history (cluster_id, label, size, example, centroid, fitted_at,
                                             successor_id, successor_similarity)
                SELECT cluster_id, label, size, example, centroid, fitted_at, ?, ? FROM clusters
                WHERE cluster_id = ?
                """,
                [old_id if old_id in similarity else None, similarity.get(old_id), old_id],
            )
        con.execute("UPDATE pitch_phrases SET cluster_id = NULL")
        con.execute("DELETE FROM clusters")
        for c, name in zip(order, names):
            idx = members[c]
            centroid = result.centroids[c]
            central = idx[np.argmax(x[idx] @ centroid)]
            example = texts[central]
            label = " · ".join(name) if name else " ".join(example.split()[:4])
            con.execute(
                "INSERT INTO clusters (cluster_id, label, size, example, centroid) VALUES (?, ?, ?, ?, ?)",
                [new_id[c], label, len(idx), example, centroid.astype(np.float32).tolist()],
            )
        # One statement: executemany would plan an UPDATE per phrase (minutes at 100k phrases).
        con.execute(
            """
            UPDATE pitch_phrases SET cluster_id = a.cluster_id
            FROM (SELECT unnest(?) AS phrase_id, unnest(?) AS cluster_id) a
            WHERE pitch_phrases.phrase_id = a.phrase_id
            """,
            [ids, [new_id[int(label)] for label in result.labels]],
        )
    kept = len(similarity)
    note = f"; {kept} of {len(old)} earlier clusters kept their ids" if keep_ids and old else ""
    return f"fitted {len(order)} clusters over {len(ids)} phrases (silhouette {result.silhouette:.3f}){note}"


MATCH_SIMILARITY = 0.8


def _ids_for(order: list[int], centroids: np.ndarray, old: list, con) -> tuple[dict[int, int], dict[int, float]]:
    """New cluster index -> id: matched old ids first (greedy on similarity), then fresh ids by size."""
    new_id: dict[int, int] = {}
    similarity: dict[int, float] = {}
    if old:
        old_ids = [o[0] for o in old]
        sims = centroids[order] @ _unit(np.array([o[1] for o in old], dtype=np.float64)).T
        pairs = sorted(((sims[i, j], i, j) for i in range(len(order)) for j in range(len(old_ids))), reverse=True)
        used_new, used_old = set(), set()
        for sim, i, j in pairs:
            if sim < MATCH_SIMILARITY:
                break
            if i in used_new or j in used_old:
                continue
            used_new.add(i)
            used_old.add(j)
            new_id[order[i]] = old_ids[j]
            similarity[old_ids[j]] = round(float(sim), 4)
    top = con.execute(
        "SELECT greatest((SELECT coalesce(max(cluster_id), 0) FROM clusters),"
        " (SELECT coalesce(max(cluster_id), 0) FROM cluster_history))"
    ).fetchone()[0] if old else 0
    for c in order:
        if c not in new_id:
            top += 1
            new_id[c] = top
    return new_id, similarity
