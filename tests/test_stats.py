import math

import pytest

from pipeline.analysis.stats import format_leaderboard, leaderboard
from pipeline.storage import db

Z = 1.6448536269514722


def wilson(k, n):
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def seed(con, calls, uses, reactions=()):
    """calls: {call_id: outcome}; uses: [(call_id, cluster_id)], one phrase each."""
    for cid, outcome in calls.items():
        con.execute(
            "INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes, "
            "outcome, speaker_method, model) VALUES (?, ?, 60, 1, 16000, 1, ?, 'channel', 'fake')",
            [cid, cid + ".wav", outcome],
        )
    for cluster in sorted({c for _, c in uses}):
        con.execute("INSERT INTO clusters (cluster_id, label, size, example, centroid) VALUES (?, ?, 0, 'ex', ?)",
                    [cluster, f"c{cluster}", [0.0] * 384])
    for i, (cid, cluster) in enumerate(uses):
        con.execute("INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence, embedding, cluster_id) VALUES (?, ?, 0, 0, 1, 'p', 'pitch', '', ?, ?)",
                    [f"p{i}", cid, [0.0] * 384, cluster])
    for i, (pid, interest) in enumerate(reactions):
        con.execute("INSERT INTO reactions VALUES (?, ?, 'a', 1, 1, 2, 'r', ?, 'neutral', [], 0.5, false, [], 1, NULL)",
                    [f"r{i}", pid, interest])
    con.execute("UPDATE clusters SET size = (SELECT count(*) FROM pitch_phrases p WHERE p.cluster_id = clusters.cluster_id)")


def test_descriptor_performance_rates_lift_and_wilson_interval(tmp_path):
    calls = {"a": "interested", "b": "interested", "c": "not_interested", "d": "not_interested", "e": None}
    # cluster 1 in a, b, c (2 of 3 interested), twice in a; cluster 2 in c, d, e (0 of 2 labelled)
    uses = [("a", 1), ("a", 1), ("b", 1), ("c", 1), ("c", 2), ("d", 2), ("e", 2)]
    with db.opened(tmp_path / "s.duckdb") as con:
        seed(con, calls, uses, reactions=[("p0", 1.0), ("p2", 0.5), ("p4", -1.0)])
        rows = {r[0]: r for r in con.execute(
            "SELECT cluster_id, phrases, calls, calls_with_outcome, interested_calls, interest_rate, "
            "rate_without, lift, ci_low, ci_high, reaction_interest, low_support FROM wording_performance"
        ).fetchall()}
    c1 = rows[1]
    assert c1[1:8] == (4, 3, 3, 2, pytest.approx(2 / 3), pytest.approx(0 / 1), None)
    lo, hi = wilson(2, 3)
    assert c1[8] == pytest.approx(lo) and c1[9] == pytest.approx(hi)
    assert c1[10] == pytest.approx(0.75)
    assert c1[11] is True
    c2 = rows[2]
    # used by c, d (labelled, not interested) and e (unknown): rate 0, without: a, b -> 1.0
    assert c2[1:8] == (3, 3, 2, 0, 0.0, 1.0, 0.0)
    lo, hi = wilson(0, 2)
    assert c2[8] == pytest.approx(lo, abs=1e-12) and c2[9] == pytest.approx(hi)
    assert c2[10] == pytest.approx(-1.0)


