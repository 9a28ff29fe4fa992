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


def test_version_is_the_installed_packages_from_its_metadata(monkeypatch, capsys):
    import importlib.metadata
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    out = run_cli("--version")
    assert (out.returncode, out.stdout) == (0, f"pitchlab {pyproject['project']['version']}\n")
    # read from the metadata, not a second copy in the code: a new release's version is printed as installed
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.8.7" if name == "pitchlab" else real(name))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == "pitchlab 9.8.7\n"


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


def run_env(*args, env=None, cwd=None):
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("PITCHLAB_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=600)  # before the fix, watch with a missing model never stopped


def one_line(out) -> str:
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["analyze", "watch"])
@pytest.mark.parametrize("model, message", [
    ("nosuch", "pitchlab: unknown Whisper model 'nosuch': "),
    ("EMPTY", "pitchlab: model folder {tmp}/empty has no model.bin: "),
    ("small.en", "pitchlab: Whisper model 'small.en' is not on this machine and cannot be downloaded ("),
])
def test_a_model_that_cannot_load_stops_before_anything_is_touched(tmp_path, command, model, message):
    import shutil

    from conftest import TEST_CALLS

    (tmp_path / "inbox").mkdir()
    (tmp_path / "empty").mkdir()
    shutil.copy(TEST_CALLS / "short_mono.mp3", tmp_path / "inbox")
    model = str(tmp_path / "empty") if model == "EMPTY" else model
    out = run_env(command, "--inbox", str(tmp_path / "inbox"), "--db", str(tmp_path / "c.duckdb"), "--model", model,
                  env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert out.returncode == 2
    assert one_line(out).startswith(message.format(tmp=tmp_path))
    assert not (tmp_path / "c.duckdb").exists() and out.stdout == ""


@pytest.mark.parametrize("variable, value, message", [
    ("PITCHLAB_BEAM", "abc", "pitchlab: PITCHLAB_BEAM='abc' is not a whole number: set it to 1 or more, or unset it"),
    ("PITCHLAB_THREADS", "abc", "pitchlab: PITCHLAB_THREADS='abc' is not a whole number: set it to 1 or more, or unset it"),
    ("PITCHLAB_THREADS", "0", "pitchlab: PITCHLAB_THREADS=0 must be 1 or more: set it to 1 or more, or unset it"),
    ("PITCHLAB_REP_CHANNEL", "middle", "pitchlab: PITCHLAB_REP_CHANNEL='middle' must be left or right: fix it or unset it"),
    ("PITCHLAB_STEREO_PRESET", "genesys", "pitchlab: PITCHLAB_STEREO_PRESET='genesys' is not a preset: use one of "),
    ("PITCHLAB_VOCABULARY", "/no/words.txt", "pitchlab: PITCHLAB_VOCABULARY=/no/words.txt: no such file"),
])
def test_a_bad_environment_variable_is_one_line_naming_it_only_where_it_is_used(tmp_path, variable, value, message):
    (tmp_path / "t.json").write_text('{"turns": []}')
    for command in ("analyze", "watch"):
        out = run_env(command, "--inbox", str(tmp_path), "--db", str(tmp_path / "c.duckdb"), env={variable: value})
        assert out.returncode == 2 and one_line(out).startswith(message)
    assert not (tmp_path / "c.duckdb").exists()
    out = run_env("leaderboard", "--db", str(tmp_path / "c.duckdb"), env={variable: value})  # does not use it
    assert one_line(out) == f"pitchlab: no database at {tmp_path / 'c.duckdb'}: run `pitchlab analyze` first"


def test_a_flag_wins_over_a_bad_environment_variable_and_threads_has_a_flag():
    from pipeline.core.settings import Settings

    parsed = cli._parser().parse_args(["analyze", "--threads", "3", "--beam-size", "2"])
    import os
    from unittest import mock

    with mock.patch.dict(os.environ, {"PITCHLAB_THREADS": "abc", "PITCHLAB_BEAM": "x"}):
        settings = cli._pipeline_settings(parsed, progress=False)
    assert (settings.cpu_threads, settings.beam_size) == (3, 2)
    assert Settings.paths_from_env(db=None).db.name == "calls.duckdb"


@pytest.mark.parametrize("args", [["watch", "--settle", "-1"], ["watch", "--settle", "nan"],
                                  ["analyze", "--threads", "0"], ["analyze", "--top", "0"],
                                  ["leaderboard", "--top", "-2"], ["analyze", "--beam-size", "x"]])
def test_out_of_range_flags_are_refused(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli._parser().parse_args(args)
    assert exit_.value.code == 2
    assert f"argument {args[1]}" in capsys.readouterr().err


def test_retry_needs_an_existing_database_and_says_when_nothing_matched(tmp_path):
    missing = tmp_path / "missing.duckdb"
    out = run_env("retry", "--db", str(missing))
    assert out.returncode == 2 and not missing.exists()
    assert one_line(out) == (f"pitchlab: no database at {missing}: nothing has failed there "
                             "(name the database with --db)")
    from pipeline.storage import db, store
    from pipeline.core.records import Recording

    with db.opened(tmp_path / "c.duckdb") as con:
        store.record_error(con, Recording(tmp_path / "x", "bad.wav", "ab" * 32, 1), "empty file (0 bytes)")
    out = run_env("retry", "--db", str(tmp_path / "c.duckdb"), "nosuch.wav")
    assert out.returncode == 2
    assert one_line(out) == ("pitchlab: no recorded failure matches nosuch.wav: `pitchlab status` lists the failed "
                             "files by their path in the inbox")
    out = run_env("retry", "--db", str(tmp_path / "c.duckdb"), "bad.wav", "nosuch.wav")
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["1 failed recording will be tried again by the next analyze or watch",
                                       "  no recorded failure matches nosuch.wav"]
    out = run_env("retry", "--db", str(tmp_path / "c.duckdb"))
    assert (out.returncode, out.stdout) == (0, "no failures recorded: nothing to retry\n")


def test_recluster_says_it_waits_for_a_busy_database(tmp_path):
    import os

    from pipeline.storage import db

    path = tmp_path / "c.duckdb"
    db.opened(path).__enter__().close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITCHLAB_")}
    waiting = subprocess.Popen([sys.executable, "-m", "pipeline", "recluster", "--db", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = waiting.stderr.readline()  # said before it waits, while the other process still holds the file
    holder.stdin.close()
    holder.wait(timeout=30)
    out, err = waiting.communicate(timeout=60)
    assert first == f"pitchlab: {path} is in use by another process; waiting up to 30 s for it\n"
    assert (waiting.returncode, out, err) == (0, "no phrases to cluster\n", "")


def test_file_names_with_terminal_escapes_are_printed_escaped(tmp_path, monkeypatch, capsys):
    from conftest import FakeModels, ScriptTranscriber

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    evil = "\x1b[2J\x1b]0;owned\x07red\u202e.json"
    (inbox / evil).write_text("{not json")
    monkeypatch.setattr("pipeline.analyze.Models", lambda settings: FakeModels(ScriptTranscriber([[]])))
    assert cli.main(["analyze", "--inbox", str(inbox), "--db", str(tmp_path / "c.duckdb"), "--no-progress"]) == 0
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err and "\u202e" not in out.out
    assert "  failed: \\x1b[2J\\x1b]0;owned\\x07red\\u202e.json: " in out.out
    assert cli.main(["status", "--inbox", str(inbox), "--db", str(tmp_path / "c.duckdb")]) == 0
    status = capsys.readouterr().out
    assert "\\x1b[2J\\x1b]0;owned\\x07red\\u202e.json: " in status and "\x1b" not in status


def test_log_lines_show_control_characters_escaped():
    import logging

    from pipeline.core.terminal import PrintableFormatter, plural, printable

    record = logging.LogRecord("pipeline.watch", logging.INFO, __file__, 1, "analyzing %s", ("a\nb\x1b[31m.wav",), None)
    assert PrintableFormatter("%(name)s %(message)s").format(record) == "pipeline.watch analyzing a\\nb\\x1b[31m.wav"
    assert printable("Renée café.mp3") == "Renée café.mp3"
    assert (plural(1, "call"), plural(2, "call"), plural(0, "recording")) == ("1 call", "2 calls", "0 recordings")


def test_summary_counts_transcripts_and_minutes_with_plurals(tmp_path, monkeypatch, capsys):
    import json

    from conftest import FakeModels, ScriptTranscriber

    turns = [{"speaker": "rep", "text": "Hi, this is Dana. You see exactly who watched your video.", "start": 0.0,
              "end": 5.0}, {"speaker": "prospect", "text": "Nice, how does that work?", "start": 5.5, "end": 7.0}]
    (tmp_path / "a.json").write_text(json.dumps({"rep": "Dana", "turns": turns}))
    monkeypatch.setattr("pipeline.analyze.Models", lambda settings: FakeModels(ScriptTranscriber([[]])))
    assert cli.main(["analyze", "--inbox", str(tmp_path), "--db", str(tmp_path / "c.duckdb"), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"1 recording in {tmp_path}: 1 analyzed (1 transcript in ")
    assert lines[0].endswith(" s), 0 already known, 0 failed")
    assert lines[1].startswith("outcomes applied to 0 calls; fitted 1 cluster")


def test_watch_stops_on_sigterm_with_one_stopped_line_and_no_ctrl_c_hint(tmp_path):
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch", "--inbox", str(tmp_path),
                             "--db", str(tmp_path / "c.duckdb")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "c.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Ctrl-C" not in err.replace("Ctrl-C to stop", "")
    assert "stopping after the current file (SIGTERM)" in err
    assert (out + err).count("stopped:") == 1 and out == "stopped: 0 calls analyzed, 0 recordings failed\n"
