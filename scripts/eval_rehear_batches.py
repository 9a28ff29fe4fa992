#!/usr/bin/env python3
"""How much a telephone set's reaction figure moves with the company a reply is heard in.

    PYTHONPATH=. .venv/bin/python scripts/eval_rehear_batches.py DB FOLDER [--shuffles 6] [--seed 7]

DB is a database `scripts/eval_phone.py` analyzed from FOLDER (replies heard again: the default). Moonshine has no
attention mask: the clips of a batch are padded with silence to the longest, and the padding changes what it hears
in the shorter ones. `pitchlab analyze` hears a call's replies (one to four) as one batch, so a reply's words depend
on the other replies of its call. This script takes the stored `reactions` rows that the set's true replies to a
pitch fall on (matched as eval_phone.py matches them), cuts each reply's clip as `rehear.clip` does (from the stored
reply times, the prospect's side of the call) and scores it with both hearings as `pitchlab analyze` does
(`ReactionScorer.score(also=)`, the transcript's words as stored), Moonshine hearing the clips:
- as stored (the analysis's own batches: the figure eval_phone.py prints);
- each clip alone (no padding);
- in `--shuffles` random batches of four replies of the set (as a call's replies would be, with other neighbours).
Printed: the label macro-F1 over the rows for each, and the spread of the shuffles.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_heard_weight import stored_replies  # noqa: E402
from eval_reactions import macro_f1  # noqa: E402
from pipeline.audio import ingest, moonshine  # noqa: E402
from pipeline.language import rehear  # noqa: E402
from pipeline.language.embed import MiniLMEmbedder  # noqa: E402
from pipeline.language.reaction_scorer import ReactionScorer  # noqa: E402

BATCH = 4  # a call's replies: one to four


def with_clips(con: duckdb.DuckDBPyConnection, folder: Path, items: list[dict]) -> list[dict]:
    """`eval_heard_weight.stored_replies` rows, each with its clip cut as `rehear.clip` cuts it (prospect's side)."""
    recordings = {r.path.name: r for r in ingest.find_recordings(folder)}
    file, signal = None, None
    for item in items:  # a call's replies come together: each call decoded once
        if item["file"] != file:
            file = item["file"]
            rep_channel = con.execute("SELECT rep_channel FROM calls WHERE source_file = ?", [file]).fetchone()[0]
            signal = rehear.prospect_signal(ingest.decode(recordings[file]).channels, rep_channel)
        item["clip"] = rehear.clip(signal, item["start"], item["end"])
    return items


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--shuffles", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    truth = json.loads((args.folder.parent / f"{args.folder.name}.truth.json").read_text())["calls"]
    con = duckdb.connect(str(args.db), read_only=True)
    items = with_clips(con, args.folder, stored_replies(con, truth))
    again = [k for k, i in enumerate(items) if i["heard"] is not None and i["clip"].size]
    listener, scorer = moonshine.MoonshineListener(), ReactionScorer(MiniLMEmbedder())
    gold, pitches = [i["label"] for i in items], [i["pitch"] for i in items]

    def f1(heard: dict[int, str]) -> float:
        """A row heard again is scored on `heard[k]` and its words, as analyze scores it; the others on their words."""
        texts = [heard.get(k) or i["words"] for k, i in enumerate(items)]
        also = [i["words"] if heard.get(k) else None for k, i in enumerate(items)]
        return macro_f1(gold, [s.label for s in scorer.score(texts, pitches, also)])

    print(f"{len(items)} rows, {len(again)} of them heard again")
    print(f"as stored (each call's replies one batch): {f1({k: items[k]['heard'] for k in again}):.3f}")
    print(f"each clip alone: {f1({k: listener.hear([items[k]['clip']])[0] for k in again}):.3f}")
    rng, figures = np.random.default_rng(args.seed), []
    for _ in range(args.shuffles):
        order, heard = rng.permutation(again), {}
        for s in range(0, len(order), BATCH):
            batch = [int(j) for j in order[s:s + BATCH]]
            heard.update(zip(batch, listener.hear([items[j]["clip"] for j in batch])))
        figures.append(f1(heard))
    if figures:
        print(f"{args.shuffles} random batches of {BATCH}: " + " ".join(f"{f:.3f}" for f in figures)
              + f" (min {min(figures):.3f}, median {float(np.median(figures)):.3f}, max {max(figures):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
