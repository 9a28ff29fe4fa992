"""Benchmark: N synthetic transcript calls (~40 turns each) analyzed in one batch, real models.

Generates the transcripts (JSON and Zoom-style VTT, half each) in a temporary
folder, then runs `analyze` on them into a fresh DuckDB file with the real spaCy
and all-MiniLM-L6-v2 models, as `pitchlab analyze` would. Records wall time
(models loaded first, their load time apart), calls per second, seconds per
stage, peak RSS and the machine's load.

Each call names its own prospect company, people, numbers and products, so
nearly every rep sentence is new to the batch, as in real calls (a batch of
calls repeating a few hundred sentences would be flattered by the batch's
deduplication of texts); short replies ("Okay.", "Hmm, go on.") repeat, as they do.

Part of `make bench` (`python -m bench --only transcripts`); on its own:

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.transcripts_batch --calls 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

PITCHES = [
    "You see exactly who at {company} watched your {thing} and for how long.",
    "Every view syncs into {crm} automatically, so your {n} reps never log anything by hand.",
    "Our AI-powered editor trims a {thing} about {topic} in seconds.",
    "The dashboard shows which {who} watched to the end, broken down by {topic}.",
    "It takes two clicks to send a personal {thing} to a {who_one} like {person}.",
    "Videos get answered three times as often as plain emails, and for teams of {n} that adds up to {m} meetings a month.",
    "Pricing starts at {price} dollars per seat, so {n} seats come to about {total} dollars a month.",
    "Your team can reuse one {thing} for every {who_one} in the {topic} sequence.",
    "We integrate with {crm} and {tool} out of the box, and setup takes about {m} minutes.",
    "Managers can coach reps by commenting on any {thing}, which {company2} used to cut ramp time by {pct} percent.",
    "{company2} saw replies go up {pct} percent in the first {m} days.",
    "You get an alert the moment {person} opens the {thing}, so you can call while it is fresh.",
    "The recordings are encrypted and stored in {region}, which covers what your {dept} team asks for.",
    "Analytics roll up by rep and by {topic}, so {person} can see what works across {company}.",
]
DISCOVERY = [
    "How many reps does {company} have on the {topic} team today?",
    "What do you use for {topic} outreach right now?",
    "Who besides you would look at this, maybe someone in {dept}?",
]
FILLERS = ["So, to give you an idea.", "Let me walk you through it.", "Right, good question.",
           "Okay, here is the interesting part.", "Sure."]
REPLIES = [
    "Oh nice, how does that work with {crm}?", "We already have a tool for that, {tool} actually.",
    "Interesting, send me a link and I'll show {person}.", "Not sure that is a priority for {company} right now.",
    "What does that cost for {n} seats?", "Okay.", "Hmm, go on.", "Yeah.",
    "Can you show me the dashboard for {topic}?", "We are happy with {tool}, to be honest.",
    "That would help our {dept} team a lot.", "How long would the setup take for {n} people?",
]
CLOSES = ["Could we book a walkthrough with {person} next {day}?", "I'll send over a calendar invite for {day}."]
CLOSE_REPLIES = ["Sure, {day} works for me.", "Let me check with {person} first and get back to you.",
                 "Not now, maybe next quarter."]

SYLLABLES = ["ka", "lo", "ve", "tri", "na", "mor", "zen", "pa", "ri", "quo", "bel", "dan", "sto", "fy", "lux"]
FIRST = ["Priya", "Tom", "Ana", "Omar", "Jules", "Mei", "Carlos", "Nina", "Ravi", "Eva", "Sean", "Lena"]
LAST = ["Shah", "Berg", "Okafor", "Rossi", "Kim", "Novak", "Haddad", "Silva", "Weber", "Moreau"]
WORDS = {
    "thing": ["video", "recording", "demo video", "screen recording", "walkthrough", "product tour"],
    "crm": ["Salesforce", "HubSpot", "Pipedrive", "Dynamics", "Zoho"],
    "tool": ["Outreach", "Salesloft", "Apollo", "Gong", "Loom", "Vidyard"],
    "who": ["buyers", "prospects", "stakeholders", "champions", "decision makers"],
    "who_one": ["lead", "prospect", "buyer", "champion"],
    "topic": ["onboarding", "renewals", "enterprise", "mid-market", "partner", "inbound", "outbound", "events"],
    "dept": ["security", "legal", "procurement", "IT", "finance", "operations"],
    "region": ["Frankfurt", "Virginia", "Dublin", "Sydney", "Montreal"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
}
REPS = ["Dana Smith", "Sam Lee", "Lee Park"]


def _company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize() + rng.choice(
        ["", " Labs", " Health", " Logistics", " Group", " Software"])


def _details(rng: random.Random) -> dict[str, str]:
    """One call's own names and numbers: its prospect company, people, team size and prices."""
    n, price = rng.randint(3, 400), rng.choice([12, 15, 19, 24, 29, 35, 49])
    return {"company": _company(rng), "company2": _company(rng),
            "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "n": str(n), "m": str(rng.randint(2, 90)),
            "price": str(price), "total": f"{n * price:,}", "pct": str(rng.randint(5, 60))}


