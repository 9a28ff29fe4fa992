"""Opens a database or runs the real `analyze` (fake models) in a subprocess that tests kill at chosen points.

Usage: python tests/db_runner.py open DB [--pause POINT] [--slow-checkpoint-at VERSION]
       python tests/db_runner.py analyze INBOX DB [--pause POINT] [--chunk N] [--slow-checkpoint-at close]
       python tests/db_runner.py retry DB            (the real CLI `retry`, pausing with its write committed)

It prints each point it passes (`migration-start 3`: migrations 1-2 committed, 3 not begun;
`migration-open 3`: migration 3's statements run, not committed; `opened`; `store-open 2`: the
second write's rows inserted, not committed; `stored 2`: committed; `closing`: a database is
about to be closed, which checkpoints), flushed, and at the point named by --pause prints
`paused` and sleeps until it is killed. --slow-checkpoint-at makes DuckDB sleep inside the
checkpoint that commits that migration, or that closing makes, so a kill can land in it.
"""

import argparse
import functools
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import FakeModels, ScriptTranscriber, words  # noqa: E402
from pipeline import analyze, cli  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.storage import db, migrations, store  # noqa: E402

REP = words("Hi, this is Dana from Clipcast. You see exactly who watched your video.", 0.0, segment=0) \
    + words("Every view syncs into Salesforce automatically.", 8.0, segment=1)
PROSPECT = words("Oh nice, how does that work?", 5.0, segment=0) + words("We already have a CRM.", 12.0, segment=1)

PAUSE = ""
SLOW_CHECKPOINT = "60000"  # ms DuckDB sleeps in a checkpoint, between writing a table's blocks and installing them


def point(name: str) -> None:
    print(name, flush=True)
    if name == PAUSE:
        print("paused", flush=True)
        time.sleep(3600)


def slow_checkpoints(con) -> None:
    con.execute(f"SET debug_checkpoint_scan_sleep_ms = {SLOW_CHECKPOINT}")


def watch_migrations(slow_at: str) -> None:
    def watched(version, migration):
        @functools.wraps(migration)
        def run(con):
            point(f"migration-start {version}")
            migration(con)
            if slow_at == str(version):
                slow_checkpoints(con)  # the commit's checkpoint
            point(f"migration-open {version}")
        return run

    migrations.MIGRATIONS[:] = [watched(v, m) for v, m in enumerate(migrations.MIGRATIONS, start=1)]


def watch_writes() -> None:
    writes = {"n": 0, "in_write": False}
    write_calls, transaction = store.write_calls, store.transaction

    def watched_write(con, calls):
        writes["n"] += 1
        writes["in_write"] = True
        try:
            write_calls(con, calls)
        finally:
            writes["in_write"] = False
        point(f"stored {writes['n']}")

    @contextmanager
    def watched_transaction(con):
        with transaction(con) as t:
            yield t
            if writes["in_write"]:
                point(f"store-open {writes['n']}")

    store.write_calls = watched_write
    store.transaction = watched_transaction


def watch_closing(slow: bool) -> None:
    opened = db.opened

    @contextmanager
    def watched(*args, **kwargs):
        with opened(*args, **kwargs) as con:
            yield con
            if slow and not kwargs.get("read_only"):
                slow_checkpoints(con)  # the checkpoint that closing makes
            point("closing")

    db.opened = watched


def main() -> None:
    global PAUSE
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["open", "analyze", "retry"])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--pause", default="")
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--slow-checkpoint-at", default="", help="a migration's version, or `close`")
    args = parser.parse_args()
    PAUSE = args.pause
    watch_migrations(args.slow_checkpoint_at)
    watch_closing(args.slow_checkpoint_at == "close")
    if args.mode == "open":
        db.connect(args.paths[0]).close()
        point("opened")
    elif args.mode == "analyze":
        watch_writes()
        inbox, path = args.paths
        settings = Settings(inbox=inbox, db=path, progress=False, chunk_calls=args.chunk)
        summary = analyze.analyze(settings, models=FakeModels(ScriptTranscriber([REP, PROSPECT])))
        point(f"analyzed {summary.processed}")
    else:
        def clear_and_hold(con, files=None):
            con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('held.wav', 'held')")
            point("written")
            return 0

        store.clear_errors = clear_and_hold  # `retry` imports it from store when it runs
        cli.main(["retry", "--db", str(args.paths[0])])
        point("done")


if __name__ == "__main__":
    main()
