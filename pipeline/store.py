"""Writing a call's rows (one transaction per call) and reading what is known."""

from __future__ import annotations

import duckdb

from .db import transaction
from .records import CallAnalysis, Outcome, Recording


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
    info = call.info
    cid = info.call_id
    with transaction(con):
        con.execute(
            """
            INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,
                               speaker_method, model, source_kind, rep, outcome, outcome_source,
                               outcome_confidence, outcome_evidence, rep_channel, rep_channel_source,
                               rep_voice_source, rep_voice_cosine)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [cid, info.source_file, info.duration_s, info.channels, info.sample_rate, size_bytes,
             call.speaker_method, call.model, call.source_kind, call.rep, *_outcome(call),
             call.rep_channel, call.rep_channel_source, call.rep_voice_source, call.rep_voice_cosine],
        )
        if call.turns:
            _insert(con, "turns (call_id, turn_idx, speaker, start_s, end_s, text, speaker_name, backchannel)",
                    [[cid, t.turn_idx, t.speaker, t.start_s, t.end_s, t.text, t.name, t.backchannel]
                     for t in call.turns])
        if call.phrases:
            # Embeddings go in as text cast to FLOAT[384]: binding a 384-item Python list
            # as a parameter costs about 90 ms per row (BENCHMARKS.md, "store").
            _insert(con, "pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence,"
                    " embedding)",
                    [[phrase_id(cid, p.phrase_idx), cid, p.turn_idx, p.start_s, p.end_s, p.text, p.kind,
                      p.kind_evidence, vector_literal(vec)]
                     for p, vec in zip(call.phrases, call.embeddings)],
                    casts={8: f"FLOAT[{len(call.embeddings[0])}]"})
        terms = [[phrase_id(cid, p.phrase_idx), t] for p in call.phrases for t in p.descriptors]
        if terms:
            _insert(con, "descriptors (phrase_id, term)", terms)
        if call.reactions:
            _insert(con, "reactions (reaction_id, phrase_id, call_id, turn_idx, start_s, end_s, text, interest,"
                    " label, evidence, latency_s, interrupted, backchannels, run_size)",
                    [[reaction_id(cid, r.phrase_idx), phrase_id(cid, r.phrase_idx), cid, r.turn_idx,
                      r.start_s, r.end_s, r.text, r.interest, r.label, list(r.evidence), r.latency_s,
                      r.interrupted, list(r.backchannels), r.run_size]
                     for r in call.reactions])


def _insert(con: duckdb.DuckDBPyConnection, target: str, rows: list[list], casts: dict[int, str] | None = None) -> None:
    """Many rows in one statement (DuckDB's executemany plans every row anew: ~100x slower)."""
    casts = casts or {}
    marks = "(" + ", ".join(f"?::{casts[i]}" if i in casts else "?" for i in range(len(rows[0]))) + ")"
    con.execute(f"INSERT INTO {target} VALUES " + ", ".join([marks] * len(rows)), [v for r in rows for v in r])


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

    A label always wins over an inferred outcome; a row with an empty outcome
    only sets the rep.
    """
    labelled = [[o.outcome, cid] for cid, o in outcomes.items() if o.outcome]
    reps = [[o.rep, cid] for cid, o in outcomes.items() if o.rep]
    if not labelled and not reps:
        return 0
    with transaction(con):
        if labelled:
            con.executemany(
                "UPDATE calls SET outcome = ?, outcome_source = 'label', outcome_confidence = 1.0, "
                "outcome_evidence = NULL WHERE call_id = ?",
                labelled,
            )
        if reps:
            con.executemany("UPDATE calls SET rep = ? WHERE call_id = ?", reps)
    known = known_call_ids(con)
    return sum(1 for cid in outcomes if cid in known)
