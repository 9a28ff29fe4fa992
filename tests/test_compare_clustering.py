"""scripts/compare_clustering.py: its adjusted Rand index and table, without the optional comparison packages."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import compare_clustering as cc  # noqa: E402


def test_adjusted_rand_is_the_index_of_hand_computed_partitions():
    # (scikit-learn's, through pipeline.analysis.cluster; tests/test_libraries.py checks it against the pair count it replaced)
    assert cc.adjusted_rand([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert cc.adjusted_rand([0, 0, 0, 1, 1], [0, 0, 1, 1, 2]) == pytest.approx(0.2 / 2.2)
    assert cc.adjusted_rand(["a", "a", "b"], [2, 2, 7]) == 1.0


def test_compare_counts_outliers_clusters_and_seeds():
    family = ["a"] * 4 + ["b"] * 4
    x = np.eye(8, 4)  # not used by the methods below
    truth = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    methods = {
        "perfect": (lambda x, texts, seed: truth, False),
        "two outliers": (lambda x, texts, seed: np.array([-1, 0, 0, 0, -1, 1, 1, 1]), True),
    }
    perfect, outliers = cc.compare(x + 1, [""] * 8, family, methods, seeds=3)
    assert (perfect.ari, perfect.outliers, perfect.clusters) == ([1.0], [0.0], [2])
    assert outliers.ari_clustered == [1.0] * 3 and outliers.outliers == [0.25] * 3 and outliers.clusters == [2] * 3
    assert outliers.ari[0] < 1
    text = cc.table([perfect, outliers])
    assert "| perfect | 1 | 1.000 | 1.000 | 0% | 2 |" in text
    assert "| two outliers | 3 |" in text and "| 25% | 2 |" in text


def test_the_fit_is_named_as_module_and_function():
    from pipeline.analysis import cluster

    assert cc.load_fit("pipeline.analysis.cluster:fit") is cluster.fit
    with pytest.raises(SystemExit, match="expected module:function"):
        cc.load_fit("pipeline.analysis.cluster")
