"""The database schema, as numbered migrations applied in order on every open.

Each migration runs in its own transaction and is recorded in
`schema_migrations`. Never edit a migration that has shipped: add the next one.
The tables and views are a public API (README "Schema"); keep names stable.
"""

from __future__ import annotations

from typing import Callable

import duckdb

EMBEDDING_DIM = 384
WILSON_Z90 = 1.6448536269514722  # two-sided 90% normal quantile


def m001_core_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE calls (
            call_id        VARCHAR PRIMARY KEY,  -- sha256 of the recording's bytes
            source_file    VARCHAR NOT NULL,     -- path relative to the inbox
            duration_s     DOUBLE NOT NULL,
            channels       INTEGER NOT NULL,
            sample_rate    INTEGER NOT NULL,
            size_bytes     BIGINT NOT NULL,
            rep            VARCHAR,
            outcome        VARCHAR CHECK (outcome IN ('interested', 'not_interested')),
            outcome_source VARCHAR CHECK (outcome_source IN ('label', 'inferred')),
            outcome_confidence DOUBLE,           -- 1.0 for labels; P(outcome) when inferred
            outcome_evidence VARCHAR,            -- why it was inferred
            speaker_method VARCHAR NOT NULL,     -- 'channel', 'voice-print' or 'transcript-*'
            model          VARCHAR NOT NULL,
            processed_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        """
        CREATE TABLE turns (
            call_id  VARCHAR NOT NULL,
            turn_idx INTEGER NOT NULL,
            speaker  VARCHAR NOT NULL CHECK (speaker IN ('rep', 'prospect')),
            start_s  DOUBLE NOT NULL,
            end_s    DOUBLE NOT NULL,
            text     VARCHAR NOT NULL,
            PRIMARY KEY (call_id, turn_idx)
        )
        """
    )
    con.execute(
        f"""
        CREATE TABLE pitch_phrases (
            phrase_id  VARCHAR PRIMARY KEY,
            call_id    VARCHAR NOT NULL,
            turn_idx   INTEGER NOT NULL,
            start_s    DOUBLE NOT NULL,
            end_s      DOUBLE NOT NULL,
            text       VARCHAR NOT NULL,
            kind       VARCHAR NOT NULL CHECK (kind IN ('pitch', 'greeting', 'discovery', 'close')),
            kind_evidence VARCHAR NOT NULL,
            embedding  FLOAT[{EMBEDDING_DIM}] NOT NULL,
            cluster_id INTEGER           -- NULL for phrases that are not pitches
        )
        """
    )
    con.execute(
        """
        CREATE TABLE descriptors (
            phrase_id VARCHAR NOT NULL,
            term      VARCHAR NOT NULL,
            PRIMARY KEY (phrase_id, term)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE reactions (
            reaction_id VARCHAR PRIMARY KEY,
            phrase_id   VARCHAR NOT NULL,
            call_id     VARCHAR NOT NULL,
            turn_idx    INTEGER NOT NULL,
            start_s     DOUBLE NOT NULL,
            end_s       DOUBLE NOT NULL,
            text        VARCHAR NOT NULL,
            interest    DOUBLE NOT NULL CHECK (interest BETWEEN -1 AND 1),
            label       VARCHAR NOT NULL CHECK (label IN ('interested', 'neutral', 'objection')),
            evidence    VARCHAR[] NOT NULL,
            latency_s   DOUBLE,
            interrupted BOOLEAN NOT NULL,
            backchannels VARCHAR[] NOT NULL,
            run_size    INTEGER NOT NULL
        )
        """
    )
    con.execute(
        f"""
        CREATE TABLE clusters (
            cluster_id INTEGER PRIMARY KEY,
            label      VARCHAR NOT NULL,
            size       INTEGER NOT NULL,
            example    VARCHAR NOT NULL,          -- the most central phrase
            centroid   FLOAT[{EMBEDDING_DIM}] NOT NULL,
            fitted_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        f"""
        CREATE TABLE cluster_history (
            cluster_id INTEGER NOT NULL,
            label      VARCHAR NOT NULL,
            size       INTEGER NOT NULL,
            example    VARCHAR NOT NULL,
            centroid   FLOAT[{EMBEDDING_DIM}] NOT NULL,
            fitted_at  TIMESTAMP NOT NULL,
            retired_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            successor_id INTEGER,            -- the cluster that took its place (same id when kept)
            successor_similarity DOUBLE      -- cosine similarity of the two centroids
        )
        """
    )
    con.execute(
        """
        CREATE TABLE ingest_errors (
            file_sha256 VARCHAR,   -- NULL when the file could not even be read
            source_file VARCHAR NOT NULL,
            reason      VARCHAR NOT NULL,
            seen_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )


def m002_descriptor_performance(con: duckdb.DuckDBPyConnection) -> None:
    """Per cluster and per descriptor term: interested-lead rate with vs. without it, lift, 90% Wilson interval.

    The table macro `descriptor_stats(include_inferred)` computes the cluster
    rows with or without inferred outcomes; the `descriptor_performance` view
    uses both labels and inferred outcomes. `wilson_low(k, n)` and
    `wilson_high(k, n)` are the 90% Wilson score interval of k successes in n.
    """
    z = WILSON_Z90
    for name, sign in (("wilson_low", "-"), ("wilson_high", "+")):
        con.execute(
            f"""
            CREATE MACRO {name}(k, n) AS CASE WHEN n > 0 THEN
                (k / n + {z}^2 / (2 * n)
                 {sign} {z} * sqrt((k / n) * (1 - k / n) / n + {z}^2 / (4 * n ^ 2)))
                / (1 + {z}^2 / n) END
            """
        )
    con.execute(
        """
        CREATE MACRO labeled_calls(include_inferred) AS TABLE
        SELECT call_id, (outcome = 'interested')::INTEGER AS y
        FROM calls
        WHERE outcome IS NOT NULL AND (include_inferred OR outcome_source = 'label')
        """
    )
    con.execute(
        """
        CREATE MACRO descriptor_stats(include_inferred) AS TABLE
        WITH labeled AS (SELECT * FROM labeled_calls(include_inferred)),
        overall AS (SELECT count(*) AS n, coalesce(sum(y), 0)::BIGINT AS k FROM labeled),
        used AS (
            SELECT DISTINCT cluster_id, call_id FROM pitch_phrases WHERE cluster_id IS NOT NULL
        ),
        per_cluster AS (
            SELECT u.cluster_id,
                   count(*) AS calls,
                   count(l.call_id) AS calls_with_outcome,
                   coalesce(sum(l.y), 0)::BIGINT AS interested_calls
            FROM used u LEFT JOIN labeled l USING (call_id)
            GROUP BY u.cluster_id
        ),
        reaction_means AS (
            SELECT p.cluster_id, avg(r.interest) AS reaction_interest, count(*) AS reactions
            FROM reactions r JOIN pitch_phrases p USING (phrase_id)
            GROUP BY p.cluster_id
        ),
        rates AS (
            SELECT c.cluster_id, c.label, c.example, c.size AS phrases,
                   coalesce(pc.calls, 0) AS calls,
                   coalesce(pc.calls_with_outcome, 0) AS calls_with_outcome,
                   coalesce(pc.interested_calls, 0) AS interested_calls,
                   CASE WHEN pc.calls_with_outcome > 0
                        THEN pc.interested_calls / pc.calls_with_outcome END AS interest_rate,
                   CASE WHEN o.n - pc.calls_with_outcome > 0
                        THEN (o.k - pc.interested_calls) / (o.n - pc.calls_with_outcome) END
                        AS rate_without,
                   rm.reaction_interest,
                   coalesce(rm.reactions, 0) AS reactions
            FROM clusters c
            CROSS JOIN overall o
            LEFT JOIN per_cluster pc USING (cluster_id)
            LEFT JOIN reaction_means rm USING (cluster_id)
        )
        SELECT cluster_id, label, phrases, calls, calls_with_outcome, interested_calls,
               interest_rate, rate_without,
               CASE WHEN rate_without > 0 THEN interest_rate / rate_without END AS lift,
               wilson_low(interested_calls, calls_with_outcome) AS ci_low,
               wilson_high(interested_calls, calls_with_outcome) AS ci_high,
               reaction_interest, reactions,
               calls_with_outcome < 5 AS low_support,
               example
        FROM rates
        """
    )
    con.execute("CREATE VIEW descriptor_performance AS SELECT * FROM descriptor_stats(true)")
    con.execute(
        """
        CREATE VIEW descriptor_terms AS
        WITH labeled AS (SELECT * FROM labeled_calls(true)),
        overall AS (SELECT count(*) AS n, coalesce(sum(y), 0)::BIGINT AS k FROM labeled),
        pitch_terms AS (
            SELECT d.term, p.call_id FROM descriptors d JOIN pitch_phrases p USING (phrase_id)
            WHERE p.kind = 'pitch'
        ),
        per_term AS (
            SELECT u.term, count(*) AS calls, count(l.call_id) AS calls_with_outcome,
                   coalesce(sum(l.y), 0)::BIGINT AS interested_calls
            FROM (SELECT DISTINCT term, call_id FROM pitch_terms) u LEFT JOIN labeled l USING (call_id)
            GROUP BY u.term
        ),
        rates AS (
            SELECT t.term, (SELECT count(*) FROM pitch_terms pt WHERE pt.term = t.term) AS phrases,
                   t.calls, t.calls_with_outcome, t.interested_calls,
                   CASE WHEN t.calls_with_outcome > 0 THEN t.interested_calls / t.calls_with_outcome END
                       AS interest_rate,
                   CASE WHEN o.n - t.calls_with_outcome > 0
                        THEN (o.k - t.interested_calls) / (o.n - t.calls_with_outcome) END AS rate_without
            FROM per_term t CROSS JOIN overall o
            WHERE t.calls >= 2
        )
        SELECT term, phrases, calls, calls_with_outcome, interested_calls, interest_rate, rate_without,
               CASE WHEN rate_without > 0 THEN interest_rate / rate_without END AS lift,
               wilson_low(interested_calls, calls_with_outcome) AS ci_low,
               wilson_high(interested_calls, calls_with_outcome) AS ci_high,
               calls_with_outcome < 5 AS low_support
        FROM rates
        """
    )


def m003_transcript_calls(con: duckdb.DuckDBPyConnection) -> None:
    """Calls from transcript files: where a call came from, and no audio fields or times."""
    con.execute("ALTER TABLE calls ADD COLUMN source_kind VARCHAR DEFAULT 'audio'")
    for column in ("duration_s", "channels", "sample_rate", "model"):
        con.execute(f"ALTER TABLE calls ALTER COLUMN {column} DROP NOT NULL")
    for table in ("turns", "pitch_phrases", "reactions"):  # a transcript may carry no times
        for column in ("start_s", "end_s"):
            con.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")
    con.execute("ALTER TABLE turns ADD COLUMN speaker_name VARCHAR")


def m004_rep_channel(con: duckdb.DuckDBPyConnection) -> None:
    """Stereo calls: which channel was the rep's, and how that was decided."""
    con.execute("ALTER TABLE calls ADD COLUMN rep_channel VARCHAR")
    con.execute("ALTER TABLE calls ADD COLUMN rep_channel_source VARCHAR")


def m005_backchannel_turns(con: duckdb.DuckDBPyConnection) -> None:
    """Turns that are only a backchannel ("mm-hm") inside the other side's turn."""
    con.execute("ALTER TABLE turns ADD COLUMN backchannel BOOLEAN DEFAULT false")


def m006_cluster_evidence_columns(con: duckdb.DuckDBPyConnection) -> None:
    """descriptor_stats gains: the unclustered row flagged, each cluster's share of pitch phrases, a 90%
    interval on the mean reaction interest, and the rep-adjusted (Mantel-Haenszel) odds ratio.

    Columns are appended, so queries written for the earlier view keep working. The
    reaction interval is mean ± 1.645 standard errors, clipped to [-1, 1] (NULL under
    two reactions). The odds ratio stratifies labelled calls by rep (calls without a
    rep are one stratum): sum(a·d/n) / sum(b·c/n) over strata of (used & interested,
    used & not, unused & interested, unused & not); NULL when the denominator is 0.
    """
    con.execute(
        """
        CREATE OR REPLACE MACRO descriptor_stats(include_inferred) AS TABLE
        WITH labeled AS (SELECT * FROM labeled_calls(include_inferred)),
        overall AS (SELECT count(*) AS n, coalesce(sum(y), 0)::BIGINT AS k FROM labeled),
        used AS (
            SELECT DISTINCT cluster_id, call_id FROM pitch_phrases WHERE cluster_id IS NOT NULL
        ),
        per_cluster AS (
            SELECT u.cluster_id,
                   count(*) AS calls,
                   count(l.call_id) AS calls_with_outcome,
                   coalesce(sum(l.y), 0)::BIGINT AS interested_calls
            FROM used u LEFT JOIN labeled l USING (call_id)
            GROUP BY u.cluster_id
        ),
        reaction_means AS (
            SELECT p.cluster_id, avg(r.interest) AS reaction_interest, count(*) AS reactions,
                   stddev_samp(r.interest) / sqrt(count(*)) AS reaction_se
            FROM reactions r JOIN pitch_phrases p USING (phrase_id)
            GROUP BY p.cluster_id
        ),
        strata AS (
            SELECT k.cluster_id, coalesce(c.rep, '') AS rep,
                   count(*) FILTER (WHERE u.call_id IS NOT NULL AND l.y = 1) AS a,
                   count(*) FILTER (WHERE u.call_id IS NOT NULL AND l.y = 0) AS b,
                   count(*) FILTER (WHERE u.call_id IS NULL AND l.y = 1) AS c,
                   count(*) FILTER (WHERE u.call_id IS NULL AND l.y = 0) AS d
            FROM (SELECT DISTINCT cluster_id FROM used) k
            CROSS JOIN labeled l
            JOIN calls c ON c.call_id = l.call_id
            LEFT JOIN used u ON u.cluster_id = k.cluster_id AND u.call_id = l.call_id
            GROUP BY k.cluster_id, coalesce(c.rep, '')
        ),
        mantel_haenszel AS (
            SELECT cluster_id, sum(a * d / (a + b + c + d)) AS num, sum(b * c / (a + b + c + d)) AS den
            FROM strata GROUP BY cluster_id
        ),
        all_phrases AS (SELECT sum(size) AS n FROM clusters),
        rates AS (
            SELECT c.cluster_id, c.label, c.example, c.size AS phrases,
                   coalesce(pc.calls, 0) AS calls,
                   coalesce(pc.calls_with_outcome, 0) AS calls_with_outcome,
                   coalesce(pc.interested_calls, 0) AS interested_calls,
                   CASE WHEN pc.calls_with_outcome > 0
                        THEN pc.interested_calls / pc.calls_with_outcome END AS interest_rate,
                   CASE WHEN o.n - pc.calls_with_outcome > 0
                        THEN (o.k - pc.interested_calls) / (o.n - pc.calls_with_outcome) END
                        AS rate_without,
                   rm.reaction_interest,
                   coalesce(rm.reactions, 0) AS reactions,
                   rm.reaction_se,
                   CASE WHEN mh.den > 0 THEN mh.num / mh.den END AS rep_adjusted_odds_ratio,
                   CASE WHEN ap.n > 0 THEN c.size / ap.n END AS phrase_share
            FROM clusters c
            CROSS JOIN overall o
            CROSS JOIN all_phrases ap
            LEFT JOIN per_cluster pc USING (cluster_id)
            LEFT JOIN reaction_means rm USING (cluster_id)
            LEFT JOIN mantel_haenszel mh USING (cluster_id)
        )
        SELECT cluster_id, label, phrases, calls, calls_with_outcome, interested_calls,
               interest_rate, rate_without,
               CASE WHEN rate_without > 0 THEN interest_rate / rate_without END AS lift,
               wilson_low(interested_calls, calls_with_outcome) AS ci_low,
               wilson_high(interested_calls, calls_with_outcome) AS ci_high,
               reaction_interest, reactions,
               calls_with_outcome < 5 AS low_support,
               example,
               cluster_id = 0 AS unclustered,
               phrase_share,
               CASE WHEN reactions >= 2 THEN greatest(-1, reaction_interest - 1.6449 * reaction_se) END
                   AS reaction_ci_low,
               CASE WHEN reactions >= 2 THEN least(1, reaction_interest + 1.6449 * reaction_se) END
                   AS reaction_ci_high,
               rep_adjusted_odds_ratio
        FROM rates
        """
    )
    con.execute("CREATE OR REPLACE VIEW descriptor_performance AS SELECT * FROM descriptor_stats(true)")


def m007_reps(con: duckdb.DuckDBPyConnection) -> None:
    """Enrolled reps' voice prints, and how a call's rep speaker was found by voice."""
    con.execute(
        """
        CREATE TABLE reps (
            name        VARCHAR PRIMARY KEY,
            voice_print FLOAT[256] NOT NULL,  -- unit mean of the samples' window prints
            samples     VARCHAR[] NOT NULL,   -- file names of the enrollment samples
            seconds     DOUBLE NOT NULL,      -- speech in the samples
            enrolled_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute("ALTER TABLE calls ADD COLUMN rep_voice_source VARCHAR")
    con.execute("ALTER TABLE calls ADD COLUMN rep_voice_cosine DOUBLE")


def m011_audio_band(con: duckdb.DuckDBPyConnection) -> None:
    """Each recording's band (`telephone` or `wideband`) and its energy above 4 kHz; NULL for calls stored
    before it was measured and for transcripts."""
    con.execute("ALTER TABLE calls ADD COLUMN band VARCHAR")
    con.execute("ALTER TABLE calls ADD COLUMN high_band_db DOUBLE")


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    m001_core_tables,
    m002_descriptor_performance,
    m003_transcript_calls,
    m004_rep_channel,
    m005_backchannel_turns,
    m006_cluster_evidence_columns,
    m007_reps,
    m011_audio_band,
]
