import subprocess
import sys

import pytest

from pipeline import cli


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_help(command):
    out = run_cli(command, "--help")
    assert out.returncode == 0
    assert "--db" in out.stdout


def test_missing_inbox_is_one_line_not_a_traceback(tmp_path):
    out = run_cli("analyze", "--inbox", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"pitchlab: inbox {tmp_path / 'nope'} does not exist: create it and drop .wav/.mp3/.m4a files there"
    ]


def test_empty_inbox_and_bad_outcomes_are_one_line(tmp_path):
    out = run_cli("analyze", "--inbox", str(tmp_path), "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "no audio or transcripts in" in out.stderr
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "o.csv").write_text("file,outcome\na.wav,perhaps\n")
    out = run_cli("analyze", "--inbox", str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "--outcomes", str(tmp_path / "o.csv"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"pitchlab: {tmp_path / 'o.csv'} line 2: unknown outcome 'perhaps' "
        "(use interested/won/yes/1 or not_interested/lost/no/0)"
    ]
    assert not (tmp_path / "x.duckdb").exists()  # nothing was written before the input was checked


def test_leaderboard_without_database_says_what_to_do(tmp_path):
    out = run_cli("leaderboard", "--db", str(tmp_path / "none.duckdb"))
    assert out.returncode == 2
    assert out.stderr.strip() == f"pitchlab: no database at {tmp_path / 'none.duckdb'}: run `pitchlab analyze` first"


def test_help_starts_fast_without_loading_models():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, pipeline.cli; pipeline.cli._parser(); "
         "print(any(m in sys.modules for m in ('torch', 'faster_whisper', 'spacy', 'duckdb')))"],
        capture_output=True, text=True,
    )
    assert out.stdout.strip() == "False"
