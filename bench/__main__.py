"""`python -m bench [--quick] [--only G ...] [--skip G ...] [--merge] [--out DIR]`: measure, write BENCHMARKS.md and .json.

Every group at full size takes about 2 hours on a 2-core machine, most of it the transcript
batches (1,000, 2,000 and 10,000 calls); `make bench` runs the rest (well over an hour; `--only G` one group) and keeps
the transcript rows of BENCHMARKS.json, `make bench-transcripts` runs those alone.
--quick uses small sizes (a few minutes) for working on the benchmarks themselves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, machine, run_child
from .report import render

# name -> list of (measurement, params, repeats); repeats of a measurement are separate processes.
FULL = {
    "throughput": [("throughput", {"model": "tiny.en", "calls": 28}, 3),
                   ("throughput", {"model": "base", "calls": 28}, 1)],
    "scaling": [("throughput", {"model": "tiny.en", "calls": n}, 1) for n in (1, 10, 50)],
    "naive": [("naive", {"model": "tiny.en", "calls": 28}, 1)],
    # sequential vs batched Whisper decoding, batch sizes, VAD settings, threads, side by side (about 8 min)
    "batch": [("batch", {"model": "tiny.en", "calls": 28, "threads": [1, 2]}, 1)],
    # the 30 calls of scripts/make_phone_calls.py (8 kHz line, codecs) beside the 28 demo calls
    "phone": [("throughput", {"model": "tiny.en", "calls": 28}, 1), ("phone_throughput", {"model": "tiny.en"}, 1)],
    "fit": [("fit", {"n": n, "fitter": "numpy"}, 1) for n in (10_000, 100_000, 1_000_000)]
    + [("fit", {"n": n, "fitter": "wordings"}, 1) for n in (10_000, 100_000)],
    # at 1M one run of each engine, 5 passes each: the SQL fit takes about a minute a pass
    "fit_engines": [("fit_engines", {"n": n}, 1) for n in (10_000, 100_000)]
    + [("fit_engines", {"n": 1_000_000, "repeats": 1, "iterations": 5}, 1)],
    "assign": [("assign", {"n": n}, 1) for n in (10_000, 100_000, 1_000_000)],
    "reassign": [("reassign", {"n": n}, 1) for n in (10_000, 100_000)],
    "incremental": [("incremental", {"db_calls": 10_000}, 1)],
    "write_call": [("write_call", {"calls": 10}, 1)],
    "waste": [("decode_gc", {}, 1), ("voice_split", {}, 1)],
    "transcripts": [("transcripts", {"calls": n}, 1) for n in (1_000, 2_000, 10_000)],
    "ray": [("ray", {"calls": 28}, 1)],  # needs the ray extra (make setup-ray)
    "long_call": [("long_call", {"cues": 100_000}, 1)],
    # `pitchlab analyze` of one call to its first stored call, cold and warm; `--base DIR` adds a checkout's figures
    "startup": [("startup", {"warm_cache": False}, 1), ("startup", {"warm_cache": True}, 1),
                ("leaderboard", {}, 1), ("whisper_threads", {"calls": 6}, 1)],
    # the demo calls one at a time, then with Whisper on the next call while this one is analyzed (analyze.overlapped)
    "overlap": [("throughput", {"model": "tiny.en", "calls": 28, "overlap": False}, 1),
                ("throughput", {"model": "tiny.en", "calls": 28, "overlap": True}, 1)],
    # Whisper's encoder reading whole 30 s windows (0) against windows cut after their audio (10 s steps,
    # transcribe.ENCODER_STEP_S), the demo calls, models loaded first (about 5 min). Telephone-band calls are
    # encoded in whole windows whatever the step (transcribe.windows_for): the telephone set was measured here
    # until then (BENCHMARKS.md keeps that run's rows)
    "encoder": [("throughput", {"model": "tiny.en", "calls": 28, "encoder_step": step}, 1) for step in (0, 10)],
    # the telephone set with its replies heard again by Moonshine (the default) and without (PITCHLAB_REHEAR=0),
    # models loaded first, one after the other (about 5 min)
    "rehear": [("phone_throughput", {"model": "tiny.en", "rehear": way}, 1) for way in (False, True)],
    # `pitchlab analyze` of the demo calls from nothing loaded (model loading included): one process of 2 threads,
    # then 2 worker processes of 1 thread each (--workers 2 --threads 1, pipeline/pool.py), side by side
    "workers": [("throughput", {"model": "tiny.en", "calls": 28, "overlap": False, "cold": True}, 1),
                ("throughput", {"model": "tiny.en", "calls": 28, "overlap": False, "workers": 2, "threads": 1}, 1)],
    # ours against scikit-learn, SciPy and statsmodels (docs/libraries.md): 37 min at a load average of 22-34, most
    # of it the 1M row (our Fisher p: 36 s on a quiet machine, 228 s then; k-means passes both ways)
    "libraries": [("libraries_sample", {}, 1)] + [("libraries", {"n": n}, 1) for n in (100_000, 1_000_000)],
}
QUICK = {
    "throughput": [("throughput", {"model": "tiny.en", "calls": 3}, 2),
                   ("throughput", {"model": "base", "calls": 2}, 1)],
    "scaling": [("throughput", {"model": "tiny.en", "calls": n}, 1) for n in (1, 2, 4)],
    "naive": [("naive", {"model": "tiny.en", "calls": 2}, 1)],
    "batch": [("batch", {"model": "tiny.en", "calls": 2, "threads": [1, 2]}, 1)],
    "phone": [("throughput", {"model": "tiny.en", "calls": 3}, 1), ("phone_throughput", {"model": "tiny.en"}, 1)],
    "fit": [("fit", {"n": n, "fitter": "numpy"}, 1) for n in (1_000, 10_000)]
    + [("fit", {"n": n, "fitter": "wordings"}, 1) for n in (1_000, 10_000)],
    "fit_engines": [("fit_engines", {"n": n, "repeats": 2}, 1) for n in (1_000, 5_000)],
    "assign": [("assign", {"n": n}, 1) for n in (1_000, 10_000)],
    "reassign": [("reassign", {"n": n}, 1) for n in (1_000, 10_000)],
    "incremental": [("incremental", {"db_calls": 200}, 1)],
    "write_call": [("write_call", {"calls": 3}, 1)],
    "waste": [("decode_gc", {"repeats": 1}, 1), ("voice_split", {"repeats": 1}, 1)],
    "transcripts": [("transcripts", {"calls": n}, 1) for n in (100, 200)],
    "ray": [("ray", {"calls": 4}, 1)],
    "long_call": [("long_call", {"cues": 10_000}, 1)],
    "startup": [("startup", {"warm_cache": True, "runs": 1}, 1), ("leaderboard", {"runs": 2}, 1),
                ("whisper_threads", {"calls": 2}, 1)],
    "overlap": [("throughput", {"model": "tiny.en", "calls": 3, "overlap": False}, 1),
                ("throughput", {"model": "tiny.en", "calls": 3, "overlap": True}, 1)],
    "encoder": [("throughput", {"model": "tiny.en", "calls": 3, "encoder_step": step}, 1) for step in (0, 10)],
    "rehear": [("phone_throughput", {"model": "tiny.en", "rehear": way}, 1) for way in (False, True)],
    "workers": [("throughput", {"model": "tiny.en", "calls": 3, "overlap": False, "cold": True}, 1),
                ("throughput", {"model": "tiny.en", "calls": 3, "overlap": False, "workers": 2, "threads": 1}, 1)],
    "libraries": [("libraries_sample", {"repeats": 1, "select_max_k": 5}, 1), ("libraries", {"n": 10_000}, 1)],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for developing the benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT, help="folder for BENCHMARKS.md and BENCHMARKS.json")
    parser.add_argument("--only", nargs="*", help="run only these groups (%s)" % ", ".join(FULL))
    parser.add_argument("--skip", nargs="*", default=[], help="run every group but these")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only rewrite BENCHMARKS.md from a BENCHMARKS.json")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the groups run now in the existing BENCHMARKS.json of --out, keep the rest")
    parser.add_argument("--base", type=Path, metavar="DIR",
                        help="also measure start-up (group startup) and throughput (group overlap) on this other checkout, in the same "
                        "run, for a before/after (e.g. git worktree add /tmp/base main)")
    parser.add_argument("--transcript-calls", type=int, nargs="+", metavar="N",
                        help="batch sizes for the transcripts group instead of the plan's")
    parser.add_argument("--batch-calls", type=int, metavar="N",
                        help="demo calls for the batch group instead of the plan's 28 (a busy machine)")
    args = parser.parse_args(argv)
    if args.render:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "BENCHMARKS.md").write_text(render(json.loads(args.render.read_text())))
        return 0
    plan = dict(QUICK if args.quick else FULL)
    if args.transcript_calls:
        plan["transcripts"] = [("transcripts", {"calls": n}, 1) for n in args.transcript_calls]
    if args.base:
        base = str(args.base.resolve())
        plan["startup"] = [e for m, p, r in plan["startup"]
                           for e in ([(m, p, r), (m, dict(p, root=base), r)] if m == "startup" else [(m, p, r)])]
        plan["overlap"] = plan["overlap"] + [("throughput", {**plan["overlap"][0][1], "checkout": base}, 1)]
    if args.batch_calls:
        plan["batch"] = [(name, dict(params, calls=args.batch_calls), r) for name, params, r in plan["batch"]]
    unknown = sorted((set(args.only or []) | set(args.skip)) - set(plan))
    if unknown:
        parser.error(f"no such group: {', '.join(unknown)} (groups: {', '.join(plan)})")
    groups = [g for g in plan if (not args.only or g in args.only) and g not in args.skip]
    started = time.perf_counter()
    results: dict[str, list[dict]] = {}
    failed: list[str] = []
    skipped: list[str] = []
    load = [os.getloadavg()[0]]
    old = (json.loads((args.out / "BENCHMARKS.json").read_text())
           if args.merge and (args.out / "BENCHMARKS.json").exists() else None)
    for group in groups:
        for name, params, repeats in plan[group]:
            runs = []
            for r in range(repeats):
                print(f"bench: {group}: {name} {params} run {r + 1}/{repeats}", file=sys.stderr, flush=True)
                t = time.perf_counter()
                try:
                    result = run_child(name, params)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:  # the rest still runs
                    print(f"bench:   FAILED: {exc}", file=sys.stderr, flush=True)
                    failed.append(f"{group}: {name} {json.dumps(params)}")
                    break
                if "skipped" in result:  # a measurement that cannot run here says why (e.g. an extra not installed)
                    print(f"bench:   SKIPPED: {result['skipped']}", file=sys.stderr, flush=True)
                    skipped.append(f"{group}: {name}: {result['skipped']}")
                    break
                runs.append(result)
                print(f"bench:   {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
                load.append(os.getloadavg()[0])
            if runs:
                results.setdefault(group, []).append({"measurement": name, "params": params, "runs": runs})
        # written after every group, so a long run that stops part way keeps what it measured
        write(args, old, document(args, started, load, results, failed, skipped))
    print(f"bench: wrote {args.out / 'BENCHMARKS.md'} in {time.perf_counter() - started:.0f} s"
          + (f"; {len(failed)} measurement(s) failed: {'; '.join(failed)}" if failed else "")
          + (f"; skipped: {'; '.join(skipped)}" if skipped else ""), file=sys.stderr)
    return 1 if failed else 0


def document(args: argparse.Namespace, started: float, load: list[float], results: dict, failed: list[str],
             skipped: list[str] = ()) -> dict:
    return {
        "date": dt.date.today().isoformat(),
        "mode": "quick" if args.quick else "full",
        "command": ("python -m bench" + (" --quick" if args.quick else "") + (" --only " + " ".join(args.only)
                    if args.only else "") + (" --skip " + " ".join(args.skip) if args.skip else "")
                    + (" --transcript-calls " + " ".join(map(str, args.transcript_calls))
                    if args.transcript_calls else "")
                    + (f" --batch-calls {args.batch_calls}" if args.batch_calls else "")
                    + (" --merge" if args.merge else ""))
                   if argv_given(args) else "make bench",
        "machine": machine(),
        "load_average_1min": {"min": min(load), "max": max(load)},
        "total_s": time.perf_counter() - started,
        "results": dict(results),
        "failed": list(failed),
        "skipped": list(skipped),
    }


def write(args: argparse.Namespace, old: dict | None, doc: dict) -> None:
    if old is not None:
        doc = merged(old, doc)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "BENCHMARKS.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out / "BENCHMARKS.md").write_text(render(doc))


def argv_given(args: argparse.Namespace) -> bool:
    return bool(args.quick or args.only or args.skip or args.merge or args.transcript_calls or args.batch_calls)


def merged(old: dict, new: dict) -> dict:
    """The new run's document, keeping the old document's groups that this run did not measure
    (those the plan still has), each kept group with the run it came from (`merged`)."""
    kept = {g: r for g, r in old["results"].items() if g not in new["results"] and g in FULL}
    doc = dict(new, results={g: new["results"][g] if g in new["results"] else kept[g]
                             for g in FULL if g in new["results"] or g in kept}, merged={})
    for group in kept:
        run = old.get("merged", {}).get(group)
        if run is None:
            run = {k: old[k] for k in ("date", "mode", "command", "load_average_1min", "total_s")}
            run["commit"] = old["machine"]["commit"]
        doc["merged"][group] = run
    return doc


if __name__ == "__main__":
    sys.exit(main())
