"""How sure we are: per-cluster tests, a rep-adjusted estimate and what to test next.

- p-value: two-sided Fisher exact test of interested-lead rate in calls that
  used the cluster against calls that did not; q-value: Benjamini-Hochberg
  across clusters.
- rep-adjusted odds ratio: Mantel-Haenszel over strata of calls by rep (calls
  without a rep form one stratum), because good reps may say different things.
- P(best): each cluster's rate gets a Beta(1 + interested, 1 + not) posterior;
  P(best) is the share of DRAWS joint draws in which it is the highest.
- `next_tests`: what to test next, in plain words, from the intervals against
  the overall rate, with each cluster's P(best).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import duckdb
import numpy as np

from pipeline.analysis.stats import LeaderRow
from pipeline.core.terminal import plural

DRAWS = 20000


@dataclass(frozen=True)
class Evidence:
    cluster_id: int
    p_value: float | None
    q_value: float | None
    rep_adjusted_odds_ratio: float | None
    p_best: float


def fisher_p(k1: int, n1: int, k0: int, n0: int) -> float:
    """Two-sided Fisher exact p-value for k1/n1 vs k0/n0: SciPy's `fisher_exact`.

    It replaced a sum of exact binomial coefficients written here, which gives the same p-values (to 1e-15
    relative on random and edge-case tables, tests/test_libraries.py) but took 168 ms against SciPy's 39 ms
    at 6,666 calls and 228 s against 66 ms at 66,666 (the calls of 100k and 1M phrases; docs/libraries.md).
    """
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue)


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given: SciPy's `false_discovery_control`.

    Same q-values as the running minimum written here before (to 1e-15). SciPy is faster from a few
    thousand clusters, as the wording clusters of 100k phrases are (15 ms against 42 ms for 3,000 p-values,
    88 ms against 511 ms for 30,000), slower by a few milliseconds for 20 to 300 (docs/libraries.md)."""
    from scipy.stats import false_discovery_control

    return false_discovery_control(pvalues, method="bh").tolist() if len(pvalues) else []


def mantel_haenszel(strata: list[tuple[int, int, int, int]]) -> float | None:
    """Common odds ratio over strata of (used & interested, used & not, unused & interested, unused & not).

    Kept rather than statsmodels' `StratifiedTable(...).oddsratio_pooled`, which gives the same ratio
    (tests/test_libraries.py) but is slower per cluster: 1.7 ms against 0.2 ms for 20 reps, 3.7 ms against
    1.2 ms for 200 (`make bench`, group libraries; docs/libraries.md).
    """
    num = den = 0.0
    for a, b, c, d in strata:
        n = a + b + c + d
        if n:
            num += a * d / n
            den += b * c / n
    return None if den == 0 else num / den


def cluster_evidence(con: duckdb.DuckDBPyConnection, *, include_inferred: bool = True, seed: int = 0) -> dict[int, Evidence]:
    flag = "true" if include_inferred else "false"
    labelled = con.execute(
        f"SELECT l.call_id, l.y, coalesce(c.rep, '') FROM labeled_calls({flag}) l JOIN calls c USING (call_id)"
    ).fetchall()
    clusters = [r[0] for r in con.execute(  # the unclustered row (0) is shown, never ranked
        "SELECT cluster_id FROM clusters WHERE cluster_id <> 0 ORDER BY cluster_id").fetchall()]
    if not clusters:
        return {}
    used: dict[int, set[str]] = {c: set() for c in clusters}
    for cid, call in con.execute(
        "SELECT DISTINCT cluster_id, call_id FROM pitch_phrases WHERE cluster_id IS NOT NULL AND cluster_id <> 0"
    ).fetchall():
        used[cid].add(call)
    reps = sorted({rep for _, _, rep in labelled})
    pvals, ors, counts = {}, {}, {}
    for cid in clusters:
        k1 = n1 = k0 = n0 = 0
        strata = {rep: [0, 0, 0, 0] for rep in reps}
        for call, y, rep in labelled:
            inside = call in used[cid]
            strata[rep][(0 if inside else 2) + (0 if y else 1)] += 1
            if inside:
                n1, k1 = n1 + 1, k1 + y
            else:
                n0, k0 = n0 + 1, k0 + y
        counts[cid] = (k1, n1)
        pvals[cid] = fisher_p(k1, n1, k0, n0) if n1 and n0 else None
        ors[cid] = mantel_haenszel([tuple(s) for s in strata.values()])
    tested = [c for c in clusters if pvals[c] is not None]
    qvals = dict(zip(tested, benjamini_hochberg([pvals[c] for c in tested])))
    rng = np.random.default_rng(seed)
    draws = np.stack([rng.beta(1 + k, 1 + n - k, DRAWS) for k, n in (counts[c] for c in clusters)])
    p_best = np.bincount(draws.argmax(axis=0), minlength=len(clusters)) / DRAWS
    return {cid: Evidence(cid, pvals[cid], qvals.get(cid), ors[cid], round(float(p_best[i]), 4))
            for i, cid in enumerate(clusters)}


def next_tests(rows: Sequence[LeaderRow], baseline: float | None,
               p_best: dict[int, float] | None = None) -> tuple[str, ...]:
    """What to test next, in plain words: keep what clearly works (exploit), test on purpose what looks
    better but is not proven (explore), reconsider what clearly does not work.

    A cluster with few calls is never "keep" or "reconsider", however far its interval lies from the
    baseline. With `p_best`, each suggestion also says how likely the cluster is to be the best.
    """
    if baseline is None:
        return ("No call has an outcome yet: add outcomes (outcomes.csv or sidecars) so wording can be compared.",)
    out = []
    p_best = p_best or {}
    for r in rows:
        if r.interest_rate is None:
            continue
        best = f", P(best) {p_best[r.cluster_id]:.0%}" if r.cluster_id in p_best else ""
        name = f"“{r.label}” (cluster {r.cluster_id}{best})"
        if not r.low_support and r.ci_low > baseline:
            out.append(f"Keep {name}: {r.interest_rate:.0%} interested against {baseline:.0%} overall, "
                       f"and the whole 90% interval is above it. Teach it to every rep.")
        elif not r.low_support and r.ci_high < baseline:
            out.append(f"Reconsider {name}: {r.interest_rate:.0%} interested against {baseline:.0%} overall, "
                       f"and the whole 90% interval is below it. Try another way of saying it.")
        elif r.interest_rate > baseline and r.low_support:
            more = 5 - r.calls_with_outcome
            out.append(f"Test {name} on purpose: {r.interest_rate:.0%} interested against {baseline:.0%} overall, "
                       f"but over only {plural(r.calls_with_outcome, 'call')}; it needs at least {more} more labelled "
                       f"call{'s' if more > 1 else ''} before it counts.")
        elif r.interest_rate > baseline:
            out.append(f"Test {name} on purpose: {r.interest_rate:.0%} interested over {plural(r.calls_with_outcome, 'call')} "
                       f"looks better than {baseline:.0%} overall, but the 90% interval still includes it; "
                       f"use it in more calls.")
    if not out:
        out.append("No wording stands out from the others yet: keep recording calls and filling in outcomes.")
    return tuple(out)

