"""The database schema, as numbered migrations applied in order on every open.

Each migration runs in its own transaction and is recorded in
`schema_migrations`. Never edit a migration that has shipped: add the next one.
The tables and views are a public API (docs/schema.md); keep names stable.
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


def m008_forgotten(con: duckdb.DuckDBPyConnection) -> None:
    """`pitchlab forget`: the sha256 of each forgotten recording (nothing else of it), so a copy
    still in the inbox is not analyzed again; and each call's recording date, for `--older-than`."""
    con.execute(
        """
        CREATE TABLE forgotten (
            sha256       VARCHAR PRIMARY KEY,  -- of the recording's bytes (its former call_id)
            forgotten_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute("ALTER TABLE calls ADD COLUMN recorded_at TIMESTAMP")


def _unit_stats(units: str, unit_phrases: str) -> str:
    """The statistics of `descriptor_stats` and `wording_stats`, over any "unit" (a descriptor, a wording).

    `units`: one row per unit: `unit` (its key), `ranked` (whether it takes part in the tests)
    and the columns the view passes through; `unit_phrases`: (unit, phrase_id, call_id) of the
    pitch phrases said under it. Ends in a CTE `stats` for the caller's final SELECT.
    """
    return f"""
        WITH labeled AS (SELECT * FROM labeled_calls(include_inferred)),
        overall AS (SELECT count(*) AS n, coalesce(sum(y), 0)::BIGINT AS k FROM labeled),
        units AS ({units}),
        unit_phrases AS ({unit_phrases}),
        used AS (SELECT DISTINCT unit, call_id FROM unit_phrases),
        per_unit AS (
            SELECT u.unit, count(*) AS calls, count(l.call_id) AS calls_with_outcome,
                   coalesce(sum(l.y), 0)::BIGINT AS interested_calls
            FROM used u LEFT JOIN labeled l USING (call_id) GROUP BY u.unit
        ),
        phrase_counts AS (SELECT unit, count(*) AS unit_phrases FROM unit_phrases GROUP BY unit),
        reaction_means AS (
            SELECT up.unit, avg(r.interest) AS reaction_interest, count(*) AS reactions,
                   stddev_samp(r.interest) / sqrt(count(*)) AS reaction_se
            FROM reactions r JOIN unit_phrases up USING (phrase_id) GROUP BY up.unit
        ),
        strata AS (
            SELECT k.unit, coalesce(c.rep, '') AS rep,
                   count(*) FILTER (WHERE u.call_id IS NOT NULL AND l.y = 1) AS a,
                   count(*) FILTER (WHERE u.call_id IS NOT NULL AND l.y = 0) AS b,
                   count(*) FILTER (WHERE u.call_id IS NULL AND l.y = 1) AS c,
                   count(*) FILTER (WHERE u.call_id IS NULL AND l.y = 0) AS d
            FROM (SELECT DISTINCT unit FROM used) k
            CROSS JOIN labeled l
            JOIN calls c ON c.call_id = l.call_id
            LEFT JOIN used u ON u.unit = k.unit AND u.call_id = l.call_id
            GROUP BY k.unit, coalesce(c.rep, '')
        ),
        mantel_haenszel AS (
            SELECT unit, sum(a * d / (a + b + c + d)) AS num, sum(b * c / (a + b + c + d)) AS den
            FROM strata GROUP BY unit
        ),
        rates AS (
            SELECT un.*, coalesce(ph.unit_phrases, 0) AS unit_phrases,
                   coalesce(pc.calls, 0) AS calls,
                   coalesce(pc.calls_with_outcome, 0) AS calls_with_outcome,
                   coalesce(pc.interested_calls, 0) AS interested_calls,
                   CASE WHEN pc.calls_with_outcome > 0
                        THEN pc.interested_calls / pc.calls_with_outcome END AS interest_rate,
                   CASE WHEN o.n - pc.calls_with_outcome > 0
                        THEN (o.k - pc.interested_calls) / (o.n - pc.calls_with_outcome) END AS rate_without,
                   rm.reaction_interest, coalesce(rm.reactions, 0) AS reactions, rm.reaction_se,
                   CASE WHEN mh.den > 0 THEN mh.num / mh.den END AS rep_adjusted_odds_ratio,
                   CASE WHEN un.ranked AND pc.calls_with_outcome > 0 AND o.n - pc.calls_with_outcome > 0
                        THEN fisher_p(pc.interested_calls, pc.calls_with_outcome, o.k - pc.interested_calls,
                                      o.n - pc.calls_with_outcome) END AS p_value
            FROM units un
            CROSS JOIN overall o
            LEFT JOIN phrase_counts ph USING (unit)
            LEFT JOIN per_unit pc USING (unit)
            LEFT JOIN reaction_means rm USING (unit)
            LEFT JOIN mantel_haenszel mh USING (unit)
        ),
        ranked_p AS (
            SELECT *, CASE WHEN p_value IS NOT NULL THEN
                          p_value * count(p_value) OVER ()
                          / row_number() OVER (ORDER BY p_value IS NULL, p_value, unit) END AS bh
            FROM rates
        ),
        stats AS (
            SELECT *,
                   CASE WHEN rate_without > 0 THEN interest_rate / rate_without END AS lift,
                   wilson_low(interested_calls, calls_with_outcome) AS ci_low,
                   wilson_high(interested_calls, calls_with_outcome) AS ci_high,
                   calls_with_outcome < 5 AS low_support,
                   CASE WHEN reactions >= 2 THEN greatest(-1, reaction_interest - 1.6449 * reaction_se) END
                       AS reaction_ci_low,
                   CASE WHEN reactions >= 2 THEN least(1, reaction_interest + 1.6449 * reaction_se) END
                       AS reaction_ci_high,
                   CASE WHEN p_value IS NOT NULL THEN least(1, min(bh) OVER (
                       ORDER BY p_value IS NULL, p_value DESC, unit DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) END AS q_value
            FROM ranked_p
        )
    """


def m009_descriptors(con: duckdb.DuckDBPyConnection) -> None:
    """Descriptors: the benefits under test (declared by you or suggested), each pitch phrase's descriptor,
    and statistics at two levels: `descriptor_performance` (one row per descriptor) and
    `wording_performance` (one row per wording cluster, inside its descriptor).

    The per-phrase noun-chunk table `descriptors` becomes `phrase_terms` (an older file's clusters
    become descriptors in m010). `fisher_p(k1, n1, k0, n0)` is the two-sided Fisher exact p-value
    (as `evidence.fisher_p`); `q_value` is Benjamini-Hochberg across the ranked rows of a view.
    """
    con.execute("ALTER TABLE descriptors RENAME TO phrase_terms")
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'descriptor_terms'").fetchone()[0]
    con.execute(view.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1)
                .replace("FROM descriptors AS d", "FROM phrase_terms AS d"))
    con.execute(
        """
        CREATE TABLE descriptors (
            descriptor_id INTEGER PRIMARY KEY,
            name          VARCHAR NOT NULL,
            source        VARCHAR NOT NULL CHECK (source IN ('declared', 'suggested')),
            examples      VARCHAR[] NOT NULL,
            created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        f"""
        CREATE TABLE descriptor_examples (
            descriptor_id INTEGER NOT NULL,
            example       VARCHAR NOT NULL,
            embedding     FLOAT[{EMBEDDING_DIM}] NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE phrase_similarities (
            phrase_id     VARCHAR NOT NULL,
            descriptor_id INTEGER NOT NULL,
            similarity    DOUBLE NOT NULL
        )
        """
    )
    for column, kind in (("descriptor_id", "INTEGER"), ("descriptor_similarity", "DOUBLE"),
                         ("descriptor_method", "VARCHAR")):
        con.execute(f"ALTER TABLE pitch_phrases ADD COLUMN {column} {kind}")
    # the column with a default last: DuckDB 1.5 cannot commit another ADD COLUMN after one with a default
    for column, kind in (("descriptor_id", "INTEGER"), ("descriptor_confidence", "DOUBLE"),
                         ("suggested_id", "INTEGER"), ("descriptor_confirmed", "BOOLEAN DEFAULT false")):
        con.execute(f"ALTER TABLE clusters ADD COLUMN {column} {kind}")
    con.execute("ALTER TABLE cluster_history ADD COLUMN descriptor_id INTEGER")
    con.execute("ALTER TABLE cluster_history ADD COLUMN descriptor_confirmed BOOLEAN")
    con.execute(
        """
        CREATE MACRO hypergeometric(x, big_k, big_n, n) AS exp(
            lgamma(big_k + 1) - lgamma(x + 1) - lgamma(big_k - x + 1)
            + lgamma(big_n - big_k + 1) - lgamma(n - x + 1) - lgamma(big_n - big_k - n + x + 1)
            - lgamma(big_n + 1) + lgamma(n + 1) + lgamma(big_n - n + 1))
        """
    )
    con.execute(
        """
        CREATE MACRO fisher_p(k1, n1, k0, n0) AS least(1, list_sum(list_filter(
            list_transform(range(greatest(0, n1 - (n1 + n0 - k1 - k0))::BIGINT, least(n1, k1 + k0)::BIGINT + 1),
                           x -> hypergeometric(x, k1 + k0, n1 + n0, n1)),
            p -> p <= hypergeometric(k1, k1 + k0, n1 + n0, n1) * (1 + 1e-7))))
        """
    )
    wordings = _unit_stats(
        units="""
            SELECT c.cluster_id AS unit, c.cluster_id <> 0 AS ranked, c.cluster_id, c.label, c.example,
                   c.size, c.descriptor_id, c.descriptor_confirmed, c.descriptor_confidence,
                   CASE WHEN c.cluster_id = 0 THEN NULL ELSE coalesce(d.name, 'other') END AS descriptor
            FROM clusters c LEFT JOIN descriptors d USING (descriptor_id)
        """,
        unit_phrases="SELECT cluster_id AS unit, phrase_id, call_id FROM pitch_phrases WHERE cluster_id IS NOT NULL",
    )
    con.execute(
        f"""
        CREATE MACRO wording_stats(include_inferred) AS TABLE
        {wordings},
        descriptor_calls AS (
            SELECT DISTINCT descriptor_id, call_id FROM pitch_phrases
            WHERE kind = 'pitch' AND descriptor_id IS NOT NULL
        ),
        others AS (  -- labelled calls that used the wording's descriptor through its other wordings only
            SELECT s.unit, count(*) AS n, coalesce(sum(l.y), 0)::BIGINT AS k
            FROM stats s
            JOIN descriptor_calls dc ON dc.descriptor_id = s.descriptor_id
            JOIN labeled l ON l.call_id = dc.call_id
            LEFT JOIN used u ON u.unit = s.unit AND u.call_id = dc.call_id
            WHERE u.call_id IS NULL AND s.ranked
            GROUP BY s.unit
        ),
        all_phrases AS (SELECT sum(size) AS n FROM clusters)
        SELECT s.cluster_id, s.label, s.size AS phrases, s.calls, s.calls_with_outcome, s.interested_calls,
               s.interest_rate, s.rate_without, s.lift, s.ci_low, s.ci_high, s.reaction_interest, s.reactions,
               s.low_support, s.example, s.cluster_id = 0 AS unclustered,
               CASE WHEN ap.n > 0 THEN s.size / ap.n END AS phrase_share,
               s.reaction_ci_low, s.reaction_ci_high, s.rep_adjusted_odds_ratio,
               s.descriptor_id, s.descriptor, coalesce(s.descriptor_confirmed, false) AS descriptor_confirmed,
               s.descriptor_confidence, s.p_value, s.q_value,
               coalesce(o.n, 0) AS others_calls_with_outcome,
               CASE WHEN o.n > 0 THEN o.k / o.n END AS others_interest_rate,
               CASE WHEN o.k > 0 THEN s.interest_rate / (o.k / o.n) END AS lift_vs_others,
               CASE WHEN s.ranked AND s.size > 0 THEN count(*) OVER (PARTITION BY s.ranked AND s.size > 0,
                    s.descriptor_id) END AS wordings_in_descriptor,
               CASE WHEN s.ranked AND s.size > 0 THEN rank() OVER (PARTITION BY s.ranked AND s.size > 0,
                    s.descriptor_id ORDER BY s.interest_rate DESC NULLS LAST, s.calls_with_outcome DESC)
                    END AS rank_in_descriptor
        FROM stats s CROSS JOIN all_phrases ap LEFT JOIN others o USING (unit)
        """
    )
    con.execute("CREATE VIEW wording_performance AS SELECT * FROM wording_stats(true)")
    descriptors = _unit_stats(
        units="""
            SELECT d.descriptor_id AS unit, true AS ranked, d.descriptor_id, d.name AS descriptor, d.source,
                   d.examples[1] AS example
            FROM descriptors d
            UNION ALL
            SELECT 0, false, NULL, 'other', 'other', NULL
        """,
        unit_phrases="""
            SELECT coalesce(descriptor_id, 0) AS unit, phrase_id, call_id FROM pitch_phrases
            WHERE kind = 'pitch' AND descriptor_method IS NOT NULL
        """,
    )
    con.execute(
        f"""
        CREATE OR REPLACE MACRO descriptor_stats(include_inferred) AS TABLE
        {descriptors},
        wordings AS (
            SELECT descriptor_id AS unit, count(*) AS wordings FROM clusters
            WHERE cluster_id <> 0 AND size > 0 AND descriptor_id IS NOT NULL GROUP BY descriptor_id
        ),
        all_phrases AS (SELECT sum(unit_phrases) AS n FROM stats)
        SELECT s.descriptor_id, s.descriptor, s.source, s.unit_phrases AS phrases,
               coalesce(w.wordings, 0) AS wordings, s.calls, s.calls_with_outcome, s.interested_calls,
               s.interest_rate, s.rate_without, s.lift, s.ci_low, s.ci_high, s.reaction_interest, s.reactions,
               s.reaction_ci_low, s.reaction_ci_high, s.rep_adjusted_odds_ratio, s.p_value, s.q_value,
               s.low_support, s.descriptor_id IS NULL AS other,
               CASE WHEN ap.n > 0 THEN s.unit_phrases / ap.n END AS phrase_share,
               s.example
        FROM stats s CROSS JOIN all_phrases ap LEFT JOIN wordings w USING (unit)
        WHERE s.unit_phrases > 0 OR s.source = 'declared'
        """
    )
    con.execute("CREATE OR REPLACE VIEW descriptor_performance AS SELECT * FROM descriptor_stats(true)")



def m010_descriptors_from_clusters(con: duckdb.DuckDBPyConnection) -> None:
    """An older file's clusters become suggested descriptors of their own (one wording each), so its
    leaderboard reads as before until the next analyze or recluster suggests benefit-level ones.

    (Apart from m009: DuckDB cannot update a table in the transaction that altered it.)
    """
    con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) "
                "SELECT cluster_id, label, 'suggested', [example] FROM clusters WHERE cluster_id <> 0")
    con.execute("UPDATE clusters SET descriptor_id = cluster_id, suggested_id = cluster_id, "
                "descriptor_confirmed = false WHERE cluster_id <> 0")
    con.execute("UPDATE clusters SET descriptor_confirmed = false WHERE cluster_id = 0")
    con.execute("UPDATE pitch_phrases SET descriptor_id = CASE WHEN cluster_id <> 0 THEN cluster_id END, "
                "descriptor_method = CASE WHEN cluster_id <> 0 THEN 'suggested' ELSE 'other' END "
                "WHERE cluster_id IS NOT NULL")