def _fill(template: str, rng: random.Random, details: dict[str, str]) -> str:
    return template.format(**details, **{k: rng.choice(v) for k, v in WORDS.items()})


def make_call(rng: random.Random, turns: int) -> tuple[str, list[tuple[str, str]]]:
    """(rep, [(speaker, text), ...]): alternating rep and prospect turns, a close near the end."""
    rep, details = rng.choice(REPS), _details(rng)
    prospect = details["person"]
    out = []
    for i in range(turns // 2):
        if i == turns // 2 - 1:
            rep_text, reply = rng.choice(CLOSES), rng.choice(CLOSE_REPLIES)
        else:
            rep_text = rng.choice(DISCOVERY) if rng.random() < 0.15 else rng.choice(PITCHES)
            if rng.random() < 0.4:
                rep_text = f"{rng.choice(FILLERS)} {rep_text}"
            reply = rng.choice(REPLIES)
        out.append((rep, _fill(rep_text, rng, details)))
        out.append((prospect, _fill(reply, rng, details)))
    return rep, out


def write_calls(folder: Path, n: int, turns: int, seed: int = 0) -> None:
    """n transcripts (odd ones JSON, even ones VTT) and an outcomes.csv labelling two thirds of them."""
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
            (folder / name).write_text(vtt(lines))
        outcomes.append(f"{name},{outcome}")
    (folder / "outcomes.csv").write_text("\n".join(outcomes) + "\n")


def vtt(lines: list[tuple[str, str]]) -> str:
    """A Zoom-style VTT of (speaker, text) cues, one every 4 s, each 3.5 s long."""
    cues = [f"{i + 1}\n{_stamp(4.0 * i)} --> {_stamp(4.0 * i + 3.5)}\n{s}: {t}\n" for i, (s, t) in enumerate(lines)]
    return "WEBVTT\n\n" + "\n".join(cues)


def _stamp(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"


def transcripts(*, calls: int, turns: int = 40, chunk_calls: int | None = None) -> dict:
    """Generate `calls` transcripts, analyze them in one batch, return the figures."""
    import duckdb

    from pipeline.analyze import Models, analyze
    from pipeline.core.settings import Settings

    from .common import Stopwatch, peak_rss_mb
    from .pipeline_bench import instrumented

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        write_calls(inbox, calls, turns)
        chunk = {"chunk_calls": chunk_calls} if chunk_calls else {}
        settings = Settings(inbox=inbox, db=Path(tmp) / "bench.duckdb", outcomes=inbox / "outcomes.csv",
                            rep_names=tuple(REPS), progress=False, **chunk)
        models = Models(settings)
        started = time.perf_counter()
        models.splitter, models.embedder, models.kinds, models.scorer  # noqa: B018 (load now, timed apart)
        load_s = time.perf_counter() - started
        watch = Stopwatch()
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with instrumented(models, watch):
            summary = analyze(settings, models=models)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        with duckdb.connect(str(settings.db), read_only=True) as con:
            turns_n, phrases_n, distinct_n, pitch_n, reactions_n = con.execute(
                "SELECT (SELECT count(*) FROM turns), (SELECT count(*) FROM pitch_phrases),"
                " (SELECT count(DISTINCT text) FROM pitch_phrases),"
                " (SELECT count(*) FROM pitch_phrases WHERE kind = 'pitch'), (SELECT count(*) FROM reactions)"
            ).fetchone()
        db_mib = settings.db.stat().st_size / 2**20
    stages = dict(watch.seconds)
    stages["other"] = max(wall - sum(stages.values()), 0.0)
    return {
        "calls": calls, "turns_per_call": turns, "chunk_calls": settings.chunk_calls,
        "processed": summary.processed, "failed": len(summary.failed),
        "turns": turns_n, "phrases": phrases_n, "distinct_phrases": distinct_n, "pitch_phrases": pitch_n, "reactions": reactions_n,
        "load_s": load_s, "wall_s": wall, "calls_per_s": summary.processed / wall, "stages_s": stages,
        "peak_rss_mb": peak_rss_mb(), "db_mib": db_mib, "clustering": summary.clustering,
        "load_average_1min": [load_before, load_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--chunk", type=int, default=None, help="transcripts per chunk (default: the setting's)")
    args = parser.parse_args()
    print(json.dumps(transcripts(calls=args.calls, turns=args.turns, chunk_calls=args.chunk), indent=1))


if __name__ == "__main__":
    main()
