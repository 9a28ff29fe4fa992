"""Opening the DuckDB file: every open applies pending migrations."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from . import migrations
from .errors import DatabaseBusy, PitchlabError


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
    if read_only:
        if not path.exists():
            raise PitchlabError(f"no database at {path}: run `pitchlab analyze` first")
        con = _connect(path, read_only=True)
        if not _pending(con):
            return con
        con.close()  # a file from an older pitchlab: bring it up to date once, then read
        _connect_and_migrate(path).close()
        return _connect(path, read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _connect_and_migrate(path)


def _pending(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        done = con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    except duckdb.CatalogException:
        return True
    return done < len(migrations.MIGRATIONS)


def _connect_and_migrate(path: Path) -> duckdb.DuckDBPyConnection:
    con = _connect(path, read_only=False)
    apply_migrations(con)
    return con


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        if "lock" not in first.lower():
            raise PitchlabError(f"cannot open {path} ({first})") from exc
        raise DatabaseBusy(
            f"{path} is in use by another process ({first}); close it (query with `duckdb -readonly`) "
            "or wait for the other pitchlab to finish"
        ) from exc


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction."""
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