def m011_pitch_silence(con: duckdb.DuckDBPyConnection) -> None:
    """A pitch that got no reply, then silence: how long nobody spoke (reactions.SILENCE_S and more)."""
    con.execute("ALTER TABLE pitch_phrases ADD COLUMN silence_after_s DOUBLE")


def m012_audio_band(con: duckdb.DuckDBPyConnection) -> None:
    """Each recording's band (`telephone` or `wideband`) and its energy above 4 kHz; NULL for calls stored
    before it was measured and for transcripts."""
    con.execute("ALTER TABLE calls ADD COLUMN band VARCHAR")
    con.execute("ALTER TABLE calls ADD COLUMN high_band_db DOUBLE")


def m013_reaction_heard_by(con: duckdb.DuckDBPyConnection) -> None:
    """The model that heard a reaction's text again from the audio (`moonshine-base` on telephone-band calls);
    NULL: the text is the transcript's words (every reaction stored before)."""
    con.execute("ALTER TABLE reactions ADD COLUMN heard_by VARCHAR")


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    m001_core_tables,
    m002_descriptor_performance,
    m003_transcript_calls,
    m004_rep_channel,
    m005_backchannel_turns,
    m006_cluster_evidence_columns,
    m007_reps,
    m008_forgotten,
    m009_descriptors,
    m010_descriptors_from_clusters,
    m011_pitch_silence,
    m012_audio_band,
    m013_reaction_heard_by,
]
