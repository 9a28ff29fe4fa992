"""Transcripts analyzed in chunks store exactly what they store analyzed call by call."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.transcripts_batch import REPS, write_calls
from conftest import ROOT, BagEmbedder, FakeModels, ScriptTranscriber
from pipeline.analyze import analyze, chunks
from pipeline.core import progress
from pipeline.core.records import Recording
from pipeline.core.settings import Settings
from pipeline.language.embed import embed_unique
from pipeline.storage import db
from test_analyze import PROSPECT_SCRIPT, REP_SCRIPT, stereo_call

EXAMPLES = ROOT / "tests" / "data" / "transcripts"
TABLES = [("calls", "processed_at"), ("turns", "call_id"), ("pitch_phrases", "call_id"), ("reactions", "call_id"),
          ("phrase_terms", "phrase_id"), ("clusters", "fitted_at"), ("ingest_errors", "seen_at")]


def dump(path: Path) -> dict[str, list[tuple]]:
    with db.opened(path, read_only=True) as con:
        return {t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall() for t, skip in TABLES}


@pytest.fixture
def inbox(tmp_path):
    """The committed examples, 12 generated transcripts (repeated sentences), a broken one and a recording."""
    box = tmp_path / "inbox"
    shutil.copytree(EXAMPLES, box)
    write_calls(box, 12, 16)
    (box / "outcomes.csv").unlink()
    (box / "bad.json").write_text('{"turns": [\n  {"speaker": "rep" "text": "hi"}\n]}')
    stereo_call(box / "one.wav")
    return box


def run(tmp_path: Path, inbox: Path, chunk_calls: int) -> Path:
    settings = Settings(inbox=inbox, db=tmp_path / f"chunk{chunk_calls}.duckdb", rep_names=("Dana Smith", *REPS),
                        progress=False, chunk_calls=chunk_calls)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([REP_SCRIPT, PROSPECT_SCRIPT])))
    assert (summary.processed, [f for f, _ in summary.failed]) == (17, ["bad.json"])
    return settings.db


def test_chunks_store_exactly_what_call_by_call_stores(tmp_path, inbox):
    one_by_one = dump(run(tmp_path, inbox, chunk_calls=1))
    assert len(one_by_one["calls"]) == 17 and len(one_by_one["pitch_phrases"]) > 100
    assert len(one_by_one["reactions"]) > 50 and one_by_one["ingest_errors"][0][1] == "bad.json"
    for size in (5, 256):  # uneven chunks, and all of them in one
        assert dump(run(tmp_path, inbox, chunk_calls=size)) == one_by_one


def test_transcripts_are_chunked_and_recordings_go_alone():
    recs = [Recording(Path(name), name, name, 1) for name in ("a.vtt", "b.json", "c.wav", "d.srt", "e.vtt", "f.mp3")]
    groups = [[r.source_file for r in g] for g in chunks(recs, 2)]
    assert groups == [["a.vtt", "b.json"], ["c.wav"], ["d.srt", "e.vtt"], ["f.mp3"]]
    assert [[r.source_file for r in g] for g in chunks(recs[:2], 256)] == [["a.vtt", "b.json"]]


class CountingEmbedder(BagEmbedder):
    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen += list(texts)
        return super().embed(texts)


def test_each_distinct_text_is_embedded_once_in_its_place():
    fake = CountingEmbedder()
    texts = ["Okay.", "We sync to Salesforce.", "Okay.", "Tell me more.", "We sync to Salesforce."]
    vectors = embed_unique(fake, texts)
    assert fake.seen == ["Okay.", "We sync to Salesforce.", "Tell me more."]
    assert np.array_equal(vectors, BagEmbedder().embed(texts))
    assert embed_unique(fake, []).shape == (0, 384)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_one_bar_counts_the_calls_of_every_chunk(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", screen)
    seen = []
    for group in progress.batches([["a.vtt", "b.vtt", "c.vtt"], ["d.wav"]], enabled=True):
        progress.stage("embed")
        seen.append(group)
    out = screen.getvalue()
    assert seen == [["a.vtt", "b.vtt", "c.vtt"], ["d.wav"]]
    assert "analyzing a.vtt and 2 more" in out and "analyzing d.wav" in out and "embed" in out and "4/4" in out


@pytest.mark.e2e
def test_with_the_real_models_chunks_change_nothing_but_float_noise(tmp_path):
    """spaCy and MiniLM for real: same turns, phrases, kinds, reactions, outcomes and clusters.

    Only the embeddings' last bits may differ (a matrix product's rounding depends on
    how many texts share the batch), far below anything a stage reads.
    """
    box = tmp_path / "inbox"
    shutil.copytree(EXAMPLES, box)
    write_calls(box, 6, 24)
    (box / "outcomes.csv").unlink()
    dumps = []
    for size in (1, 10):
        settings = Settings(inbox=box, db=tmp_path / f"real{size}.duckdb", rep_names=tuple(REPS), progress=False,
                            chunk_calls=size)
        assert analyze(settings).processed == 10
        dumps.append(dump(settings.db))
    phrases, clusters = ({r[4]: r for r in dumps[0]["pitch_phrases"]}, dumps[0]["clusters"])
    vector_column = {"pitch_phrases": 7, "clusters": 4}
    for table, rows in dumps[0].items():
        other = dumps[1][table]
        assert len(rows) == len(other), table
        col = vector_column.get(table)
        for a, b in zip(rows, other):
            if col is None:
                assert a == b, table
                continue
            assert np.allclose(a[col], b[col], rtol=0, atol=1e-6), table
            a, b = a[:col] + a[col + 1:], b[:col] + b[col + 1:]
            if table == "clusters" and a[3] != b[3]:
                # the most central phrase: a tie within rounding may go either way
                centroid = np.array(clusters[[c[0] for c in clusters].index(a[0])][4])
                sims = [np.dot(phrases[text][7], centroid) for text in (a[3], b[3])]
                assert abs(sims[0] - sims[1]) < 1e-6, (a[3], b[3], sims)
                a, b = a[:3] + a[4:], b[:3] + b[4:]
            assert a == b, table
