"""Our hand-written algorithms against scikit-learn, SciPy and statsmodels, side by side (docs/libraries.md).

Each row times ours and the library on the same input, runs alternating, and says how far apart the
answers are. Sizes follow the clustering groups: 100k and 1M phrases of `bench/synthetic.py`, 15 phrases
a call, so 6,667 and 66,667 calls. Silhouettes, k-means' choice of k and the per-cluster statistics do
not grow with the phrases (a sample of 2,000; one p-value per cluster), so `libraries_sample` measures
them once.

Where the product switched to the library, the version it replaced is kept below (`OURS_*`) only to be
measured against; tests/test_libraries.py checks that it still gives the library's answers.
"""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np

from pipeline.analysis import cluster, evidence, wordings

from .common import median, peak_rss_mb
from .synthetic import vectors

PHRASES_PER_CALL = 15  # bench/synthetic.py fill_phrases(calls_of=15)
SAMPLE = cluster.SILHOUETTE_SAMPLE

# What the product uses for each (the decision docs/libraries.md explains with these figures).
USES = {
    "Fisher exact p": "SciPy `fisher_exact`",
    "Benjamini-Hochberg": "SciPy `false_discovery_control`",
    "Mantel-Haenszel OR": "ours",
    "adjusted Rand index": "scikit-learn `adjusted_rand_score`",
    "silhouette": "ours",
    "k-means: choose k": "ours",
    "k-means: final passes": "ours",
    "mini-batch k-means": "ours",
}


# --- the hand-written versions the product replaced, kept only to measure against -------------------

def ours_fisher_p(k1: int, n1: int, k0: int, n0: int) -> float:
    """Two-sided Fisher exact p-value by exact binomial coefficients (pipeline/analysis/evidence.py before the switch)."""
    total_k, total_n = k1 + k0, n1 + n0

    def prob(x: int) -> float:
        return math.comb(total_k, x) * math.comb(total_n - total_k, n1 - x) / math.comb(total_n, n1)

    observed = prob(k1)
    lo, hi = max(0, n1 - (total_n - total_k)), min(n1, total_k)
    return min(1.0, sum(p for x in range(lo, hi + 1) if (p := prob(x)) <= observed * (1 + 1e-9)))


def ours_benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg q-values by a running minimum (pipeline/analysis/evidence.py before the switch)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    q = [0.0] * len(pvalues)
    running = 1.0
    for rank, i in reversed(list(enumerate(order, start=1))):
        running = min(running, pvalues[i] * len(pvalues) / rank)
        q[i] = running
    return q


def ours_adjusted_rand_index(a, b) -> float:
    """Adjusted Rand index by pair counts (pipeline/analysis/cluster.py before the switch)."""
    pairs: Counter = Counter(zip(a, b))
    rows: Counter = Counter()
    cols: Counter = Counter()
    for (x, y), n in pairs.items():
        rows[x] += n
        cols[y] += n
    index = sum(math.comb(n, 2) for n in pairs.values())
    ra, cb = sum(math.comb(n, 2) for n in rows.values()), sum(math.comb(n, 2) for n in cols.values())
    expected = ra * cb / math.comb(len(a), 2)
    top = (ra + cb) / 2
    return 0.0 if top == expected else (index - expected) / (top - expected)


# --- the libraries, called as the product would ----------------------------------------------------

def scipy_fisher_p(k1: int, n1: int, k0: int, n0: int) -> float:
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue)


def scipy_bh(pvalues: list[float]) -> list[float]:
    from scipy.stats import false_discovery_control

    return false_discovery_control(pvalues, method="bh").tolist()


def statsmodels_mh(strata: list[tuple[int, int, int, int]]) -> float | None:
    """statsmodels' pooled Mantel-Haenszel odds ratio; empty strata dropped and no discordant cell -> None,
    as `evidence.mantel_haenszel` answers."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    tables = np.array([s for s in strata if sum(s)], dtype=float).reshape(-1, 2, 2)
    if not len(tables) or not (tables[:, 0, 1] * tables[:, 1, 0]).any():
        return None
    return float(StratifiedTable(tables.transpose(1, 2, 0)).oddsratio_pooled)


def sklearn_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(x, labels, metric="cosine"))


def sklearn_kmeans(x: np.ndarray, k: int, *, init, n_init: int, iterations: int, seed: int = 0, minibatch=False):
    """scikit-learn's (Euclidean) k-means on the unit vectors; returns labels. BLAS on one thread, as ours."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        if minibatch:
            fitted = MiniBatchKMeans(k, init=init, n_init=n_init, max_iter=iterations, batch_size=4096,
                                     random_state=seed).fit(x)
        else:
            fitted = KMeans(k, init=init, n_init=n_init, max_iter=iterations, tol=0, random_state=seed).fit(x)
    return fitted.labels_


