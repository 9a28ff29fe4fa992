"""Our algorithms against scikit-learn, SciPy and statsmodels (docs/libraries.md).

Where the product kept its own version (Mantel-Haenszel, silhouette, spherical k-means) it is compared
with the library here on random and edge-case inputs. Where it switched (Fisher, Benjamini-Hochberg,
adjusted Rand index) the product's function is checked on hand-computed values and the replaced version,
kept in bench/libraries_bench.py to be measured against, is checked to still give the library's answers.
"""

import numpy as np
import pytest

from bench import libraries_bench as lb
from pipeline.analysis import cluster, evidence


def random_tables(seed=0, count=200):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n1, n0 = rng.integers(1, 60, 2)
        yield int(rng.integers(0, n1 + 1)), int(n1), int(rng.integers(0, n0 + 1)), int(n0)


EDGE_TABLES = [(0, 1, 0, 1), (1, 1, 1, 1), (0, 5, 5, 5), (5, 5, 0, 5), (3, 3, 0, 3), (0, 3, 3, 3), (2, 4, 2, 4),
               (0, 40, 0, 40), (40, 40, 40, 40), (1, 1, 0, 200), (0, 200, 1, 1)]


# --- switched: the product's function on hand-computed values, the replaced copy against the library ---

def test_fisher_p_is_scipys_and_matches_hand_computed_values():
    # 3/3 vs 0/3: the observed table and its mirror, each 1/20 of the tables with these margins
    assert evidence.fisher_p(3, 3, 0, 3) == pytest.approx(0.1, abs=1e-12)
    # 2/4 vs 1/1: tables x=1,2,3 of the 5-call, 3-interested margins: 4/10 + 6/10 -> the observed (6/10) or less
    assert evidence.fisher_p(2, 4, 1, 1) == pytest.approx(1.0)
    assert evidence.fisher_p(1, 2, 1, 2) == pytest.approx(1.0)
    assert evidence.fisher_p(0, 3, 3, 3) == pytest.approx(0.1, abs=1e-12)


def test_the_replaced_fisher_p_gives_scipys_p_values():
    for table in [*EDGE_TABLES, *random_tables()]:
        assert lb.ours_fisher_p(*table) == pytest.approx(evidence.fisher_p(*table), rel=1e-9, abs=1e-300), table


def test_benjamini_hochberg_is_scipys_and_matches_hand_computed_values():
    # ranks 1..4 of 0.01, 0.03, 0.04, 0.5 give 0.04, 0.06, 0.0533, 0.5; then the running minimum from the top
    assert evidence.benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert evidence.benjamini_hochberg([]) == []
    assert evidence.benjamini_hochberg([0.3]) == [0.3]
    assert evidence.benjamini_hochberg([0.02, 0.02]) == pytest.approx([0.02, 0.02])  # ties share a rank's q


def test_the_replaced_benjamini_hochberg_gives_scipys_q_values():
    rng = np.random.default_rng(1)
    cases = [[0.0, 1.0], [1.0, 1.0, 1.0], [0.0] * 5, [0.05] * 7, [1e-300, 0.5]]
    cases += [rng.random(m).tolist() for m in (1, 2, 5, 20, 300)]
    cases += [np.round(rng.random(50), 1).tolist()]  # many ties
    for p in cases:
        assert lb.ours_benjamini_hochberg(p) == pytest.approx(evidence.benjamini_hochberg(p), abs=1e-15), p


def test_adjusted_rand_index_is_scikit_learns_and_matches_hand_computed_values():
    assert cluster.adjusted_rand_index([0, 0, 1, 1], ["a", "a", "b", "b"]) == 1.0
    # pairs together in both: 1; in a: 3 + 1 = 4; in b: 1 + 1 = 2; of 10 pairs -> (1 - 0.8) / (3 - 0.8)
    assert cluster.adjusted_rand_index([0, 0, 0, 1, 1], [0, 0, 1, 1, 2]) == pytest.approx(0.2 / 2.2)
    assert cluster.adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    # 0/0: both labelings one cluster (or both all singletons) are the same partition; the old copy said 0.0
    assert cluster.adjusted_rand_index([0, 0, 0], [5, 5, 5]) == 1.0
    assert cluster.adjusted_rand_index([0, 1, 2], [2, 0, 1]) == 1.0


def test_the_replaced_adjusted_rand_index_gives_scikit_learns_index():
    rng = np.random.default_rng(2)
    for n, ga, gb in ((10, 2, 3), (75, 7, 20), (200, 5, 5), (1000, 300, 20)):
        a, b = rng.integers(0, ga, n).tolist(), rng.integers(0, gb, n).tolist()
        assert lb.ours_adjusted_rand_index(a, b) == pytest.approx(cluster.adjusted_rand_index(a, b), abs=1e-12)
    assert lb.ours_adjusted_rand_index([0, 0, 1], [0, 0, 1]) == cluster.adjusted_rand_index([0, 0, 1], [0, 0, 1])


