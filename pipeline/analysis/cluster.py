"""Wording clusters of pitch phrases (kind 'pitch'), stored in DuckDB.

The first batch fits wording clusters (near-identical phrasings, by a cosine
threshold: `wordings.fit`; `fit` below, spherical k-means with k chosen by
silhouette, is the earlier top-level fit, kept for comparison); later batches only assign their
new phrases to the nearest stored centroid in SQL, so cluster ids users have
seen never change. A phrase whose similarity to its nearest centroid is below
UNCLUSTERED_BELOW goes to the explicit "unclustered" row (cluster 0) instead of
silently joining a cluster it does not resemble. Each cluster is labelled by
its top descriptor terms (class-based TF-IDF) and its most central phrase.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import duckdb
import numpy as np

from pipeline.analysis.centroids import SILHOUETTE_SAMPLE, Fit, _cluster_sums, _unit, silhouette
from pipeline.storage.db import transaction

log = logging.getLogger(__name__)

MAX_K = 20
SELECT_SAMPLE = 2000  # phrases k is chosen on
FINAL_ITERATIONS = 20  # k-means passes over all phrases from the sample's centroids
SELECT_ITERATIONS = 40  # at most, per k-means start while choosing k
MIN_CALLS = 5  # a cluster used in fewer calls cannot be ranked (descriptor_stats' low_support)
SMALL_SAMPLE = 500  # below this many phrases, more k-means starts per k (cheap, steadier choice)
UNCLUSTERED_ID = 0
UNCLUSTERED_LABEL = "unclustered"
UNCLUSTERED_BELOW = 0.7  # cosine to the nearest centroid; below it a phrase is no wording's (wordings.WORDING_SIMILARITY)


def kmeans(x: np.ndarray, k: int, **options) -> tuple[np.ndarray, np.ndarray, float]:
    """Spherical k-means with k-means++ starts (or the given `init` centroids); returns (labels, centroids, inertia).

    BLAS runs on one thread (see `fit`). Kept rather than scikit-learn's `KMeans`, which has no spherical
    variant: from the same centroids its Euclidean means give other clusters (ARI 0.87 with ours at 100k
    phrases, 0.84 at 1M, at a slightly higher cosine inertia) though its passes are faster (25 s against
    44 s at 100k, 203 s against 435 s at 1M, on a loaded machine), and choosing k on the 2,000-phrase sample
    took it 249 s against 56 s; `MiniBatchKMeans` is slower and further off (ARI 0.55). docs/libraries.md."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _kmeans(x, k, **options)


