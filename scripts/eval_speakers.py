#!/usr/bin/env python3
"""Speaker attribution accuracy of an analyzed database against the generator's truth.

    .venv/bin/python scripts/eval_speakers.py data/demo.duckdb data/demo_truth.json

For every stored turn, each of its words counts as right in proportion to how
much of the turn's time overlaps true turns of the same speaker. Prints the
word-weighted accuracy for stereo and mono calls.
"""

from __future__ import annotations

import json
import sys

import duckdb


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def main(db_path: str, truth_path: str) -> int:
    truth = json.load(open(truth_path))["calls"]
    con = duckdb.connect(db_path, read_only=True)
    totals: dict[str, list[float]] = {}
    for call in truth:
        rows = con.execute(
            "SELECT t.speaker, t.start_s, t.end_s, t.text FROM turns t JOIN calls c USING (call_id) "
            "WHERE c.source_file = ?", [call["file"]]).fetchall()
        right = words = 0.0
        for speaker, start, end, text in rows:
            n = len(text.split())
            same = sum(overlap(start, end, t["start_s"], t["end_s"]) for t in call["turns"] if t["speaker"] == speaker)
            every = sum(overlap(start, end, t["start_s"], t["end_s"]) for t in call["turns"])
            right += n * (same / every if every else 0.0)
            words += n
        kind = "stereo" if call["channels"] == 2 else "mono"
        acc = totals.setdefault(kind, [0.0, 0.0])
        acc[0] += right
        acc[1] += words
    for kind, (right, words) in sorted(totals.items()):
        print(f"{kind}: {100 * right / words:.1f}% of {int(words)} words attributed to the right speaker")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
