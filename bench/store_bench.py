"""store.write_call: the current insert against the earlier one (a Python list per embedding)."""

from __future__ import annotations

import time

import numpy as np

from pipeline.core.records import PROSPECT, REP, AudioInfo, CallAnalysis, Phrase, Reaction, Turn
from pipeline.storage import db, store

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
        con.executemany("INSERT INTO turns (call_id, turn_idx, speaker, start_s, end_s, text) VALUES (?, ?, ?, ?, ?, ?)",
                        [[cid, t.turn_idx, t.speaker, t.start_s, t.end_s, t.text] for t in call.turns])
        con.executemany(
            "INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, kind_evidence,"
            " embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[store.phrase_id(cid, p.phrase_idx), cid, p.turn_idx, p.start_s, p.end_s, p.text, p.kind,
              p.kind_evidence, list(vec)]
             for p, vec in zip(call.phrases, call.embeddings)])
        con.executemany("INSERT INTO phrase_terms (phrase_id, term) VALUES (?, ?)",
                        [[store.phrase_id(cid, p.phrase_idx), t] for p in call.phrases for t in p.descriptors])
        con.executemany(
            "INSERT INTO reactions (reaction_id, phrase_id, call_id, turn_idx, start_s, end_s, text, interest, label,"
            " evidence, latency_s, interrupted, backchannels, run_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[store.reaction_id(cid, r.phrase_idx), store.phrase_id(cid, r.phrase_idx), cid, r.turn_idx, r.start_s,
              r.end_s, r.text, r.interest, r.label, list(r.evidence), r.latency_s, r.interrupted,
              list(r.backchannels), r.run_size] for r in call.reactions])


def _insert_wide(con, target: str, rows: list[list], vectors: list | None = None) -> None:
    """`store._insert` as it was until the fix, kept here to measure against: the embeddings
    registered one column a dimension (384 columns), which cost about 40 ms of planning a statement."""
    if vectors is None:
        return store_insert(con, target, rows)
    columns = [list(c) for c in zip(*rows)]
    select = ", ".join(f"unnest(?) AS c{i}" for i in range(len(columns)))
    matrix = np.asarray(vectors, dtype=np.float32)
    dims = {f"d{j}": matrix[:, j] for j in range(matrix.shape[1])}
    con.register(store.VECTORS_VIEW, {"row_idx": np.arange(len(matrix)), **dims})
    try:
        target = target[:-1] + ", embedding)"
        con.execute(
            f"INSERT INTO {target} SELECT {', '.join(f'r.c{i}' for i in range(len(columns)))},"
            f" [{', '.join(f'v.{d}' for d in dims)}]::FLOAT[{matrix.shape[1]}]"
            f" FROM (SELECT unnest(range(?)) AS row_idx, {select}) r JOIN {store.VECTORS_VIEW} v USING (row_idx)",
            [len(rows), *columns],
        )
    finally:
        con.unregister(store.VECTORS_VIEW)


store_insert = store._insert


def write_call_wide(con, call: CallAnalysis, size_bytes: int) -> None:
    store._insert = _insert_wide
    try:
        store.write_call(con, call, size_bytes)
    finally:
        store._insert = store_insert


WRITERS = {"before (list parameters)": write_call_list_params,
           "then (columns as lists, embeddings one column a dimension)": write_call_wide,
           "after (columns as lists, embeddings as one long column)": store.write_call}


def write_call(*, calls: int) -> dict:
    """Median seconds per call for each writer, alternating writers call by call."""
    con = db.connect(":memory:")
    seconds: dict[str, list[float]] = {name: [] for name in WRITERS}
    for i in range(calls):
        for j, (name, writer) in enumerate(WRITERS.items()):
            call = demo_sized_call(len(WRITERS) * i + j)
            start = time.perf_counter()
            writer(con, call, 1000)
            seconds[name].append(time.perf_counter() - start)
    return {"calls": calls, "phrases_per_call": 20, "turns_per_call": 30,
            "median_s": {name: median(v) for name, v in seconds.items()}, "peak_rss_mb": peak_rss_mb()}
