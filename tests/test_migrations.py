import os
import subprocess
import sys

import duckdb
import pytest

from conftest import ROOT
from pipeline.analyze import analyze
from pipeline.core.errors import PitchlabError
from pipeline.core.settings import Settings
from pipeline.storage import db, migrations

CONTRACT = {
    "calls": {"call_id", "source_file", "duration_s", "channels", "rep", "outcome"},
    "turns": {"call_id", "turn_idx", "speaker", "start_s", "end_s", "text"},
    "pitch_phrases": {"phrase_id", "call_id", "start_s", "end_s", "text", "embedding", "cluster_id"},
    "reactions": {"reaction_id", "phrase_id", "call_id", "start_s", "end_s", "text", "interest", "label"},
    "clusters": {"cluster_id", "label", "size"},
    "wording_performance": {
        "cluster_id", "label", "phrases", "calls", "interested_calls", "interest_rate",
        "lift", "ci_low", "ci_high", "reaction_interest", "descriptor_id", "descriptor",
    },
    "descriptor_performance": {
        "descriptor_id", "descriptor", "source", "phrases", "wordings", "calls", "interested_calls", "interest_rate",
        "lift", "ci_low", "ci_high", "reaction_interest", "rep_adjusted_odds_ratio", "q_value",
    },
    "descriptors": {"descriptor_id", "name", "source", "examples"},
}


def columns(con, table):
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def test_migrations_are_applied_in_order_and_recorded(tmp_path):
    with db.opened(tmp_path / "a.duckdb") as con:
        rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(i + 1, m.__name__) for i, m in enumerate(migrations.MIGRATIONS)]


def test_an_in_memory_database_is_migrated_and_makes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with db.opened(":memory:") as con:
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(migrations.MIGRATIONS)
    assert list(tmp_path.iterdir()) == []


def test_reopening_applies_nothing_and_keeps_data(tmp_path):
    path = tmp_path / "a.duckdb"
    with db.opened(path) as con:
        con.execute("INSERT INTO ingest_errors (source_file, reason) VALUES ('x.wav', 'bad')")
    with db.opened(path) as con:
        assert db.apply_migrations(con) == []
        assert con.execute("SELECT source_file, reason FROM ingest_errors").fetchall() == [("x.wav", "bad")]


def test_public_schema_has_the_contract_columns(tmp_path):
    with db.opened(tmp_path / "a.duckdb") as con:
        for table, cols in CONTRACT.items():
            assert cols <= columns(con, table), table
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'pitch_phrases'").fetchall())
    assert types["embedding"] == "FLOAT[384]"


def test_a_failed_migration_rolls_back_and_is_not_recorded(tmp_path, monkeypatch):
    def m999_broken(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m999_broken])
    path = tmp_path / "a.duckdb"
    try:
        db.connect(path)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the broken migration should raise")
    monkeypatch.undo()
    with db.opened(path) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert "half_done" not in tables
    assert versions == list(range(1, len(migrations.MIGRATIONS) + 1))


def test_m003_marks_existing_calls_as_audio_and_allows_transcript_calls(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
    with db.opened(path) as con:
        con.execute("INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,"
                    " speaker_method, model) VALUES ('a', 'a.wav', 3.5, 2, 16000, 10, 'channel', 'tiny.en')")
    monkeypatch.undo()
    with db.opened(path) as con:
        con.execute("INSERT INTO calls (call_id, source_file, size_bytes, speaker_method, source_kind)"
                    " VALUES ('b', 'b.json', 5, 'transcript-roles', 'transcript')")
        con.execute("INSERT INTO turns (call_id, turn_idx, speaker, text) VALUES ('b', 0, 'rep', 'hi')")
        calls = con.execute("SELECT call_id, source_kind, duration_s, channels, model FROM calls ORDER BY 1").fetchall()
    assert calls == [("a", "audio", 3.5, 2, "tiny.en"), ("b", "transcript", None, None, None)]


def test_reading_a_file_from_an_older_pitchlab_brings_it_up_to_date_first(tmp_path, monkeypatch):
    path = tmp_path / "older.duckdb"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    db.opened(path).__enter__().close()
    monkeypatch.undo()
    with db.opened(path, read_only=True) as con:
        columns = {r[0] for r in con.execute("DESCRIBE descriptor_performance").fetchall()}
        versions = con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert "rep_adjusted_odds_ratio" in columns and versions == len(migrations.MIGRATIONS)


# -- files Pitchlab must not use ------------------------------------------------------------------------------

def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def newer_file(path):
    """A file as a newer Pitchlab, with one migration more than this one knows, leaves it."""
    with db.opened(path) as con:
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, 'm999_from_the_future')",
                    [len(migrations.MIGRATIONS) + 1])


