#!/usr/bin/env python3
"""Write tests/data/demo_pitches.npz: the demo's stored pitch-phrase embeddings with their truth.

    .venv/bin/python scripts/export_demo_pitches.py data/demo.duckdb data/demo_truth.json

For each pitch phrase of an analyzed demo database: its MiniLM embedding, its call, the true family
of the rep turn it overlaps most (from the generator's truth) and the call's true outcome. The
clustering tests use it to check cluster quality on real embeddings without running the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "demo_pitches.npz"


def main(db_path: str, truth_path: str) -> None:
    truth = {c["file"]: c for c in json.load(open(truth_path))["calls"]}
    con = duckdb.connect(db_path, read_only=True)
    rows = con.execute("SELECT c.source_file, p.start_s, p.end_s, p.embedding FROM pitch_phrases p "
                       "JOIN calls c USING (call_id) WHERE p.kind = 'pitch' ORDER BY p.phrase_id").fetchall()
    family, calls, interested, x = [], [], [], []
    for file, start, end, vector in rows:
        turn = max(truth[file]["turns"], key=lambda t: min(end, t["end_s"]) - max(start, t["start_s"]))
        family.append(turn["family"] or turn["kind"])
        calls.append(file)
        interested.append(truth[file]["outcome"] == "interested")
        x.append(vector)
    np.savez_compressed(OUT, embedding=np.array(x, dtype=np.float32), family=np.array(family),
                        call=np.array(calls), interested=np.array(interested))
    print(f"wrote {OUT}: {len(x)} pitch phrases from {len(set(calls))} calls")


if __name__ == "__main__":
    main(*sys.argv[1:3])
