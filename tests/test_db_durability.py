"""A killed run never leaves a database that cannot be opened: real subprocesses (tests/db_runner.py, fake
models) killed with SIGTERM or SIGKILL at chosen points while a new file is made, while an older file is
migrated and during a batch; then the file opens, every committed call is there, and a rerun stores only
what is missing. A power loss is a SIGKILL with the log as it was left (DuckDB syncs it at each commit)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, FakeModels, ScriptTranscriber, tone, write_wav
from db_runner import PROSPECT, REP
from pipeline.analyze import analyze
from pipeline.core.errors import PitchlabError
from pipeline.core.settings import Settings
from pipeline.storage import db, migrations

RUNNER = ROOT / "tests" / "db_runner.py"
KILL, TERM = signal.SIGKILL, signal.SIGTERM


def at(pause: str, sig: int):
    return pytest.param(pause, sig, id=f"{pause}-{signal.Signals(sig).name}")


class Runner:
    """`python tests/db_runner.py ...`, read line by line until it pauses, then killed."""

    def __init__(self, tmp: Path, *args: str, pause: str = ""):
        self.log = tmp / "runner.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, str(RUNNER), *args, "--pause", pause], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=open(self.log, "a"), text=True)
        self.lines: list[str] = []
        self.printed: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for text in self.proc.stdout:
            self.printed.put(text.strip())
        self.printed.put(None)

    def until(self, line: str, timeout: float = 120.0) -> "Runner":
        deadline = time.monotonic() + timeout
        while line not in self.lines:
            try:
                text = self.printed.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out waiting for {line!r}; printed {self.lines}; "
                                     f"log:\n{self.log.read_text()}") from None
            assert text is not None, f"runner exited before {line!r}; printed {self.lines}; log:\n{self.log.read_text()}"
            self.lines.append(text)
        return self

    def kill(self, sig: int) -> list[str]:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -sig
        while (text := self.printed.get(timeout=30)) is not None:
            self.lines.append(text)
        return self.lines


def kill_at(tmp: Path, pause: str, sig: int, *args: str) -> list[str]:
    return Runner(tmp, *args, pause=pause).until("paused").kill(sig)


def versions(path: Path) -> list[int]:
    with db.opened(path, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]


ALL_VERSIONS = list(range(1, len(migrations.MIGRATIONS) + 1))


# -- a new file -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pause,sig", [at("migration-open 1", KILL), at("migration-open 3", KILL),
                                       at("migration-start 4", TERM), at("migration-open 7", KILL)])
def test_a_new_file_killed_while_it_is_made_is_never_left_half_made(tmp_path, pause, sig):
    path = tmp_path / "calls.duckdb"
    kill_at(tmp_path, pause, sig, "open", str(path))
    assert not path.exists() and not Path(f"{path}.wal").exists()  # the name only ever holds a whole database
    assert len(list(tmp_path.glob(".calls.duckdb.*.new"))) == 1  # what the killed run was building
    with db.opened(path) as con:
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('x.wav', 'bad')")
    assert versions(path) == ALL_VERSIONS
    assert list(tmp_path.glob(".calls.duckdb.*")) == []  # the abandoned build is cleared away


def test_a_new_file_is_complete_when_the_open_returns(tmp_path):
    path = tmp_path / "calls.duckdb"
    lines = kill_at(tmp_path, "opened", KILL, "open", str(path))
    assert "migration-open 7" in lines
    assert not Path(f"{path}.wal").exists() and versions(path) == ALL_VERSIONS


def test_a_database_that_cannot_be_created_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(PitchlabError, match=r"^cannot create .*notes.txt/calls.duckdb \(.*\): choose another --db$"):
        db.connect(tmp_path / "notes.txt" / "calls.duckdb")


# -- an older file, migrated --------------------------------------------------------------------------------

def older_file(path: Path, monkeypatch, upto: int = 2) -> None:
    """A file as an older Pitchlab left it (migrations 1..upto), with one call and one failure stored."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:upto])
    with db.opened(path) as con:
        con.execute("INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,"
                    " speaker_method, model) VALUES ('a', 'a.wav', 3.5, 2, 16000, 10, 'channel', 'tiny.en')")
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('x.wav', 'bad')")
    monkeypatch.undo()


