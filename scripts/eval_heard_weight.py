#!/usr/bin/env python3
"""A telephone set's stored replies scored again at other weights of the two hearings (reaction_scorer.HEARD_WEIGHT).

    PYTHONPATH=. .venv/bin/python scripts/eval_heard_weight.py DB [/tmp/pitchlab-phone] [--weights 0.5 0.6 0.7 0.8]

DB is a database `scripts/eval_phone.py` analyzed from the folder (replies heard again: the default). Each
`reactions` row that a true reply to a pitch falls on (matched as eval_phone.py matches them) is scored again by the
real scorer from what the database stores: the text heard again (`reactions.text` where `heard_by` is set), the
transcript's words of the reply (its prospect `turns`, from `reactions.turn_idx` to the reply's end) and the pitch
run it answers (the phrases whose rows share that reply). Printed: the label macro-F1 over those rows with the
text heard again alone, the transcript's words alone, and both at each weight (weight on the text heard again).
The stored labels are the default weight's, so that row reproduces eval_phone.py's figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_phone import overlap  # noqa: E402
from eval_reactions import macro_f1  # noqa: E402
from pipeline.language import reaction_scorer  # noqa: E402
from pipeline.language.embed import MiniLMEmbedder  # noqa: E402

REPLIES = """
SELECT r.call_id, r.turn_idx, r.start_s, r.end_s, r.text, r.heard_by,
       list(p.text ORDER BY p.phrase_id) AS pitch  -- ids number the phrases in order
FROM reactions r JOIN pitch_phrases p USING (phrase_id)
WHERE r.call_id = ?
GROUP BY ALL
"""
WORDS = """
SELECT string_agg(text, ' ' ORDER BY turn_idx) FROM turns
WHERE call_id = ? AND speaker = 'prospect' AND turn_idx >= ? AND start_s >= ? AND end_s <= ?
"""


def stored_replies(con: duckdb.DuckDBPyConnection, truth: list[dict]) -> list[dict]:
    """Each true reply to a pitch that a stored reaction falls on: its label, what the database holds of it, and
    its call's file and stored reply times."""
    out = []
    for call in truth:
        cid = con.execute("SELECT call_id FROM calls WHERE source_file = ?", [call["file"]]).fetchone()[0]
        rows = con.execute(REPLIES, [cid]).fetchall()
        for t in call["turns"]:
            if t["speaker"] != "prospect" or t["kind"] != "reaction":
                continue
            match = [r for r in rows if overlap(r[2], r[3], t["start_s"], t["end_s"]) > 0]
            if match:
                _cid, turn_idx, start, end, text, heard_by, pitch = match[0]
                words = con.execute(WORDS, [cid, turn_idx, start, end]).fetchone()[0] or ""
                out.append({"label": t["label"], "heard": text if heard_by else None, "words": words,
                            "pitch": " ".join(pitch), "file": call["file"], "start": start, "end": end})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("folder", nargs="?", type=Path, default=Path("/tmp/pitchlab-phone"))
    ap.add_argument("--weights", type=float, nargs="+", default=[0.5, 0.6, 0.7, 0.8])
    args = ap.parse_args()
    truth = json.loads((args.folder.parent / f"{args.folder.name}.truth.json").read_text())["calls"]
    items = stored_replies(duckdb.connect(str(args.db), read_only=True), truth)
    scorer = reaction_scorer.ReactionScorer(MiniLMEmbedder())
    gold, pitches = [i["label"] for i in items], [i["pitch"] for i in items]
    heard = [i["heard"] if i["heard"] is not None else i["words"] for i in items]

    def f1(texts, also=None) -> str:
        return f"{macro_f1(gold, [s.label for s in scorer.score(texts, pitches, also)]):.3f}"

    print(f"{len(items)} rows, {sum(i['heard'] is not None for i in items)} heard again")
    print(f"text heard again alone: {f1(heard)}; transcript's words alone: {f1([i['words'] for i in items])}")
    also = [i["words"] if i["heard"] is not None else None for i in items]
    for w in args.weights:
        reaction_scorer.HEARD_WEIGHT = w
        print(f"both, weight {w:g} on the text heard again: {f1(heard, also)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