def foreign_file(path, *statements):
    con = duckdb.connect(str(path))
    for sql in statements or ["CREATE TABLE sales (region VARCHAR, amount DOUBLE)",
                              "INSERT INTO sales VALUES ('north', 12.5)"]:
        con.execute(sql)
    con.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_database_from_a_newer_pitchlab_is_refused_at_open_and_left_as_it_was(tmp_path, read_only):
    path = tmp_path / "calls.duckdb"
    newer_file(path)
    before = snapshot(tmp_path)
    with pytest.raises(PitchlabError) as err:
        db.connect(path, read_only=read_only)
    assert str(err.value) == (f"{path} was written by a newer Pitchlab (schema version {len(migrations.MIGRATIONS) + 1};"
                              f" this one knows up to {len(migrations.MIGRATIONS)}); it was left as it was: upgrade "
                              "pitchlab to use it")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("statements", [
    (),
    ("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY)", "INSERT INTO schema_migrations VALUES ('2024')",
     "CREATE TABLE users (id INTEGER)"),  # another tool's migrations table
    ("CREATE MACRO twice(x) AS 2 * x",),
    ("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL)",
     "INSERT INTO schema_migrations VALUES (1, 'create_users')", "CREATE VIEW v AS SELECT 1 AS one"),
], ids=["tables", "rails-migrations", "macro", "same-shape-other-names"])
@pytest.mark.parametrize("read_only", [False, True])
def test_another_programs_duckdb_file_is_refused_and_nothing_is_added(tmp_path, statements, read_only):
    path = tmp_path / "theirs.duckdb"
    foreign_file(path, *statements)
    before = snapshot(tmp_path)
    with pytest.raises(PitchlabError, match=r"theirs.duckdb is another program's DuckDB file \(it holds .*\), not a "
                                            r"Pitchlab database; it was left as it was: name a new file with --db$"):
        db.connect(path, read_only=read_only)
    assert snapshot(tmp_path) == before


def test_another_programs_file_with_its_log_pending_is_left_byte_for_byte(tmp_path):
    path = tmp_path / "theirs.duckdb"
    script = ("import duckdb, os, sys; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE sales (x INT)');"
              " c.close(); c = duckdb.connect(sys.argv[1]); c.execute('INSERT INTO sales VALUES (1)'); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    before = snapshot(tmp_path)
    assert "theirs.duckdb.wal" in before
    with pytest.raises(PitchlabError, match="another program's DuckDB file"):
        db.connect(path)
    assert snapshot(tmp_path) == before


def test_an_empty_duckdb_file_becomes_a_pitchlab_database(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with db.opened(path) as con:
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(migrations.MIGRATIONS)


class Untouchable:
    """Models that fail the test if anything loads them: the refusal comes before any work."""

    def __getattr__(self, name):
        raise AssertionError(f"the models were used ({name}) before the database was checked")


@pytest.mark.parametrize("make", [newer_file, foreign_file], ids=["newer", "foreign"])
def test_analyze_refuses_before_any_work(tmp_path, make):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "call.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Dana>Hi there, this is Dana.\n")
    make(tmp_path / "calls.duckdb")
    with pytest.raises(PitchlabError):
        analyze(Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False), models=Untouchable())


ANALYZE, STATUS, REPORT = ["analyze", "--inbox", "{inbox}"], ["status", "--inbox", "{inbox}"], ["report", "--out",
                                                                                           "{tmp}/r.html"]


@pytest.mark.parametrize("make,words,command", [
    pytest.param(newer_file, "newer Pitchlab", ANALYZE, id="analyze-newer"),
    pytest.param(foreign_file, "another program's", ANALYZE, id="analyze-foreign"),
    pytest.param(newer_file, "newer Pitchlab", STATUS, id="status-newer"),
    pytest.param(foreign_file, "another program's", REPORT, id="report-foreign"),
])
def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path, make, words, command):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "call.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Dana>Hi there, this is Dana.\n")
    make(tmp_path / "calls.duckdb")
    argv = [a.format(inbox=inbox, tmp=tmp_path) for a in command] + ["--db", str(tmp_path / "calls.duckdb")]
    done = subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("pitchlab: ") and words in done.stderr
    assert not (tmp_path / "r.html").exists()
