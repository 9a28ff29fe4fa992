"""One measurement in its own process: `python -m bench.child NAME '{"param": ...}'`; prints JSON."""

from __future__ import annotations

import json
import logging
import sys

from . import (cluster_bench, descriptors_bench, libraries_bench, long_call, pipeline_bench, ray_bench, startup_bench,
               store_bench, transcripts_batch, waste_bench, whisper_bench)

MEASUREMENTS = {
    "throughput": pipeline_bench.throughput,
    "phone_throughput": pipeline_bench.phone_throughput,
    "incremental": pipeline_bench.incremental,
    "naive": whisper_bench.naive_vs_channels,
    "batch": whisper_bench.batched_vs_sequential,
    "fit": cluster_bench.fit,
    "fit_engines": cluster_bench.fit_engines,
    "assign": cluster_bench.assign,
    "reassign": descriptors_bench.reassign,
    "write_call": store_bench.write_call,
    "decode_gc": waste_bench.decode_gc,
    "voice_split": waste_bench.voice_split,
    "transcripts": transcripts_batch.transcripts,
    "ray": ray_bench.ray_vs_local,
    "long_call": long_call.long_call,
    "startup": startup_bench.startup,
    "leaderboard": startup_bench.leaderboard,
    "whisper_threads": startup_bench.whisper_threads,
    "libraries": libraries_bench.libraries,
    "libraries_sample": libraries_bench.libraries_sample,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    name, params = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = MEASUREMENTS[name](**params)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
