"""The SQL k-means path gives numpy's labels and centroids from the same initial centroids."""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis import cluster, cluster_sql
from pipeline.language.embed import DIM
from pipeline.storage import db

ROOT = Path(__file__).resolve().parent.parent


def stored(x: np.ndarray):
    """An in-memory database whose pitch phrases hold the rows of x (phrase ids in row order)."""
    con = db.connect(":memory:")
    cols = {f"d{j}": x[:, j].astype(np.float32) for j in range(DIM)}
    vector = ", ".join(f"d{j}" for j in range(DIM))
    con.execute(
        f"INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence, embedding, cluster_id) SELECT printf('p%06d', row_number() OVER () - 1), 'c', 0, 0, 1, 't', 'pitch', '',"
        f" [{vector}]::FLOAT[{DIM}], NULL FROM cols"
    )
    con.execute("INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence, embedding, cluster_id) SELECT 'q' || phrase_id, 'c', 0, 0, 1, 't', 'greeting', '', embedding, NULL"
                " FROM pitch_phrases")  # not pitches: left out
    return con


def both(x: np.ndarray, k: int, *, iterations: int = 100, seed: int = 0):
    con = stored(x)
    unit = cluster._unit(x.astype(np.float32).astype(np.float64))
    init = cluster._kmeanspp(unit, k, np.random.default_rng(seed))
    return cluster.kmeans(unit, k, init=init, iterations=iterations), cluster_sql.kmeans(con, init, iterations=iterations)


def assert_same(numpy_fit, sql_fit):
    assert sql_fit[0].tolist() == numpy_fit[0].tolist()
    assert np.allclose(sql_fit[1], numpy_fit[1], atol=1e-12)
    assert sql_fit[2] == pytest.approx(numpy_fit[2], rel=1e-9)


def test_overlapping_clusters_get_the_same_labels_and_centroids_as_numpy():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, DIM))
    x = centres[rng.integers(0, 12, 600)] + 1.2 * rng.normal(size=(600, DIM))  # overlapping: many passes
    (labels, centroids, inertia), sql_fit = both(x, 8)
    assert len(set(labels.tolist())) == 8
    assert_same((labels, centroids, inertia), sql_fit)
    # stopped early and capped runs agree too
    assert_same(*both(x, 8, iterations=2))


def test_an_empty_cluster_keeps_its_centroid_and_ties_go_to_the_first_centroid():
    x = np.zeros((4, DIM))
    x[:2, 0], x[2:, 1] = 1, 1
    init = np.zeros((3, DIM))
    init[0, 0], init[1, 1], init[2, 0] = 1, 1, 1  # centroid 2 duplicates 0: it never wins a tie, stays empty
    labels, centroids, inertia = cluster_sql.kmeans(stored(x), init)
    assert labels.tolist() == [0, 0, 1, 1] == cluster.kmeans(x, 3, init=init)[0].tolist()
    assert np.array_equal(centroids, init) and inertia == 0


def test_bad_init_is_a_clear_error():
    with pytest.raises(ValueError, match=r"init must be a \(k, 384\) array"):
        cluster_sql.kmeans(stored(np.eye(3, DIM)), np.ones((2, 5)))


@pytest.mark.e2e
def test_real_embeddings_of_the_demo_pitches_cluster_the_same_in_sql_and_numpy():
    from pipeline.language.embed import MiniLMEmbedder

    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())
    texts = sorted({t["text"] for c in truth["calls"] for t in c["turns"] if t["speaker"] == "rep"})
    x = MiniLMEmbedder().embed(texts)
    for k in (5, 8, 12):
        assert_same(*both(x, k))
