"""Worker processes on this machine (--workers N, pipeline/pool.py): the same rows as one process, nothing lost
or stored twice when a worker dies, set-up errors one line, and no worker left behind when the driver stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TEST_CALLS, tone, write_wav
from pipeline import pool
from pipeline.analyze import analyze
from pipeline.audio import ingest
from pipeline.core.errors import ModelError
from pipeline.core.settings import Settings
from pipeline.storage import db
from ray_fakes import CrashingModels, NoModel, crashing_always_models, fake_models, threads_seen

TABLES = [("calls", "processed_at"), ("turns", "call_id"), ("pitch_phrases", "call_id, embedding"),
          ("reactions", "call_id"), ("phrase_terms", "phrase_id"), ("clusters", "fitted_at"),
          ("ingest_errors", "seen_at")]
TRANSCRIPT = ('{"turns": [{"speaker": "rep", "text": "We show exactly who watched your video."},'
              ' {"speaker": "prospect", "text": "Oh nice, how does that work?"}]}')


def stereo_inbox(path: Path, n: int = 4) -> Path:
    path.mkdir()
    for i in range(n):
        write_wav(path / f"call{i}.wav", [tone(15.0, 300 + 10 * i), tone(15.0, 630 + 10 * i)])
    return path


def dump(path: Path) -> dict:
    with db.opened(path, read_only=True) as con:
        return {t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall() for t, skip in TABLES}


def settings(tmp_path: Path, inbox: Path, name: str, **kw) -> Settings:
    return Settings(inbox=inbox, db=tmp_path / f"{name}.duckdb", progress=False, **kw)


def test_two_workers_store_the_same_rows_as_one_process(tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox")
    (inbox / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    (inbox / "t.json").write_text(TRANSCRIPT)
    a = analyze(settings(tmp_path, inbox, "one"), models=fake_models())
    b = analyze(settings(tmp_path, inbox, "two", workers=2, cpu_threads=1), models=fake_models(),
                make_models=fake_models)
    assert (a.processed, a.transcripts, len(a.failed)) == (b.processed, b.transcripts, len(b.failed)) == (5, 1, 1)
    assert b.audio_s == a.audio_s == 60.0
    one, two = dump(tmp_path / "one.duckdb"), dump(tmp_path / "two.duckdb")
    assert one["calls"] and one["pitch_phrases"]
    assert one == two


def test_the_progress_bar_counts_the_calls_as_the_workers_send_them_back(tmp_path, monkeypatch):
    import io

    from pipeline.core import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", screen)
    inbox = stereo_inbox(tmp_path / "inbox", n=2)
    (inbox / "t.json").write_text(TRANSCRIPT)
    summary = analyze(Settings(inbox=inbox, db=tmp_path / "calls.duckdb", workers=2, cpu_threads=1),
                      models=fake_models(), make_models=fake_models)
    assert summary.processed == 3
    out = screen.getvalue()
    assert "3/3" in out and "stored t.json" in out and ("stored call0.wav" in out or "stored call1.wav" in out)


def test_a_worker_killed_once_loses_and_duplicates_nothing(tmp_path):
    """The pool breaks with every recording still out; a fresh pool takes them, each result is taken once."""
    inbox = stereo_inbox(tmp_path / "inbox")
    marker = tmp_path / "crashed"
    summary = analyze(settings(tmp_path, inbox, "calls", workers=2, cpu_threads=1), models=fake_models(),
                      make_models=CrashingModels(marker))
    assert marker.exists()  # a worker really died mid-recording
    assert (summary.processed, summary.failed) == (4, ())
    with db.opened(tmp_path / "calls.duckdb", read_only=True) as con:
        stored = con.execute("SELECT source_file, count(*) FROM calls GROUP BY ALL ORDER BY ALL").fetchall()
        assert con.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    assert stored == [(f"call{i}.wav", 1) for i in range(4)]


def test_workers_that_keep_dying_leave_each_recording_an_ingest_error_and_the_batch_ends(tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox", n=3)
    (inbox / "t.json").write_text(TRANSCRIPT)
    summary = analyze(settings(tmp_path, inbox, "calls", workers=2, cpu_threads=1), models=fake_models(),
                      make_models=crashing_always_models)
    assert summary.processed == 1 and summary.transcripts == 1  # the transcript is analyzed in the driver
    with db.opened(tmp_path / "calls.duckdb", read_only=True) as con:
        errors = con.execute("SELECT source_file, reason FROM ingest_errors ORDER BY 1").fetchall()
    assert [f for f, _ in errors] == ["call0.wav", "call1.wav", "call2.wav"]
    assert all(r.startswith("its worker process died twice") and "\n" not in r for _, r in errors)
    rerun = analyze(settings(tmp_path, inbox, "calls", workers=2, cpu_threads=1), models=fake_models(),
                    make_models=crashing_always_models)
    assert (rerun.new, rerun.skipped_failed) == (0, 3)  # recorded failures: `pitchlab retry` brings them back


def test_a_model_that_cannot_load_in_a_worker_is_one_line_and_stops_the_workers(tmp_path):
    inbox = stereo_inbox(tmp_path / "inbox", n=2)
    workers = pool.Pool(settings(tmp_path, inbox, "calls", cpu_threads=1), workers=2, make_models=NoModel)
    results = workers.process(ingest.find_recordings(inbox), labels={})
    with pytest.raises(ModelError, match="^model folder /nowhere has no model.bin: give a folder"):
        next(results)
    assert workers._executor is None  # closed: no worker left


def test_each_worker_uses_cpu_threads_for_torch_too(tmp_path):
    with pool.Pool(Settings(cpu_threads=1), workers=2, make_models=fake_models) as workers:
        assert workers._pool().submit(threads_seen).result(timeout=120) == ("1", 1)


def test_workers_must_be_a_whole_number_of_1_or_more(monkeypatch):
    from pipeline.core.errors import PitchlabError

    with pytest.raises(PitchlabError, match="^workers must be 1 or more, not 0$"):
        Settings.from_env(workers=0)
    monkeypatch.setenv("PITCHLAB_WORKERS", "2")
    assert Settings.from_env().workers == 2
    assert Settings().workers == 1  # the default: everything in one process, as before


@pytest.mark.parametrize("value, message", [("0", "pitchlab: argument --workers: 0 is less than 1"),
                                            ("two", "pitchlab: argument --workers: 'two' is not a whole number")])
def test_a_bad_workers_flag_is_one_line(tmp_path, value, message):
    for command in ("analyze", "watch"):
        out = subprocess.run([sys.executable, "-m", "pipeline", command, "--inbox", str(tmp_path), "--db",
                              str(tmp_path / "c.duckdb"), "--workers", value], cwd=ROOT, capture_output=True,
                             text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].startswith(
            message.replace("pitchlab: ", f"pitchlab {command}: error: ")), out.stderr
    assert not (tmp_path / "c.duckdb").exists()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers die with the driver through Linux's prctl")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "Ctrl-C"])
def test_a_stopped_driver_leaves_no_worker_behind_and_the_database_opens(tmp_path, how):
    inbox = stereo_inbox(tmp_path / "inbox", n=3)
    (inbox / "t.json").write_text(TRANSCRIPT)
    pids, path = tmp_path / "pids", tmp_path / "calls.duckdb"
    pids.mkdir()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "pool_runner.py"), str(inbox), str(path), str(pids)],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while len(list(pids.iterdir())) < 2:  # both workers are on a recording (and the transcript is stored)
        assert proc.poll() is None and time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.iterdir()]
    assert all(_alive(pid) for pid in workers)
    if how == "Ctrl-C":
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    else:
        proc.send_signal(getattr(signal, how))
    out, _ = proc.communicate(timeout=60)
    if how == "Ctrl-C":
        assert proc.returncode == 130 and out.strip() == "interrupted"
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker outlived its driver"
    with db.opened(path, read_only=True) as con:  # consistent: the transcript's commit, no audio call half-stored
        assert con.execute("SELECT source_file FROM calls").fetchall() in ([], [("t.json",)])  # stored, or not yet
        assert con.execute("SELECT count(*) FROM turns WHERE call_id NOT IN (SELECT call_id FROM calls)").fetchone() == (0,)


@pytest.mark.e2e
def test_real_models_in_two_workers_store_what_one_process_stores(tmp_path):
    """The two committed real test calls through the real CLI: --workers 2 --threads 1 against --workers 1."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("short_mono.mp3", "short_stereo.wav", "outcomes.csv"):
        (inbox / name).write_bytes((TEST_CALLS / name).read_bytes())
    stored = {}
    for workers, threads in (("1", "2"), ("2", "1")):
        path = tmp_path / f"w{workers}.duckdb"
        out = subprocess.run([sys.executable, "-m", "pipeline", "analyze", "--inbox", str(inbox), "--db", str(path),
                              "--outcomes", str(inbox / "outcomes.csv"), "--no-progress", "--workers", workers,
                              "--threads", threads], cwd=ROOT, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert out.returncode == 0 and ": 2 analyzed" in out.stdout, out.stderr
        with db.opened(path, read_only=True) as con:
            stored[workers] = {
                "calls": con.execute("SELECT call_id, source_file, channels, rep, outcome FROM calls ORDER BY 1").fetchall(),
                "turns": con.execute("SELECT call_id, turn_idx, speaker, text FROM turns ORDER BY 1, 2").fetchall(),
                "phrases": con.execute("SELECT call_id, turn_idx, text, kind FROM pitch_phrases ORDER BY ALL").fetchall(),
                "errors": con.execute("SELECT source_file FROM ingest_errors").fetchall(),
            }
    assert stored["1"]["turns"] and stored["1"]["phrases"]
    assert stored["1"] == stored["2"]
