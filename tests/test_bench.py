"""The benchmark harness's own logic: distinct corpus copies, word accuracy, report rendering."""

from __future__ import annotations

import numpy as np

from bench import corpus, synthetic
from pipeline import db, cluster, ingest


def test_corpus_copies_are_new_calls_with_the_same_audio(tmp_path):
    made = corpus.make_corpus(tmp_path, 30)  # 28 demo calls, then two copies
    assert len(made) == 30
    assert made["call_01_copy1.wav"] == "call_01.wav" and made["call_02_copy1.wav"] == "call_02.wav"
    recs = {r.source_file: r for r in ingest.find_recordings(tmp_path)}
    assert len({r.call_id for r in recs.values()}) == 30
    for original, copy in (("call_01.wav", "call_01_copy1.wav"), ("call_02.wav", "call_02_copy1.wav")):
        a, b = ingest.decode(recs[original]), ingest.decode(recs[copy])
        assert all(np.array_equal(x, y) for x, y in zip(a.channels, b.channels))


def test_mp3_copy_decodes_the_same(tmp_path):
    made = corpus.make_corpus(tmp_path, 2, only=["call_04.mp3"])
    assert made == {"call_04.mp3": "call_04.mp3", "call_04_copy1.mp3": "call_04.mp3"}
    recs = ingest.find_recordings(tmp_path)
    a, b = (ingest.decode(r) for r in recs)
    assert a.info.call_id != b.info.call_id
    assert np.array_equal(a.channels[0], b.channels[0])


def test_edit_distance_and_attribution():
    assert corpus.normalize("Hi Tom, it's self-serve!") == ["hi", "tom", "it's", "self", "serve"]
    assert corpus.edit_distance("a b c d".split(), "a x c".split()) == 2
    ref = {"rep": "we sync to salesforce".split(), "prospect": "how much".split()}
    # right words, right speakers
    assert corpus.attributed_errors(ref, {"rep": ref["rep"], "prospect": ref["prospect"]}, permute=False) == (0, 6)
    # everything given to one speaker: the other's words are missing there and extra here
    assert corpus.attributed_errors(ref, {"rep": ref["rep"] + ref["prospect"], "prospect": []}, permute=True) == (4, 6)
    # swapped labels: free with permute, costly without
    swapped = {"rep": ref["prospect"], "prospect": ref["rep"]}
    assert corpus.attributed_errors(ref, swapped, permute=True) == (0, 6)
    assert corpus.attributed_errors(ref, swapped, permute=False) == (8, 6)


def test_synthetic_phrases_are_assigned_to_their_nearest_centroid():
    con = db.connect(":memory:")
    synthetic.fill_clusters(con)
    synthetic.fill_phrases(con, n=300, clustered=False)
    assert cluster.assign_new(con) == 300
    rows = con.execute("SELECT embedding, cluster_id FROM pitch_phrases").fetchall()
    x = np.array([r[0] for r in rows])
    centroids = synthetic.centroids()[: synthetic.STORED_CLUSTERS]
    sims = x / np.linalg.norm(x, axis=1, keepdims=True) @ centroids.T
    # phrases drawn around the other 280 true centroids resemble no stored cluster: the unclustered row (0)
    nearest = np.where(sims.max(axis=1) >= cluster.UNCLUSTERED_BELOW, sims.argmax(axis=1) + 1, 0)
    assert 0 < (nearest > 0).sum() < len(nearest)
    assert [r[1] for r in rows] == nearest.tolist()
    assert con.execute("SELECT sum(size) FROM clusters").fetchone()[0] == (nearest > 0).sum()
