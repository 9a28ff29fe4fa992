"""The watched folder, with the watcher really running as a subprocess (fake models, real files and DuckDB)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import duckdb
import numpy as np
import pytest

from conftest import ROOT, tone, write_wav
from pipeline.audio.ingest import sha256_of
from pipeline.core.errors import DatabaseBusy
from pipeline.storage import db

RUNNER = ROOT / "tests" / "watch_runner.py"


class Watcher:
    """`python tests/watch_runner.py INBOX DB`: the real watch loop with the fake models."""

    def __init__(self, tmp: Path, *command: str, env: dict | None = None):
        self.tmp, self.inbox, self.db = tmp, tmp / "inbox", tmp / "calls.duckdb"
        self.env = env or {}
        self.inbox.mkdir(exist_ok=True)
        self.log = tmp / "watch.log"
        self.command = list(command) or [sys.executable, str(RUNNER), str(self.inbox), str(self.db),
                                         str(tmp / "outcomes.csv")]
        self.proc = None

    def start(self) -> "Watcher":
        env = dict(os.environ, PYTHONPATH=str(ROOT), **self.env)
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "a"))
        return self

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def query(self, sql: str) -> list[tuple]:
        """Read-only, as users are told to; retried while the watcher is writing."""
        for _ in range(200):
            try:
                with db.opened(self.db, read_only=True) as con:
                    return con.execute(sql).fetchall()
            except (DatabaseBusy, duckdb.Error):
                time.sleep(0.05)
        raise AssertionError(f"database never readable: {self.log_text()}")

    def wait_until(self, what, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"watcher exited:\n{self.log_text()}"
            if (value := what()):
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out; log:\n{self.log_text()}")

    def calls(self) -> list[tuple]:
        return self.query("SELECT source_file, call_id FROM calls ORDER BY source_file") if self.db.exists() else []

    def errors(self) -> list[tuple]:
        return self.query("SELECT source_file, reason FROM ingest_errors ORDER BY source_file") if self.db.exists() else []


def call_wav(path: Path, freq: float, seconds: float = 8.0) -> Path:
    return write_wav(path, [tone(seconds, freq), tone(seconds, freq * 2.1)])


def test_slow_copy_burst_duplicate_and_rename_are_each_one_call(tmp_path):
    w = Watcher(tmp_path)
    call_wav(w.inbox / "first.wav", 300)
    w.start()
    w.wait_until(lambda: len(w.calls()) == 1)

    source = call_wav(tmp_path / "slow.wav", 420)
    data = source.read_bytes()
    (w.inbox / "sub").mkdir()
    with open(w.inbox / "sub" / "slow.wav", "wb") as out:  # a copy that trickles in over ~4 s
        for i in range(0, len(data), len(data) // 20):
            out.write(data[i:i + len(data) // 20])
            out.flush()
            time.sleep(0.2)
    burst = [call_wav(w.inbox / f"burst_{i:02d}.wav", 500 + 7 * i) for i in range(20)]
    first = sha256_of(w.inbox / "first.wav")
    shutil.copy(w.inbox / "first.wav", w.inbox / "first again.wav")  # the same recording dropped twice
    os.rename(w.inbox / "first.wav", w.inbox / "sub" / "renamed.wav")  # and renamed after it was stored

    expected = sorted([("first.wav", first), ("sub/slow.wav", sha256_of(source))]
                      + [(p.name, sha256_of(p)) for p in burst])
    w.wait_until(lambda: len(w.calls()) == 22 and "clusters: assigned" in w.log_text())
    assert w.stop() == 0
    assert w.calls() == expected  # the slow copy was read whole: its call id is the full file's hash
    assert w.errors() == []
    assert w.query("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'") == [(0,)]
    assert w.query("SELECT count(*), count(DISTINCT call_id) FROM turns") == [(44, 22)]
    refreshes = w.log_text().count("clusters: ")
    assert 2 <= refreshes <= 4, w.log_text()  # debounced: not once per file of the burst


def six_channels(path: Path) -> Path:
    return write_wav(path, [tone(2.0, 200 + 50 * c) for c in range(6)])


def hours_long(path: Path, hours: float = 3.2, rate: int = 8000) -> Path:
    """A real silent 8 kHz wav of `hours`, written sparse so it costs no disk."""
    frames = int(hours * 3600 * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.setnframes(frames)
        w.writeframes(b"")
    with open(path, "r+b") as fh:
        fh.seek(44 + frames - 1)
        fh.write(b"\x80")
    return path


BAD_INPUTS = {
    "zero.wav": (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "truncated.wav": (lambda p: p.write_bytes(call_wav(p, 330, 15.0).read_bytes()[:320014]),
                      "truncated: 5.0 s of the 15.0 s its header declares"),
    "notes.mp3": (lambda p: p.write_text("meeting notes, not a recording\n" * 50), "not readable as audio"),
    "quiet.wav": (lambda p: write_wav(p, [tone(3.0, 200, amp=0.0005)]), "silence only (no sample above -60 dBFS)"),
    "surround.wav": (six_channels, "6 channels: only mono or two-channel (stereo) calls can be analyzed"),
    "marathon.wav": (hours_long, "too long: 3.2 h (limit 3 h); split the recording"),
}


def test_bad_inputs_are_recorded_once_each_and_the_watcher_keeps_going(tmp_path):
    w = Watcher(tmp_path)
    for name, (make, _) in BAD_INPUTS.items():
        make(w.inbox / name)
    outside = call_wav(tmp_path / "elsewhere.wav", 370)
    (w.inbox / "link.wav").symlink_to(outside)  # points outside the inbox: not followed
    call_wav(w.inbox / "copying.wav.part", 380)  # temporary names are never read
    call_wav(w.inbox / "~$draft.wav", 390)
    call_wav(w.inbox / ".hidden.wav", 400)
    call_wav(w.inbox / "download.wav.crdownload", 410)
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in w.inbox.iterdir() if not p.is_symlink()}
    w.start()
    w.wait_until(lambda: len(w.errors()) == len(BAD_INPUTS))
    call_wav(w.inbox / "good.wav", 450)  # still going after six failures
    w.wait_until(lambda: len(w.calls()) == 1)
    time.sleep(1.5)  # a few more scans: failed files must not be retried
    errors = w.errors()
    assert [(f, r.split(" (")[0] if f == "notes.mp3" else r) for f, r in errors] == sorted(
        (name, reason) for name, (_, reason) in BAD_INPUTS.items())
    assert [f for f, _ in w.calls()] == ["good.wav"]
    for name, (_, reason) in BAD_INPUTS.items():
        assert f"{name}: {reason.split(' (')[0]}" in w.log_text()
    assert w.log_text().count("analyzing zero.wav") == 1
    assert before == {p.name: (p.stat().st_size, p.stat().st_mtime_ns)
                      for p in w.inbox.iterdir() if not p.is_symlink() and p.name != "good.wav"}

    status = subprocess.run([sys.executable, "-m", "pipeline", "status", "--inbox", str(w.inbox), "--db", str(w.db)],
                            capture_output=True, text=True, cwd=ROOT)
    assert status.stdout.splitlines()[0] == "1 processed, 0 pending, 6 failed"
    assert len(status.stdout.splitlines()) == 2 + 5  # header, "last errors:", five newest

    retry = subprocess.run([sys.executable, "-m", "pipeline", "retry", "--db", str(w.db), "zero.wav"],
                           capture_output=True, text=True, cwd=ROOT)
    assert retry.stdout == "1 failed recording will be tried again by the next analyze or watch\n"
    w.wait_until(lambda: w.log_text().count("analyzing zero.wav") == 2)  # retried on request ...
    call_wav(w.inbox / "zero.wav", 460)  # ... and when its content changes: now a good call
    w.wait_until(lambda: len(w.calls()) == 2)
    assert w.stop() == 0
    assert [f for f, _ in w.calls()] == ["good.wav", "zero.wav"]
    assert w.query("SELECT count(*) FROM ingest_errors WHERE source_file = 'zero.wav'") == [(1,)]


def test_a_locked_database_is_waited_for_not_a_crash(tmp_path):
    w = Watcher(tmp_path)
    call_wav(w.inbox / "one.wav", 300)
    w.start()
    w.wait_until(lambda: len(w.calls()) == 1)
    other = duckdb.connect(str(w.db))  # another process writing: DuckDB lets only one hold the file
    call_wav(w.inbox / "two.wav", 310)
    w.wait_until(lambda: "waiting for the database" in w.log_text())
    time.sleep(1.0)
    assert other.execute("SELECT count(*) FROM calls").fetchone() == (1,)
    other.close()
    w.wait_until(lambda: len(w.calls()) == 2)
    assert w.stop() == 0
    assert "database free again; continuing" in w.log_text()
    assert w.errors() == []


def test_outcomes_arriving_later_update_calls_and_stats_without_reanalysis(tmp_path):
    w = Watcher(tmp_path)
    call_wav(w.inbox / "one.wav", 300)
    call_wav(w.inbox / "two.wav", 310)
    w.start()
    w.wait_until(lambda: len(w.calls()) == 2 and "clusters: fitted" in w.log_text())
    stored = w.query("SELECT call_id, processed_at FROM calls ORDER BY call_id")
    (tmp_path / "outcomes.csv").write_text("file,outcome,rep\none.wav,won,Dana\ntwo.wav,lost,Sam\n")
    w.wait_until(lambda: w.query("SELECT count(*) FROM calls WHERE outcome_source = 'label'") == [(2,)])
    (w.inbox / "two.wav.json").write_text('{"outcome": "interested", "rep": "Sam"}')  # a sidecar wins
    w.wait_until(lambda: w.query("SELECT count(*) FROM calls WHERE outcome = 'interested' "
                                 "AND outcome_source = 'label'") == [(2,)])
    assert w.stop() == 0
    assert w.query("SELECT source_file, rep, outcome FROM calls ORDER BY 1") == [
        ("one.wav", "Dana", "interested"), ("two.wav", "Sam", "interested")]
    assert w.query("SELECT sum(calls_with_outcome), sum(interested_calls) FROM wording_performance") == [(2, 2)]
    assert w.query("SELECT call_id, processed_at FROM calls ORDER BY call_id") == stored
    assert w.log_text().count("analyzing ") == 2


def test_bad_outcomes_file_is_a_log_line_not_a_crash(tmp_path):
    w = Watcher(tmp_path)
    call_wav(w.inbox / "one.wav", 300)
    (tmp_path / "outcomes.csv").write_text("file,outcome\none.wav,maybe\n")
    w.start()
    w.wait_until(lambda: "outcomes not updated" in w.log_text() and len(w.calls()) == 1)
    (tmp_path / "outcomes.csv").write_text("file,outcome\none.wav,yes\n")
    w.wait_until(lambda: w.query("SELECT outcome FROM calls") == [("interested",)])
    assert w.stop() == 0


def music(path: Path, seconds: float = 8.0, rate: int = 16000) -> Path:
    """Instrumental: a chord progression of harmonic tones, a note every quarter second."""
    t = np.arange(int(seconds * rate)) / rate
    roots = [220.0, 246.9, 261.6, 293.7, 329.6, 293.7, 261.6, 246.9]
    signal_ = np.zeros_like(t)
    for i, start in enumerate(np.arange(0, seconds, 0.25)):
        f = roots[i % len(roots)]
        mask = (t >= start) & (t < start + 0.25)
        env = np.exp(-6 * (t[mask] - start))
        for mult, amp in [(1, 0.3), (1.5, 0.15), (2, 0.1), (3, 0.05)]:
            signal_[mask] += amp * env * np.sin(2 * np.pi * f * mult * t[mask])
    return write_wav(path, [signal_.astype(np.float32) * 0.7])


@pytest.mark.e2e
def test_real_models_slow_copy_music_and_kill_9_mid_call_then_restart(tmp_path):
    """`pitchlab watch` itself, with Whisper, spaCy and MiniLM, on the two committed test calls."""
    from conftest import TEST_CALLS

    command = [sys.executable, "-m", "pipeline", "watch", "--inbox", str(tmp_path / "inbox"),
               "--db", str(tmp_path / "calls.duckdb"), "--settle", "1"]
    w = Watcher(tmp_path, *command).start()
    data = (TEST_CALLS / "short_mono.mp3").read_bytes()
    with open(w.inbox / "short_mono.mp3", "wb") as out:
        for i in range(0, len(data), len(data) // 8 + 1):
            out.write(data[i:i + len(data) // 8 + 1])
            out.flush()
            time.sleep(0.25)
    music(w.inbox / "music.wav")
    w.wait_until(lambda: len(w.calls()) == 1 and len(w.errors()) == 1, timeout=240)

    shutil.copy(TEST_CALLS / "short_stereo.wav", w.inbox / "short_stereo.wav")
    w.wait_until(lambda: "analyzing short_stereo.wav" in w.log_text(), timeout=60)
    w.kill9()  # mid-call: transcription has started, nothing of it is stored yet
    assert [f for f, _ in w.calls()] == ["short_mono.mp3"]

    w.start()
    w.wait_until(lambda: len(w.calls()) == 2, timeout=240)
    assert w.stop() == 0
    assert w.calls() == [("short_mono.mp3", sha256_of(TEST_CALLS / "short_mono.mp3")),
                         ("short_stereo.wav", sha256_of(TEST_CALLS / "short_stereo.wav"))]
    assert w.errors() == [("music.wav", "no speech found")]
    turns = w.query("SELECT call_id, count(*), count(DISTINCT turn_idx) FROM turns GROUP BY 1 ORDER BY 1")
    assert len(turns) == 2 and all(n == distinct and n >= 4 for _, n, distinct in turns)
    assert w.query("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'") == [(0,)]
    assert w.query("SELECT count(*) > 0 FROM clusters") == [(True,)]
    assert w.log_text().count("analyzing short_stereo.wav") == 2


def test_a_transcript_without_times_is_stored_by_the_watcher(tmp_path):
    w = Watcher(tmp_path)
    shutil.copy(ROOT / "tests" / "data" / "transcripts" / "notes.json", w.inbox / "notes.json")
    w.start()
    w.wait_until(lambda: w.calls())
    assert w.stop() == 0
    assert [f for f, _ in w.calls()] == ["notes.json"]
    assert w.query("SELECT source_kind, duration_s FROM calls") == [("transcript", None)]
    assert "stored notes.json (0 s, 2 pitch phrases)" in w.log_text()


def test_with_two_worker_processes_each_recording_is_stored_once_and_sigterm_stops_them(tmp_path):
    w = Watcher(tmp_path, env={"RUNNER_WORKERS": "2"})
    for i in range(3):
        call_wav(w.inbox / f"call{i}.wav", 300 + 20 * i)
    shutil.copy(ROOT / "tests" / "data" / "transcripts" / "notes.json", w.inbox / "notes.json")
    w.start()
    w.wait_until(lambda: len(w.calls()) == 4)
    call_wav(w.inbox / "later.wav", 500)  # the pool is kept: a recording dropped later goes to the same workers
    w.wait_until(lambda: len(w.calls()) == 5)
    assert w.stop() == 0
    assert [f for f, _ in w.calls()] == ["call0.wav", "call1.wav", "call2.wav", "later.wav", "notes.json"]
    assert w.errors() == []
    assert w.log_text().count("starting 2 worker processes") == 1


def test_poison_transcripts_do_not_stop_the_watcher_nor_its_restarts(tmp_path):
    notes = (ROOT / "tests" / "data" / "transcripts" / "notes.json").read_text()
    w = Watcher(tmp_path)
    (w.inbox / "a_deep.json").write_text("[" * 100_000 + "]" * 100_000)  # sorted first: read before the others
    (w.inbox / "b_leading_space.json").write_text("\n  " + notes)
    (w.inbox / "c_good.json").write_text(notes.replace("Dana", "Lee"))
    w.start()
    w.wait_until(lambda: len(w.calls()) == 2 and len(w.errors()) == 1)
    assert w.stop() == 0
    for restart in range(2):  # the poison file stays in the inbox: neither read again nor a crash
        (w.inbox / f"d_new_{restart}.json").write_text(notes.replace("Dana", f"Rep{restart}"))
        w.start()
        w.wait_until(lambda: len(w.calls()) == 3 + restart)
        assert w.stop() == 0
    assert [f for f, _ in w.calls()] == ["b_leading_space.json", "c_good.json", "d_new_0.json", "d_new_1.json"]
    assert w.errors() == [("a_deep.json", "line 1: not usable JSON (nested too deeply)")]
    assert w.log_text().count("analyzing a_deep.json") == 1


def test_a_broken_outcomes_csv_is_logged_and_the_last_good_outcomes_stay(tmp_path):
    w = Watcher(tmp_path)
    csv_path = tmp_path / "outcomes.csv"
    csv_path.write_text("file,outcome,rep\none.wav,won,Dana\ntwo.wav,won,Sam\n")
    call_wav(w.inbox / "one.wav", 300)
    w.start()
    w.wait_until(lambda: w.calls() and w.query("SELECT outcome, rep FROM calls") == [("interested", "Dana")])
    csv_path.write_bytes("file,outcome,rep\none.wav,lost,Ren\xe9e\ntwo.wav,won,Sam\n".encode("cp1252"))  # Excel "ANSI"
    w.wait_until(lambda: "line 2: not UTF-8 text (byte 0xe9)" in w.log_text())
    call_wav(w.inbox / "two.wav", 310)  # arrives while the CSV is broken: labelled from the last good one
    w.wait_until(lambda: w.query("SELECT source_file, outcome, rep FROM calls ORDER BY 1") == [
        ("one.wav", "interested", "Dana"), ("two.wav", "interested", "Sam")])
    csv_path.write_text("file,outcome,rep\none.wav,lost," + "x" * 140_000 + "\n")
    w.wait_until(lambda: "line 2: a field longer than 128 KB" in w.log_text())
    csv_path.write_text("file,outcome,rep\none.wav,lost,Dana,extra\n")
    w.wait_until(lambda: "line 2: 4 fields but the header has 3" in w.log_text())
    csv_path.write_text("file,outcome,rep\none.wav,lost,Dana\ntwo.wav,,Sam\n")  # fixed: applied at once
    w.wait_until(lambda: w.query("SELECT source_file, outcome, outcome_source FROM calls ORDER BY 1") == [
        ("one.wav", "not_interested", "label"), ("two.wav", None, None)])
    assert w.stop() == 0
    assert "keeping the last good outcomes (2 rows)" in w.log_text()
    assert "Traceback" not in w.log_text()
