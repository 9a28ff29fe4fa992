"""Runs `analyze` with 2 worker processes whose transcriber hangs (ray_fakes.SlowModels), for tests to kill.

Usage: python tests/pool_runner.py INBOX DB PIDS   (each worker writes its pid into the folder PIDS once it
is on a recording; the runner prints `interrupted` on Ctrl-C, as the CLI does)
"""

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline.analyze import analyze  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from ray_fakes import SlowModels, fake_models  # noqa: E402

if __name__ == "__main__":  # a spawned worker imports this file as its __main__: it must not run it again
    # Ctrl-C as from a terminal: a test suite started in the background (`make test &`, a CI script's `&`) hands its
    # children SIGINT ignored, and Python then keeps ignoring it, so the Ctrl-C test would wait for ever
    signal.signal(signal.SIGINT, signal.default_int_handler)
    inbox, path, pids = map(Path, sys.argv[1:4])
    try:
        analyze(Settings(inbox=inbox, db=path, progress=False, workers=2, cpu_threads=1), models=fake_models(),
                make_models=SlowModels(pids))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
