"""`python -m bench [--quick] [--out DIR]`: run every measurement, write BENCHMARKS.md and .json.

The full run (what `make bench` does) takes about 2 hours on a 2-core machine, most of it the
transcript batches (10,000 calls the largest);
--quick uses small sizes (a few minutes) for working on the benchmarks themselves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
    "fit": [("fit", {"n": 10_000, "fitter": "numpy"}, 1)],
    "fit_engines": [("fit_engines", {"n": n}, 1) for n in (10_000, 100_000)],
    "kmeans_start": [("kmeans_start", {"n": 100_000}, 1)],
    "assign": [("assign", {"n": n}, 1) for n in (10_000, 100_000, 1_000_000)],
    "incremental": [("incremental", {"db_calls": 10_000}, 1)],
    "write_call": [("write_call", {"calls": 10}, 1)],
    "transcripts": [("transcripts", {"calls": n}, 1) for n in (1_000, 2_000, 10_000)],
}
QUICK = {
    "throughput": [("throughput", {"model": "tiny.en", "calls": 3}, 2),
                   ("throughput", {"model": "base", "calls": 2}, 1)],
    "scaling": [("throughput", {"model": "tiny.en", "calls": n}, 1) for n in (1, 2, 4)],
    "naive": [("naive", {"model": "tiny.en", "calls": 2}, 1)],
    "fit": [("fit", {"n": 1_000, "fitter": "numpy"}, 1)],
    "fit_engines": [("fit_engines", {"n": n, "repeats": 2}, 1) for n in (1_000, 5_000)],
    "kmeans_start": [("kmeans_start", {"n": 5_000}, 1)],
    "assign": [("assign", {"n": n}, 1) for n in (1_000, 10_000)],
    "incremental": [("incremental", {"db_calls": 200}, 1)],
    "write_call": [("write_call", {"calls": 3}, 1)],
    "transcripts": [("transcripts", {"calls": n}, 1) for n in (100, 200)],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for developing the benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT, help="folder for BENCHMARKS.md and BENCHMARKS.json")
    parser.add_argument("--only", nargs="*", help="run only these groups (%s)" % ", ".join(FULL))
    parser.add_argument("--render", type=Path, metavar="JSON", help="only rewrite BENCHMARKS.md from a BENCHMARKS.json")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the groups run now in the existing BENCHMARKS.json of --out, keep the rest")
    parser.add_argument("--transcript-calls", type=int, nargs="+", metavar="N",
                        help="batch sizes for the transcripts group instead of the plan's")
    args = parser.parse_args(argv)
    if args.render:
        (args.out / "BENCHMARKS.md").write_text(render(json.loads(args.render.read_text())))
        return 0
    plan = dict(QUICK if args.quick else FULL)
    if args.transcript_calls:
        plan["transcripts"] = [("transcripts", {"calls": n}, 1) for n in args.transcript_calls]
    groups = [g for g in plan if not args.only or g in args.only]
    started = time.perf_counter()
    results: dict[str, list[dict]] = {}
    load = [os.getloadavg()[0]]
    for group in groups:
        for name, params, repeats in plan[group]:
            runs = []
            for r in range(repeats):
                print(f"bench: {group}: {name} {params} run {r + 1}/{repeats}", file=sys.stderr, flush=True)
                t = time.perf_counter()
                runs.append(run_child(name, params))
                print(f"bench:   {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
                load.append(os.getloadavg()[0])
            results.setdefault(group, []).append({"measurement": name, "params": params, "runs": runs})
    doc = {
        "date": dt.date.today().isoformat(),
        "mode": "quick" if args.quick else "full",
        "command": ("python -m bench" + (" --quick" if args.quick else "") + (" --only " + " ".join(args.only)
                    if args.only else "") + (" --transcript-calls " + " ".join(map(str, args.transcript_calls))
                    if args.transcript_calls else "") + (" --merge" if args.merge else ""))
                   if argv_given(args) else "make bench",
        "machine": machine(),
        "load_average_1min": {"min": min(load), "max": max(load)},
        "total_s": time.perf_counter() - started,
        "results": results,
    }
    if args.merge and (args.out / "BENCHMARKS.json").exists():
        doc = merged(json.loads((args.out / "BENCHMARKS.json").read_text()), doc)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "BENCHMARKS.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out / "BENCHMARKS.md").write_text(render(doc))
    print(f"bench: wrote {args.out / 'BENCHMARKS.md'} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


def argv_given(args: argparse.Namespace) -> bool:
    return bool(args.quick or args.only or args.merge or args.transcript_calls)


def merged(old: dict, new: dict) -> dict:
    """The old document with the new run's groups replacing its own, each replaced group's run recorded."""
    doc = dict(old, results={**old["results"], **new["results"]}, merged=dict(old.get("merged", {})))
    for group in new["results"]:
        doc["merged"][group] = {k: new[k] for k in ("date", "mode", "command", "load_average_1min", "total_s")}
        doc["merged"][group]["commit"] = new["machine"]["commit"]
    return doc


if __name__ == "__main__":
    sys.exit(main())