# --- measuring ------------------------------------------------------------------------------------

LIBRARY_MODULES = ("scipy.stats", "sklearn.metrics", "sklearn.cluster", "statsmodels.stats.contingency_tables")


def import_libraries() -> dict[str, float]:
    """Import the libraries before timing anything (a first call would carry the import); returns the
    seconds each import took in this process, in this order (later ones reuse what earlier ones loaded)."""
    import importlib

    seconds = {}
    for name in LIBRARY_MODULES:
        start = time.perf_counter()
        importlib.import_module(name)
        seconds[name] = time.perf_counter() - start
    return seconds


def side_by_side(what: str, size: str, ours, library, *, repeats: int = 3, inner: int = 1, compare=None) -> dict:
    """Time `ours()` and `library()` alternating `repeats` times (medians of the mean over `inner` calls);
    `compare(a, b)` says how far apart their answers are."""
    times: dict[str, list[float]] = {"ours": [], "library": []}
    answers = {}
    for _ in range(repeats):
        for name, fn in (("ours", ours), ("library", library)):
            start = time.perf_counter()
            for _ in range(inner):
                answers[name] = fn()
            times[name].append((time.perf_counter() - start) / inner)
    return row(what, size, median(times["ours"]), median(times["library"]),
               (compare or _max_abs)(answers["ours"], answers["library"]), repeats=repeats)


def row(what: str, size: str, ours_s: float, library_s: float, difference, *, repeats: int = 1) -> dict:
    return {"what": what, "size": size, "ours_s": ours_s, "library_s": library_s, "repeats": repeats,
            "difference": difference, "uses": USES[what]}


def _max_abs(a, b) -> float:
    if a is None or b is None:
        return 0.0 if a is None and b is None else math.inf
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def _agreement(a, b) -> str:
    return f"ARI {ours_adjusted_rand_index(a, b):.3f} between the two"


def _cosine_inertia(x: np.ndarray, labels: np.ndarray) -> float:
    c = cluster._unit(cluster._cluster_sums(x, labels, int(labels.max()) + 1))
    return float((1 - (x * c[labels]).sum(axis=1)).sum())


def libraries(*, n: int, ours_fisher_repeats: int = 1) -> dict:
    """The rows that grow with the phrases: Fisher's exact test over the calls, the adjusted Rand index
    over the phrases, k-means' passes over every phrase (and mini-batch k-means up to 100k)."""
    imports = import_libraries()
    calls = n // PHRASES_PER_CALL
    rows = []
    # a cluster heard in 1 of 20 calls, 40% interested against 30% elsewhere
    n1 = calls // 20
    k1, n0 = int(0.4 * n1), calls - n1
    k0 = int(0.3 * n0)
    rows.append(side_by_side("Fisher exact p", f"{calls:,} calls ({n1:,} with the cluster)",
                             lambda: ours_fisher_p(k1, n1, k0, n0), lambda: scipy_fisher_p(k1, n1, k0, n0),
                             repeats=ours_fisher_repeats,
                             compare=lambda a, b: abs(a - b) / max(abs(b), 1e-300)))
    rows[-1]["difference_is"] = "relative"
    rng = np.random.default_rng(0)
    truth, found = rng.integers(0, 300, n), rng.integers(0, 20, n)
    truth_list, found_list = truth.tolist(), found.tolist()
    from sklearn.metrics import adjusted_rand_score

    rows.append(side_by_side("adjusted Rand index", f"{n:,} phrases (300 × 20 labels)",
                             lambda: ours_adjusted_rand_index(truth_list, found_list),
                             lambda: float(adjusted_rand_score(truth, found)), repeats=3))
    x = vectors(n)
    init = cluster._kmeanspp(x[:SAMPLE], cluster.MAX_K, np.random.default_rng(0))
    start = time.perf_counter()
    ours = cluster.kmeans(x, cluster.MAX_K, init=init, iterations=cluster.FINAL_ITERATIONS)[0]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    full = sklearn_kmeans(x, cluster.MAX_K, init=init, n_init=1, iterations=cluster.FINAL_ITERATIONS)
    full_s = time.perf_counter() - start
    passes = f"{n:,} phrases, k = {cluster.MAX_K}, {cluster.FINAL_ITERATIONS} passes from the same centroids"
    rows.append(row("k-means: final passes", passes, ours_s, full_s, _agreement(ours, full)))
    rows[-1]["cosine_inertia"] = {"ours": _cosine_inertia(x, ours), "library": _cosine_inertia(x, full)}
    if n <= 100_000:  # about 40 s at 100k: mini-batch passes are slower here, not faster
        start = time.perf_counter()
        batch = sklearn_kmeans(x, cluster.MAX_K, init=init, n_init=1, iterations=cluster.FINAL_ITERATIONS,
                               minibatch=True)
        rows.append(row("mini-batch k-means", passes.replace("passes", "epochs at most"), ours_s,
                        time.perf_counter() - start, _agreement(ours, batch)))
        rows[-1]["cosine_inertia"] = {"ours": _cosine_inertia(x, ours), "library": _cosine_inertia(x, batch)}
    return {"n": n, "calls": calls, "rows": rows, "import_s": imports, "peak_rss_mb": peak_rss_mb()}


