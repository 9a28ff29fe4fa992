"""Writing calls' rows (one transaction per call, or per chunk of calls) and reading what is known."""

from __future__ import annotations

from typing import Sequence

import duckdb
import numpy as np

from pipeline.core.records import CallAnalysis, Outcome, Recording
from pipeline.storage.db import transaction


def phrase_id(call_id: str, phrase_idx: int) -> str:
    return f"{call_id[:16]}-p{phrase_idx:04d}"


def reaction_id(call_id: str, phrase_idx: int) -> str:
    return f"{call_id[:16]}-r{phrase_idx:04d}"


def vector_literal(vector) -> str:
    """`[v1,v2,...]` with each float's shortest exact repr, for a `::FLOAT[n]` cast."""
    return "[" + ",".join(repr(float(v)) for v in vector) + "]"


def known_call_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()}


def failed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Files that failed before: retried only when their content changes."""
    rows = con.execute("SELECT DISTINCT file_sha256 FROM ingest_errors WHERE file_sha256 IS NOT NULL")
    return {r[0] for r in rows.fetchall()}


def forgotten_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Recordings removed by `pitchlab forget`: never analyzed again, even if dropped again."""
    return {r[0] for r in con.execute("SELECT sha256 FROM forgotten").fetchall()}


def failed_files(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Inbox-relative paths with a recorded failure (what `pitchlab retry FILE` matches)."""
    return {r[0] for r in con.execute("SELECT DISTINCT source_file FROM ingest_errors").fetchall()}


def record_error(con: duckdb.DuckDBPyConnection, recording: Recording, reason: str) -> None:
    con.execute(
        "INSERT INTO ingest_errors (file_sha256, source_file, reason) VALUES (?, ?, ?)",
        [recording.call_id, recording.source_file, reason],
    )


def clear_errors(con: duckdb.DuckDBPyConnection, files: list[str] | None = None) -> int:
    """Forget failures (all, or those of the given inbox-relative paths) so they are tried again."""
    where, params = ("", []) if not files else (" WHERE source_file IN (SELECT unnest(?))", [files])
    with transaction(con):
        count = con.execute(f"SELECT count(*) FROM ingest_errors{where}", params).fetchone()[0]
        con.execute(f"DELETE FROM ingest_errors{where}", params)
    return count


def write_call(con: duckdb.DuckDBPyConnection, call: CallAnalysis, size_bytes: int) -> None:
    """All rows of one call, or none of them."""
    write_calls(con, [(call, size_bytes)])


def write_calls(con: duckdb.DuckDBPyConnection, calls: Sequence[tuple[CallAnalysis, int]]) -> None:
    """All rows of many calls (each with its file size) in one transaction, one statement per table; or none."""
    if not calls:
        return
    with transaction(con):
        _insert(con, "calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes, speaker_method,"
                " model, source_kind, rep, outcome, outcome_source, outcome_confidence, outcome_evidence,"
                " rep_channel, rep_channel_source, rep_voice_source, rep_voice_cosine, recorded_at, band, high_band_db)",
                [[c.info.call_id, c.info.source_file, c.info.duration_s, c.info.channels, c.info.sample_rate, size,
                  c.speaker_method, c.model, c.source_kind, c.rep, *_outcome(c), c.rep_channel, c.rep_channel_source,
                  c.rep_voice_source, c.rep_voice_cosine, c.info.recorded_at, c.info.band, c.info.high_band_db]
                 for c, size in calls])
        _insert(con, "turns (call_id, turn_idx, speaker, start_s, end_s, text, speaker_name, backchannel)",
                [[c.info.call_id, t.turn_idx, t.speaker, t.start_s, t.end_s, t.text, t.name, t.backchannel]
                 for c, _ in calls for t in c.turns])
        _insert(con, "pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence,"
                " silence_after_s)",
                [[phrase_id(c.info.call_id, p.phrase_idx), c.info.call_id, p.turn_idx, p.start_s, p.end_s, p.text,
                  p.kind, p.kind_evidence, p.silence_after_s] for c, _ in calls for p in c.phrases],
                vectors=[vec for c, _ in calls for vec in c.embeddings])
        _insert(con, "phrase_terms (phrase_id, term)",
                [[phrase_id(c.info.call_id, p.phrase_idx), t] for c, _ in calls for p in c.phrases
                 for t in p.descriptors])
        _insert(con, "reactions (reaction_id, phrase_id, call_id, turn_idx, start_s, end_s, text, interest, label,"
                " evidence, latency_s, interrupted, backchannels, run_size, heard_by)",
                [[reaction_id(c.info.call_id, r.phrase_idx), phrase_id(c.info.call_id, r.phrase_idx), c.info.call_id,
                  r.turn_idx, r.start_s, r.end_s, r.text, r.interest, r.label, list(r.evidence), r.latency_s,
                  r.interrupted, list(r.backchannels), r.run_size, r.heard_by] for c, _ in calls for r in c.reactions])


VECTORS_VIEW = "pitchlab_new_embeddings"


def _insert(con: duckdb.DuckDBPyConnection, target: str, rows: list[list], vectors: list | None = None) -> None:
    """Many rows in one statement: each column bound as one list and unnested.

    DuckDB binds a list parameter far faster than as many single parameters (and
    executemany plans every row anew). `vectors` (one per row) become the last
    column, `embedding`: they are handed over as one long NumPy column (row, dimension,
    value) and gathered into FLOAT[n] inside DuckDB, which is exact and avoids formatting
    and parsing 384 floats a row as text. (One column a dimension, as before, cost about 40 ms
    of planning a statement however few the rows: a demo-sized call's write went from 0.056 s to
    0.025 s, BENCHMARKS.md "Waste found and fixed: writing a call".)
    """
    if not rows:
        return
    columns = [list(c) for c in zip(*rows)]
    select = ", ".join(f"unnest(?) AS c{i}" for i in range(len(columns)))
    if vectors is None:
        con.execute(f"INSERT INTO {target} SELECT {select}", columns)
        return
    import pandas as pd  # without pandas DuckDB converts registered arrays value by value (20x slower): fail instead

    matrix = np.asarray(vectors, dtype=np.float32)
    n, dim = matrix.shape
    con.register(VECTORS_VIEW, pd.DataFrame({"row_idx": np.repeat(np.arange(n), dim), "j": np.tile(np.arange(dim), n),
                                             "value": matrix.ravel()}, copy=False))
    try:
        target = target[:-1] + ", embedding)"
        con.execute(
            f"INSERT INTO {target} SELECT {', '.join(f'r.c{i}' for i in range(len(columns)))}, v.embedding"
            f" FROM (SELECT unnest(range(?)) AS row_idx, {select}) r JOIN"
            f" (SELECT row_idx, list(value ORDER BY j)::FLOAT[{dim}] AS embedding FROM {VECTORS_VIEW} GROUP BY row_idx) v"
            f" USING (row_idx)",
            [len(rows), *columns],
        )
    finally:
        con.unregister(VECTORS_VIEW)


def _outcome(call: CallAnalysis) -> list:
    """outcome, outcome_source, outcome_confidence, outcome_evidence of a new call.

    An outcome the transcript itself states is a label; otherwise the call's inferred guess.
    """
    if call.outcome:
        return [call.outcome, "label", 1.0, None]
    if call.lead is None:
        return [None, None, None, None]
    return [call.lead.outcome, "inferred", call.lead.confidence, call.lead.evidence]


def apply_outcomes(con: duckdb.DuckDBPyConnection, outcomes: dict[str, Outcome]) -> int:
    """Set outcome and rep of known calls from the user's labels; returns calls updated.

    A label always wins over an inferred outcome. An entry with an empty
    outcome means unknown: it clears a label the call had (from an earlier
    CSV, sidecar or the transcript itself), and leaves an inferred guess as it is.
    """
    labelled = [[o.outcome, cid] for cid, o in outcomes.items() if o.outcome]
    unknown = [[cid] for cid, o in outcomes.items() if not o.outcome and o.outcome_given]
    reps = [[o.rep, cid] for cid, o in outcomes.items() if o.rep]
    if not labelled and not unknown and not reps:
        return 0
    with transaction(con):
        if labelled:
            con.executemany(
                "UPDATE calls SET outcome = ?, outcome_source = 'label', outcome_confidence = 1.0, "
                "outcome_evidence = NULL WHERE call_id = ?",
                labelled,
            )
        if unknown:
            con.executemany(
                "UPDATE calls SET outcome = NULL, outcome_source = NULL, outcome_confidence = NULL, "
                "outcome_evidence = NULL WHERE call_id = ? AND outcome_source = 'label'",
                unknown,
            )
        if reps:
            con.executemany("UPDATE calls SET rep = ? WHERE call_id = ?", reps)
    known = known_call_ids(con)
    return sum(1 for cid in outcomes if cid in known)
