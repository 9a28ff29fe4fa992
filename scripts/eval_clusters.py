#!/usr/bin/env python3
"""How well the descriptor clusters match the demo generator's true families, and how fast they fit.

    .venv/bin/python scripts/eval_clusters.py data/demo.duckdb data/demo_truth.json
    .venv/bin/python scripts/eval_clusters.py --timing          # fit 1k/10k/100k synthetic phrases

The first form reads the stored pitch phrases, labels each with the family of the true rep turn it
overlaps most, and prints the adjusted Rand index of Pitchlab's fit (as `refit` runs it: k chosen by
silhouette among fits whose every cluster spans MIN_CALLS calls) and of plain k-means at fixed k; then
it reads the stored leaderboard and says whether it recovers the planted family order: each ranked
cluster stands for the true family most of its phrases come from; the order of families is that of
their best-ranked cluster among clusters with enough calls, compared with the planted order
(Spearman rho), and each cluster's 90% interval is checked against its family's planted rate.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.analysis import cluster  # noqa: E402


adjusted_rand = cluster.adjusted_rand_index


def quality(db_path: str, truth_path: str) -> None:
    truth_doc = json.load(open(truth_path))
    truth = {c["file"]: c for c in truth_doc["calls"]}
    planted = {f: v["p_interested"] for f, v in truth_doc["families"].items()}
    con = duckdb.connect(db_path, read_only=True)
    rows = con.execute("SELECT c.source_file, p.start_s, p.end_s, p.embedding, p.call_id, p.cluster_id "
                       "FROM pitch_phrases p JOIN calls c USING (call_id) WHERE p.kind = 'pitch' ORDER BY p.phrase_id").fetchall()
    x, family, calls, stored = [], [], [], []
    for file, start, end, vector, call, cid in rows:
        turn = max(truth[file]["turns"], key=lambda t: min(end, t["end_s"]) - max(start, t["start_s"]))
        x.append(vector)
        family.append(turn["family"] or turn["kind"])
        calls.append(call)
        stored.append(cid)
    x = np.array(x, dtype=np.float32)
    print(f"{len(x)} pitch phrases, {len(set(family))} true groups")
    fit = cluster.fit(x, groups=np.array(calls))
    print(f"pitchlab fit (clusters under {cluster.MIN_CALLS} calls merged, k by silhouette): k={len(fit.centroids)}, "
          f"ARI {adjusted_rand(family, fit.labels):.3f}; stored clusters: ARI {adjusted_rand(family, stored):.3f}")
    free = cluster.fit(x)
    print(f"silhouette alone (no call rule): k={len(free.centroids)}, ARI {adjusted_rand(family, free.labels):.3f}")
    unit = cluster._unit(x.astype(np.float64))
    for k in (5, 8, 12):
        labels, _, _ = cluster.kmeans(unit, k)
        print(f"k-means, k={k}: ARI {adjusted_rand(family, labels):.3f}")
    board = con.execute(
        "SELECT cluster_id, interest_rate, ci_low, ci_high, low_support FROM wording_performance "
        "WHERE NOT unclustered AND interest_rate IS NOT NULL ORDER BY interest_rate DESC, calls_with_outcome DESC"
    ).fetchall()
    majority = {}
    for cid in {c for c in stored if c}:
        members = [f for f, c in zip(family, stored) if c == cid]
        top = max(set(members), key=members.count)
        majority[cid] = (top, members.count(top) / len(members))
    print("\nstored leaderboard, each cluster's majority family (share of its phrases):")
    for cid, rate, lo, hi, low in board:
        fam, share = majority[cid]
        inside = "" if fam not in planted else ("covers" if lo <= planted[fam] <= hi else "MISSES") + \
            f" planted {planted[fam]:.2f}"
        print(f"  {cid:>3} {rate:5.0%} [{lo:.2f}, {hi:.2f}] {fam} ({share:.0%}){' (few calls)' if low else ''} {inside}")
    ranked = [(cid, majority[cid][0]) for cid, *_, low in board if not low and majority[cid][0] in planted]
    ranks = [list(planted).index(f) for _, f in ranked]
    rho = _spearman(list(range(len(ranks))), ranks) if len(ranks) > 1 else float("nan")
    covered = [lo <= planted[majority[c][0]] <= hi for c, _, lo, hi, _ in board if majority[c][0] in planted]
    first, last = list(planted)[0], list(planted)[-1]
    print(f"clusters with enough calls, best first, by majority family: {' > '.join(f for _, f in ranked)}")
    print(f"planted order {' > '.join(planted)}: first cluster {'is' if ranked[0][1] == first else 'is NOT'} "
          f"{first}, last {'is' if ranked[-1][1] == last else 'is NOT'} {last}; Spearman rho (cluster rank "
          f"vs its family's planted rank) {rho:.2f}; 90% intervals cover the planted rate for "
          f"{sum(covered)} of {len(covered)} clusters")


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def timing() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(300, 384))
    for n in (1_000, 10_000, 100_000):
        x = (centres[rng.integers(0, 300, n)] + 0.6 * rng.normal(size=(n, 384))).astype(np.float32)
        started = time.perf_counter()
        fit = cluster.fit(x)
        print(f"{n} phrases: k={len(fit.centroids)} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--timing"]:
        timing()
    else:
        quality(*sys.argv[1:3])
