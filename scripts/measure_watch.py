"""Seconds from dropping a recording into a watched inbox to its call being stored (real models).

Usage: PYTHONPATH=. python scripts/measure_watch.py   (uses tests/data/calls/, a temporary inbox)
"""

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "tests" / "data" / "calls"


def wait_for(log: Path, text: str, count: int = 1) -> float:
    while log.read_text().count(text) < count:
        time.sleep(0.05)
    return time.monotonic()


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    inbox, log = tmp / "inbox", tmp / "watch.log"
    inbox.mkdir()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch", "--inbox", str(inbox),
                             "--db", str(tmp / "calls.duckdb")], stderr=open(log, "w"), cwd=ROOT)
    ready = wait_for(log, "watching ")
    print(f"start-up to watching: {ready - started:.1f} s")
    for n, name in enumerate(["short_stereo.wav", "short_mono.mp3"], start=1):
        dropped = time.monotonic()
        shutil.copy(CALLS / name, inbox / name)
        read = wait_for(log, f"analyzing {name}")
        stored = wait_for(log, f"stored {name}")
        print(f"{name}: read after {read - dropped:.1f} s (settle 3 s), stored after {stored - dropped:.1f} s")
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