@pytest.mark.parametrize("pause,sig", [at("migration-open 3", KILL), at("migration-start 4", KILL),
                                       at("migration-start 4", TERM), at("migration-open 5", KILL),
                                       at("migration-start 7", KILL)])
def test_an_older_file_killed_while_it_is_migrated_opens_with_its_calls(tmp_path, monkeypatch, pause, sig):
    path = tmp_path / "calls.duckdb"
    older_file(path, monkeypatch)
    kill_at(tmp_path, pause, sig, "open", str(path))
    with db.opened(path) as con:
        calls = con.execute("SELECT call_id, source_file, duration_s, source_kind FROM calls").fetchall()
        errors = con.execute("SELECT source_file FROM ingest_errors").fetchall()
    assert calls == [("a", "a.wav", 3.5, "audio")] and errors == [("x.wav",)]
    assert versions(path) == ALL_VERSIONS


def test_a_migration_killed_in_the_middle_of_its_checkpoint_leaves_the_file_before_it(tmp_path, monkeypatch):
    """DuckDB is made to sleep inside the checkpoint that commits migration 3 (after it wrote the table's
    new blocks, before it installed them); the kill lands there."""
    path = tmp_path / "calls.duckdb"
    older_file(path, monkeypatch)
    runner = Runner(tmp_path, "open", str(path), "--slow-checkpoint-at", "3").until("migration-open 3")
    time.sleep(2.0)
    lines = runner.kill(KILL)
    assert "migration-start 4" not in lines  # it was killed inside migration 3's commit
    assert versions(path) == ALL_VERSIONS
    with db.opened(path, read_only=True) as con:
        assert con.execute("SELECT call_id, source_kind FROM calls").fetchall() == [("a", "audio")]


# -- a batch ------------------------------------------------------------------------------------------------

CALLS = 4


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    for i in range(CALLS):
        write_wav(box / f"call{i}.wav", [tone(15.0, 300 + 10 * i), tone(15.0, 630 + 10 * i)])
    return box


def rerun(inbox: Path, path: Path):
    settings = Settings(inbox=inbox, db=path, progress=False)
    return analyze(settings, models=FakeModels(ScriptTranscriber([REP, PROSPECT])))


def stored_rows(path: Path) -> tuple[list[str], int, int]:
    with db.opened(path, read_only=True) as con:
        files = [r[0] for r in con.execute("SELECT source_file FROM calls ORDER BY 1").fetchall()]
        orphans = con.execute("SELECT count(*) FROM turns WHERE call_id NOT IN (SELECT call_id FROM calls)"
                              ).fetchone()[0]
        bare = con.execute("SELECT count(*) FROM calls WHERE call_id NOT IN (SELECT call_id FROM turns)"
                           ).fetchone()[0]
    return files, orphans, bare


@pytest.mark.parametrize("pause,sig", [at("store-open 1", KILL), at("stored 1", TERM), at("store-open 3", KILL),
                                       at("stored 2", KILL), at(f"stored {CALLS}", KILL)])
def test_a_first_run_killed_mid_batch_keeps_every_committed_call_and_a_rerun_adds_the_rest(tmp_path, inbox,
                                                                                          pause, sig):
    path = tmp_path / "calls.duckdb"
    lines = kill_at(tmp_path, pause, sig, "analyze", str(inbox), str(path))
    committed = sum(1 for line in lines if line.startswith("stored "))
    files, orphans, bare = stored_rows(path)
    assert len(files) == committed and (orphans, bare) == (0, 0)  # each call whole or absent
    summary = rerun(inbox, path)
    assert (summary.processed, summary.skipped_known) == (CALLS - committed, committed)
    assert stored_rows(path) == ([f"call{i}.wav" for i in range(CALLS)], 0, 0)


def test_a_batch_killed_in_the_middle_of_the_closing_checkpoint_keeps_every_call(tmp_path, inbox):
    runner = Runner(tmp_path, "analyze", str(inbox), str(tmp_path / "calls.duckdb"), "--slow-checkpoint-at", "close")
    runner.until("closing")
    time.sleep(2.0)
    lines = runner.kill(KILL)
    assert f"stored {CALLS}" in lines and f"analyzed {CALLS}" not in lines
    assert Path(f"{tmp_path / 'calls.duckdb'}.wal").exists()  # killed before the checkpoint finished
    assert stored_rows(tmp_path / "calls.duckdb") == ([f"call{i}.wav" for i in range(CALLS)], 0, 0)
    assert rerun(inbox, tmp_path / "calls.duckdb").processed == 0


