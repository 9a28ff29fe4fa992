"""Wording clusters: near-identical phrasings of one claim, however varied the corpus.

Granularity is set by similarity, not by a number of clusters: average-linkage
agglomerative clustering on cosine, cut where the mean cosine between two
groups' phrases falls below WORDING_SIMILARITY. So a corpus of six benefits said
in three ways each gets about eighteen wordings, and 300 free conversations get
as many wordings as they have distinct claims, not a handful of catch-alls.
Benefits (several wordings) are the level above: declared or suggested
descriptors (`descriptors`, `themes`).

Large batches: each round clusters a sample of at most SAMPLE phrases not yet
placed, then every unplaced phrase whose best cosine to a wording's centroid is
at least WORDING_SIMILARITY joins it; after ROUNDS rounds the rest join their
nearest wording (those below `cluster.UNCLUSTERED_BELOW` become unclustered).
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.centroids import Fit, _cluster_sums, _unit, silhouette

WORDING_SIMILARITY = 0.7  # mean cosine between two groups' phrases below which they are different wordings
SAMPLE = 2000  # phrases agglomerated per round (n^2 memory)
ROUNDS = 4
CHUNK = 4096  # phrases compared with the centroids at a time


def agglomerate(x: np.ndarray, similarity: float = WORDING_SIMILARITY) -> np.ndarray:
    """Average-linkage clusters of unit rows, cut at mean cosine `similarity`; labels 0..k-1."""
    if len(x) == 1:
        return np.zeros(1, dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage

    distances = np.clip(1 - x.astype(np.float64) @ x.astype(np.float64).T, 0, 2)
    condensed = distances[np.triu_indices(len(x), 1)]
    tree = linkage(condensed, method="average")
    return np.unique(fcluster(tree, t=1 - similarity, criterion="distance"), return_inverse=True)[1]


def _nearest(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    best = np.empty(len(x), dtype=int)
    sim = np.empty(len(x), dtype=np.float32)
    for a in range(0, len(x), CHUNK):
        s = x[a:a + CHUNK] @ centroids.T
        best[a:a + CHUNK] = s.argmax(axis=1)
        sim[a:a + CHUNK] = s.max(axis=1)
    return best, sim


def fit(vectors: np.ndarray, *, seed: int = 0, similarity: float = WORDING_SIMILARITY) -> Fit:
    """Wording clusters of the rows of `vectors` (any length), as a `cluster.Fit` (labels, unit centroids)."""
    from threadpoolctl import threadpool_limits

    x = _unit(np.asarray(vectors, dtype=np.float32))
    if len(x) == 0:
        return Fit(np.zeros(0, dtype=int), np.zeros((0, x.shape[1]), dtype=np.float32), 0.0)
    rng = np.random.default_rng(seed)
    labels = np.full(len(x), -1)
    centroids = np.zeros((0, x.shape[1]), dtype=np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(ROUNDS):
            todo = np.flatnonzero(labels < 0)
            if not len(todo):
                break
            sample = todo if len(todo) <= SAMPLE else np.sort(rng.choice(todo, SAMPLE, replace=False))
            found = agglomerate(x[sample], similarity)
            labels[sample] = found + len(centroids)
            centroids = np.concatenate([centroids, _unit(_cluster_sums(x[sample], found, found.max() + 1))])
            rest = np.flatnonzero(labels < 0)
            if len(rest):
                best, sim = _nearest(x[rest], centroids)
                near = sim >= similarity
                labels[rest[near]] = best[near]
        rest = np.flatnonzero(labels < 0)
        if len(rest):
            labels[rest] = _nearest(x[rest], centroids)[0]
        labels = np.unique(labels, return_inverse=True)[1]
        centroids = _unit(_cluster_sums(x, labels, labels.max() + 1))
        score = silhouette(x, labels, seed=seed) if labels.max() > 0 else 0.0
    return Fit(labels, centroids, score)
