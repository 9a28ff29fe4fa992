#!/usr/bin/env python3
"""How well the descriptor clusters match the demo generator's true families, and how fast they fit.

    .venv/bin/python scripts/eval_clusters.py data/demo.duckdb data/demo_truth.json
    .venv/bin/python scripts/eval_clusters.py --timing          # fit 1k/10k/100k synthetic phrases

The first form reads the stored pitch phrases, labels each with the family of the true rep turn it
overlaps most, and prints the adjusted Rand index of Pitchlab's fit (k chosen by silhouette, capped
at several max_k) and of plain k-means at fixed k.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import cluster  # noqa: E402


def adjusted_rand(a, b) -> float:
    from math import comb

    pairs: dict = {}
    for x, y in zip(a, b):
        pairs[(x, y)] = pairs.get((x, y), 0) + 1
    rows, cols = {}, {}
    for (x, y), n in pairs.items():
        rows[x] = rows.get(x, 0) + n
        cols[y] = cols.get(y, 0) + n
    index = sum(comb(n, 2) for n in pairs.values())
    ra, cb = sum(comb(n, 2) for n in rows.values()), sum(comb(n, 2) for n in cols.values())
    expected = ra * cb / comb(len(a), 2)
    top = (ra + cb) / 2
    return 0.0 if top == expected else (index - expected) / (top - expected)


def quality(db_path: str, truth_path: str) -> None:
    truth = {c["file"]: c for c in json.load(open(truth_path))["calls"]}
    con = duckdb.connect(db_path, read_only=True)
    rows = con.execute("SELECT c.source_file, p.start_s, p.end_s, p.embedding FROM pitch_phrases p "
                       "JOIN calls c USING (call_id) WHERE p.kind = 'pitch'").fetchall()
    x, family = [], []
    for file, start, end, vector in rows:
        turn = max(truth[file]["turns"], key=lambda t: min(end, t["end_s"]) - max(start, t["start_s"]))
        x.append(vector)
        family.append(turn["family"] or turn["kind"])
    x = np.array(x, dtype=np.float32)
    print(f"{len(x)} pitch phrases, {len(set(family))} true groups")
    for max_k in (20, 12, 8, 5):
        fit = cluster.fit(x, max_k=max_k)
        print(f"pitchlab fit, max_k={max_k}: k={len(fit.centroids)}, ARI {adjusted_rand(family, fit.labels):.3f}")
    unit = cluster._unit(x.astype(np.float64))
    for k in (5, 8, 12):
        labels, _, _ = cluster.kmeans(unit, k)
        print(f"k-means, k={k}: ARI {adjusted_rand(family, labels):.3f}")


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
