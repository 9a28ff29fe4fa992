"""Benchmark: N synthetic transcript calls (~40 turns each) analyzed in one batch, real models.

Generates the transcripts (JSON and Zoom-style VTT, half each) in a temporary
folder, runs `analyze` on them into a fresh DuckDB file with the real spaCy and
all-MiniLM-L6-v2 models, and records wall time, phrases and peak RSS into
bench/results/transcripts_<N>.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/transcripts_batch.py --calls 1000
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import tempfile
import time
from pathlib import Path

from pipeline.analyze import analyze
from pipeline.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"

PITCHES = [
    "You see exactly who watched your {thing} and for how long.",
    "Every view syncs into {crm} automatically.",
    "Our AI-powered editor trims your {thing} in seconds.",
    "The dashboard shows which {who} watched to the end.",
    "It takes two clicks to send a personal {thing} to a {who_one}.",
    "Videos get answered three times as often as plain emails.",
    "Pricing starts at {price} dollars per seat, billed monthly.",
    "Your team can reuse one {thing} for every {who_one} in the sequence.",
    "We integrate with {crm} and Outreach out of the box.",
    "Managers can coach reps by commenting on any {thing}.",
]
FILLERS = ["So, to give you an idea.", "Let me walk you through it.", "Right, good question."]
REPLIES = [
    "Oh nice, how does that work?", "We already have a tool for that.", "Interesting, send me a link.",
    "Not sure that is a priority right now.", "What does that cost?", "Okay.", "Hmm, go on.",
    "Can you show me the dashboard?", "We are happy with what we use.", "That would help our team.",
]
WORDS = {
    "thing": ["video", "recording", "demo video", "screen recording"],
    "crm": ["Salesforce", "HubSpot", "Pipedrive"],
    "who": ["buyers", "prospects", "stakeholders"],
    "who_one": ["lead", "prospect", "buyer"],
    "price": ["twenty", "thirty", "fifteen"],
}
REPS = ["Dana Smith", "Sam Lee", "Lee Park"]


def make_call(rng: random.Random, turns: int) -> tuple[str, list[tuple[str, str]]]:
    rep = rng.choice(REPS)
    out = []
    for i in range(turns // 2):
        pitch = rng.choice(PITCHES).format(**{k: rng.choice(v) for k, v in WORDS.items()})
        text = pitch if rng.random() < 0.6 else f"{rng.choice(FILLERS)} {pitch}"
        out.append((rep, text))
        out.append(("Prospect Person", rng.choice(REPLIES)))
    return rep, out


def write_calls(folder: Path, n: int, turns: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    outcomes = ["file,outcome"]
    for c in range(n):
        rep, lines = make_call(rng, turns)
        outcome = rng.choice(["interested", "not_interested", ""])
        if c % 2:
            name = f"call_{c:05d}.json"
            data = {"rep": rep, "turns": [{"speaker": s, "text": t, "start": 4.0 * i, "end": 4.0 * i + 3.5}
                                          for i, (s, t) in enumerate(lines)]}
            (folder / name).write_text(json.dumps(data))
        else:
            name = f"call_{c:05d}.vtt"
            cues = [f"{i + 1}\n{_stamp(4.0 * i)} --> {_stamp(4.0 * i + 3.5)}\n{s}: {t}\n"
                    for i, (s, t) in enumerate(lines)]
            (folder / name).write_text("WEBVTT\n\n" + "\n".join(cues))
        outcomes.append(f"{name},{outcome}")
    (folder / "outcomes.csv").write_text("\n".join(outcomes) + "\n")


def _stamp(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        write_calls(inbox, args.calls, args.turns)
        settings = Settings(inbox=inbox, db=Path(tmp) / "bench.duckdb", outcomes=inbox / "outcomes.csv",
                            rep_names=tuple(REPS), progress=False)
        started = time.monotonic()
        summary = analyze(settings)
        wall = time.monotonic() - started
        import duckdb

        with duckdb.connect(str(settings.db), read_only=True) as con:
            phrases, turns = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                              for t in ("pitch_phrases", "turns"))
        db_mb = settings.db.stat().st_size / 2**20
    result = {
        "benchmark": "transcripts_batch",
        "calls": args.calls,
        "turns_per_call": args.turns,
        "processed": summary.processed,
        "failed": len(summary.failed),
        "turns": turns,
        "phrases": phrases,
        "wall_s": round(wall, 1),
        "calls_per_s": round(summary.processed / wall, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "db_mib": round(db_mb, 1),
        "clustering": summary.clustering,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"transcripts_{args.calls}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
