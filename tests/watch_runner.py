"""Runs the real watcher, `pipeline.watch.watch`, with the test fakes for models: a subprocess for tests.

Usage: python tests/watch_runner.py INBOX DB [OUTCOMES]   (env RUNNER_WORKERS=2: two worker processes)
"""

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import FakeModels, ScriptTranscriber, words  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.watch import WatchTiming, stop_on_signals, watch  # noqa: E402

REP = words("Hi, this is Dana from Clipcast. You see exactly who watched your video.", 0.0, segment=0)
PROSPECT = words("Oh nice, how does that work?", 5.0, segment=0)
FAST = WatchTiming(settle_s=1.0, poll_s=0.2, debounce_s=1.5, max_stale_s=60.0, busy_retry_s=0.3, resync_s=1.0)



def runner_models(settings) -> FakeModels:
    """A worker process's models (RUNNER_WORKERS): the same fakes."""
    return FakeModels(ScriptTranscriber([REP, PROSPECT]))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    inbox, db = Path(sys.argv[1]), Path(sys.argv[2])
    outcomes = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    workers = int(os.environ.get("RUNNER_WORKERS", "1"))
    settings = Settings(inbox=inbox, db=db, outcomes=outcomes, progress=False, workers=workers)
    models = FakeModels(ScriptTranscriber([REP, PROSPECT]))
    summary = watch(settings, models=models, stop=stop_on_signals(), timing=FAST, make_models=runner_models)
    print(f"stopped: {summary.processed} analyzed, {summary.failed} failed")