# --- kept: ours against the library --------------------------------------------------------------

def test_mantel_haenszel_gives_statsmodels_pooled_odds_ratio():
    from statsmodels.stats.contingency_tables import StratifiedTable

    rng = np.random.default_rng(3)
    for reps in (1, 2, 5, 20, 200):
        strata = [tuple(int(v) for v in rng.integers(1, 30, 4)) for _ in range(reps)]
        library = StratifiedTable(np.array(strata, dtype=float).reshape(-1, 2, 2).transpose(1, 2, 0)).oddsratio_pooled
        assert evidence.mantel_haenszel(strata) == pytest.approx(library, rel=1e-12)
    # edge cases, through the bench's statsmodels call (empty strata dropped, no discordant cell -> None)
    for strata in ([(4, 1, 4, 1), (1, 4, 1, 4)], [(3, 1, 1, 3), (0, 0, 0, 0)], [(3, 0, 0, 3)], [(0, 0, 0, 0)],
                   [(0, 2, 3, 0)], [(5, 0, 0, 1), (0, 1, 1, 0)], [(1, 0, 0, 0), (0, 0, 0, 1)]):
        ours, library = evidence.mantel_haenszel(strata), lb.statsmodels_mh(strata)
        assert (ours is None and library is None) or ours == pytest.approx(library, rel=1e-12), strata


def unit_blobs(n_per, k, dim=16, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    centers = cluster._unit(rng.normal(size=(k, dim)))
    x = np.repeat(centers, n_per, axis=0) + rng.normal(scale=noise, size=(n_per * k, dim))
    return cluster._unit(x).astype(np.float32), np.repeat(np.arange(k), n_per)


def test_silhouette_gives_scikit_learns_cosine_silhouette():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(4)
    for n, k in ((10, 2), (60, 3), (300, 20), (500, 250)):
        x = cluster._unit(rng.normal(size=(n, 12))).astype(np.float32)
        labels = rng.integers(0, k, n)
        assert cluster.silhouette(x, labels) == pytest.approx(silhouette_score(x, labels, metric="cosine"), abs=1e-5)
    x, truth = unit_blobs(20, 4)
    assert cluster.silhouette(x, truth) == pytest.approx(silhouette_score(x, truth, metric="cosine"), abs=1e-5)
    # singletons score 0 in both
    x = cluster._unit(rng.normal(size=(7, 5))).astype(np.float32)
    labels = np.array([0, 0, 0, 1, 1, 2, 3])
    assert cluster.silhouette(x, labels) == pytest.approx(silhouette_score(x, labels, metric="cosine"), abs=1e-6)
    assert cluster.silhouette(x, np.zeros(7, dtype=int)) == -1.0  # one cluster: scikit-learn refuses, ours says -1


def test_spherical_k_means_finds_scikit_learns_partition_on_separated_data():
    x, truth = unit_blobs(30, 5, seed=5)
    init = cluster._kmeanspp(x, 5, np.random.default_rng(0))
    ours = cluster.kmeans(x, 5, init=init)[0]
    library = lb.sklearn_kmeans(x, 5, init=init, n_init=1, iterations=100)
    assert cluster.adjusted_rand_index(ours, library) == 1.0
    assert cluster.adjusted_rand_index(ours, truth) == 1.0


def test_the_libraries_bench_measures_side_by_side_and_renders():
    from bench import report

    big = lb.libraries(n=300)
    small = lb.libraries_sample(repeats=1, select_max_k=3, sample=120)  # every phrase its own wording here
    rows = {r["what"]: r for r in big["rows"] + small["rows"]}
    assert set(rows) == set(lb.USES)
    assert rows["Fisher exact p"]["difference"] < 1e-9 and rows["adjusted Rand index"]["difference"] < 1e-12
    assert all(r["difference"] < 1e-5 for r in small["rows"] if r["what"] in ("silhouette", "Benjamini-Hochberg",
                                                                                  "Mantel-Haenszel OR"))
    assert all(r["ours_s"] > 0 and r["library_s"] > 0 for r in rows.values())
    doc = {"date": "2026-01-01", "mode": "quick", "command": "python -m bench --only libraries", "total_s": 60,
           "machine": {"commit": "abc", "cpu": "x", "cores": 2, "memory_gib": 1, "python": "3.11", "versions": {}},
           "load_average_1min": {"min": 1.0, "max": 2.0}, "failed": [],
           "results": {"libraries": [{"measurement": m, "params": {}, "runs": [r]}
                                     for m, r in (("libraries_sample", small), ("libraries", big))]}}
    text = report.render(doc)
    assert "## Our algorithms against scikit-learn, SciPy and statsmodels" in text
    assert "| Fisher exact p | 20 calls (1 with the cluster) |" in text
    assert "| Mantel-Haenszel OR | 20 reps (one cluster) |" in text and "| ours |" in text
    assert "`statsmodels.stats.contingency_tables`" in text
