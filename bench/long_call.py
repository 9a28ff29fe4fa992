"""Benchmark: one transcript of 100,000 cues (a single Zoom-style VTT), the pipeline's own code timed.

Reaction pairing used to scan the whole call once per pitch (8,000 cues took 27 s, 16,000
cues 76 s, 100,000 did not finish in 10 minutes; issue #14 item 11); it is now one sweep.
This group generates the file (`transcripts_batch.make_call`: alternating rep and prospect
cues, 4 s apart), then runs `analyze` on it into a fresh database with cheap stand-ins for
spaCy and MiniLM (sentences split at '.?!', words hashed into 384 dimensions, the real
reaction scorer over those vectors), so the figure is the cost of parsing, pairing, storing
and clustering that grow with the length of a call; the models' own time grows linearly and
is measured by the `transcripts` group.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.long_call --cues 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.language.kinds import Kind
from pipeline.language.phrases import Span

from .transcripts_batch import REPS, make_call, vtt


class _Sentences:
    """Splitter stand-in: a phrase per sentence of three words or more."""

    def split(self, texts):
        out = []
        for text in texts:
            spans, start = [], 0
            for i, ch in enumerate(text):
                if ch in ".?!" and (i + 1 == len(text) or text[i + 1] == " "):
                    if len(text[start:i + 1].split()) >= 3:
                        spans.append(Span(start, i + 1, ()))
                    start = i + 2
            out.append(spans)
        return out


class _HashedWords:
    """Embedder stand-in: words hashed into 384 dimensions, unit length."""

    def embed(self, texts):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in text.lower().split():
                out[i, hash(w.strip(".,?!")) % 384] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class _QuestionKinds:
    """Kinds stand-in: a question is discovery, a walkthrough or invite a close, the rest pitches."""

    def classify(self, texts, vectors):
        return [Kind("discovery" if t.endswith("?") and "walkthrough" not in t else
                     "close" if "walkthrough" in t or "invite" in t else "pitch", "rule") for t in texts]


def long_call(*, cues: int = 100_000) -> dict:
    """Generate one VTT of `cues` cues, analyze it with stand-in models, return the figures."""
    import duckdb

    from pipeline.language import reactions
    from pipeline.analyze import Models, analyze
    from pipeline.core.settings import Settings

    from .common import Stopwatch, peak_rss_mb
    from .pipeline_bench import instrumented

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        _rep, lines = make_call(random.Random(0), cues)
        (inbox / "long_call.vtt").write_text(vtt(lines))
        settings = Settings(inbox=inbox, db=Path(tmp) / "bench.duckdb", rep_names=tuple(REPS), progress=False)
        models = Models(settings)
        models.splitter, models.embedder, models.kinds = _Sentences(), _HashedWords(), _QuestionKinds()
        models.scorer = reactions.ReactionScorer(models.embedder)
        watch = Stopwatch()
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        with instrumented(models, watch):
            summary = analyze(settings, models=models)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        load_after = os.getloadavg()[0]
        with duckdb.connect(str(settings.db), read_only=True) as con:
            turns_n, pitch_n, reactions_n = con.execute(
                "SELECT (SELECT count(*) FROM turns), (SELECT count(*) FROM pitch_phrases WHERE kind = 'pitch'),"
                " (SELECT count(*) FROM reactions)").fetchone()
    stages = dict(watch.seconds)
    stages["other"] = max(wall - sum(stages.values()), 0.0)
    return {"cues": cues, "processed": summary.processed, "failed": len(summary.failed), "turns": turns_n,
            "pitch_phrases": pitch_n, "reactions": reactions_n, "wall_s": wall, "cpu_s": cpu, "stages_s": stages,
            "peak_rss_mb": peak_rss_mb(), "load_average_1min": [load_before, load_after]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cues", type=int, default=100_000)
    print(json.dumps(long_call(cues=parser.parse_args().cues), indent=1))


if __name__ == "__main__":
    main()