def libraries_sample(*, repeats: int = 3, select_max_k: int = cluster.MAX_K, sample: int = SAMPLE) -> dict:
    """The rows that do not grow with the phrases: the silhouette of a 2,000-phrase sample (k-means' 20
    clusters and the sample's wording clusters), choosing k in 2..20 on it, Benjamini-Hochberg over
    20 to 30,000 clusters' p-values, Mantel-Haenszel over 1 to 200 reps."""
    from threadpoolctl import threadpool_limits

    imports = import_libraries()
    rows = []
    x = vectors(sample)
    with threadpool_limits(limits=1, user_api="blas"):
        kmeans_labels = cluster._kmeans(x, cluster.MAX_K, seed=0)[0]
        wording_labels = wordings.agglomerate(x)
        for name, labels in (("k-means", kmeans_labels), ("wording", wording_labels)):
            k = len(np.unique(labels))
            if k >= len(x) - 1:  # every phrase its own wording: scikit-learn refuses, ours says 0
                continue
            rows.append(side_by_side("silhouette", f"{sample:,} phrases, {k:,} {name} clusters",
                                     lambda: cluster.silhouette(x, labels), lambda: sklearn_silhouette(x, labels),
                                     repeats=repeats))
    select = {}

    def choose(fitter):
        def run():
            scores = []
            for k in range(2, select_max_k + 1):
                labels = fitter(k)
                scores.append(cluster.silhouette(x, labels))
            return 2 + int(np.argmax(scores))
        return run

    rows.append(side_by_side(
        "k-means: choose k", f"{sample:,} phrases, k in 2..{select_max_k}, 4 starts of ≤ {cluster.SELECT_ITERATIONS} passes",
        choose(lambda k: cluster.kmeans(x, k, seed=0, n_init=4, iterations=cluster.SELECT_ITERATIONS)[0]),
        choose(lambda k: sklearn_kmeans(x, k, init="k-means++", n_init=4, iterations=cluster.SELECT_ITERATIONS)),
        repeats=1, compare=lambda a, b: f"k = {a} and k = {b}"))
    rng = np.random.default_rng(0)
    for m in (20, 300, 3_000, 30_000):
        p = rng.random(m).tolist()
        rows.append(side_by_side("Benjamini-Hochberg", f"{m:,} clusters' p-values",
                                 lambda: ours_benjamini_hochberg(p), lambda: scipy_bh(p), repeats=repeats,
                                 inner=max(1, 30_000 // m)))
    for reps in (1, 20, 200):
        strata = [tuple(int(v) for v in rng.integers(0, 50, 4)) for _ in range(reps)]
        rows.append(side_by_side("Mantel-Haenszel OR", f"{reps:,} reps (one cluster)",
                                 lambda: evidence.mantel_haenszel(strata), lambda: statsmodels_mh(strata),
                                 repeats=repeats, inner=200))
    return {"rows": rows, "import_s": imports, "peak_rss_mb": peak_rss_mb()}
