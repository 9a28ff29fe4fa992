"""Synthetic phrase vectors and databases: 384-d points drawn around a few hundred centroids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.storage import db, store

DIM = 384
TRUE_CENTROIDS = 300
NOISE = 0.04  # per-coordinate spread; cosine to the own centroid is about 0.6
POOL = 5000  # distinct vectors in SQL-built tables
STORED_CLUSTERS = 20  # what cluster.fit keeps at most (MAX_K)


def centroids(seed: int = 0, k: int = TRUE_CENTROIDS) -> np.ndarray:
    c = np.random.default_rng(seed).normal(size=(k, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def vectors(n: int, *, seed: int = 0) -> np.ndarray:
    """n unit vectors, each a random true centroid plus Gaussian noise (float32)."""
    rng = np.random.default_rng(seed + 1)
    c = centroids(seed)
    x = c[rng.integers(len(c), size=n)] + rng.normal(scale=NOISE, size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _load_centroids(con, seed: int) -> None:
    con.execute(f"CREATE TEMP TABLE true_centroids (id INTEGER, v FLOAT[{DIM}])")
    con.executemany(f"INSERT INTO true_centroids VALUES (?, ?::FLOAT[{DIM}])",
                    [[i, store.vector_literal(v)] for i, v in enumerate(centroids(seed))])


def _make_pool(con, seed: int) -> None:
    """POOL distinct vectors around the true centroids, generated in SQL once per database."""
    _load_centroids(con, seed)
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    con.execute(
        f"""
        CREATE TEMP TABLE vector_pool AS
        SELECT r.i AS id, list_transform(c.v, x -> x + {NOISE * 1.7} * (random() * 2 - 1))::FLOAT[{DIM}] AS v
        FROM range({POOL}) r(i) JOIN true_centroids c ON c.id = r.i % {TRUE_CENTROIDS}
        """
    )


def fill_phrases(con, *, n: int, first: int = 0, clustered: bool, seed: int = 0, calls_of: int = 15,
                 text: str = "a synthetic pitch phrase") -> None:
    """Insert n synthetic pitch phrases (ids first..first+n-1), each a copy of a pool vector.

    Uniform noise in SQL (DuckDB has no Gaussian). Drawing every coordinate of a million
    vectors in SQL takes minutes, so rows reuse POOL distinct vectors: the cost of
    comparing a row with the centroids does not depend on its values.
    """
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'vector_pool'").fetchone()[0]:
        _make_pool(con, seed)
    cluster_expr = f"(r.i % {STORED_CLUSTERS}) + 1" if clustered else "NULL"
    con.execute(
        f"""
        INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence, embedding, cluster_id)
        SELECT printf('%016d-p%04d', r.i // {calls_of}, r.i % {calls_of}), printf('%064d', r.i // {calls_of}),
               2 * (r.i % {calls_of}), r.i % {calls_of}, r.i % {calls_of} + 2, '{text}', 'pitch', '',
               p.v, {cluster_expr}
        FROM range({first}, {first + n}) r(i) JOIN vector_pool p ON p.id = hash(r.i) % {POOL}
        """
    )


def fill_clusters(con, *, seed: int = 0) -> None:
    """STORED_CLUSTERS clusters whose centroids are the first true centroids."""
    c = centroids(seed)[:STORED_CLUSTERS]
    con.executemany(
        f"INSERT INTO clusters (cluster_id, label, size, example, centroid) VALUES (?, ?, 0, ?, ?::FLOAT[{DIM}])",
        [[i + 1, f"cluster {i + 1}", "an example", store.vector_literal(v)] for i, v in enumerate(c)],
    )


def fill_calls(path: Path, *, calls: int, phrases_per_call: int, turns_per_call: int, seed: int = 0) -> None:
    """A database holding `calls` analyzed calls with fitted clusters (all rows synthetic)."""
    with db.opened(path) as con:
        con.execute(
            f"""
            INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,
                               outcome, outcome_source, speaker_method, model)
            SELECT printf('%064d', i), printf('synthetic/%06d.wav', i), 48.0, 2, 16000, 768000,
                   CASE WHEN i % 3 = 0 THEN 'interested' ELSE 'not_interested' END, 'label', 'channel', 'tiny.en'
            FROM range({calls}) r(i)
            """
        )
        con.execute(
            f"""
            INSERT INTO turns (call_id, turn_idx, speaker, start_s, end_s, text)
            SELECT printf('%064d', i // {turns_per_call}), i % {turns_per_call},
                   CASE WHEN i % 2 = 0 THEN 'rep' ELSE 'prospect' END, (i % {turns_per_call}) * 2.0,
                   (i % {turns_per_call}) * 2.0 + 1.5, 'some words of a synthetic turn'
            FROM range({calls * turns_per_call}) r(i)
            """
        )
        fill_clusters(con, seed=seed)
        fill_phrases(con, n=calls * phrases_per_call, clustered=True, seed=seed, calls_of=phrases_per_call)
        con.execute("INSERT INTO phrase_terms (phrase_id, term) SELECT phrase_id, 'synthetic term' FROM pitch_phrases")
        con.execute(
            """
            INSERT INTO reactions (reaction_id, phrase_id, call_id, turn_idx, start_s, end_s, text, interest, label,
                                   evidence, latency_s, interrupted, backchannels, run_size)
            SELECT replace(phrase_id, '-p', '-r'), phrase_id, call_id, turn_idx + 1, end_s, end_s + 1,
                   'how does that work', 0.5, 'interested', ['+how does'], 0.4, false, [], 1
            FROM pitch_phrases
            """
        )
        con.execute("UPDATE clusters SET size = (SELECT count(*) FROM pitch_phrases p WHERE p.cluster_id = clusters.cluster_id)")
        # each wording cluster its own suggested descriptor, as an older file becomes (migration m010)
        con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) "
                    "SELECT cluster_id, label, 'suggested', [example] FROM clusters WHERE cluster_id <> 0")
        con.execute("UPDATE clusters SET descriptor_id = cluster_id, suggested_id = cluster_id WHERE cluster_id <> 0")
        con.execute("UPDATE pitch_phrases SET descriptor_id = cluster_id, descriptor_method = 'suggested'")
