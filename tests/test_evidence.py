import pytest

from pipeline.analysis import evidence
from pipeline.storage import db
from test_stats import seed


def test_fisher_exact_matches_hand_computed_values():
    # 3/3 vs 0/3: hypergeometric tables as extreme or more: 2 * (1/20)
    assert evidence.fisher_p(3, 3, 0, 3) == pytest.approx(0.1)
    assert evidence.fisher_p(1, 2, 1, 2) == pytest.approx(1.0)


def test_benjamini_hochberg_is_monotone_and_scaled():
    # ranks 1..4 of 0.01, 0.03, 0.04, 0.5 give 0.04, 0.06, 0.0533, 0.5; then the running minimum from the top
    assert evidence.benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_mantel_haenszel_adjusts_for_rep():
    # within each rep the cluster makes no difference (odds ratio 1), though overall it seems to
    assert evidence.mantel_haenszel([(4, 1, 4, 1), (1, 4, 1, 4)]) == pytest.approx(1.0)
    assert evidence.mantel_haenszel([(3, 1, 1, 3)]) == pytest.approx(9.0)
    assert evidence.mantel_haenszel([(3, 0, 0, 3)]) is None  # no discordant cell: unbounded


def test_cluster_evidence_ranks_p_best(tmp_path):
    calls = {f"c{i}": ("interested" if i < 8 else "not_interested") for i in range(16)}
    uses = [(f"c{i}", 1) for i in range(7)] + [(f"c{i}", 2) for i in range(7, 16)] + [("c0", 3), ("c1", 3)]
    with db.opened(tmp_path / "e.duckdb") as con:
        seed(con, calls, uses)
        ev = evidence.cluster_evidence(con)
    assert ev[1].p_best > 0.6
    assert ev[2].p_best < 0.01
    assert 0.1 < ev[3].p_best < ev[1].p_best  # 2 of 2: could still be best, too few calls to know
    assert sum(e.p_best for e in ev.values()) == pytest.approx(1.0, abs=1e-3)  # each rounded to 4 places
    assert ev[1].p_value == pytest.approx(evidence.fisher_p(7, 7, 1, 9))
    assert ev[1].q_value >= ev[1].p_value


def test_the_view_carries_the_same_rep_adjusted_odds_ratio_and_a_reaction_interval(tmp_path):
    calls = {f"c{i}": ("interested" if i % 3 else "not_interested") for i in range(12)}
    uses = [(f"c{i}", 1 if i < 7 else 2) for i in range(12)] + [("c0", 2), ("c4", 2)]
    with db.opened(tmp_path / "m.duckdb") as con:
        seed(con, calls, uses, reactions=[("p0", 0.5), ("p1", -0.5), ("p2", 1.0), ("p8", 0.2)])
        con.execute("UPDATE calls SET rep = CASE WHEN call_id IN ('c0','c1','c2','c3','c8','c9') THEN 'Dana' END")
        ev = evidence.cluster_evidence(con)
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT cluster_id, rep_adjusted_odds_ratio, reaction_interest, reaction_ci_low, reaction_ci_high, "
            "reactions, phrase_share FROM wording_performance").fetchall()}
    for cid in (1, 2):
        assert rows[cid][0] == pytest.approx(ev[cid].rep_adjusted_odds_ratio)
    assert ev[1].rep_adjusted_odds_ratio is not None
    _, mean, low, high, n, share = rows[1]
    se = (sum((x - 1 / 3) ** 2 for x in (0.5, -0.5, 1.0)) / 2) ** 0.5 / 3 ** 0.5
    assert (n, mean) == (3, pytest.approx(1 / 3))
    assert (low, high) == (pytest.approx(max(-1, 1 / 3 - 1.6449 * se)), pytest.approx(min(1, 1 / 3 + 1.6449 * se)))
    assert rows[2][2:4] == (None, None)  # one reaction: no interval
    assert share == pytest.approx(7 / 14)
