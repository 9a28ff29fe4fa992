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
                        help="keep the other groups' results of the BENCHMARKS.json in --out (with --only)")
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
    earlier = args.out / "BENCHMARKS.json"
    if args.merge and earlier.is_file():  # only these groups measured again; when and under what load is kept
        doc = json.loads(earlier.read_text())
        doc["results"].update(results)
        doc.setdefault("updates", []).append({
            "groups": groups, "date": dt.date.today().isoformat(), "commit": machine()["commit"],
            "load_average_1min": {"min": min(load), "max": max(load)}, "total_s": time.perf_counter() - started})
    else:
        doc = {
            "date": dt.date.today().isoformat(),
            "mode": "quick" if args.quick else "full",
            "command": "make bench" if not args.quick else "python -m bench --quick",
            "machine": machine(),
            "load_average_1min": {"min": min(load), "max": max(load)},
            "total_s": time.perf_counter() - started,
            "results": results,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "BENCHMARKS.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out / "BENCHMARKS.md").write_text(render(doc))
    print(f"bench: wrote {args.out / 'BENCHMARKS.md'} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
