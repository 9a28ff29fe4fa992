"""Opening the DuckDB file: every open applies pending migrations; no kill leaves a file that cannot be opened.

Crash safety (docs/crash-safety.md). A committed transaction is in DuckDB's write-ahead log
(`FILE.wal`) until a checkpoint moves it into the file, and the next open replays that log.
DuckDB 1.5 cannot replay an `ALTER TABLE` of a table whose column has a function default
(`processed_at ... DEFAULT current_timestamp`) when it opens the file itself
(duckdb/duckdb#18259): a run killed after such a migration left a file nothing could open.
So:
- a new file is built and migrated under a temporary name, flushed to disk and only then linked
  to its name: the name never holds a half-made database;
- a migration commits straight into the file, never through the log (each commit is a checkpoint,
  and DuckDB skips the log for it), so a kill leaves the file before or after that migration;
- the batch writes (inserts, updates, deletes) go through the log as usual: those replay;
- a log that still cannot be replayed (left by an older Pitchlab) is replayed with the file
  attached to an in-memory database, which DuckDB can do, and checkpointed; if even that fails,
  the open stops with one line saying what to do, and nothing is changed.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pipeline.core.errors import DatabaseBusy, PitchlabError
from pipeline.core.files import FILE_MODE, fsync, make_folders
from pipeline.storage import migrations

log = logging.getLogger(__name__)

# Each commit is a checkpoint into the file (threshold 0), made without writing the log first.
_COMMIT_INTO_FILE = {"checkpoint_threshold": "'0b'", "auto_checkpoint_skip_wal_threshold": "0"}


MEMORY = ":memory:"


def connect(path: Path | str, *, read_only: bool = False, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and bring its schema up to date.

    When another process holds the file, keep trying for up to `wait_s` seconds.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _open(Path(path), read_only=read_only)
        except DatabaseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def _open(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    if str(path) == MEMORY:  # tests and benchmarks: no file
        con = duckdb.connect(MEMORY)
        apply_migrations(con)
        return con
    if not path.exists():
        if read_only:
            raise PitchlabError(f"no database at {path}: run `pitchlab analyze` first")
        _create(path)
    con = _connect(path, read_only=read_only)
    pending = _checked(con, path, read_only=read_only) < len(migrations.MIGRATIONS)
    try:
        if pending and not read_only:
            apply_migrations(con)
    except BaseException:
        con.close()
        raise
    if pending and read_only:  # a file from an older pitchlab: bring it up to date once, then read
        con.close()
        _connect_and_migrate(path).close()
        return _connect(path, read_only=True)
    return con


def _checked(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> int:
    """`schema_version`; a refused file is closed as it was found (not even its own log checkpointed into it)."""
    try:
        return schema_version(con, path)
    except BaseException:
        if not read_only:
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.close()
        raise


def schema_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """How many migrations the file has; refuses (one line, nothing changed) a file Pitchlab must not touch:
    another program's DuckDB file (it has tables, but not Pitchlab's) or one from a newer Pitchlab."""
    try:
        names = dict(con.execute("SELECT version, name FROM schema_migrations").fetchall())
    except duckdb.Error:  # no such table, or another program's table of that name
        names = None
    if names is None or names.get(1) != migrations.MIGRATIONS[0].__name__:
        objects = _objects(con)  # slower (0.1 s): only when the file is new, empty or not Pitchlab's
        if objects and not (names == {} and objects == ["schema_migrations"]):  # that: killed while created
            shown = ", ".join(objects[:3]) + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")
            raise PitchlabError(f"{path} is another program's DuckDB file (it holds {shown}), not a Pitchlab "
                                "database; it was left as it was: name a new file with --db")
        return 0  # an empty DuckDB file: Pitchlab may make it its own
    newest, known = max(names), len(migrations.MIGRATIONS)
    if newest > known:
        raise PitchlabError(f"{path} was written by a newer Pitchlab (schema version {newest}; this one knows "
                            f"up to {known}); it was left as it was: upgrade pitchlab to use it")
    return len(names)


def _objects(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the file's tables, views, macros and sequences."""
    return sorted(r[0] for r in con.execute(
        """
        SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()
        UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = current_database()
        UNION ALL SELECT DISTINCT function_name FROM duckdb_functions() WHERE database_name = current_database()
        UNION ALL SELECT sequence_name FROM duckdb_sequences() WHERE database_name = current_database()
        """
    ).fetchall())