def test_transcript_chunks_killed_mid_batch_are_whole_or_absent(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    for i in range(5):
        (box / f"t{i}.vtt").write_text(
            "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v Dana>Hi, this is Dana from Clipcast. Every view syncs"
            f" into Salesforce automatically, call {i}.\n\n00:00:04.500 --> 00:00:07.000\n<v Lee>Oh nice, how"
            " does that work?\n")
    path = tmp_path / "calls.duckdb"
    lines = kill_at(tmp_path, "store-open 2", KILL, "analyze", str(box), str(path), "--chunk", "2")
    assert "stored 1" in lines
    files, orphans, bare = stored_rows(path)
    assert files == ["t0.vtt", "t1.vtt"] and (orphans, bare) == (0, 0)  # the first chunk; the second not at all
    assert rerun(box, path).processed == 3
    assert stored_rows(path)[0] == [f"t{i}.vtt" for i in range(5)]


# -- a log left by an older Pitchlab ------------------------------------------------------------------------

LEGACY = """
import os, sys, duckdb
from pipeline.storage import migrations
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
for version, migration in enumerate(migrations.MIGRATIONS, start=1):
    con.execute("BEGIN"); migration(con)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, migration.__name__])
    con.execute("COMMIT")
con.execute("INSERT INTO calls (call_id, source_file, size_bytes, speaker_method) VALUES ('a', 'a.wav', 1, 'x')")
os._exit(0)  # as a kill would: the log is left, never checkpointed
"""


def legacy_log(path: Path) -> None:
    """A file and log as a killed first run of the older Pitchlab left them (the issue's reproduction)."""
    subprocess.run([sys.executable, "-c", LEGACY, str(path)], check=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_a_log_duckdb_cannot_replay_itself_is_replayed_and_nothing_is_lost(tmp_path, caplog):
    path = tmp_path / "calls.duckdb"
    legacy_log(path)
    with pytest.raises(duckdb.Error, match="replaying WAL"):  # what every command met before
        duckdb.connect(str(path))
    with db.opened(path) as con:
        assert con.execute("SELECT call_id, source_kind FROM calls").fetchall() == [("a", "audio")]
    assert versions(path) == ALL_VERSIONS and not Path(f"{path}.wal").exists()
    assert "replayed the log" in caplog.text


def test_a_log_that_cannot_be_replayed_at_all_is_one_line_and_nothing_is_changed(tmp_path, monkeypatch):
    path = tmp_path / "calls.duckdb"
    legacy_log(path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def attach_fails(path):  # DuckDB 1.5.6 replays every log we could make this way: make it fail
        raise duckdb.InternalException("INTERNAL Error: Failure while replaying WAL file: simulated")

    monkeypatch.setattr(db, "_replay_attached", attach_fails)
    with pytest.raises(PitchlabError) as err:
        db.connect(path)
    message = str(err.value)
    assert "\n" not in message and "moving" in message and f"{path}.wal" in message and "Nothing was changed" in message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# -- every kind of write replays from the log ----------------------------------------------------------------

WRITES = """
import dataclasses, os, sys
from pathlib import Path
sys.path.insert(0, "tests")
from conftest import BandEncoder, FakeModels, ScriptTranscriber
from db_runner import PROSPECT, REP
from pipeline import analyze
from pipeline.analysis import cluster
from pipeline.audio import ingest
from pipeline.storage import db, store
from pipeline.voices import reps
from pipeline.core.records import Outcome
from pipeline.core.settings import Settings
path, inbox, end = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
con = db.connect(path)
settings = Settings(inbox=inbox, db=Path(path), progress=False)
models = FakeModels(ScriptTranscriber([REP, PROSPECT]))
recs = ingest.find_recordings(inbox)
analyze.save_batch(con, analyze.process_batch(recs[:2], models, settings, labels={}))
store.record_error(con, recs[3], "bad")
store.record_error(con, dataclasses.replace(recs[3], source_file="gone.wav"), "worse")
store.apply_outcomes(con, {recs[0].call_id: Outcome("call0.wav", "interested", "Dana"),
                           recs[1].call_id: Outcome("call1.wav", None, "Sam")})
cluster.update(con)
analyze.save_batch(con, analyze.process_batch(recs[2:3], models, settings, labels={}))
cluster.update(con)
cluster.refit(con, keep_ids=True)
for name in ("Dana", "Sam"):
    reps.enroll(con, name, [recs[0].path], encoder=BandEncoder(), channel="left")
reps.remove(con, "Sam")
store.clear_errors(con, ["call3.wav"])
if end == "kill":
    os._exit(0)  # the log as it was left
con.close()
"""

TABLES = {"calls": "processed_at", "turns": "", "pitch_phrases": "", "phrase_terms": "", "reactions": "",
          "descriptors": "created_at", "descriptor_examples": "", "phrase_similarities": "",
          "clusters": "fitted_at", "cluster_history": "fitted_at, retired_at", "ingest_errors": "seen_at",
          "reps": "enrolled_at", "forgotten": "forgotten_at"}


def test_every_kind_of_write_pitchlab_makes_replays_from_the_log_on_a_plain_open(tmp_path, inbox):
    """Inserts, updates and deletes of a batch, outcomes, clustering, reclustering, reps and retry, left in
    the log by a kill, replay when DuckDB itself opens the file (no fallback): the same rows as a clean close."""
    dumps = {}
    for end in ("kill", "close"):
        path = tmp_path / f"{end}.duckdb"
        db.connect(path).close()
        subprocess.run([sys.executable, "-c", WRITES, str(path), str(inbox), end], check=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert Path(f"{path}.wal").exists() == (end == "kill")
        con = duckdb.connect(str(path))
        dumps[end] = {t: con.execute(f"SELECT * {f'EXCLUDE ({skip})' if skip else ''} FROM {t} ORDER BY ALL"
                                     ).fetchall() for t, skip in TABLES.items()}
        dumps[end]["labels"] = con.execute("SELECT source_file, rep, outcome, outcome_source FROM calls "
                                           "ORDER BY 1").fetchall()
        con.close()
    assert dumps["kill"] == dumps["close"]
    counts = {t: len(rows) for t, rows in dumps["kill"].items()}
    assert counts["calls"] == 3 and counts["reps"] == 1 and counts["ingest_errors"] == 1
    assert counts["clusters"] >= 2 and counts["cluster_history"] >= 1  # refit replaced what update fitted
    assert dumps["kill"]["labels"][:2] == [("call0.wav", "Dana", "interested", "label"),
                                           ("call1.wav", "Sam", None, None)]


# -- the real command -----------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_the_real_cli_killed_after_its_first_call_keeps_it_and_the_rerun_adds_the_other(tmp_path):
    """The issue's reproduction: `pitchlab analyze` (Whisper and all) on two calls, SIGTERM once the first
    call's commit is in the log (migrations never write it), then `status` and a rerun."""
    from conftest import TEST_CALLS

    inbox, path = tmp_path / "inbox", tmp_path / "calls.duckdb"
    inbox.mkdir()
    (inbox / "short_mono.mp3").write_bytes((TEST_CALLS / "short_mono.mp3").read_bytes())
    # a longer second call (a demo call, 38 s), so Whisper is still on it when the first call is stored
    (inbox / "t_call_01.wav").write_bytes((ROOT / "data" / "demo" / "call_01.wav").read_bytes())
    command = [sys.executable, "-m", "pipeline", "analyze", "--inbox", str(inbox), "--db", str(path), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not Path(f"{path}.wal").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "analyze ended before storing a call"
        time.sleep(0.05)
    # The commit is done once the log stops growing. Whisper transcribes the second call beside the first one's
    # analysis (analyze.overlapped), so the second commit follows within a second or two: stop right away.
    size = -1
    while size != Path(f"{path}.wal").stat().st_size:
        size = Path(f"{path}.wal").stat().st_size
        time.sleep(0.2)
    proc.send_signal(TERM)
    proc.wait(timeout=30)
    status = subprocess.run([sys.executable, "-m", "pipeline", "status", "--inbox", str(inbox), "--db", str(path)],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert status.returncode == 0 and status.stdout.startswith("1 processed, 1 pending, 0 failed"), status.stderr
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"2 recordings in {inbox}: 1 analyzed") and "1 already known" in rerun.stdout
    assert stored_rows(path) == (["short_mono.mp3", "t_call_01.wav"], 0, 0)
