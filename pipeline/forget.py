"""`pitchlab forget`: remove calls and everything derived from them, then rewrite the file so they are gone from disk.

Which rows belong to a call is read from `information_schema`, not from a fixed list: every
table with a `call_id` column, or a `phrase_id` / `reaction_id` of the call's phrases and
reactions, or the call's sha256 in `file_sha256` (ingest_errors) loses those rows. The
clusters are recomputed where the call's phrases shaped them; the few tables that hold no
call data are named in NO_CALL_DATA. A table that fits none of these is reported by
`unknown_tables`, and tests/test_forget.py fails on it, so a new table cannot be missed.

DuckDB leaves deleted rows in freed blocks of the file (measured: a forgotten sentence was
still in the file after DELETE and CHECKPOINT, and after VACUUM), so after the delete the
database is copied into a new file (COPY FROM DATABASE) that replaces the old one.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np

from pipeline.analysis import cluster, descriptors, themes
from pipeline.audio import ingest
from pipeline.core.errors import PitchlabError
from pipeline.storage.db import transaction

log = logging.getLogger(__name__)

# column -> which ids of the forgotten calls it holds
KEYS = {"call_id": "calls", "file_sha256": "calls", "phrase_id": "phrases", "reaction_id": "reactions"}
RECOMPUTED = {
    "clusters": "centroid, size, example and label recomputed from the phrases left; a cluster left empty is removed",
    "cluster_history": "a retired cluster whose example phrase was the forgotten call's is removed",
    "descriptors": "a suggested descriptor's example lines are its wordings' examples again (declared ones are "
                   "yours); then every phrase's descriptor is decided again",
}
NO_CALL_DATA = {
    "schema_migrations": "migration names",
    "reps": "enrolled reps' voice prints, from enrollment samples, not from calls",
    "forgotten": "the sha256 of each forgotten recording, nothing else",
    "descriptor_examples": "the example lines you declared and their embeddings",
}


def table_rules(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """How forget treats each table of the database: `delete by COLUMN`, `recomputed` or `no call data`;
    anything else is `unknown`."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns c JOIN information_schema.tables t"
        " USING (table_catalog, table_schema, table_name)"
        " WHERE t.table_type = 'BASE TABLE' AND table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    rules = {}
    for table, cols in sorted(columns.items()):
        keys = [k for k in KEYS if k in cols]
        if table in RECOMPUTED:
            rules[table] = "recomputed"
        elif table in NO_CALL_DATA:
            rules[table] = "no call data"
        elif keys:
            rules[table] = "delete by " + ", ".join(keys)
        else:
            rules[table] = "unknown"
    return rules


def unknown_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [t for t, rule in table_rules(con).items() if rule == "unknown"]


@dataclass(frozen=True)
class Forgotten:
    call_ids: tuple[str, ...]  # sha256 of each forgotten recording (calls or not)
    files: tuple[str, ...]  # the calls' source files, as stored
    rows: dict[str, int]  # rows deleted, per table
    clusters_recomputed: int
    clusters_removed: int


AGE = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


def parse_age(text: str) -> timedelta:
    """`90d` (days) or `12w` (weeks)."""
    m = AGE.match(text or "")
    if not m:
        raise PitchlabError(f"--older-than takes an age like 90d (days) or 12w (weeks), not {text!r}")
    n = int(m.group(1))
    return timedelta(days=n * (7 if m.group(2) == "w" else 1))


def older_than(con: duckdb.DuckDBPyConnection, age: timedelta, *, now: datetime | None = None) -> list[str]:
    """Calls recorded before now - age (recording date, else the analysis date)."""
    cutoff = (now or datetime.now()) - age
    rows = con.execute(
        "SELECT call_id FROM calls WHERE coalesce(recorded_at, processed_at) < ? ORDER BY call_id", [cutoff]
    ).fetchall()
    return [r[0] for r in rows]


def resolve(con: duckdb.DuckDBPyConnection, targets: Sequence[str]) -> list[str]:
    """Each target as a sha256: a call id (or a unique prefix of 8+ hex digits), a file on disk
    (hashed: a recording never analyzed is remembered too), or a stored `source_file`."""
    out: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_file():
            out.append(ingest.sha256_of(path))
            continue
        low = target.lower()
        if re.fullmatch(r"[0-9a-f]{8,64}", low):
            ids = [r[0] for r in con.execute(
                "SELECT call_id FROM calls WHERE starts_with(call_id, ?) UNION "
                "SELECT file_sha256 FROM ingest_errors WHERE starts_with(file_sha256, ?)", [low, low]).fetchall()]
            if len(ids) == 1:
                out.append(ids[0])
                continue
            if len(ids) > 1:
                raise PitchlabError(f"{target} matches {len(ids)} calls: give more of the call id")
        ids = [r[0] for r in con.execute(
            "SELECT call_id FROM calls WHERE source_file = ? UNION "
            "SELECT file_sha256 FROM ingest_errors WHERE source_file = ? AND file_sha256 IS NOT NULL",
            [target, target]).fetchall()]
        if not ids:
            raise PitchlabError(f"{target} is neither a file, a call id nor a stored source_file: "
                                "see `SELECT call_id, source_file FROM calls`")
        out.extend(ids)
    return list(dict.fromkeys(out))


