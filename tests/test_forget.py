"""`pitchlab forget`: every row of a call goes, in every table (read from information_schema), and nothing else;
the file's bytes no longer hold it; a forgotten recording dropped again is skipped."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time

import numpy as np
import pytest

from conftest import BagEmbedder, FakeModels, ScriptTranscriber
from pipeline import cli, forget
from pipeline.analysis import cluster, descriptors
from pipeline.analyze import analyze
from pipeline.audio.ingest import sha256_of
from pipeline.core.settings import Settings
from pipeline.storage import db

SECRET = "Send the contract to Wallaby Way please"  # said only in call a.json

PITCHES = [
    "You see exactly who watched your video.",
    "Every view syncs into Salesforce automatically.",
    "You get an alert when a buyer opens your video.",
    "Our editor trims your recording with one click.",
    "Pricing starts at twenty dollars per seat.",
]


def transcript(marker: str, pitches: list[str], outcome: str, extra: str = "") -> str:
    turns = [{"speaker": "rep", "text": f"Hi, this is Dana from Clipcast calling about {marker}."},
             {"speaker": "prospect", "text": f"Hello, {marker} here."}]
    for p in pitches:
        turns += [{"speaker": "rep", "text": p}, {"speaker": "prospect", "text": "Oh nice, how does that work?"}]
    if extra:
        turns += [{"speaker": "prospect", "text": extra}, {"speaker": "rep", "text": f"Noted, {extra}"}]
    return json.dumps({"rep": "Dana", "outcome": outcome, "turns": turns})


def make_inbox(root):
    box = root / "inbox"
    box.mkdir()
    (box / "a.json").write_text(transcript("Avocado", PITCHES[:3] + ["Avocado teams love the Wallaby Way dashboard."],
                                           "interested", extra=SECRET + "."))
    (box / "b.json").write_text(transcript("Bluebird", PITCHES[1:4], "not_interested"))
    (box / "c.json").write_text(transcript("Cormorant", PITCHES[2:5], "interested"))
    (box / "d.json").write_text(transcript("Dolphin", PITCHES[0:2] + PITCHES[4:], "not_interested"))
    (box / "e.json").write_text(transcript("Egret", PITCHES[::2], "interested"))
    (box / "broken.json").write_text("{not json")
    return box


def run_analyze(root, box):
    settings = Settings(inbox=box, db=root / "calls.duckdb", progress=False)
    return analyze(settings, models=FakeModels(ScriptTranscriber([[]]))), settings


@pytest.fixture
def stored(tmp_path):
    box = make_inbox(tmp_path)
    _, settings = run_analyze(tmp_path, box)
    with db.opened(settings.db) as con:  # a refit leaves the first clusters in cluster_history
        cluster.refit(con, keep_ids=True, seed=1)
        # a declared descriptor: every pitch phrase gets a stored similarity (phrase_similarities) to forget too
        descriptors.declare(con, [descriptors.Declared("viewer analytics", ("See who watched your video.",))],
                            BagEmbedder())
    return settings


def snapshot(con) -> dict[str, list[dict]]:
    """Every row of every table and view, as dicts."""
    out = {}
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                               "AND table_catalog = current_database() ORDER BY table_name").fetchall():
        cur = con.execute(f'SELECT * FROM "{name}"')
        cols = [d[0] for d in cur.description]
        out[name] = [dict(zip(cols, row)) for row in cur.fetchall()]
    return out


def call_keys(con, call_id: str) -> dict[str, set]:
    return {
        "call_id": {call_id}, "file_sha256": {call_id},
        "phrase_id": {r[0] for r in con.execute("SELECT phrase_id FROM pitch_phrases WHERE call_id = ?", [call_id]).fetchall()},
        "reaction_id": {r[0] for r in con.execute("SELECT reaction_id FROM reactions WHERE call_id = ?", [call_id]).fetchall()},
    }


def test_every_table_is_known_to_forget():
    """A new table that holds call data under no key forget knows must be added to forget.py."""
    with db.opened(":memory:") as con:
        assert forget.unknown_tables(con) == []
        con.execute("CREATE TABLE call_notes (note VARCHAR)")
        con.execute("CREATE TABLE call_tags (call_id VARCHAR, tag VARCHAR)")
        rules = forget.table_rules(con)
    assert rules["call_notes"] == "unknown" and rules["call_tags"] == "delete by call_id"


def test_forget_removes_every_row_of_the_call_and_nothing_of_the_others(stored):
    with db.opened(stored.db) as con:
        gone = con.execute("SELECT call_id FROM calls WHERE source_file = 'a.json'").fetchone()[0]
        keys = call_keys(con, gone)
        before = snapshot(con)
        rules = forget.table_rules(con)
        shaped = {r[0] for r in con.execute(
            "SELECT DISTINCT cluster_id FROM pitch_phrases WHERE call_id = ? AND cluster_id IS NOT NULL", [gone]).fetchall()}
        assert before["cluster_history"] and before["ingest_errors"] and len(before["calls"]) == 5
        # the broken file's error row is forgotten with it when named; here a.json only
        result = forget.forget(con, [gone])
        after = snapshot(con)
    assert result.files == ("a.json",) and result.rows["calls"] == 1
    with db.opened(stored.db, read_only=True) as con:
        views = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'VIEW' AND table_schema = 'main'").fetchall()}
    assert {"descriptor_performance", "wording_performance", "descriptor_terms"} <= views
    assert set(rules) == set(before) - views
    for table, rule in rules.items():
        if rule.startswith("delete by "):
            cols = rule.removeprefix("delete by ").split(", ")
            kept = [r for r in before[table] if not any(r[c] in keys[c] for c in cols)]
            assert after[table] == kept, table  # every row of the call gone, every other row as it was
            assert len(kept) < len(before[table]) or table in ("ingest_errors", "reps"), table
    # the call's text and ids are nowhere: not in a table, not in a view (only its sha256, in `forgotten`)
    for name, rows in after.items():
        text = repr(rows)
        assert "Wallaby" not in text and "Avocado" not in text, name
        if name != "forgotten":
            assert gone[:16] not in text, name
    assert after["forgotten"][0]["sha256"] == gone and len(after["forgotten"]) == 1
    # clusters the call did not shape are untouched; the others are the mean of the phrases left
    untouched = [c for c in before["clusters"] if c["cluster_id"] not in shaped]
    assert [c for c in after["clusters"] if c["cluster_id"] not in shaped] == untouched
    with db.opened(stored.db, read_only=True) as con:
        for cid, centroid, size, example in con.execute(
                "SELECT cluster_id, centroid, size, example FROM clusters WHERE cluster_id <> 0").fetchall():
            members = con.execute("SELECT text, embedding FROM pitch_phrases WHERE cluster_id = ?", [cid]).fetchall()
            assert size == len(members) > 0 and example in [m[0] for m in members]
            mean = np.sum([m[1] for m in members], axis=0)
            assert np.allclose(centroid, mean / np.linalg.norm(mean), atol=1e-6)
        assert con.execute("SELECT count(*) FROM pitch_phrases WHERE cluster_id NOT IN "
                           "(SELECT cluster_id FROM clusters)").fetchone()[0] == 0


def file_bytes(path) -> bytes:
    wal = path.with_name(path.name + ".wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_the_forgotten_sentence_is_gone_from_the_file_bytes(stored):
    os.chmod(stored.db, 0o600)
    needle = SECRET.encode()
    assert needle in file_bytes(stored.db)  # measured: the sentence is stored as it was said
    with db.opened(stored.db) as con:
        gone = con.execute("SELECT call_id FROM calls WHERE source_file = 'a.json'").fetchone()[0]
        forget.forget(con, [gone])
        con.execute("CHECKPOINT")
    # DuckDB keeps the deleted rows in freed blocks: a delete and a checkpoint are not enough
    assert needle in file_bytes(stored.db)
    con = db.connect(stored.db)
    forget.rewrite(con, stored.db)
    assert needle not in file_bytes(stored.db) and b"Wallaby" not in file_bytes(stored.db)
    assert stat.S_IMODE(os.stat(stored.db).st_mode) == 0o600
    assert sorted(p.name for p in stored.db.parent.iterdir() if "duckdb" in p.name or "rewrite" in p.name) == ["calls.duckdb"]
    with db.opened(stored.db, read_only=True) as con:  # the rewritten file is the same database, less the call
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM descriptor_performance").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM descriptor_stats(false)").fetchone()[0] > 0
        assert len(con.execute("SELECT * FROM schema_migrations").fetchall()) == len(db.migrations.MIGRATIONS)


def test_cli_forget_by_file_then_analyze_and_watch_skip_it_with_a_log_line(stored, capsys, caplog):
    box = stored.inbox
    assert cli.main(["forget", str(box / "a.json"), "--db", str(stored.db), "--inbox", str(box)]) == 0
    out = capsys.readouterr().out
    assert "forgot 1 call (a.json)" in out and "rewritten" in out
    assert f"{box / 'a.json'} is still there: analyze and watch skip it" in out
    assert SECRET.encode() not in file_bytes(stored.db)
    (box / "copy-of-a.json").write_bytes((box / "a.json").read_bytes())  # dropped again under another name
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        summary, _ = run_analyze(stored.db.parent, box)
    assert summary.processed == 0 and summary.skipped_forgotten == ("a.json", "copy-of-a.json")
    assert "copy-of-a.json: skipped, it was forgotten (pitchlab forget)" in caplog.text
    with db.opened(stored.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calls WHERE source_file LIKE '%a.json'").fetchone()[0] == 0
    from pipeline.status import format_status, inbox_status

    status = inbox_status(stored)
    assert (status.processed, status.pending, status.forgotten) == (4, 0, 1)  # two copies of one recording
    assert "1 forgotten (still in the inbox, skipped)" in format_status(status)

    from pipeline.watch import WatchTiming, _Loop

    caplog.clear()
    loop = _Loop(stored, FakeModels(ScriptTranscriber([[]])), threading.Event(), WatchTiming(settle_s=0.0))
    loop.start()
    for _ in range(3):
        loop.step()
        time.sleep(0.01)
    assert loop.processed == 0
    assert caplog.text.count("copy-of-a.json: skipped, it was forgotten") == 1  # once, not every scan


def test_delete_recording_removes_the_file_and_its_sidecar(stored, capsys):
    box = stored.inbox
    (box / "b.json.json").write_text('{"outcome": "lost"}')  # b.json's outcome sidecar
    sha = sha256_of(box / "b.json")
    assert cli.main(["forget", sha[:12], "--db", str(stored.db), "--inbox", str(box), "--delete-recording"]) == 0
    out = capsys.readouterr().out
    assert f"deleted {box / 'b.json'}" in out and f"deleted {box / 'b.json.json'}" in out
    assert not (box / "b.json").exists() and not (box / "b.json.json").exists()
    with db.opened(stored.db, read_only=True) as con:
        assert con.execute("SELECT sha256 FROM forgotten").fetchall() == [(sha,)]


def test_older_than_forgets_by_recording_date_and_bad_input_is_one_line(tmp_path, capsys):
    box = make_inbox(tmp_path)
    old = time.time() - 100 * 86400
    os.utime(box / "c.json", (old, old))
    _, settings = run_analyze(tmp_path, box)
    for bad in ("90x", "d90", "-5d", ""):
        assert cli.main(["forget", f"--older-than={bad}", "--db", str(settings.db)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--older-than takes an age like 90d" in err
    assert cli.main(["forget", "--older-than", "120d", "--db", str(settings.db), "--inbox", str(box)]) == 0
    assert "nothing forgotten" in capsys.readouterr().out
    assert cli.main(["forget", "--older-than", "90d", "--db", str(settings.db), "--inbox", str(box)]) == 0
    assert "forgot 1 call (c.json)" in capsys.readouterr().out
    with db.opened(settings.db, read_only=True) as con:
        assert [r[0] for r in con.execute("SELECT source_file FROM calls ORDER BY 1").fetchall()] == \
            ["a.json", "b.json", "d.json", "e.json"]


def test_forget_without_a_target_or_unknown_target_is_one_line(stored, capsys):
    assert cli.main(["forget", "--db", str(stored.db)]) == 2
    assert "say what to forget" in capsys.readouterr().err
    assert cli.main(["forget", "nosuch.wav", "--db", str(stored.db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuch.wav is neither a file" in err


def test_forgetting_every_call_leaves_a_database_that_analyzes_again(stored):
    with db.opened(stored.db) as con:
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()]
        forget.forget(con, ids)
        assert con.execute("SELECT count(*) FROM clusters WHERE cluster_id <> 0").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM pitch_phrases").fetchone()[0] == 0
        con.execute("DELETE FROM forgotten")  # as if the recordings were new
    summary, _ = run_analyze(stored.db.parent, stored.inbox)
    assert summary.processed == 5 and summary.clustering.startswith("fitted")
