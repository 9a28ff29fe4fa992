"""store.write_call keeps every value exactly, embeddings included."""

from __future__ import annotations

import numpy as np

from pipeline.core.records import REP, AudioInfo, CallAnalysis, Phrase, Turn
from pipeline.storage import db, store


def test_embeddings_round_trip_exactly():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, 384)).astype(np.float32)
    vectors[0, 0] = 1e-30  # tiny and extreme values survive the text cast
    vectors[1, 1] = -3.4e38
    call = CallAnalysis(
        info=AudioInfo("ab" * 32, "x.wav", 10.0, 2, 16000),
        speaker_method="channel",
        model="fake",
        turns=(Turn(0, REP, 0.0, 3.0, "one two three four five six seven"),),
        phrases=tuple(Phrase(i, 0, float(i), i + 0.5, f"phrase number {i}") for i in range(3)),
        reactions=(),
        embeddings=tuple(tuple(float(v) for v in row) for row in vectors),
    )
    con = db.connect(":memory:")
    store.write_call(con, call, 123)
    rows = con.execute("SELECT phrase_id, embedding FROM pitch_phrases ORDER BY phrase_id").fetchall()
    assert [r[0] for r in rows] == ["abababababababab-p0000", "abababababababab-p0001", "abababababababab-p0002"]
    stored = np.array([r[1] for r in rows], dtype=np.float32)
    assert np.array_equal(stored, vectors)


def test_vector_literal():
    assert store.vector_literal([0.5, -1.0, 1e-30]) == "[0.5,-1.0,1e-30]"