def forget(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> Forgotten:
    """Delete the calls' rows from every table that holds them, recompute the clusters they shaped and
    remember their sha256 in `forgotten`: all in one transaction."""
    ids = list(dict.fromkeys(call_ids))
    con.execute("SET enable_progress_bar = false")
    rules = table_rules(con)
    for table in unknown_tables(con):
        log.warning("table %s holds no column forget knows (%s): check it by hand", table, ", ".join(KEYS))
    with transaction(con):
        files = [r[0] for r in con.execute(
            "SELECT source_file FROM calls WHERE call_id IN (SELECT unnest(?)) ORDER BY source_file", [ids]).fetchall()]
        phrases = con.execute(
            "SELECT phrase_id, text, cluster_id FROM pitch_phrases WHERE call_id IN (SELECT unnest(?))", [ids]
        ).fetchall()
        keys = {
            "calls": ids,
            "phrases": [p[0] for p in phrases],
            "reactions": [r[0] for r in con.execute(
                "SELECT reaction_id FROM reactions WHERE call_id IN (SELECT unnest(?))", [ids]).fetchall()],
        }
        texts = {p[1] for p in phrases}
        shaped = sorted({p[2] for p in phrases if p[2] is not None})
        rows: dict[str, int] = {}
        for table, rule in rules.items():
            if not rule.startswith("delete by "):
                continue
            where = " OR ".join(f'"{col}" IN (SELECT unnest(${kind}))'
                                for col, kind in KEYS.items() if col in rule.removeprefix("delete by ").split(", "))
            params = {kind: keys[kind] for col, kind in KEYS.items() if col in rule}
            n = con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', params).fetchone()[0]
            con.execute(f'DELETE FROM "{table}" WHERE {where}', params)
            if n:
                rows[table] = n
        recomputed, removed = recompute_clusters(con, shaped)
        rows["cluster_history"] = _forget_history(con, texts)
        _refresh_suggested(con)
        descriptors.reassign(con, in_transaction=True)
        con.execute("INSERT INTO forgotten (sha256) SELECT unnest(?) ON CONFLICT DO NOTHING", [ids])
    rows = {t: n for t, n in rows.items() if n}
    return Forgotten(tuple(ids), tuple(files), rows, recomputed, removed)


def recompute_clusters(con: duckdb.DuckDBPyConnection, cluster_ids: Sequence[int]) -> tuple[int, int]:
    """Centroid (unit mean), size, example (most central phrase) and label of each cluster from the
    pitch phrases it still has; a cluster with none left is removed. Returns (recomputed, removed).

    The other clusters keep their centroids, labels and ids, and every phrase keeps its
    cluster: this is the mean of the same members without the forgotten ones, not a refit
    (`pitchlab recluster` refits).
    """
    recomputed = removed = 0
    real = [c for c in cluster_ids if c != cluster.UNCLUSTERED_ID]
    terms = _terms_by_cluster(con)
    for cid in real:
        cols = con.execute("SELECT text, embedding FROM pitch_phrases WHERE cluster_id = ? ORDER BY phrase_id",
                           [cid]).fetchnumpy()
        if not len(cols["text"]):
            con.execute("DELETE FROM clusters WHERE cluster_id = ?", [cid])
            removed += 1
            continue
        x = cluster._unit(np.stack(cols["embedding"]).astype(np.float32))
        centroid = cluster._unit(x.sum(axis=0))
        example = cols["text"][int(np.argmax(x @ centroid))]
        con.execute("UPDATE clusters SET centroid = ?::FLOAT[384], size = ?, example = ? WHERE cluster_id = ?",
                    [centroid.tolist(), len(x), example, cid])
        recomputed += 1
    if real:
        _relabel(con, terms, set(real))
    if cluster.UNCLUSTERED_ID in cluster_ids:
        _unclustered_example(con)
        recomputed += 1
    if cluster_ids:
        cluster._refresh_sizes(con)
    return recomputed, removed


def _refresh_suggested(con) -> None:
    """Suggested descriptors' example lines from their wordings' (recomputed) examples, biggest first."""
    con.execute(
        "UPDATE descriptors d SET examples = coalesce((SELECT list(c.example ORDER BY c.size DESC, c.cluster_id)"
        f"[1:{themes.EXAMPLES}] FROM clusters c WHERE c.suggested_id = d.descriptor_id AND c.size > 0), []) "
        "WHERE d.source = 'suggested'"
    )


def _terms_by_cluster(con) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for cid, term in con.execute(
        "SELECT p.cluster_id, d.term FROM phrase_terms d JOIN pitch_phrases p USING (phrase_id)"
        " WHERE p.cluster_id IS NOT NULL AND p.cluster_id <> ? ORDER BY p.phrase_id, d.term", [cluster.UNCLUSTERED_ID]
    ).fetchall():
        out.setdefault(cid, []).append(term)
    return out


def _relabel(con, terms: dict[int, list[str]], changed: set[int]) -> None:
    """The changed clusters' labels by the same class-based TF-IDF as a fit, over the clusters now stored."""
    ids = [r[0] for r in con.execute("SELECT cluster_id FROM clusters WHERE cluster_id <> ? ORDER BY cluster_id",
                                     [cluster.UNCLUSTERED_ID]).fetchall()]
    names = cluster.label_terms([terms.get(c, []) for c in ids])
    for cid, name in zip(ids, names):
        if cid in changed:
            example = con.execute("SELECT example FROM clusters WHERE cluster_id = ?", [cid]).fetchone()[0]
            con.execute("UPDATE clusters SET label = ? WHERE cluster_id = ?",
                        [" · ".join(name) if name else " ".join(example.split()[:4]), cid])


def _unclustered_example(con) -> None:
    """Row 0's example: of the unclustered phrases left, the one least like any cluster ('' when none)."""
    cols = con.execute("SELECT text, embedding FROM pitch_phrases WHERE cluster_id = ? ORDER BY phrase_id",
                       [cluster.UNCLUSTERED_ID]).fetchnumpy()
    example = ""
    if len(cols["text"]):
        x = cluster._unit(np.stack(cols["embedding"]).astype(np.float32))
        cents = con.execute("SELECT centroid FROM clusters WHERE cluster_id <> ?", [cluster.UNCLUSTERED_ID]).fetchnumpy()
        if len(cents["centroid"]):
            best = (x @ np.stack(cents["centroid"]).astype(np.float32).T).max(axis=1)
            example = cols["text"][int(np.argmin(best))]
        else:
            example = cols["text"][0]
    con.execute("UPDATE clusters SET example = ? WHERE cluster_id = ?", [example, cluster.UNCLUSTERED_ID])


def _forget_history(con, texts: set[str]) -> int:
    """Retired clusters whose example was one of the forgotten phrases (and no phrase left says it) are removed:
    their membership at the time is not stored, so they cannot be recomputed."""
    if not texts:
        return 0
    where = ("example IN (SELECT unnest($t)) AND example NOT IN "
             "(SELECT text FROM pitch_phrases WHERE text IN (SELECT unnest($t)))")
    n = con.execute(f"SELECT count(*) FROM cluster_history WHERE {where}", {"t": sorted(texts)}).fetchone()[0]
    con.execute(f"DELETE FROM cluster_history WHERE {where}", {"t": sorted(texts)})
    return n


def rewrite(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the open database into a new file beside it and put that in the old one's place (same mode);
    closes `con` (also on failure). The old file's freed blocks, which still hold deleted rows, go with it.

    The new file is written inside a fresh folder only its owner can enter (mkdtemp: 0700),
    so it is never readable by others, whatever the umask, before it takes the old file's mode.
    """
    import shutil
    import tempfile

    path = Path(path)
    mode = path.stat().st_mode & 0o777
    folder = Path(tempfile.mkdtemp(prefix=".pitchlab-rewrite-", dir=path.parent))
    fresh = folder / path.name
    try:
        con.execute("SET enable_progress_bar = false")  # the CLI prints one summary line instead
        name = con.execute("SELECT current_database()").fetchone()[0]
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{_quote(fresh)}' AS pitchlab_rewrite")
        con.execute(f'COPY FROM DATABASE "{name}" TO pitchlab_rewrite')
        con.execute("DETACH pitchlab_rewrite")
        for wal in (fresh.with_name(fresh.name + ".wal"), path.with_name(path.name + ".wal")):
            if wal.exists():  # not expected after the checkpoint and detach: keep the old file rather than guess
                raise PitchlabError(f"rewriting {path} left {wal.name}; the old file is kept: run forget again")
        os.chmod(fresh, mode)
        # Replaced while this connection still holds the old file's lock, so no other process can open the
        # old file in between and write into it; closing afterwards writes nothing (checkpointed, unchanged).
        os.replace(fresh, path)
        con.close()
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def inbox_copies(inbox: Path, call_ids: Sequence[str]) -> list[Path]:
    """Files under the inbox whose content is one of the forgotten recordings."""
    wanted = set(call_ids)
    if not inbox.is_dir():
        return []
    out = []
    for path, _rel in ingest.candidates(inbox):
        try:
            if ingest.sha256_of(path) in wanted:
                out.append(path)
        except OSError:
            continue
    return out


def delete_recordings(paths: Sequence[Path]) -> list[Path]:
    """Delete the recordings and their outcome sidecars (`call.mp3.json`, `call.json`); returns what was deleted."""
    from pipeline.audio import outcomes
    from pipeline.core.records import Recording

    deleted = []
    for path in paths:
        sidecar = outcomes.sidecar_path(Recording(path=path, source_file=path.name, call_id="", size_bytes=0))
        for p in (path, sidecar):
            if p is not None and p.is_file():
                p.unlink()
                deleted.append(p)
    return deleted
