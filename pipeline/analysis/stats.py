"""The descriptor leaderboard, read from the `descriptor_performance` view."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class LeaderRow:
    cluster_id: int
    label: str
    example: str
    phrases: int
    calls: int
    calls_with_outcome: int
    interested_calls: int
    interest_rate: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    reaction_interest: float | None
    low_support: bool


@dataclass(frozen=True)
class Unclustered:
    phrases: int  # pitch phrases that resemble no cluster
    share: float  # of all clustered pitch phrases
    example: str  # the one farthest from every cluster at the last fit


def leaderboard(con: duckdb.DuckDBPyConnection, *, include_inferred: bool = True) -> list[LeaderRow]:
    """All clusters, best interested-lead rate first (ties: more calls first); unknown rates last.

    Without `include_inferred` only the outcomes you gave count. The unclustered
    row is not ranked: see `unclustered`.
    """
    rows = con.execute(
        f"""
        SELECT cluster_id, label, example, phrases, calls, calls_with_outcome, interested_calls,
               interest_rate, lift, ci_low, ci_high, reaction_interest, low_support
        FROM wording_stats({'true' if include_inferred else 'false'})
        WHERE NOT unclustered
        ORDER BY interest_rate DESC NULLS LAST, calls_with_outcome DESC, cluster_id
        """
    ).fetchall()
    return [LeaderRow(*r) for r in rows]


def unclustered(con: duckdb.DuckDBPyConnection) -> Unclustered | None:
    """The unclustered row's size and share (None before the first clustering)."""
    row = con.execute(
        "SELECT phrases, coalesce(phrase_share, 0), example FROM wording_performance WHERE unclustered"
    ).fetchone()
    return None if row is None else Unclustered(*row)


def baseline_rate(con: duckdb.DuckDBPyConnection, *, include_inferred: bool = True) -> float | None:
    """Interested-lead rate over all calls with an outcome (None when no call has one)."""
    flag = "true" if include_inferred else "false"
    return con.execute(f"SELECT avg(y) FROM labeled_calls({flag})").fetchone()[0]


def _pct(x: float | None) -> str:
    return "  –  " if x is None else f"{100 * x:4.0f}%"


def format_leaderboard(rows: list[LeaderRow], *, top: int = 5, evidence: dict | None = None,
                       next_tests: tuple[str, ...] = (), loose: Unclustered | None = None) -> str:
    """Top and bottom clusters as a plain-text table, then what to test next."""
    if not rows:
        return "no clusters yet: analyze some calls first"
    evidence = evidence or {}
    shown = rows if len(rows) <= 2 * top else rows[:top] + [None] + rows[-top:]
    header = (f"{'#':>3}  {'descriptor cluster':<34} {'calls':>5} {'rate':>5} {'90% interval':>13} {'lift':>5} "
              f"{'OR/rep':>6} {'react':>6} {'q':>5} {'P(best)':>7}")
    lines = [header, "-" * len(header)]
    for row in shown:
        if row is None:
            lines.append(f"{'…':>3}")
            continue
        interval = "" if row.ci_low is None else f"{_pct(row.ci_low)}–{_pct(row.ci_high).strip()}"
        lift = "  –" if row.lift is None else f"{row.lift:5.2f}"
        react = "   –" if row.reaction_interest is None else f"{row.reaction_interest:+6.2f}"
        ev = evidence.get(row.cluster_id)
        q = "    –" if ev is None or ev.q_value is None else f"{ev.q_value:5.2f}"
        best = "      –" if ev is None else f"{100 * ev.p_best:6.0f}%"
        odds = "     –" if ev is None or ev.rep_adjusted_odds_ratio is None else f"{ev.rep_adjusted_odds_ratio:6.2f}"
        label = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        flag = "  (few calls)" if row.low_support else ""
        lines.append(
            f"{row.cluster_id:>3}  {label:<34} {row.calls_with_outcome:>5} {_pct(row.interest_rate)} "
            f"{interval:>13} {lift:>5} {odds} {react:>6} {q} {best}{flag}"
        )
        example = row.example if len(row.example) <= 70 else row.example[:69] + "…"
        lines.append(f"{'':>5}“{example}”")
    if loose is not None:
        lines.append(f"{'0':>3}  {'unclustered (not ranked)':<34} {loose.phrases:>5} phrases, "
                     f"{100 * loose.share:.0f}% of pitch phrases resemble no cluster")
        if loose.phrases:
            example = loose.example if len(loose.example) <= 70 else loose.example[:69] + "…"
            lines.append(f"{'':>5}“{example}”")
    lines.append(
        "rate = interested-lead rate of calls that used the cluster; lift = rate / rate of calls that did not;"
    )
    lines.append("OR/rep = odds ratio of interest with vs. without it, adjusted for the rep (Mantel-Haenszel);")
    lines.append("react = mean interest of the prospect's immediate reactions (-1..1); q = Benjamini-Hochberg")
    lines.append("adjusted Fisher p-value; P(best) = posterior probability that it has the highest rate.")
    if next_tests:
        lines += ["", "What to test next:", *(f"  - {tip}" for tip in next_tests)]
    return "\n".join(lines)
