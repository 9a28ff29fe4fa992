"""Writing a call's rows (one transaction per call) and reading what is known."""

from __future__ import annotations

import duckdb
import numpy as np

from .db import transaction
from .records import CallAnalysis, Outcome, Recording


def phrase_id(call_id: str, phrase_idx: int) -> str:
    return f"{call_id[:16]}-p{phrase_idx:04d}"


def reaction_id(call_id: str, phrase_idx: int) -> str:
    return f"{call_id[:16]}-r{phrase_idx:04d}"


def known_call_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()}


def failed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Files that failed before: retried only when their content changes."""
    rows = con.execute("SELECT DISTINCT file_sha256 FROM ingest_errors WHERE file_sha256 IS NOT NULL")
    return {r[0] for r in rows.fetchall()}


def record_error(con: duckdb.DuckDBPyConnection, recording: Recording, reason: str) -> None:
    con.execute(
        "INSERT INTO ingest_errors (file_sha256, source_file, reason) VALUES (?, ?, ?)",
        [recording.call_id, recording.source_file, reason],
    )


def write_call(con: duckdb.DuckDBPyConnection, call: CallAnalysis, size_bytes: int) -> None:
    """All rows of one call, or none of them."""
    info = call.info
    cid = info.call_id
    with transaction(con):
        con.execute(
            """
            INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,
                               speaker_method, model, source_kind, rep, outcome, outcome_source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [cid, info.source_file, info.duration_s, info.channels, info.sample_rate, size_bytes,
             call.speaker_method, call.model, call.source_kind, call.rep, call.outcome,
             "label" if call.outcome else None],
        )
        if call.turns:
            _insert(con, "turns (call_id, turn_idx, speaker, start_s, end_s, text, speaker_name)",
                    [[cid, t.turn_idx, t.speaker, t.start_s, t.end_s, t.text, t.name] for t in call.turns])
        if call.phrases:
            _insert_phrases(con, cid, call)
        terms = [[phrase_id(cid, p.phrase_idx), t] for p in call.phrases for t in p.descriptors]
        if terms:
            _insert(con, "descriptors (phrase_id, term)", terms)
        if call.reactions:
            _insert(con, "reactions (reaction_id, phrase_id, call_id, turn_idx, start_s, end_s, text, interest,"
                    " label, evidence)",
                    [[reaction_id(cid, r.phrase_idx), phrase_id(cid, r.phrase_idx), cid, r.turn_idx,
                      r.start_s, r.end_s, r.text, r.interest, r.label, list(r.evidence)]
                     for r in call.reactions])


def _insert(con: duckdb.DuckDBPyConnection, target: str, rows: list[list]) -> None:
    """Many rows in one statement (DuckDB's executemany plans every row anew: ~100x slower)."""
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    con.execute(f"INSERT INTO {target} VALUES " + ", ".join([marks] * len(rows)), [v for r in rows for v in r])


def _insert_phrases(con: duckdb.DuckDBPyConnection, cid: str, call: CallAnalysis) -> None:
    """Phrases with their embeddings, read by DuckDB straight from a numpy array.

    Binding each embedding as a 384-element list costs ~50 ms a row; scanning an
    array whose columns are the phrases' vectors (plus their index) costs ~1 ms a call.
    """
    vectors = np.asarray(call.embeddings, dtype=np.float32)
    index = np.arange(len(vectors), dtype=np.float32)[:, None]
    phrase_vectors = np.ascontiguousarray(np.hstack([vectors, index]).T)  # noqa: F841 (scanned by name)
    dims = len(vectors[0])
    vector = ", ".join(f"column{i}" for i in range(dims))
    con.execute(
        f"""
        INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, embedding)
        SELECT p.phrase_id, ?, p.turn_idx, p.start_s, p.end_s, p.text, [{vector}]::FLOAT[{dims}]
        FROM phrase_vectors v
        JOIN (SELECT unnest(?) AS i, unnest(?) AS phrase_id, unnest(?) AS turn_idx, unnest(?::DOUBLE[]) AS start_s,
                     unnest(?::DOUBLE[]) AS end_s, unnest(?) AS text) p ON p.i = v.column{dims}::INTEGER
        """,
        [cid, list(range(len(call.phrases))), [phrase_id(cid, p.phrase_idx) for p in call.phrases],
         [p.turn_idx for p in call.phrases], [p.start_s for p in call.phrases],
         [p.end_s for p in call.phrases], [p.text for p in call.phrases]],
    )


def apply_outcomes(con: duckdb.DuckDBPyConnection, outcomes: dict[str, Outcome]) -> int:
    """Set outcome and rep of known calls from the user's labels; returns calls updated."""
    rows = [[o.outcome, "label" if o.outcome else None, o.rep, cid] for cid, o in outcomes.items()]
    if not rows:
        return 0
    with transaction(con):
        con.executemany(
            "UPDATE calls SET outcome = ?, outcome_source = ?, rep = coalesce(?, rep) WHERE call_id = ?",
            rows,
        )
    known = known_call_ids(con)
    return sum(1 for cid in outcomes if cid in known)
