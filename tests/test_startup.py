"""The commands that only read the database start without the model libraries (issue #19: start fast)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, FakeModels, ScriptTranscriber
from pipeline.analyze import analyze
from pipeline.settings import Settings

HEAVY = ("torch", "sentence_transformers", "transformers", "faster_whisper", "ctranslate2", "spacy", "resemblyzer",
         "onnxruntime", "scipy", "sklearn")

# The command runs through the CLI's main in a fresh interpreter; then the top-level modules it imported are printed.
PROBE = """
import contextlib, io, json, sys
from pipeline.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> tuple[Path, Path]:
    """A database of two transcript calls (fake models), and its inbox."""
    tmp = tmp_path_factory.mktemp("startup")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for name in ("zoom_three.vtt", "teams_voice.vtt"):
        shutil.copyfile(ROOT / "tests" / "data" / "transcripts" / name, inbox / name)
    settings = Settings(inbox=inbox, db=tmp / "calls.duckdb", progress=False, rep_names=("Dana Smith", "Sam"))
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([[]])))
    assert summary.processed == 2
    return settings.db, inbox


def imported(*args: str) -> tuple[int, set[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["rc"], set(result["modules"])


@pytest.mark.parametrize("command", ["leaderboard", "status", "report"])
def test_reading_commands_import_no_model_library(small_db, tmp_path, command):
    db, inbox = small_db
    args = {"leaderboard": ["leaderboard", "--db", str(db)],
            "status": ["status", "--db", str(db), "--inbox", str(inbox)],
            "report": ["report", "--db", str(db), "--inbox", str(inbox), "--out", str(tmp_path / "r.html")]}[command]
    rc, modules = imported(*args)
    assert rc == 0
    assert "duckdb" in modules  # the probe sees what the command imported: it did read the database
    assert sorted(modules & set(HEAVY)) == []
    if command == "report":
        assert (tmp_path / "r.html").stat().st_size > 1000