def _create(path: Path) -> None:
    """A new database, migrated under a temporary name, flushed, then linked to `path` (0600)."""
    try:
        make_folders(path.parent)
        _remove_abandoned(path)
    except OSError as exc:
        raise PitchlabError(f"cannot create {path} ({exc.strerror or exc}): choose another --db") from None
    tmp = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.new")
    _remove(tmp)
    try:
        con = _connect(tmp, read_only=False)
        try:
            apply_migrations(con)
        finally:
            con.close()  # closing checkpoints: everything is in the file, no log is left
        os.chmod(tmp, FILE_MODE)
        fsync(tmp)
        try:
            os.link(tmp, path)  # atomic, and never replaces a file another process made meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
        fsync(path.parent)
    except OSError as exc:
        raise PitchlabError(f"cannot create {path} ({exc.strerror or exc}): choose another --db") from None
    finally:
        _remove(tmp)


_HOST = "".join(c if c.isalnum() or c in "-_" else "_" for c in os.uname().nodename) or "host"


def _remove_abandoned(path: Path) -> None:
    """Temporary files of creations on this machine killed before they finished (their process is gone)."""
    prefix = f".{path.name}.{_HOST}."
    for name in os.listdir(path.parent):
        pid = name[len(prefix):-len(".new")]
        if name.startswith(prefix) and name.endswith(".new") and pid.isdigit() and not _alive(int(pid)):
            _remove(path.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _connect_and_migrate(path: Path) -> duckdb.DuckDBPyConnection:
    con = _connect(path, read_only=False)
    try:
        if _checked(con, path, read_only=False) < len(migrations.MIGRATIONS):
            apply_migrations(con)
    except BaseException:
        con.close()
        raise
    return con


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return _duckdb_connect(path, read_only=read_only)
    except duckdb.Error as exc:
        if "replaying WAL" not in str(exc):
            raise PitchlabError(f"cannot open {path} ({_first_line(exc)})") from None
        replay_log(path, exc)
    return _duckdb_connect(path, read_only=read_only)


def _duckdb_connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        first = _first_line(exc)
        if "lock" not in first.lower():
            raise PitchlabError(f"cannot open {path} ({first})") from exc
        raise DatabaseBusy(
            f"{path} is in use by another process ({first}); close it (query with `duckdb -readonly`) "
            "or wait for the other pitchlab to finish"
        ) from exc


def replay_log(path: Path, failure: Exception) -> None:
    """Replay the write-ahead log DuckDB could not replay opening `path`, through an in-memory database
    with the file attached, and checkpoint it into the file. One line and nothing changed if that fails."""
    wal = path.with_name(path.name + ".wal")
    try:
        _replay_attached(path)
    except duckdb.Error as exc:
        if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
            raise DatabaseBusy(f"{path} is in use by another process ({_first_line(exc)})") from None
        raise PitchlabError(
            f"cannot open {path}: DuckDB {duckdb.__version__} cannot replay its log {wal} ({_first_line(failure)}; "
            f"{_first_line(exc)}). Nothing was changed. Keep a copy of both files; moving {wal} aside opens the "
            "database as of its last checkpoint, without the changes only that log holds") from None
    log.warning("%s: replayed the log %s left by an interrupted run", path, wal)


def _replay_attached(path: Path) -> None:
    mem = duckdb.connect()
    try:
        mem.execute("ATTACH '" + str(path).replace("'", "''") + "' AS pitchlab_recovered")
        mem.execute("CHECKPOINT pitchlab_recovered")
        mem.execute("DETACH pitchlab_recovered")
    finally:
        mem.close()


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction committed straight into the file."""
    for name, value in _COMMIT_INTO_FILE.items():
        con.execute(f"SET {name} = {value}")
    try:
        return _apply(con)
    finally:
        for name in _COMMIT_INTO_FILE:
            con.execute(f"RESET {name}")


def _apply(con: duckdb.DuckDBPyConnection) -> list[int]:
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL,
            applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, migration in enumerate(migrations.MIGRATIONS, start=1):
        if version in done:
            continue
        with transaction(con):
            migration(con)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [version, migration.__name__],
            )
        con.execute("CHECKPOINT")  # in case DuckDB could not checkpoint at the commit and wrote the log instead
        applied.append(version)
    return applied


@contextmanager
def opened(path: Path | str, *, read_only: bool = False, wait_s: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only, wait_s=wait_s)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
