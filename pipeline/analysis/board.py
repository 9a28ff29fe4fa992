"""The two-level leaderboard: descriptors (benefits) ranked, each with its wordings under it.

Read from the `descriptor_stats` and `wording_stats` table macros (the views
`descriptor_performance` and `wording_performance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

DRAWS = 20000


@dataclass(frozen=True)
class DescriptorRow:
    descriptor_id: int | None  # None: the `other` row
    name: str
    source: str  # declared / suggested / other
    phrases: int
    wordings: int
    calls: int
    calls_with_outcome: int
    interested_calls: int
    interest_rate: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    reaction_interest: float | None
    rep_adjusted_odds_ratio: float | None
    q_value: float | None
    low_support: bool
    example: str | None


@dataclass(frozen=True)
class WordingRow:
    cluster_id: int
    descriptor_id: int | None
    label: str
    example: str
    phrases: int
    calls_with_outcome: int
    interest_rate: float | None
    ci_low: float | None
    ci_high: float | None
    lift_vs_others: float | None
    others_interest_rate: float | None
    rank_in_descriptor: int | None
    q_value: float | None
    low_support: bool
    confirmed: bool


@dataclass(frozen=True)
class Board:
    descriptors: tuple[DescriptorRow, ...]  # ranked ones best first, then `other`
    wordings: dict  # descriptor_id (None for other) -> tuple[WordingRow, ...], best first
    p_best: dict  # descriptor_id -> posterior probability of the highest rate


def _flag(include_inferred: bool) -> str:
    return "true" if include_inferred else "false"


def board(con: duckdb.DuckDBPyConnection, *, include_inferred: bool = True, seed: int = 0) -> Board:
    """Descriptors best interested-lead rate first (ties: more calls), unknown rates last, `other` at the end.

    A descriptor with too little evidence to rank (`low_support`: fewer than `cluster.MIN_CALLS` calls with
    an outcome) comes after every one that has enough, whatever its rate: two lucky calls are not a lead.
    """
    flag = _flag(include_inferred)
    rows = [DescriptorRow(*r) for r in con.execute(
        f"""
        SELECT descriptor_id, descriptor, source, phrases, wordings, calls, calls_with_outcome, interested_calls,
               interest_rate, lift, ci_low, ci_high, reaction_interest, rep_adjusted_odds_ratio, q_value,
               low_support, example
        FROM descriptor_stats({flag})
        ORDER BY other, low_support, interest_rate DESC NULLS LAST, calls_with_outcome DESC, descriptor
        """).fetchall()]
    wordings: dict = {}
    for r in con.execute(
        f"""
        SELECT cluster_id, descriptor_id, label, example, phrases, calls_with_outcome, interest_rate, ci_low, ci_high,
               lift_vs_others, others_interest_rate, rank_in_descriptor, q_value, low_support, descriptor_confirmed
        FROM wording_stats({flag})
        WHERE NOT unclustered AND phrases > 0
        ORDER BY interest_rate DESC NULLS LAST, calls_with_outcome DESC, cluster_id
        """).fetchall():
        wordings.setdefault(r[1], []).append(WordingRow(*r))
    ranked = [r for r in rows if r.descriptor_id is not None and r.calls > 0]
    p_best = {}
    if ranked:
        rng = np.random.default_rng(seed)
        draws = np.stack([rng.beta(1 + r.interested_calls, 1 + r.calls_with_outcome - r.interested_calls, DRAWS)
                          for r in ranked])
        share = np.bincount(draws.argmax(axis=0), minlength=len(ranked)) / DRAWS
        p_best = {r.descriptor_id: round(float(s), 4) for r, s in zip(ranked, share)}
    return Board(tuple(rows), {k: tuple(v) for k, v in wordings.items()}, p_best)


def _pct(x: float | None) -> str:
    return "  –  " if x is None else f"{100 * x:4.0f}%"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def format_board(b: Board, *, wordings_each: int = 3, next_tests: tuple[str, ...] = ()) -> str:
    """Descriptors first, each with its best wordings under it (and how many more), then what to test next."""
    if not b.descriptors:
        return "no descriptors yet: analyze some calls first"
    header = (f"{'descriptor / wording':<50} {'calls':>5} {'rate':>5} {'90% interval':>13} {'lift':>5} "
              f"{'OR/rep':>6} {'react':>6} {'q':>5} {'P(best)':>7}")
    lines = [header, "-" * len(header)]
    for d in b.descriptors:
        if d.descriptor_id is None:
            lines.append(f"{'other (not ranked)':<50} {d.calls:>5} calls, {d.phrases} pitch phrases fit no descriptor")
            continue
        interval = "" if d.ci_low is None else f"{_pct(d.ci_low)}–{_pct(d.ci_high).strip()}"
        lift = "  –" if d.lift is None else f"{d.lift:5.2f}"
        odds = "     –" if d.rep_adjusted_odds_ratio is None else f"{d.rep_adjusted_odds_ratio:6.2f}"
        react = "   –" if d.reaction_interest is None else f"{d.reaction_interest:+6.2f}"
        q = "    –" if d.q_value is None else f"{d.q_value:5.2f}"
        best = "      –" if d.descriptor_id not in b.p_best else f"{100 * b.p_best[d.descriptor_id]:6.0f}%"
        name = _cut(f"{d.name} ({d.source})", 50)
        flag = "  (few calls)" if d.low_support else ""
        lines.append(f"{name:<50} {d.calls_with_outcome:>5} {_pct(d.interest_rate)} {interval:>13} {lift:>5} "
                     f"{odds} {react:>6} {q} {best}{flag}")
        ws = b.wordings.get(d.descriptor_id, ())
        for w in ws[:wordings_each]:
            w_interval = "" if w.ci_low is None else f"{_pct(w.ci_low)}–{_pct(w.ci_high).strip()}"
            vs = "" if w.others_interest_rate is None else f"  others {_pct(w.others_interest_rate).strip()}"
            mark = " ✓" if w.confirmed else ""
            lines.append(f"  {w.cluster_id:>3} {_cut('“' + w.example + '”', 44):<44} {w.calls_with_outcome:>5} "
                         f"{_pct(w.interest_rate)} {w_interval:>13}{vs}{mark}")
        if len(ws) > wordings_each:
            lines.append(f"      … {len(ws) - wordings_each} more wording{'s' if len(ws) - wordings_each > 1 else ''}"
                         " (wording_performance)")
    lines += [
        "A descriptor is a benefit you test (declared) or a theme found in your wordings (suggested); under it, its",
        "wordings (near-identical phrasings; ✓ = you confirmed it) with their rate and, after `others`, the rate of",
        "calls that used the benefit only through its other wordings. rate = interested-lead rate of calls that",
        "used it; lift = rate / rate of calls that did not; OR/rep = odds ratio adjusted for the rep",
        "(Mantel-Haenszel); react = mean interest of the prospect's immediate reactions (-1..1); q = Benjamini-",
        "Hochberg adjusted Fisher p-value; P(best) = posterior probability that it has the highest rate.",
    ]
    if next_tests:
        lines += ["", "What to test next:", *(f"  - {tip}" for tip in next_tests)]
    return "\n".join(lines)


def next_tests(b: Board, baseline: float | None) -> tuple[str, ...]:
    """What to test next at both levels: which benefit to lead with, then which wording of it to use."""
    if baseline is None:
        return ("No call has an outcome yet: add outcomes (outcomes.csv or sidecars) so descriptors can be compared.",)
    out = []
    ranked = [d for d in b.descriptors if d.descriptor_id is not None and d.interest_rate is not None]
    for d in ranked:
        best = f" (P(best) {b.p_best[d.descriptor_id]:.0%})" if d.descriptor_id in b.p_best else ""
        name = f"“{d.name}”{best}"
        if not d.low_support and d.ci_low > baseline:
            verdict = (f"Lead with {name}: {d.interest_rate:.0%} interested against {baseline:.0%} overall, "
                       "and the whole 90% interval is above it.")
        elif not d.low_support and d.ci_high < baseline:
            verdict = (f"Reconsider {name}: {d.interest_rate:.0%} interested against {baseline:.0%} overall, "
                       "and the whole 90% interval is below it.")
        elif d.interest_rate > baseline:
            calls = f"{d.calls_with_outcome} call{'s' if d.calls_with_outcome != 1 else ''}"
            verdict = (f"Test {name} on purpose: {d.interest_rate:.0%} interested over {calls} "
                       f"looks better than {baseline:.0%} overall, but is not proven yet"
                       + (" (fewer than 5 labelled calls)." if d.low_support else "; use it in more calls."))
        else:
            continue
        out.append(verdict + _wording_tip(b.wordings.get(d.descriptor_id, ())))
    if not out:
        out.append("No benefit stands out from the others yet: keep recording calls and filling in outcomes.")
    return tuple(out)


def _wording_tip(wordings) -> str:
    """Which wording of a benefit to use: the best-ranked one with enough calls, against its other wordings."""
    usable = [w for w in wordings if w.interest_rate is not None and not w.low_support]
    if len(wordings) < 2:
        return ""
    if not usable:
        return f" Its {len(wordings)} wordings each have fewer than 5 labelled calls: too few to pick one."
    w = usable[0]
    if w.others_interest_rate is None:
        return f" Say it as “{_cut(w.example, 60)}” ({w.interest_rate:.0%})."
    return (f" Of its {len(wordings)} wordings, “{_cut(w.example, 60)}” does best: {w.interest_rate:.0%} against "
            f"{w.others_interest_rate:.0%} for calls with only its other wordings.")
