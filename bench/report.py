"""BENCHMARKS.md from the collected results (BENCHMARKS.json holds the same, raw)."""

from __future__ import annotations

from .common import median
from .pipeline_bench import AFTER_TRANSCRIPTION

GOAL_RTF = 15.0
GOAL_AFTER_SHARE = 0.15
GOAL_CLUSTER_100K_S = 10.0
GOAL_REASSIGN_100K_S = 5.0
GOAL_TRANSCRIPT_CALLS = 10_000
GOAL_MEMORY_GIB = 24.0


def _med(runs: list[dict], key) -> float | None:
    values = [key(r) for r in runs]
    values = [v for v in values if v is not None]
    return median(values) if values else None


def _fmt(x, digits=2, unit=""):
    return "n/a" if x is None else f"{x:,.{digits}f}{unit}"


def _entries(doc, group):
    return doc["results"].get(group, [])


def render(doc: dict) -> str:
    m = doc["machine"]
    out = [
        "# Benchmarks",
        "",
        f"Written by `{doc['command']}` ({doc['mode']} run, {doc['total_s'] / 60:.1f} min) on {doc['date']}, "
        f"commit {m['commit']}. Raw figures: `BENCHMARKS.json`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, no GPU; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ". "
        f"The machine was shared: 1-minute load average {doc['load_average_1min']['min']:.1f}–"
        f"{doc['load_average_1min']['max']:.1f} during the run, so wall times carry that noise.",
        "",
    ]
    for group, run in doc.get("merged", {}).items():
        out += [f"Group `{group}` comes from an earlier run, kept: `{run['command']}` ({run['mode']} run, "
                f"{run['total_s'] / 60:.1f} min) on {run['date']}, commit {run['commit']}, load average "
                f"{run['load_average_1min']['min']:.1f}–{run['load_average_1min']['max']:.1f}; the rest of the file is "
                "from the run above.", ""]
    if doc.get("skipped"):
        out += ["Skipped in this run: " + "; ".join(f"`{f}`" for f in doc["skipped"]) + ".", ""]
    if doc.get("failed"):
        out += ["Failed in this run (not in the tables): " + "; ".join(f"`{f}`" for f in doc["failed"]) + ".", ""]
    out += [
        "Each measurement runs in its own Python process; `peak RSS` is that process's peak resident memory. "
        "Where several runs were made the figure is their median (the `runs` column).",
        "",
    ]
    goals = []
    out += _throughput(doc, goals)
    out += _scaling(doc)
    out += _naive(doc)
    out += _batch(doc)
    out += _phone(doc)
    out += _clustering(doc, goals)
    out += _reassign(doc, goals)
    out += _fit_engines(doc)
    out += _incremental(doc)
    out += _store(doc)
    out += _waste(doc)
    out += _transcripts(doc, goals)
    out += _ray(doc)
    out += _long_call(doc)
    out += _startup(doc)
    out += _overlap(doc)
    out += _encoder(doc)
    out += _rehear(doc)
    out += _workers(doc)
    out += _libraries(doc)
    intro_end = next((i for i, line in enumerate(out) if line.startswith("## ")), len(out))
    head = ["## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    head += [f"| {g} | {v} | {ok} |" for g, v, ok in goals]
    return "\n".join(out[:intro_end] + head + [""] + out[intro_end:]) + "\n"


def _throughput(doc, goals) -> list[str]:
    entries = _entries(doc, "throughput")
    if not entries:
        return []
    out = ["## Throughput: the whole pipeline on the demo calls", "",
           "`pipeline.analyze.analyze` into an empty database, models loaded first (their load time is "
           "the `load` column, not in the wall time). Real-time factor (RTF) = audio seconds / wall seconds; "
           "higher is faster.", "",
           "| model | calls | audio | runs | wall | RTF | RTF incl. load | load | peak RSS |",
           "|---|---|---|---|---|---|---|---|---|"]
    stage_rows = []
    for e in entries:
        runs, p = e["runs"], e["params"]
        wall = _med(runs, lambda r: r["wall_s"])
        audio = runs[0]["audio_s"]
        load = _med(runs, lambda r: sum(r["load_s"].values()))
        out.append(f"| {p['model']} | {runs[0]['processed']} | {audio / 60:.1f} min | {len(runs)} | {wall:.1f} s | "
                   f"{audio / wall:.1f}× | {audio / (wall + load):.1f}× | {load:.1f} s | "
                   f"{_med(runs, lambda r: r['peak_rss_mb']):,.0f} MB |")
        stage_rows.append((p["model"], runs, audio))
        if p["model"] == "tiny.en":
            rtf = audio / wall
            goals.append((f"whole pipeline ≥ {GOAL_RTF:.0f}× real time, default model (tiny.en)",
                          f"{rtf:.1f}× ({audio / (wall + load):.1f}× with model loading)",
                          "yes" if rtf >= GOAL_RTF else "no"))
    stages = ["find+hash", "decode", "transcribe", "speakers", "phrases", "reactions", "hear again", "embed", "store",
              "cluster", "other"]  # hear again: telephone-band replies heard again by Moonshine
    out += ["", "Per stage (seconds of wall time, median over runs; RTF of the stage alone in brackets; transcribe "
            "split into Silero VAD and Whisper where the run counted it):", "",
            "| model | " + " | ".join(stages) + " | after transcription / transcription |",
            "|---|" + "---|" * (len(stages) + 1)]
    for model, runs, audio in stage_rows:
        cells = []
        for s in stages:
            sec = _med(runs, lambda r: r["stages_s"].get(s, 0.0))
            cells.append(f"{sec:.2f} ({audio / sec:,.0f}×)" if sec else "0")
            vad = _med(runs, lambda r: r.get("whisper_vad_s")) if s == "transcribe" else None
            if vad and sec:  # the transcribe stage split: Silero VAD, then Whisper (batched decoding counts it apart;
                # the sequential decoding runs Silero inside faster-whisper's transcribe, so it has no split)
                cells[-1] += f": VAD {vad:.2f}, Whisper {sec - vad:.2f}"
        share = _med(runs, lambda r: sum(r["stages_s"].get(s, 0.0) for s in AFTER_TRANSCRIPTION) / r["stages_s"]["transcribe"])
        out.append(f"| {model} | " + " | ".join(cells) + f" | {share:.0%} |")
        if model == "tiny.en":
            goals.append((f"stages after transcription ≤ {GOAL_AFTER_SHARE:.0%} of transcription time",
                          f"{share:.0%} ({' + '.join(AFTER_TRANSCRIPTION)})", "yes" if share <= GOAL_AFTER_SHARE else "no"))
    out += ["", "### Decoding only speech", "",
            "Seconds of audio Whisper decoded after its VAD (faster-whisper's `duration_after_vad`, summed over "
            "every Whisper pass, so both channels of a stereo call) against the seconds of speech in the calls "
            "(the sum of the generator's true turns, each party's own time). Near 1.0 means only speech is "
            "decoded; a stereo call transcribed without VAD would be about 2× its length.", "",
            "| model | audio given to Whisper | decoded after VAD | speech in the calls | decoded / speech |",
            "|---|---|---|---|---|"]
    for model, runs, audio in stage_rows:
        r = runs[0]
        if r.get("whisper_after_vad_s") is None:
            out.append(f"| {model} | n/a | n/a | {r['speech_s']:.0f} s | n/a |")
            continue
        out.append(f"| {model} | {r['whisper_input_s']:.0f} s | {r['whisper_after_vad_s']:.0f} s | "
                   f"{r['speech_s']:.0f} s | {r['whisper_after_vad_s'] / r['speech_s']:.2f} |")
    return out + [""]


def _set_name(entry) -> str:
    """The calls a throughput entry measured: the telephone set or the demo."""
    return "telephone set" if entry["measurement"] == "phone_throughput" else "demo"


def _phone(doc) -> list[str]:
    entries = _entries(doc, "phone")
    if not entries:
        return []
    out = ["## Telephone band beside 16 kHz", "",
           "The calls of `scripts/make_phone_calls.py` (8 kHz line: band-pass, hiss, mu-law / GSM / Opus, half mono) "
           "and the demo calls, tiny.en, each into an empty database, models loaded first.", "",
           "| set | calls | audio | wall | RTF | transcribe | speakers |", "|---|---|---|---|---|---|---|"]
    for e in entries:
        r = e["runs"][0]
        name = _set_name(e)
        st = r["stages_s"]
        out.append(f"| {name} | {r['processed']} | {r['audio_s'] / 60:.1f} min | {r['wall_s']:.1f} s | "
                   f"{r['audio_s'] / r['wall_s']:.1f}× | {st.get('transcribe', 0):.1f} s | {st.get('speakers', 0):.1f} s |")
    return out + [""]


def _scaling(doc) -> list[str]:
    entries = _entries(doc, "scaling")
    if not entries:
        return []
    out = ["## Scaling: time against number of calls", "",
           "Demo calls cycled (copies beyond the 28 differ by a few trailing bytes, so they are new calls with "
           "the same audio), tiny.en, into an empty database, models loaded first.", "",
           "| calls | audio | wall | seconds per call | seconds per audio minute | RTF |", "|---|---|---|---|---|---|"]
    for e in entries:
        r = e["runs"][0]
        wall = _med(e["runs"], lambda x: x["wall_s"])
        out.append(f"| {r['processed']} | {r['audio_s'] / 60:.1f} min | {wall:.1f} s | {wall / r['processed']:.2f} | "
                   f"{60 * wall / r['audio_s']:.2f} | {r['audio_s'] / wall:.1f}× |")
    return out + [""]


def _batch(doc) -> list[str]:
    entries = _entries(doc, "batch")
    if not entries:
        return []
    out = []
    for e in entries:
        r = e["runs"][0]
        out += ["## Whisper: sequential against batched decoding", "",
                f"The first {r['calls']} demo calls ({r['stereo']} stereo, {r['audio_s'] / 60:.1f} min, "
                f"{r['speech_s']:.0f} s of true speech), Whisper {r['model']} int8 greedy with word timestamps and "
                "the rescue of short runs, every way loaded in one process and run call by call in turn, so the "
                "load of the shared machine falls on all alike (`bench/whisper_bench.py`). Sequential: "
                "faster-whisper's `WhisperModel.transcribe` on each channel, its VAD (2 s pause, 0.4 s pad), as "
                "before. Batched: the speech of both channels of a call cut into pieces of at most 30 s and "
                "decoded side by side (`pipeline/audio/whisper_batch.py`); VAD = Silero's pause that ends a stretch of "
                "speech : the pad kept around it, in ms. CPU = this process's CPU seconds (all threads), steadier than wall "
                "time when others share the cores. WER against the generator's text, per channel.", "",
                "| way | wall | RTF | CPU | CPU / sequential | decoded after VAD | decoded / speech | VAD | WER |",
                "|---|---|---|---|---|---|---|---|---|"]
        ways = r["ways"]
        base = next(iter(ways.values()))
        for label, w in ways.items():
            out.append(f"| {label} | {w['wall_s']:.1f} s | {w['rtf']:.1f}× | {w['cpu_s']:.1f} s | "
                       f"{w['cpu_s'] / base['cpu_s']:.2f} | {w['decoded_s']:.0f} s | "
                       f"{w['decoded_s'] / r['speech_s']:.2f} | {w['vad_s']:.1f} s | {100 * w['wer']:.2f}% |")
        out.append("")
    return out


def _naive(doc) -> list[str]:
    entries = _entries(doc, "naive")
    if not entries:
        return []
    r = entries[0]["runs"][0]
    out = ["## Against the naive way", "",
           f"The {r['calls']} stereo demo calls ({r['audio_s'] / 60:.1f} min), Whisper {r['model']}, the same loaded "
           "model, side by side in one process. Naive: plain faster-whisper `model.transcribe(mixdown, "
           "language='en')` with its defaults (beam 5, no VAD) on the mono mixdown of the two channels, one pass, "
           "no speakers. Pitchlab: each channel transcribed on its own with its defaults (greedy, VAD, word "
           "timestamps), speakers by channel. Part of the word-accuracy gap is the beam: on 39 clips, 1,966 "
           "words, beam 5 had 3.7% word error rate and took 2.3× as long as greedy, 4.2% (`scripts/eval_asr.py "
           "--models tiny.en --beams 5 1 --demo`, docs/models.md, \"Why `tiny.en`, greedy\"); the rest is not "
           "explained here (a transcript in turn order also pays for overlapping turns).", "",
           "Word accuracy = 1 − word error rate against the generator's text, ignoring speakers. "
           "Speaker-attributed word accuracy = the same with each speaker's words compared only to that "
           "speaker's true words (a word given to the wrong speaker is an error twice); the naive transcript has "
           "no speakers, so it is scored as all one speaker, whichever scores better.", "",
           "| way | time | RTF | word accuracy | speaker-attributed word accuracy |", "|---|---|---|---|---|"]
    for way, label in (("naive", "plain faster-whisper, mono mixdown"), ("pitchlab", "Pitchlab, per channel")):
        w = r[way]
        out.append(f"| {label} | {w['seconds']:.1f} s | {w['rtf']:.1f}× | {w['word_accuracy']:.1%} | "
                   f"{w['attributed_word_accuracy']:.1%} |")
    ratio = r["pitchlab"]["seconds"] / r["naive"]["seconds"]
    out += ["", f"Pitchlab's path takes {ratio:.2f}× the naive pass's time over {r['naive']['ref_words']:,} "
            "reference words.", ""]
    return out


def _clustering(doc, goals) -> list[str]:
    fits, assigns = _entries(doc, "fit"), _entries(doc, "assign")
    if not (fits or assigns):
        return []
    out = ["## Clustering scale", "",
           "Synthetic unit vectors, 384-d, drawn around 300 random centroids (`bench/synthetic.py`). The fit is "
           "what `pitchlab recluster` and the first analysis run: k chosen in 2..20 on a sample of at most 2,000 "
           "phrases (several k-means starts per k, thin clusters merged, best silhouette), then k-means over all "
           "phrases, in numpy. New phrases are assigned in SQL.", "",
           "| path | phrases | what | time | peak RSS | note |", "|---|---|---|---|---|---|"]
    fit_100k = None
    for e in fits:
        r = e["runs"][0]
        if r["n"] == 100_000 and (fit_100k is None or r["fitter"] == "wordings"):
            fit_100k = r["fit_s"]
        what = ("wording clusters, cosine threshold 0.7 (`wordings.fit`, what refit runs)" if r["fitter"] == "wordings"
                else "fit, k chosen in 2..20 (`cluster.fit`)")
        out.append(f"| fit: {r['fitter']} | {r['n']:,} | {what} | {r['fit_s']:.1f} s | "
                   f"{r['peak_rss_mb']:,.0f} MB | k={r['k']}, silhouette {r['silhouette']:.3f} |")
    for e in assigns:
        r = e["runs"][0]
        out.append(f"| assign: SQL (`cluster.assign_new`) | {r['n']:,} stored + 1,000 new | assign the 1,000 to 20 "
                   f"centroids, sizes refreshed (median of 3) | {r['assign_s']:.2f} s | {r['peak_rss_mb']:,.0f} MB | "
                   f"building the table: {r['build_s']:.0f} s |")
    out += ["", "Peak RSS of the fit rows includes the vectors themselves (1M × 384 float32 = 1.5 GB). Peak RSS of "
            "the SQL rows includes the in-memory database. The SQL tables reuse 5,000 distinct vectors (drawing a "
            "million vectors coordinate by coordinate in SQL takes minutes); comparing a row with the centroids "
            "costs the same whatever its values. The same k-means fitted in SQL instead of numpy: next section.", ""]
    if fit_100k is not None:
        goals.append((f"clustering 100k phrases < {GOAL_CLUSTER_100K_S:.0f} s",
                      f"fit {fit_100k:.1f} s; assigning 1,000 new: "
                      + ", ".join(f"{e['runs'][0]['assign_s']:.2f} s at {e['runs'][0]['n']:,}" for e in assigns),
                      "yes" if fit_100k < GOAL_CLUSTER_100K_S else "no"))
    return out


def _reassign(doc, goals) -> list[str]:
    entries = _entries(doc, "reassign")
    if not entries:
        return []
    out = ["## Re-assigning descriptors", "",
           "Every stored pitch phrase re-assigned to the declared descriptors in SQL, in one transaction "
           "(`descriptors.reassign`; `bench/descriptors_bench.py`): 6 descriptors of 3 example lines each over "
           "synthetic phrases in 20 wording clusters. `first`: the first declaration (every similarity computed); "
           "`change`: one descriptor's examples replaced (its similarities computed again, the rest kept; median "
           "of 3).", "",
           "| phrases | first | change | CPU: first / change | peak RSS |", "|---|---|---|---|---|"]
    at_100k = None
    for e in entries:
        r = e["runs"][0]
        if r["n"] == 100_000:
            at_100k = r
        cpu = f"{r['first_cpu_s']:.2f} s / {r['change_cpu_s']:.2f} s" if "first_cpu_s" in r else "–"
        out.append(f"| {r['n']:,} | {r['first_s']:.2f} s | {r['change_s']:.2f} s | {cpu} | {r['peak_rss_mb']:,.0f} MB |")
    out.append("")
    if at_100k is not None:
        worst = max(at_100k["first_s"], at_100k["change_s"])
        goals.append((f"re-assigning 100k phrases after a change of descriptors < {GOAL_REASSIGN_100K_S:.0f} s",
                      f"first declaration {at_100k['first_s']:.2f} s, a change {at_100k['change_s']:.2f} s",
                      "yes" if worst < GOAL_REASSIGN_100K_S else "no"))
    return out


def _fit_engines(doc) -> list[str]:
    entries = _entries(doc, "fit_engines")
    if not entries:
        return []
    first = entries[0]["runs"][0]
    out = ["## SQL vs numpy fitting", "",
           f"The same spherical k-means (k = {first['k']}, the same k-means++ initial centroids, at most "
           "`passes` passes, stop when no label changes) over synthetic phrases stored in a "
           "DuckDB file. numpy: read the vectors from DuckDB, then `cluster.kmeans`. SQL: "
           "`cluster_sql.kmeans`, all in DuckDB. Then a batch of new phrases is assigned to the fitted centroids: "
           "numpy reads them and writes the cluster ids back; SQL is `cluster.assign_new`. Runs alternate; "
           "medians.", "",
           "| phrases | passes | runs | numpy fit (of which read) | SQL fit | SQL / numpy | same labels | "
           "assign new: numpy | assign new: SQL | same | peak RSS |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        r = e["runs"][0]
        sql = "not run" if r["sql_s"] is None else f"{r['sql_s']:.2f} s"
        ratio = "" if r["sql_s"] is None else f"{r['sql_s'] / r['numpy_s']:.1f}×"
        same = "" if r["same_labels"] is None else f"{r['same_labels']:.1%}"
        out.append(f"| {r['n']:,} | {r['iterations_cap']} | {r['repeats']} | {r['numpy_s']:.2f} s ({r['numpy_read_s']:.2f} s) | {sql} | "
                   f"{ratio} | {same} | {r['new']:,}: {r['assign_numpy_s']:.2f} s | "
                   f"{r['assign_sql_s']:.2f} s | {'yes' if r['assign_same'] else 'no'} | {r['peak_rss_mb']:,.0f} MB |")
    runs = [e["runs"][0] for e in entries]
    fit = [f"{'numpy' if r['numpy_s'] < r['sql_s'] else 'SQL'} at {r['n']:,}" for r in runs if r["sql_s"] is not None]
    assign = [f"{'numpy' if r['assign_numpy_s'] < r['assign_sql_s'] else 'SQL'} at {r['n']:,} "
              f"(by {abs(r['assign_numpy_s'] - r['assign_sql_s']):.2f} s)" for r in runs]
    out += ["", f"Faster fit: {', '.join(fit) or 'n/a'}. Faster assignment of the new batch: {', '.join(assign)}. "
            "`cluster.fit` fits in numpy; `cluster.assign_new` assigns in SQL.", ""]
    return out


def _incremental(doc) -> list[str]:
    entries = _entries(doc, "incremental")
    if not entries:
        return []
    r = entries[0]["runs"][0]
    e, b = r["empty"], r["big"]
    out = ["## Incremental cost: one more call", "",
           f"The same demo call analyzed into an empty database and into one holding {r['db_calls']:,} calls "
           f"({r['db_phrases']:,} pitch phrases, clusters fitted; rows synthetic, built in {r['build_s']:.0f} s). "
           "Models loaded before both.", "",
           "| database | wall | transcribe | store | cluster | other |", "|---|---|---|---|---|---|"]
    for label, x in (("empty (first call: clusters fitted)", e), (f"{r['db_calls']:,} calls (assigned)", b)):
        s = x["stages_s"]
        out.append(f"| {label} | {x['wall_s']:.2f} s | {s.get('transcribe', 0):.2f} s | {s.get('store', 0):.2f} s | "
                   f"{s.get('cluster', 0):.2f} s | {s.get('other', 0):.2f} s |")
    out += ["", f"Adding a call to the {r['db_calls']:,}-call database takes {b['wall_s'] / e['wall_s']:.2f}× the "
            "time of the first call.", ""]
    return out


def _store(doc) -> list[str]:
    entries = _entries(doc, "write_call")
    if not entries:
        return []
    r = entries[0]["runs"][0]
    out = ["## Waste found and fixed: writing a call", "",
           f"`store.write_call` for a demo-sized call ({r['turns_per_call']} turns, {r['phrases_per_call']} phrases "
           f"with reactions), median of {r['calls']} calls each, the writers alternating in one process. "
           "Before: each 384-float embedding bound as a Python list parameter. Then: each column bound as one list "
           "and unnested, the embeddings registered as a NumPy table of one column a dimension and packed into "
           "`FLOAT[384]` (planning a 384-column statement cost about 40 ms however few the rows). After "
           "(`store.write_calls`, which writes a whole chunk of transcripts the same way): the embeddings as one "
           "long column (row, dimension, value) gathered with `list(value ORDER BY dimension)` (exact).", "",
           "| writer | seconds per call |", "|---|---|"]
    for name, sec in r["median_s"].items():
        out.append(f"| {name} | {sec:.3f} |")
    vals = list(r["median_s"].values())
    out += ["", f"After against before: {vals[0] / vals[-1]:.1f}× faster"
            + (f"; against then: {vals[-2] / vals[-1]:.1f}× faster." if len(vals) > 2 else "."), ""]
    return out


def _waste(doc) -> list[str]:
    entries = {e["measurement"]: e["runs"][0] for e in _entries(doc, "waste")}
    if not entries:
        return []
    out = ["## Waste found and fixed: decoding and the mono voice-print split", ""]
    if "decode_gc" in entries:
        r = entries["decode_gc"]
        before, after = r["median_s"].values()
        out += ["faster-whisper's `decode_audio` ends every file with a full `gc.collect()`, which walked every "
                "object of the loaded models (spaCy, torch, MiniLM): in the first full throughput run decoding "
                "was 13 s of 99 s. `Models` now moves what it loads out of the collector's sight (`gc.freeze`). "
                f"All {r['calls']} demo calls decoded with every model loaded, median of {r['repeats']} alternating "
                f"runs ({r['frozen_objects']:,} objects frozen):", "",
                "| models' objects | decoding the demo calls |", "|---|---|",
                f"| not frozen (before) | {before:.2f} s |", f"| frozen (after) | {after:.2f} s |", "",
                f"{before / after:.1f}× faster.", ""]
    if "voice_split" in entries:
        r = entries["voice_split"]
        before, after = r["median_s"]["before"], r["median_s"]["after"]
        out += [f"The mono split (`diarize.diarize`) over the demo's {r['calls']} mono calls ({r['audio_s'] / 60:.1f} "
                "min, the same Whisper words), median of "
                f"{r['repeats']} alternating runs. Before: the LSTM in float32, a 1 s window every 0.2 s, a mel "
                "spectrogram per clip, each short run of words printed at its own length (a batch of its own). "
                f"After: the LSTM in {r['precision_after']} (bfloat16 where the CPU multiplies it in hardware), a "
                "window every 0.4 s (as accurate on the real two-speaker clip: docs/reps-and-voices.md, "
                "\"Mono recordings\"), one "
                "mel spectrogram per call, short runs printed over a window centred on them, so a call's prints run "
                "as batches of exactly 64.", "",
                "| split | seconds | audio seconds per second |", "|---|---|---|",
                f"| before | {before:.2f} s | {r['audio_s'] / before:.0f}× |",
                f"| after | {after:.2f} s | {r['audio_s'] / after:.0f}× |", "",
                f"{before / after:.1f}× faster; {r['same_speaker_words']:,} of {r['words']:,} words get the same "
                "speaker both ways.", ""]
    return out


def _transcripts(doc, goals) -> list[str]:
    entries = _entries(doc, "transcripts")
    if not entries:
        return []
    out = ["## Transcripts: one large batch", "",
           "`pipeline.analyze.analyze` over N generated transcript calls (`bench/transcripts_batch.py`: 40 turns "
           "each, half JSON, half Zoom-style VTT, each call with its own company, people and numbers, two thirds "
           "labelled in an outcomes CSV) into an empty database with the real spaCy and all-MiniLM-L6-v2, in "
           "chunks of `chunk_calls` transcripts; models loaded first (`load`, not in the wall time). "
           "`distinct`: distinct phrase texts in the whole batch (a chunk splits and embeds each distinct text "
           "once).", "",
           "| calls | chunk | turns | phrases (distinct) | wall | calls/s | ms per call | load | peak RSS | database "
           "| load average |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    stage_names = ["read", "phrases", "embed", "reactions", "store", "cluster", "other"]
    stages = ["", "Per stage (seconds of wall time; `embed` is every embedding pass, phrases and replies; "
              "`other` includes the kinds and the lead guess):", "",
              "| calls | " + " | ".join(stage_names) + " |", "|---|" + "---|" * len(stage_names)]
    largest = None
    for e in entries:
        r = e["runs"][0]
        la = r["load_average_1min"]
        out.append(f"| {r['calls']:,} | {r['chunk_calls']} | {r['turns']:,} | {r['phrases']:,} "
                   f"({r['distinct_phrases']:,}) | {r['wall_s'] / 60:.1f} min | {r['calls_per_s']:.2f} | "
                   f"{1000 * r['wall_s'] / r['calls']:.0f} | {r['load_s']:.0f} s | {r['peak_rss_mb']:,.0f} MB | "
                   f"{r['db_mib']:,.0f} MiB | {min(la):.1f}–{max(la):.1f} |")
        stages.append(f"| {r['calls']:,} | " + " | ".join(f"{r['stages_s'].get(n, 0.0):.1f}" for n in stage_names)
                      + " |")
        if largest is None or r["calls"] > largest["calls"]:
            largest = r
    out += stages + [""]
    ok = (largest["calls"] >= GOAL_TRANSCRIPT_CALLS and largest["processed"] == largest["calls"]
          and largest["peak_rss_mb"] < GOAL_MEMORY_GIB * 1024)
    goals.append((f"{GOAL_TRANSCRIPT_CALLS:,} transcript calls of ~40 turns in one batch on a "
                  f"{GOAL_MEMORY_GIB:.0f} GiB machine",
                  f"largest run {largest['calls']:,} calls: {largest['wall_s'] / 60:.1f} min, peak RSS "
                  f"{largest['peak_rss_mb']:,.0f} MB", "yes" if ok else "not measured yet"
                  if largest["calls"] < GOAL_TRANSCRIPT_CALLS else "no"))
    return out


PROJECT_CALLS, PROJECT_CALL_S = 100_000, 300.0  # a year of archives: 100,000 calls of 5 minutes


def _ray(doc) -> list[str]:
    entries = _entries(doc, "ray")
    if not entries:
        return []
    r = entries[0]["runs"][0]
    runs = r["runs"]
    local = runs["local"]
    out = ["## More than one machine: Ray", "",
           f"The first {r['calls']} demo calls ({local['audio_s'] / 60:.1f} min of audio) into a fresh database: "
           "locally with one Whisper thread, then with `--engine ray` on a Ray cluster started on this machine "
           f"(starting it: {r['ray_start_s']:.0f} s, not in the rows) with 1 and 2 workers of one thread each "
           "(`bench/ray_bench.py`). Every run includes model loading: each Ray worker loads its own models.", "",
           "| engine | wall | real time | speed-up vs local | worker-seconds beyond local, per call |",
           "|---|---|---|---|---|",
           f"| local, 1 thread | {local['wall_s']:.1f} s | {local['audio_s'] / local['wall_s']:.1f}× | 1.00× | – |"]
    for name, run in runs.items():
        if name.startswith("ray_"):
            out.append(f"| Ray, {name[4:]} worker(s) | {run['wall_s']:.1f} s | {run['audio_s'] / run['wall_s']:.1f}× "
                       f"| {run['speedup_vs_local']:.2f}× | {run['overhead_per_call_s']:+.2f} s |")
    # projection from the one-worker rate: worker-seconds per second of audio
    one = runs.get("ray_1")
    if one:
        rate = one["wall_s"] / one["audio_s"]
        total_s = PROJECT_CALLS * PROJECT_CALL_S * rate
        out += ["", f"**Projection** for {PROJECT_CALLS:,} calls of {PROJECT_CALL_S / 60:.0f} min "
                f"({PROJECT_CALLS * PROJECT_CALL_S / 3600:,.0f} h of audio), from the one-worker rate above "
                f"({rate:.3f} worker-seconds per second of audio, model loading spread over the batch), one "
                "one-thread worker per core, assuming the measured rate scales linearly with workers:", "",
                "| machines | 2 cores | 16 cores |", "|---|---|---|"]
        for machines in (1, 10, 100):
            out.append(f"| {machines} | " + " | ".join(f"{total_s / (machines * cores) / 3600:,.1f} h"
                                                        for cores in (2, 16)) + " |")
        bounds = []
        writes = _entries(doc, "write_call")
        if writes:
            w = writes[0]["runs"][0]
            per_call = list(w["median_s"].values())[-1]
            scale = PROJECT_CALL_S / 48.0  # a demo call is about 48 s of audio; phrases grow with the talk
            bounds.append(f"the driver's writes: {per_call * 1000:.0f} ms for a demo-sized call "
                          f"({w['phrases_per_call']} phrases), so about {per_call * scale * PROJECT_CALLS / 3600:.1f} h "
                          f"for {PROJECT_CALLS:,} five-minute calls on one driver, whatever the cluster")
        for e in _entries(doc, "fit"):
            f = e["runs"][0]
            if f["n"] == 1_000_000:
                bounds.append(f"clustering 1M phrases once at the end: {f['fit_s']:.0f} s, "
                              f"{f['peak_rss_mb'] / 1024:.1f} GB on the driver")
        if bounds:
            out += ["", "What then bounds it (measured in the groups above): " + "; ".join(bounds) + ". At 100 "
                    "machines of 16 cores the workers would deliver a call every few milliseconds, faster than "
                    "one DuckDB writer stores it: the driver's writes, not transcription, set the pace there."]
    out.append("")
    return out


def _long_call(doc) -> list[str]:
    entries = _entries(doc, "long_call")
    if not entries:
        return []
    out = ["## One long call", "",
           "`pipeline.analyze.analyze` over one generated Zoom-style VTT (`bench/long_call.py`: alternating rep "
           "and prospect cues) with cheap stand-ins for spaCy and MiniLM, so the figure is the pipeline's own "
           "code that grows with a call's length. Reaction pairing used to scan the call once per pitch "
           "(16,000 cues 76 s; 100,000 did not finish in 10 minutes); it is one sweep now. `CPU`: this "
           "process's CPU seconds, the figure to trust when the machine is shared.", "",
           "| cues | turns | pitch phrases | reactions | wall | CPU | read | reactions | store | cluster | peak RSS "
           "| load average |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        r = e["runs"][0]
        st, la = r["stages_s"], r["load_average_1min"]
        out.append(f"| {r['cues']:,} | {r['turns']:,} | {r['pitch_phrases']:,} | {r['reactions']:,} | "
                   f"{r['wall_s']:.0f} s | {r.get('cpu_s', float('nan')):.0f} s | {st.get('read', 0.0):.1f} s | {st.get('reactions', 0.0):.1f} s | "
                   f"{st.get('store', 0.0):.1f} s | {st.get('cluster', 0.0):.1f} s | {r['peak_rss_mb']:,.0f} MB | "
                   f"{min(la):.1f}–{max(la):.1f} |")
    return out + [""]


def _startup(doc) -> list[str]:
    entries = _entries(doc, "startup")
    if not entries:
        return []
    out = ["## Start-up: `pitchlab analyze` to the first stored call", "",
           "A one-call inbox (demo `call_01.wav`) into an empty database; each run a fresh `pitchlab analyze` "
           "(`bench/startup_probe.py`: the real CLI, timed), so imports and model loading count as a user meets them. "
           "`cold`: an empty models folder (the scorers embed their examples and fit); `warm`: a run before filled "
           "its cache (`pipeline/language/example_cache.py`). Loads run on two threads at once, so their sum can exceed the "
           "time to the first call.", "",
           "| checkout | cache | runs | first call stored | CPU used by then | process exit | interpreter + CLI import | "
           "loads (sum) |",
           "|---|---|---|---|---|---|---|---|"]
    loads = []
    for e in entries:
        if e["measurement"] != "startup":
            continue
        r = e["runs"][0]
        m = r["median"]
        load_sum = sum(v for k, v in m.items() if k.startswith("load:"))
        out.append(f"| {r['commit']} | {'warm' if r['warm_cache'] else 'cold'} | {len(r['runs'])} | "
                   f"{m['first_stored_s']:.1f} s | {_fmt(m.get('cpu:first_stored'), 1, ' s')} | {m['exit_s']:.1f} s | {m['interpreter_s'] + m['cli_imported']:.1f} s | "
                   f"{load_sum:.1f} s |")
        loads.append((r["commit"], "warm" if r["warm_cache"] else "cold",
                      {k[5:]: v for k, v in m.items() if k.startswith("load:")}))
    names = sorted({n for _, _, d in loads for n in d})
    if names:
        out += ["", "Model loads (seconds, median):", "", "| checkout | cache | " + " | ".join(names) + " |",
                "|---|---|" + "---|" * len(names)]
        out += [f"| {c} | {w} | " + " | ".join(_fmt(d.get(n), 1) for n in names) + " |" for c, w, d in loads]
    for e in entries:
        r = e["runs"][0]
        if e["measurement"] == "leaderboard":
            out += ["", f"`pitchlab leaderboard` on the demo database: {r['wall_s']:.2f} s (median of "
                    f"{len(r['runs'])}; the Python interpreter alone starts in {r['python_alone_s']:.2f} s)."]
        if e["measurement"] == "whisper_threads":
            one, two = r["one_process_two_threads_s"], r["two_processes_one_thread_s"]
            out += ["", f"Whisper alone on the channels of {r['calls']} demo calls, models loaded: one process with "
                    f"two CTranslate2 threads {one:.1f} s, two processes with one thread each (half the calls each, "
                    f"at the same time) {two:.1f} s."]
    return out + [""]


def _overlap(doc) -> list[str]:
    entries = _entries(doc, "overlap")
    if not entries:
        return []
    out = ["## Overlap: Whisper on the next call while this one is analyzed", "",
           "The demo calls through `pipeline.analyze.analyze`, models loaded first, one after the other in one run. "
           "`one at a time`: the default (`Settings(overlap=False)`); `overlapped`: `analyze.overlapped`; a "
           "checkout named by `--base` measured with its own code.", "",
           "| way | calls | audio | wall | CPU | RTF | RTF incl. load | load |", "|---|---|---|---|---|---|---|---|"]
    for e in entries:
        r, p = e["runs"][0], e["params"]
        way = (f"checkout {p['checkout']}" if "checkout" in p else "overlapped" if p.get("overlap", True)
               else "one at a time")
        load = sum(r["load_s"].values())
        out.append(f"| {way} | {r['processed']} | {r['audio_s'] / 60:.1f} min | {r['wall_s']:.1f} s | "
                   f"{_fmt(r.get('cpu_s'), 1, ' s')} | "
                   f"{r['audio_s'] / r['wall_s']:.1f}× | {r['audio_s'] / (r['wall_s'] + load):.1f}× | {load:.1f} s |")
    return out + [""]


def _encoder(doc) -> list[str]:
    entries = _entries(doc, "encoder")
    if not entries:
        return []
    out = ["## Whisper's encoder: whole 30 s windows against windows cut after their audio", "",
           "The demo calls, tiny.en, each way into an empty database, models loaded first, one after the other in "
           "one run. `30 s`: every window encoded whole, as faster-whisper does (`ENCODER_STEP_S = 0`); `cut`: each "
           "window cut after its audio plus 1 s, in steps of 10 s (`pipeline.audio.transcribe.encoder_window`, the "
           "default for wideband calls). CPU counts all threads. Telephone-band calls are encoded in whole windows "
           "either way (`windows_for`: cut windows lost 2-3 times the words of real speech through the line), so "
           "here only the 14 `.mp3` demo calls differ.", "",
           "| set | encoder | calls | audio | wall | CPU | transcribe | RTF | RTF incl. load |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        r, p = e["runs"][0], e["params"]
        out.append(f"| {_set_name(e)} | {'30 s' if p.get('encoder_step') == 0 else 'cut'} | "
                   f"{_run_cells(r, 'transcribe')} |")
    return out + [""]


def _run_cells(r, stage: str) -> str:
    """calls | audio | wall | CPU | the stage's seconds | RTF | RTF incl. load, of one analyze run."""
    load = sum(r["load_s"].values())
    return (f"{r['processed']} | {r['audio_s'] / 60:.1f} min | {r['wall_s']:.1f} s | {_fmt(r.get('cpu_s'), 1, ' s')} | "
            f"{r['stages_s'].get(stage, 0):.1f} s | {r['audio_s'] / r['wall_s']:.1f}× | "
            f"{r['audio_s'] / (r['wall_s'] + load):.1f}×")


def _rehear(doc) -> list[str]:
    entries = _entries(doc, "rehear")
    if not entries:
        return []
    out = ["## Telephone replies heard again", "",
           "The telephone set (`scripts/make_phone_calls.py`), tiny.en, into an empty database, models loaded first, "
           "one run after the other: each reply to a pitch heard again by Moonshine base before it is scored "
           "(`pipeline/language/rehear.py`, the default) and not (`PITCHLAB_REHEAR=0`). CPU counts all threads.", "",
           "| replies | calls | audio | wall | CPU | hear again | RTF | RTF incl. load | Moonshine load |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:  # a skipped telephone set is not among them: "Skipped in this run" names it
        r = e["runs"][0]
        out.append(f"| {'heard again' if r.get('rehear') else 'transcript words'} | {_run_cells(r, 'hear again')} | "
                   f"{_fmt(r['load_s'].get('load:moonshine'), 1, ' s')} |")
    return out + [""]


def _workers(doc) -> list[str]:
    entries = _entries(doc, "workers")
    if not entries:
        return []
    out = ["## Worker processes: one process of 2 threads against 2 processes of 1 thread", "",
           "`pitchlab analyze` of the demo calls into an empty database, from nothing loaded: wall time includes "
           "model loading (each worker process loads its own). `--workers 1`: one process, the default; "
           "`--workers 2 --threads 1`: `pipeline/pool.py`. CPU counts the worker processes; memory is the driver's peak and the "
           "largest worker's.", "",
           "| way | calls | audio | wall incl. load | CPU | RTF incl. load | peak memory |",
           "|---|---|---|---|---|---|---|"]
    for e in entries:
        r = e["runs"][0]
        way = f"--workers {r.get('workers', 1)} --threads {r.get('threads', '?')}"
        memory = f"{r['peak_rss_mb']:.0f} MB" + (f" + {r['worker_peak_rss_mb']:.0f} MB a worker"
                                                  if r.get("worker_peak_rss_mb") else "")
        out.append(f"| {way} | {r['processed']} | {r['audio_s'] / 60:.1f} min | {r['wall_s']:.1f} s | "
                   f"{_fmt(r.get('cpu_s'), 1, ' s')} | {r['audio_s'] / r['wall_s']:.1f}× | {memory} |")
    return out + [""]


def _libraries(doc) -> list[str]:
    entries = _entries(doc, "libraries")
    if not entries:
        return []
    out = ["## Our algorithms against scikit-learn, SciPy and statsmodels", "",
           "The same input through our hand-written version and the library's, runs alternating, medians "
           "(`bench/libraries_bench.py`); `used` is what the product calls now, `difference` how far apart the "
           "answers are (largest absolute difference unless said). Why each was switched or kept: "
           "docs/libraries.md.", "",
           "| algorithm | size | ours | library | library / ours | difference | used |", "|---|---|---|---|---|---|---|"]
    extra = []
    for entry in entries:
        run = entry["runs"][0]
        for r in run["rows"]:
            diff = r["difference"]
            if isinstance(diff, float):
                diff = f"{diff:.1e}" + (" relative" if r.get("difference_is") == "relative" else "")
            if "cosine_inertia" in r:
                i = r["cosine_inertia"]
                diff += f"; cosine inertia {i['ours']:,.0f} ours, {i['library']:,.0f} library"
            out.append(f"| {r['what']} | {r['size']} | {_seconds(r['ours_s'])} | {_seconds(r['library_s'])} | "
                       f"{r['library_s'] / r['ours_s']:.2f}× | {diff} | {r['uses']} |")
    imports = entries[0]["runs"][0].get("import_s")
    if imports:
        extra.append("Imports, not in the rows (each library is imported before its first timed call), in the first "
                     "process, in this order: " + ", ".join(f"`{m}` {s:.1f} s" for m, s in imports.items()) + ".")
    return out + ([""] + extra if extra else []) + [""]


def _seconds(s: float) -> str:
    return f"{s * 1e6:,.0f} µs" if s < 1e-3 else f"{s * 1e3:,.1f} ms" if s < 1 else f"{s:,.2f} s"
