"""Files Pitchlab creates quote people's calls: new ones are 0600 (folders 0700) whatever the umask;
files and folders that already exist keep their modes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline.reporting.report import write_report
from pipeline.storage import db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_database_is_0600_in_new_0700_folders(tmp_path, umask022):
    path = tmp_path / "a" / "b" / "calls.duckdb"
    before = mode(tmp_path)
    with db.opened(path) as con:
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('x.wav', 'bad')")
    assert (mode(tmp_path / "a"), mode(tmp_path / "a" / "b"), mode(path)) == (0o700, 0o700, 0o600)
    assert mode(tmp_path) == before  # not made by Pitchlab: untouched


def test_an_existing_database_and_folder_keep_their_modes(tmp_path, umask022):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    os.chmod(folder, 0o750)
    path = folder / "calls.duckdb"
    db.connect(path).close()
    os.chmod(path, 0o640)
    with db.opened(path) as con:
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('x.wav', 'bad')")
    assert (mode(folder), mode(path)) == (0o750, 0o640)


def test_the_cli_makes_the_log_0600_under_umask_022(tmp_path):
    """The real `pitchlab retry` (tests/db_runner.py) paused with a write in DuckDB's log: the log is 0600."""
    path = tmp_path / "new" / "calls.duckdb"
    with db.opened(path) as con:  # `retry` needs a database with a failure to forget; 0600 in a new 0700 folder
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('bad.wav', 'not audio')")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "db_runner.py"), "retry", str(path),
                             "--pause", "written"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.umask(0o022))
    try:
        for line in proc.stdout:
            if line.strip() == "paused":
                break
        else:
            raise AssertionError(proc.stderr.read())
        wal = Path(f"{path}.wal")
        assert wal.exists()
        assert (mode(wal), mode(path), mode(path.parent)) == (0o600, 0o600, 0o700)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def test_the_report_is_0600_in_a_new_0700_folder_and_an_existing_one_keeps_its_mode(tmp_path, umask022):
    path = tmp_path / "calls.duckdb"
    db.connect(path).close()
    out = tmp_path / "reports" / "report.html"
    write_report(db=path, out=out, inbox=tmp_path)
    assert (mode(out.parent), mode(out)) == (0o700, 0o600)
    os.chmod(out, 0o644)
    out.write_text("old")
    write_report(db=path, out=out, inbox=tmp_path)
    assert mode(out) == 0o644 and out.read_text().startswith("<!")