def _kmeans(x: np.ndarray, k: int, *, seed: int = 0, n_init: int = 4, iterations: int = 100,
            init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
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
            sums = _cluster_sums(x, labels, k)
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
        weights = np.clip(dist, 0, None).astype(np.float64) ** 2
        idx = rng.choice(len(x), p=weights / weights.sum()) if weights.sum() > 0 else rng.integers(len(x))
        centers.append(x[idx])
        dist = np.minimum(dist, 1 - x @ x[idx])
    return np.array(centers, dtype=x.dtype)


def fit(vectors: np.ndarray, **options) -> Fit:
    """`_fit` with BLAS on one thread: k-means here is many small matrix products, which
    extra BLAS threads slow down (3.7x slower with two threads on a busy 2-core machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(vectors, **options)


def _fit(vectors: np.ndarray, *, groups: np.ndarray | None = None, min_groups: int = MIN_CALLS,
        seed: int = 0, max_k: int = MAX_K) -> Fit:
    """Choose k in 2..max_k (at most one cluster per 3 phrases) by silhouette, then fit all phrases.

    With `groups` (the call of each phrase), each k-means fit is first made
    rankable: while some cluster spans fewer than `min_groups` calls, the one
    with the fewest calls joins the cluster whose centroid is nearest. A cluster
    heard in fewer calls cannot be ranked, and on small data the silhouette
    otherwise rewards splitting one way of saying a thing into its exact
    repeats. The rule applies from 4 * min_groups calls on; below that (a first
    handful of calls) nothing could be ranked anyway, so the finest natural
    clusters are kept for reading.

    k is chosen on a fixed random sample of at most SELECT_SAMPLE phrases (all of
    them on small data); the chosen sample centroids then seed k-means over every
    phrase, so large batches cost a few passes, not a search. Fewer than 6 phrases
    make one cluster.
    """
    x = _unit(vectors.astype(np.float32))  # float32: half the memory traffic of every pass
    if len(x) < 6:
        return Fit(np.zeros(len(x), dtype=int), _unit(x.sum(axis=0, keepdims=True)), 0.0)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(x)) if len(x) <= SELECT_SAMPLE else np.sort(rng.choice(len(x), SELECT_SAMPLE, replace=False))
    sample = x[idx]
    sample_groups = None
    if groups is not None and len(np.unique(groups)) >= 4 * min_groups:
        sample_groups = np.unique(np.asarray(groups)[idx], return_inverse=True)[1]
    starts = 10 if len(sample) <= SMALL_SAMPLE else 4
    best = None
    for k in range(2, min(max_k, len(sample) // 3) + 1):
        labels, centers, _ = _kmeans(sample, k, seed=seed, n_init=starts, iterations=SELECT_ITERATIONS)
        if sample_groups is not None:
            labels, centers = merge_thin(sample, labels, sample_groups, min_groups)
        score = silhouette(sample, labels, seed=seed)
        log.debug("k=%d -> %d clusters, silhouette=%.4f", k, len(centers), score)
        if best is None or score > best.silhouette + 1e-12:
            best = Fit(labels, centers, score)
    if len(sample) == len(x):
        return best
    labels, centers, _ = _kmeans(x, len(best.centroids), init=best.centroids, iterations=FINAL_ITERATIONS)
    return Fit(labels, centers, best.silhouette)


def merge_thin(x: np.ndarray, labels: np.ndarray, groups: np.ndarray, min_groups: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Merge clusters spanning fewer than `min_groups` groups into their nearest cluster, thinnest first.

    Returns labels renumbered 0..k'-1 and their unit centroids.
    """
    labels = np.unique(labels, return_inverse=True)[1]
    while True:
        k = labels.max() + 1
        centers = _unit(_cluster_sums(x, labels, k))
        spread = np.array([len(np.unique(groups[labels == c])) for c in range(k)])
        thin = int(np.lexsort((np.bincount(labels, minlength=k), spread))[0])
        if k == 1 or spread[thin] >= min_groups:
            return labels, centers
        sims = centers @ centers[thin]
        sims[thin] = -np.inf
        labels = np.unique(np.where(labels == thin, int(np.argmax(sims)), labels), return_inverse=True)[1]


def min_spread(labels: np.ndarray, groups: np.ndarray) -> int:
    """The fewest distinct groups (calls) any cluster's members come from."""
    pairs = np.unique(np.stack([labels, np.unique(groups, return_inverse=True)[1]]), axis=1)
    return int(np.bincount(pairs[0]).min())


def own_similarity(x: np.ndarray, result: Fit) -> np.ndarray:
    """Each phrase's (unit vector's) cosine to its own centroid; below UNCLUSTERED_BELOW it belongs nowhere."""
    return (x * result.centroids[result.labels]).sum(axis=1)


def adjusted_rand_index(a, b) -> float:
    """Adjusted Rand index of two labelings (1 = same partition, about 0 = chance): scikit-learn's
    `adjusted_rand_score` (the test extra; only the evaluation scripts use it).

    It replaced a pair count written here that gives the same index (to 1e-12) but took 680 ms against
    499 ms for 100k labels and 5.9 s against 5.1 s for 1M (docs/libraries.md). Where the index is 0/0
    (both labelings one cluster, or both all singletons) scikit-learn says 1.0, the copy said 0.0.
    """
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


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


def update(con: duckdb.DuckDBPyConnection, *, seed: int = 0, namer=None) -> str:
    """Fit clusters if there are none yet, else assign unclustered phrases; returns what it did.

    Either way every pitch phrase's descriptor is decided again (`descriptors.reassign`): new
    phrases that join a wording inherit its descriptor.
    """
    has_clusters = con.execute(
        "SELECT count(*) FROM clusters WHERE cluster_id <> ?", [UNCLUSTERED_ID]
    ).fetchone()[0] > 0
    if not has_clusters:
        return refit(con, seed=seed, namer=namer)
    from pipeline.analysis.descriptors import reassign

    assigned = assign_new(con)
    reassign(con)
    return f"assigned {assigned} new phrases to existing clusters"


def assign_new(con: duckdb.DuckDBPyConnection) -> int:
    """Nearest centroid by array_cosine_similarity, in SQL (the unclustered row when none is near); sizes refreshed."""
    with transaction(con):
        n = con.execute(
            "SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'"
        ).fetchone()[0]
        con.execute(
            """
            UPDATE pitch_phrases
            SET cluster_id = CASE WHEN best.similarity >= $below THEN best.cluster_id ELSE $none END
            FROM (
                SELECT p.phrase_id,
                       arg_max(c.cluster_id, array_cosine_similarity(p.embedding, c.centroid)) AS cluster_id,
                       max(array_cosine_similarity(p.embedding, c.centroid)) AS similarity
                FROM pitch_phrases p CROSS JOIN clusters c
                WHERE p.cluster_id IS NULL AND p.kind = 'pitch' AND c.cluster_id <> $none
                GROUP BY p.phrase_id
            ) AS best
            WHERE pitch_phrases.phrase_id = best.phrase_id
            """,
            {"below": UNCLUSTERED_BELOW, "none": UNCLUSTERED_ID},
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


def refit(con: duckdb.DuckDBPyConnection, *, seed: int = 0, keep_ids: bool = False, namer=None) -> str:
    """Cluster every pitch phrase into wordings (`wordings.fit`) from scratch and replace the clusters table.

    With `keep_ids` (`pitchlab recluster`), a new cluster whose centroid is
    close to an old one (cosine >= MATCH_SIMILARITY, best pairs first) keeps the
    old id; the others get fresh ids. Every replaced cluster is kept in
    `cluster_history` with the id that succeeded it. Phrases that resemble no
    cluster go to the unclustered row (cluster 0), which always exists once
    clusters do. A kept id keeps the descriptor you confirmed for it. Then the
    suggested descriptors are made again from the new wordings (`themes.suggest`,
    named by `namer`) and every phrase's descriptor is decided again.
    """
    # fetchnumpy: ~10x faster than fetchall for 100k vectors (bench fit_engines)
    cols = con.execute(
        "SELECT phrase_id, call_id, text, embedding FROM pitch_phrases WHERE kind = 'pitch' ORDER BY phrase_id"
    ).fetchnumpy()
    if not len(cols["phrase_id"]):
        return "no phrases to cluster"
    ids = cols["phrase_id"].tolist()
    texts = cols["text"].tolist()
    x = _unit(np.stack(cols["embedding"]).astype(np.float32))
    from pipeline.analysis.wordings import fit as fit_wordings

    result = fit_wordings(x, seed=seed)
    own = own_similarity(x, result)
    outlier = own < UNCLUSTERED_BELOW
    terms_by_phrase: dict[str, list[str]] = {}
    for pid, term in con.execute("SELECT phrase_id, term FROM phrase_terms").fetchall():
        terms_by_phrase.setdefault(pid, []).append(term)
    k = len(result.centroids)
    members = {c: np.flatnonzero((result.labels == c) & ~outlier) for c in range(k)}
    order = [c for c in sorted(range(k), key=lambda c: (-len(members[c]), c)) if len(members[c])]
    old = con.execute(
        "SELECT cluster_id, centroid FROM clusters WHERE cluster_id <> ? ORDER BY cluster_id", [UNCLUSTERED_ID]
    ).fetchall()
    confirmed = dict(con.execute(
        "SELECT cluster_id, descriptor_id FROM clusters WHERE descriptor_confirmed AND cluster_id <> ?", [UNCLUSTERED_ID]
    ).fetchall()) if keep_ids else {}
    new_id, similarity = _ids_for(order, result.centroids, old if keep_ids else [], con)
    names = label_terms([[t for i in members[c] for t in terms_by_phrase.get(ids[i], [])] for c in order])
    with transaction(con):
        for old_id, _ in old:  # a kept cluster's successor is itself; a retired one has none
            con.execute(
                """
                INSERT INTO cluster_history (cluster_id, label, size, example, centroid, fitted_at,
                                             successor_id, successor_similarity, descriptor_id, descriptor_confirmed)
                SELECT cluster_id, label, size, example, centroid, fitted_at, ?, ?, descriptor_id,
                       coalesce(descriptor_confirmed, false) FROM clusters
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
            kept = new_id[c] in confirmed and new_id[c] in similarity  # a kept id keeps its confirmation
            con.execute(
                "INSERT INTO clusters (cluster_id, label, size, example, centroid, descriptor_id, descriptor_confirmed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [new_id[c], label, len(idx), example, centroid.astype(np.float32).tolist(),
                 confirmed.get(new_id[c]) if kept else None, kept],
            )
        loners = np.flatnonzero(outlier)
        farthest = texts[loners[np.argmin(own[loners])]] if len(loners) else ""
        con.execute(  # the zero centroid is never matched: assign_new and recluster leave cluster 0 out
            "INSERT INTO clusters (cluster_id, label, size, example, centroid, descriptor_confirmed)"
            " VALUES (?, ?, ?, ?, ?, false)",
            [UNCLUSTERED_ID, UNCLUSTERED_LABEL, len(loners), farthest, [0.0] * x.shape[1]],
        )
        # One statement: executemany would plan an UPDATE per phrase (minutes at 100k phrases).
        con.execute(
            """
            UPDATE pitch_phrases SET cluster_id = a.cluster_id
            FROM (SELECT unnest(?) AS phrase_id, unnest(?) AS cluster_id) a
            WHERE pitch_phrases.phrase_id = a.phrase_id
            """,
            [ids, [UNCLUSTERED_ID if out else new_id[int(label)] for label, out in zip(result.labels, outlier)]],
        )
    from pipeline.analysis.descriptors import reassign
    from pipeline.analysis.themes import WordNamer, suggest

    suggest(con, namer or WordNamer())
    reassign(con)
    kept = len(similarity)
    note = f"; {kept} of {len(old)} earlier clusters kept their ids" if keep_ids and old else ""
    loose = f", {len(loners)} unclustered" if len(loners) else ""
    return (f"fitted {len(order)} clusters over {len(ids)} phrases{loose} "
            f"(silhouette {result.silhouette:.3f}){note}")


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
