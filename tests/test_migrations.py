from pipeline import db, migrations

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
