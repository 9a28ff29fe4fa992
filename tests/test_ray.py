"""The audio half on a real local Ray cluster (started by the test): same rows as the local path, nothing lost."""

from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]'; make test installs it)")

from conftest import ROOT, TEST_CALLS, tone, write_wav  # noqa: E402
from pipeline import ray_engine  # noqa: E402
from pipeline.analyze import analyze, save_batch  # noqa: E402
from pipeline.audio import ingest  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.storage import db  # noqa: E402
from ray_fakes import CrashingModels, broken_models, fake_models  # noqa: E402

TABLES = [("calls", "processed_at"), ("turns", "call_id"), ("pitch_phrases", "call_id, embedding"),
          ("reactions", "call_id"), ("phrase_terms", "phrase_id"), ("descriptors", "created_at"),
          ("ingest_errors", "seen_at")]
PHRASE = "phrase_id, call_id, turn_idx, start_s, end_s, text, kind"  # what transcription decides, not clustering


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster of 2 CPUs for the module; workers import this checkout and tests/."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    patch.undo()


def stereo_inbox(path, n=4):
    path.mkdir()
    for i in range(n):
        write_wav(path / f"call{i}.wav", [tone(15.0, 300 + 10 * i), tone(15.0, 630 + 10 * i)])
    return path


def dump(path):
    with db.opened(path, read_only=True) as con:
        out = {t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall() for t, skip in TABLES}
        out["phrases"] = con.execute(f"SELECT {PHRASE} FROM pitch_phrases ORDER BY ALL").fetchall()
        out["embeddings"] = con.execute("SELECT phrase_id, embedding FROM pitch_phrases ORDER BY phrase_id").fetchall()
    return out


def test_ray_path_stores_the_same_rows_as_the_local_path(cluster, tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox")
    (inbox / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    local = Settings(inbox=inbox, db=tmp_path / "local.duckdb", progress=False)
    on_ray = Settings(inbox=inbox, db=tmp_path / "ray.duckdb", progress=False, engine="ray", ray_workers=2,
                      cpu_threads=1)
    a = analyze(local, models=fake_models())
    b = analyze(on_ray, make_models=fake_models)
    assert (a.processed, len(a.failed)) == (b.processed, len(b.failed)) == (4, 1)
    assert dump(local.db) == dump(on_ray.db)


def test_a_killed_worker_loses_and_duplicates_nothing(cluster, tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox")
    marker = tmp_path / "crashed"
    recordings = ingest.find_recordings(inbox)
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False, cpu_threads=1)
    with db.opened(settings.db) as con:
        for results in ray_engine.process(recordings, settings, labels={}, workers=2,
                                          make_models=CrashingModels(marker)):
            save_batch(con, results)
        stored = con.execute("SELECT source_file, count(*) FROM calls GROUP BY ALL ORDER BY ALL").fetchall()
        errors = con.execute("SELECT count(*) FROM ingest_errors").fetchone()[0]
    assert marker.exists()  # a worker really died mid-recording
    assert stored == [(f"call{i}.wav", 1) for i in range(4)]
    assert errors == 0


def test_a_failure_on_a_worker_is_that_recordings_ingest_error(cluster, tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox", n=2)
    recordings = ingest.find_recordings(inbox)
    gone = recordings[0].__class__(tmp_path / "elsewhere" / "call9.wav", "call9.wav", "0" * 64, 10)
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False, cpu_threads=1)
    results = [p for batch in ray_engine.process(recordings + [gone], settings, labels={}, workers=1,
                                                  make_models=broken_models) for p in batch]
    reasons = {p.recording.source_file: p.error for p in results}
    assert all(p.call is None for p in results)
    assert "the decoder choked" in reasons["call0.wav"] and "the decoder choked" in reasons["call1.wav"]
    assert "inbox must be a shared path" in reasons["call9.wav"]


def test_a_second_run_stores_only_what_is_missing(cluster, tmp_path):
    """The driver killed mid-batch leaves some calls stored: the next run adds only the others."""
    inbox = stereo_inbox(tmp_path / "inbox")
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False, engine="ray", cpu_threads=1)
    first = ingest.find_recordings(inbox)[:1]
    with db.opened(settings.db) as con:  # what a driver killed after its first stored chunk left behind
        for results in ray_engine.process(first, settings, labels={}, workers=1, make_models=fake_models):
            save_batch(con, results)
    summary = analyze(settings, make_models=fake_models)
    assert (summary.processed, summary.skipped_known) == (3, 1)
    with db.opened(settings.db, read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT source_file) FROM calls").fetchone() == (4, 4)


@pytest.mark.e2e
def test_real_models_on_ray_match_the_local_run(cluster, tmp_path):
    """The committed test calls with the real models: same turns and phrases, embeddings within float tolerance."""
    import numpy as np
    import shutil

    inbox = tmp_path / "inbox"
    shutil.copytree(TEST_CALLS, inbox)
    local = Settings(inbox=inbox, db=tmp_path / "local.duckdb", outcomes=inbox / "outcomes.csv", progress=False)
    on_ray = Settings(inbox=inbox, db=tmp_path / "ray.duckdb", outcomes=inbox / "outcomes.csv", progress=False,
                      engine="ray", ray_workers=1)
    analyze(local)
    analyze(on_ray)
    a, b = dump(local.db), dump(on_ray.db)
    for table in ("calls", "turns", "phrases", "reactions", "ingest_errors"):
        assert a[table] == b[table], table
    assert [r[0] for r in a["embeddings"]] == [r[0] for r in b["embeddings"]]
    assert np.allclose(np.array([r[1] for r in a["embeddings"]]), np.array([r[1] for r in b["embeddings"]]),
                       atol=1e-5)


def test_a_batch_of_transcripts_starts_no_cluster(tmp_path, monkeypatch):
    """Transcripts are analyzed on the driver: with nothing for the workers, no Ray cluster is joined or started."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.json").write_text('{"turns": [{"speaker": "rep", "text": "We show exactly who watched your video."},'
                                  ' {"speaker": "prospect", "text": "Oh nice, how does that work?"}]}')

    def no_session(address):
        raise AssertionError("a Ray cluster was started for transcripts")

    monkeypatch.setattr(ray_engine, "session", no_session)
    summary = analyze(Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False, engine="ray"),
                      models=fake_models())
    assert summary.processed == 1
