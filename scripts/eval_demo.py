#!/usr/bin/env python3
"""Check an analyzed demo database against the generator's truth.

    .venv/bin/python scripts/eval_demo.py data/demo.duckdb data/demo_truth.json

Reports: pitch-vs-other precision and recall of the rep phrases, macro-F1 of
the reaction labels, and the accuracy of inferred lead status (calls whose
outcome_source is 'inferred'; analyze without --outcomes to infer them all).
Stored phrases and reactions are matched to true turns by time overlap.
"""

from __future__ import annotations

import json
import sys

import duckdb

LABELS = ("interested", "neutral", "objection")


def best_turn(turns, speaker, start, end):
    scored = [(min(end, t["end_s"]) - max(start, t["start_s"]), t) for t in turns if t["speaker"] == speaker]
    overlap, turn = max(scored, key=lambda x: x[0], default=(0, None))
    return turn if overlap > 0 else None


def main(db_path: str, truth_path: str) -> int:
    truth = {c["file"]: c for c in json.load(open(truth_path))["calls"]}
    con = duckdb.connect(db_path, read_only=True)
    tp = fp = fn = 0
    pairs = []
    for file, call in truth.items():
        phrases = con.execute(
            "SELECT p.phrase_id, p.start_s, p.end_s, p.kind FROM pitch_phrases p JOIN calls c USING (call_id) "
            "WHERE c.source_file = ?", [file]).fetchall()
        for _, start, end, kind in phrases:
            turn = best_turn(call["turns"], "rep", start, end)
            is_pitch = turn is not None and turn["kind"] == "pitch"
            tp += kind == "pitch" and is_pitch
            fp += kind == "pitch" and not is_pitch
            fn += kind != "pitch" and is_pitch
        rows = con.execute(
            "SELECT r.start_s, r.end_s, r.label FROM reactions r JOIN calls c USING (call_id) "
            "WHERE c.source_file = ?", [file]).fetchall()
        for start, end, label in rows:
            turn = best_turn(call["turns"], "prospect", start, end)
            if turn is not None and turn["kind"] == "reaction":
                pairs.append((turn["label"], label))
    f1s = []
    for label in LABELS:
        t = sum(a == b == label for a, b in pairs)
        f = sum(b == label != a for a, b in pairs)
        m = sum(a == label != b for a, b in pairs)
        f1s.append(2 * t / (2 * t + f + m) if t else 0.0)
    print(f"pitch phrases: precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} "
          f"({tp} true pitches found, {fp} false, {fn} missed)")
    print(f"reaction labels: macro-F1 {sum(f1s) / 3:.3f} over {len(pairs)} reactions "
          f"(F1 interested {f1s[0]:.2f}, neutral {f1s[1]:.2f}, objection {f1s[2]:.2f})")
    inferred = con.execute("SELECT source_file, outcome FROM calls WHERE outcome_source = 'inferred'").fetchall()
    if inferred:
        right = sum(truth[f]["outcome"] == o for f, o in inferred if f in truth)
        print(f"inferred lead status: {right} of {len(inferred)} calls right ({100 * right / len(inferred):.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
