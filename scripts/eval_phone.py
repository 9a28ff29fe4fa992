#!/usr/bin/env python3
"""How the pipeline does on the telephone-band evaluation set (scripts/make_phone_calls.py).

    PYTHONPATH=. .venv/bin/python scripts/eval_phone.py [/tmp/pitchlab-phone] [--db PATH] [--reuse] [--missed]

Analyzes every call of the folder into a fresh database (PATH, default DIR.duckdb;
--reuse reads an existing one instead) and compares it with the generator's truth (DIR.truth.json, beside the folder):

* prospect replies found: a true prospect turn is found when a stored prospect turn
  (backchannels included) overlaps it; split into short (<= 2 s) and longer turns, and
  the replies to a pitch on their own;
* speaker-attributed speech time: of the stored turns' time that overlaps true speech,
  the share that overlaps the same speaker's true turns (stereo and mono separately);
  and coverage: the share of true speech time under a stored turn of the right speaker;
* pitch recall: true pitch turns with a stored phrase of kind `pitch` on them;
* reactions: true replies to a pitch with a `reactions` row on them, and the label macro-F1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

SHORT_S = 2.0
LABELS = ("interested", "neutral", "objection")


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def covered(t0: float, t1: float, spans: list[tuple[float, float]]) -> float:
    """Seconds of [t0, t1] under the union of spans."""
    total, last = 0.0, t0
    for s0, s1 in sorted(spans):
        s0, s1 = max(s0, last), min(s1, t1)
        if s1 > s0:
            total += s1 - s0
            last = s1
    return total


def evaluate(con: duckdb.DuckDBPyConnection, truth: list[dict]) -> dict:
    c = {k: 0.0 for k in ("short", "short_found", "long", "long_found", "replies", "replies_found",
                          "pitches", "pitches_found", "reactions_found")}
    attributed = {"stereo": [0.0, 0.0, 0.0, 0.0], "mono": [0.0, 0.0, 0.0, 0.0]}  # right, overlapped, covered, speech
    pairs, missed = [], []
    for call in truth:
        cid = con.execute("SELECT call_id FROM calls WHERE source_file = ?", [call["file"]]).fetchone()
        if cid is None:
            print(f"{call['file']}: not in the database", file=sys.stderr)
        cid = cid[0] if cid else ""
        stored = con.execute("SELECT speaker, start_s, end_s FROM turns WHERE call_id = ?", [cid]).fetchall()
        phrases = con.execute("SELECT start_s, end_s FROM pitch_phrases WHERE call_id = ? AND kind = 'pitch'",
                              [cid]).fetchall()
        reacts = con.execute("SELECT start_s, end_s, label FROM reactions WHERE call_id = ?", [cid]).fetchall()
        acc = attributed["stereo" if call["channels"] == 2 else "mono"]
        for speaker, s0, s1 in stored:
            acc[0] += sum(overlap(s0, s1, t["start_s"], t["end_s"]) for t in call["turns"] if t["speaker"] == speaker)
            acc[1] += sum(overlap(s0, s1, t["start_s"], t["end_s"]) for t in call["turns"])
        for t in call["turns"]:
            t0, t1 = t["start_s"], t["end_s"]
            acc[2] += covered(t0, t1, [(s0, s1) for sp, s0, s1 in stored if sp == t["speaker"]])
            acc[3] += t1 - t0
            if t["speaker"] == "prospect":
                hit = any(sp == "prospect" and overlap(s0, s1, t0, t1) > 0 for sp, s0, s1 in stored)
                size = "short" if t1 - t0 <= SHORT_S else "long"
                c[size] += 1
                c[size + "_found"] += hit
                if t["kind"] == "reaction":
                    c["replies"] += 1
                    c["replies_found"] += hit
                    match = [lab for r0, r1, lab in reacts if overlap(r0, r1, t0, t1) > 0]
                    c["reactions_found"] += bool(match)
                    if match:
                        pairs.append((t["label"], match[0]))
                if not hit:
                    missed.append(f"{call['file']} {t0:.1f}s {t['text']!r}")
            if t["kind"] == "pitch":
                c["pitches"] += 1
                c["pitches_found"] += any(overlap(p0, p1, t0, t1) > 0 for p0, p1 in phrases)
    f1s = []
    for label in LABELS:
        tp = sum(a == b == label for a, b in pairs)
        fp = sum(b == label != a for a, b in pairs)
        fn = sum(a == label != b for a, b in pairs)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"counts": c, "attributed": attributed, "macro_f1": sum(f1s) / 3, "n_pairs": len(pairs),
            "missed": missed}


def report(r: dict) -> str:
    c, lines = r["counts"], []
    pct = lambda a, b: f"{a / b:.3f} ({int(a)}/{int(b)})" if b else "n/a"  # noqa: E731
    found = c["short_found"] + c["long_found"]
    lines.append(f"prospect turns found: {pct(found, c['short'] + c['long'])}; "
                 f"short <= {SHORT_S:g} s {pct(c['short_found'], c['short'])}, longer {pct(c['long_found'], c['long'])}")
    lines.append(f"replies to a pitch found: {pct(c['replies_found'], c['replies'])}; "
                 f"with a reactions row: {pct(c['reactions_found'], c['replies'])}, "
                 f"label macro-F1 {r['macro_f1']:.3f} over {r['n_pairs']}")
    for kind, (right, over, cov, speech) in r["attributed"].items():
        if over:
            lines.append(f"{kind}: speaker-attributed speech time {right / over:.3f}, "
                         f"true speech covered by the right speaker {cov / speech:.3f}")
    lines.append(f"pitch recall: {pct(c['pitches_found'], c['pitches'])}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=Path("/tmp/pitchlab-phone"))
    ap.add_argument("--db", type=Path)
    ap.add_argument("--reuse", action="store_true", help="evaluate an existing database, do not analyze")
    ap.add_argument("--missed", action="store_true", help="list the prospect turns not found")
    args = ap.parse_args()
    truth_path = args.folder.parent / f"{args.folder.name}.truth.json"
    if not truth_path.exists():
        print(f"no {truth_path}: run scripts/make_phone_calls.py --out {args.folder} first", file=sys.stderr)
        return 2
    db = args.db or args.folder.with_suffix(".duckdb")
    if not args.reuse:
        db.unlink(missing_ok=True)
        t = time.time()
        subprocess.run([sys.executable, "-m", "pipeline", "analyze", "--inbox", str(args.folder), "--db", str(db)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"analyzed in {time.time() - t:.1f} s")
    truth = json.loads(truth_path.read_text())["calls"]
    r = evaluate(duckdb.connect(str(db), read_only=True), truth)
    print(report(r))
    if args.missed:
        print("\n".join(r["missed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
