"""Time one `analyze` batch of N generated transcript calls with whichever `pipeline` comes first on PYTHONPATH.

For a before/after on the same calls and the same machine state, e.g. the per-call
path of commit 1ff484c against the chunked one:

    git archive 1ff484c pipeline | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old HF_HUB_OFFLINE=1 .venv/bin/python scripts/time_transcripts.py 200
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/time_transcripts.py 200

The calls come from this checkout's bench/transcripts_batch.py (loaded by path, so an
older `pipeline` can analyze them). Models are loaded before the clock starts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

GENERATOR = Path(__file__).resolve().parent.parent / "bench" / "transcripts_batch.py"


def main(calls: int) -> dict:
    spec = importlib.util.spec_from_file_location("transcripts_batch", GENERATOR)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    import pipeline
    from pipeline.analyze import Models, analyze
    from pipeline.core.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        gen.write_calls(inbox, calls, 40)
        settings = Settings(inbox=inbox, db=Path(tmp) / "t.duckdb", outcomes=inbox / "outcomes.csv",
                            rep_names=tuple(gen.REPS), progress=False)
        models = Models(settings)
        models.splitter, models.embedder, models.kinds, models.scorer  # noqa: B018 (loaded before the clock)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        summary = analyze(settings, models=models)
        wall = time.perf_counter() - started
    return {"pipeline": str(Path(pipeline.__file__).parent), "calls": calls, "processed": summary.processed,
            "wall_s": round(wall, 1), "calls_per_s": round(summary.processed / wall, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)], "clustering": summary.clustering}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
