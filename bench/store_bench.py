"""store.write_call: the current insert against the earlier one (a Python list per embedding)."""

from __future__ import annotations

import time

import numpy as np

from pipeline import db, store
from pipeline.records import PROSPECT, REP, AudioInfo, CallAnalysis, Phrase, Reaction, Turn

from .common import median, peak_rss_mb


def demo_sized_call(i: int, *, turns: int = 30, phrases: int = 20) -> CallAnalysis:
    """A call the size of a demo call (about 30 turns, 20 pitch phrases with reactions)."""
    rng = np.random.default_rng(i)
    vectors = rng.normal(size=(phrases, 384)).astype(np.float32)
    return CallAnalysis(
        info=AudioInfo(f"{i:016x}" + "0" * 48, f"c{i}.wav", 48.0, 2, 16000),
        speaker_method="channel",
        model="tiny.en",
        turns=tuple(Turn(j, REP if j % 2 == 0 else PROSPECT, j, j + 1.0, "some words of a turn here") for j in range(turns)),
        phrases=tuple(Phrase(j, 2 * (j % (turns // 2)), j, j + 0.5, "we show which buyers watched", ("buyer",))
                      for j in range(phrases)),
        reactions=tuple(Reaction(j, 1, j, j + 1.0, "nice how does it work", 0.5, "interested", ("+nice",))
                        for j in range(phrases)),
        embeddings=tuple(tuple(float(v) for v in row) for row in vectors),
    )


def write_call_list_params(con, call: CallAnalysis, size_bytes: int) -> None:
    """The write before the fix, kept here to measure against: embeddings bound as lists."""
    info, cid = call.info, call.info.call_id
    with db.transaction(con):
        con.execute(
            "INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes, speaker_method, model)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [cid, info.source_file, info.duration_s, info.channels, info.sample_rate, size_bytes, call.speaker_method,
             call.model])
        con.executemany("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
                        [[cid, t.turn_idx, t.speaker, t.start_s, t.end_s, t.text] for t in call.turns])
        con.executemany(
            "INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence,"
            " embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[store.phrase_id(cid, p.phrase_idx), cid, p.turn_idx, p.start_s, p.end_s, p.text, p.kind,
              p.kind_evidence, list(vec)]
             for p, vec in zip(call.phrases, call.embeddings)])
        con.executemany("INSERT INTO descriptors VALUES (?, ?)",
                        [[store.phrase_id(cid, p.phrase_idx), t] for p in call.phrases for t in p.descriptors])
        con.executemany(
            "INSERT INTO reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[store.reaction_id(cid, r.phrase_idx), store.phrase_id(cid, r.phrase_idx), cid, r.turn_idx, r.start_s,
              r.end_s, r.text, r.interest, r.label, list(r.evidence), r.latency_s, r.interrupted,
              list(r.backchannels), r.run_size] for r in call.reactions])


WRITERS = {"before (list parameters)": write_call_list_params, "after (columns as lists, embeddings as a matrix)": store.write_call}


def write_call(*, calls: int) -> dict:
    """Median seconds per call for each writer, alternating writers call by call."""
    con = db.connect(":memory:")
    seconds: dict[str, list[float]] = {name: [] for name in WRITERS}
    for i in range(calls):
        for j, (name, writer) in enumerate(WRITERS.items()):
            call = demo_sized_call(2 * i + j)
            start = time.perf_counter()
            writer(con, call, 1000)
            seconds[name].append(time.perf_counter() - start)
    return {"calls": calls, "phrases_per_call": 20, "turns_per_call": 30,
            "median_s": {name: median(v) for name, v in seconds.items()}, "peak_rss_mb": peak_rss_mb()}