def test_leaderboard_orders_by_rate_and_prints_top_and_bottom(tmp_path):
    calls = {f"x{i}": ("interested" if i in (0, 1, 2, 4, 6) else "not_interested") for i in range(12)}
    uses = [(f"x{i}", 1 + i // 2) for i in range(12)]  # cluster 1: 2/2, 2-4: 1/2, 5-6: 0/2
    with db.opened(tmp_path / "s.duckdb") as con:
        seed(con, calls, uses)
        rows = leaderboard(con)
    assert [(r.cluster_id, r.interest_rate) for r in rows] == [
        (1, 1.0), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.0), (6, 0.0)
    ]
    text = format_leaderboard(rows, top=2)
    assert text.count("“ex”") == 4  # two best, two worst
    assert "…" in text and "(few calls)" in text


def test_empty_leaderboard_says_what_to_do():
    assert format_leaderboard([]) == "no clusters yet: analyze some calls first"


def test_inferred_outcomes_count_unless_left_out(tmp_path):
    calls = {"a": "interested", "b": "not_interested", "c": "interested"}
    uses = [("a", 1), ("b", 1), ("c", 1)]
    with db.opened(tmp_path / "s.duckdb") as con:
        seed(con, calls, uses)
        con.execute("UPDATE calls SET outcome_source = CASE WHEN call_id = 'c' THEN 'inferred' ELSE 'label' END")
        both = [(r.calls_with_outcome, r.interested_calls) for r in leaderboard(con)]
        labels = [(r.calls_with_outcome, r.interested_calls) for r in leaderboard(con, include_inferred=False)]
        view = con.execute("SELECT calls_with_outcome, interested_calls FROM wording_performance").fetchall()
    assert both == view == [(3, 2)]
    assert labels == [(2, 1)]


def test_descriptor_terms_rate_each_term_over_the_calls_that_used_it(tmp_path):
    calls = {"a": "interested", "b": "interested", "c": "not_interested", "d": "not_interested"}
    uses = [("a", 1), ("b", 1), ("c", 1), ("d", 1)]
    with db.opened(tmp_path / "s.duckdb") as con:
        seed(con, calls, uses)
        terms = {"p0": ["viewer analytic"], "p1": ["viewer analytic", "salesforce"], "p2": ["salesforce"],
                 "p3": ["price"]}
        for pid, ts in terms.items():
            for t in ts:
                con.execute("INSERT INTO phrase_terms VALUES (?, ?)", [pid, t])
        rows = con.execute("SELECT term, phrases, calls, interested_calls, interest_rate, rate_without, lift, "
                           "ci_low, ci_high FROM descriptor_terms ORDER BY term").fetchall()
    # "price" is in one call only: not enough support to be listed
    assert [r[:7] for r in rows] == [
        ("salesforce", 2, 2, 1, 0.5, 0.5, 1.0),
        ("viewer analytic", 2, 2, 2, 1.0, 0.0, None),
    ]
    assert rows[1][7:] == (pytest.approx(wilson(2, 2)[0]), pytest.approx(wilson(2, 2)[1]))


def test_the_90_percent_interval_covers_the_true_rate_in_simulation(tmp_path):
    """Synthetic outcomes with known rates: the Wilson interval must cover them >= 85% of the time."""
    import numpy as np

    rng = np.random.default_rng(7)
    draws = [(p, n, int(rng.binomial(n, p))) for p in (0.1, 0.3, 0.5, 0.7, 0.9) for n in (8, 20, 50)
             for _ in range(300)]
    with db.opened(tmp_path / "s.duckdb") as con:
        con.execute("CREATE TEMP TABLE sims (p DOUBLE, n INTEGER, k INTEGER)")
        con.execute("INSERT INTO sims SELECT * FROM (SELECT unnest(?) , unnest(?), unnest(?))",
                    [[d[0] for d in draws], [d[1] for d in draws], [d[2] for d in draws]])
        coverage = con.execute(
            "SELECT p, n, avg((p BETWEEN wilson_low(k, n) AND wilson_high(k, n))::INTEGER) FROM sims "
            "GROUP BY p, n ORDER BY p, n").fetchall()
    assert len(coverage) == 15
    assert all(c >= 0.85 for _, _, c in coverage), coverage
    assert sum(c for _, _, c in coverage) / 15 == pytest.approx(0.9, abs=0.03)


def test_the_unclustered_row_is_shown_with_its_share_but_never_ranked(tmp_path):
    from pipeline.analysis.stats import unclustered

    calls = {f"c{i}": "interested" for i in range(6)}
    uses = [(f"c{i}", 1) for i in range(6)] + [("c0", 0), ("c1", 0)]
    with db.opened(tmp_path / "u.duckdb") as con:
        seed(con, calls, uses)
        con.execute("UPDATE clusters SET label = 'unclustered', example = 'odd one' WHERE cluster_id = 0")
        rows = leaderboard(con)
        loose = unclustered(con)
    assert [r.cluster_id for r in rows] == [1]
    assert (loose.phrases, loose.share) == (2, pytest.approx(0.25))
    text = format_leaderboard(rows, loose=loose)
    assert "  0  unclustered (not ranked)               2 phrases, 25% of pitch phrases resemble no cluster" in text
    assert "“odd one”" in text
