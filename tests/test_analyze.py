"""The orchestrator over real decoded audio and a real DuckDB file, with fake models."""

import shutil

import pytest

from conftest import FakeModels, ScriptTranscriber, tone, words, write_wav
from pipeline.analyze import analyze
from pipeline.core.settings import Settings
from pipeline.storage import db

REP_SCRIPT = words("Hi, this is Dana from Clipcast. You see exactly who watched your video.", 0.0, segment=0) \
    + words("Every view syncs into Salesforce automatically.", 8.0, segment=1)
PROSPECT_SCRIPT = words("Oh nice, how does that work?", 5.0, segment=0) + words("We already have a CRM.", 12.0, segment=1)


def stereo_call(path, seconds=15.0, freq=300):
    return write_wav(path, [tone(seconds, freq), tone(seconds, freq * 2.1)])


def run(tmp_path, inbox, **kw):
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False, **kw)
    models = FakeModels(ScriptTranscriber([REP_SCRIPT, PROSPECT_SCRIPT]))
    return analyze(settings, models=models), settings


def dump(path):
    with db.opened(path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall()
            for t, skip in [("calls", "processed_at"), ("turns", "call_id"), ("pitch_phrases", "call_id"),
                            ("reactions", "call_id"), ("phrase_terms", "phrase_id"), ("clusters", "fitted_at")]
        }


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    stereo_call(box / "one.wav", freq=300)
    stereo_call(box / "two.wav", freq=310)
    (box / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    (box / "outcomes.csv").write_text("file,outcome,rep\none.wav,won,Dana\ntwo.wav,lost,Sam\n")
    return box


def test_batch_stores_turns_phrases_reactions_and_clusters(tmp_path, inbox):
    summary, settings = run(tmp_path, inbox, outcomes=inbox / "outcomes.csv")
    assert (summary.found, summary.processed, summary.outcomes_applied) == (3, 2, 2)
    assert summary.failed[0] == ("broken.mp3", "not readable as audio (Invalid data found when processing input)")
    with db.opened(settings.db, read_only=True) as con:
        calls = con.execute("SELECT source_file, channels, rep, outcome, outcome_source, speaker_method "
                            "FROM calls ORDER BY source_file").fetchall()
        turns = con.execute("SELECT speaker, text FROM turns WHERE call_id = (SELECT call_id FROM calls "
                            "WHERE source_file = 'one.wav') ORDER BY turn_idx").fetchall()
        reactions = con.execute("SELECT p.text, r.text, r.label FROM reactions r JOIN pitch_phrases p "
                                "USING (phrase_id) WHERE p.call_id = r.call_id ORDER BY r.reaction_id").fetchall()
        errors = con.execute("SELECT source_file FROM ingest_errors").fetchall()
        unclustered = con.execute("SELECT kind, count(*) FROM pitch_phrases WHERE cluster_id IS NULL "
                                  "GROUP BY kind").fetchall()
    assert calls == [("one.wav", 2, "Dana", "interested", "label", "channel"),
                     ("two.wav", 2, "Sam", "not_interested", "label", "channel")]
    assert turns == [
        ("rep", "Hi, this is Dana from Clipcast. You see exactly who watched your video."),
        ("prospect", "Oh nice, how does that work?"),
        ("rep", "Every view syncs into Salesforce automatically."),
        ("prospect", "We already have a CRM."),
    ]
    assert reactions[:2] == [  # the greeting is not a pitch, so it gets no reaction
        ("You see exactly who watched your video.", "Oh nice, how does that work?", "interested"),
        ("Every view syncs into Salesforce automatically.", "We already have a CRM.", "objection"),
    ]
    assert errors == [("broken.mp3",)]
    assert unclustered == [("greeting", 2)]  # only pitches are clustered


def test_calls_without_outcome_get_an_inferred_one_that_a_label_overrides(tmp_path, inbox):
    _, settings = run(tmp_path, inbox)
    with db.opened(settings.db, read_only=True) as con:
        inferred = con.execute("SELECT outcome, outcome_source FROM calls WHERE source_file = 'one.wav'").fetchone()
    # reactions +1 and -1 and no close reply: no evidence either way, so no guess
    assert inferred == (None, None)
    run(tmp_path, inbox, outcomes=inbox / "outcomes.csv")
    with db.opened(settings.db, read_only=True) as con:
        labelled = con.execute("SELECT outcome, outcome_source, outcome_confidence, outcome_evidence "
                               "FROM calls WHERE source_file = 'two.wav'").fetchone()
    assert labelled == ("not_interested", "label", 1.0, None)


def test_rerun_skips_known_calls_and_leaves_their_rows_unchanged(tmp_path, inbox):
    _, settings = run(tmp_path, inbox, outcomes=inbox / "outcomes.csv")
    before = dump(settings.db)
    shutil.copy(inbox / "one.wav", inbox / "one-copy.wav")  # the same recording again
    summary, _ = run(tmp_path, inbox, outcomes=inbox / "outcomes.csv")
    assert (summary.processed, summary.skipped_known, summary.skipped_failed) == (0, 3, 1)
    assert dump(settings.db) == before
    stereo_call(inbox / "three.wav", freq=320)
    summary, _ = run(tmp_path, inbox, outcomes=inbox / "outcomes.csv")
    after = dump(settings.db)
    assert summary.processed == 1 and summary.clustering == "assigned 2 new phrases to existing clusters"
    old_phrases = {row[0]: row for row in before["pitch_phrases"]}
    assert all(old_phrases[row[0]] == row for row in after["pitch_phrases"] if row[0] in old_phrases)
    assert len(after["calls"]) == 3


def test_same_file_twice_in_one_batch_is_one_call(tmp_path, inbox):
    shutil.copy(inbox / "one.wav", inbox / "again.wav")
    summary, settings = run(tmp_path, inbox)
    assert summary.processed == 2
    with db.opened(settings.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 2


def test_silence_and_speechless_audio_are_ingest_errors_not_calls(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    write_wav(box / "quiet.wav", [tone(2.0, 100, amp=0.0005)])  # below -60 dBFS: never transcribed
    write_wav(box / "hum.wav", [tone(2.0, 100)])  # a signal, but the transcriber finds no words
    transcriber = ScriptTranscriber([[]])
    settings = Settings(inbox=box, db=tmp_path / "q.duckdb", progress=False)
    summary = analyze(settings, models=FakeModels(transcriber))
    assert summary.failed == (("hum.wav", "no speech found"),
                              ("quiet.wav", "silence only (no sample above -60 dBFS)"))
    assert transcriber.calls == 1


def test_a_file_that_vanishes_mid_batch_is_skipped_not_marked_failed(tmp_path, inbox, monkeypatch):
    from pipeline.audio import ingest

    real = ingest.find_recordings

    def then_delete(box):
        found = real(box)
        (box / "two.wav").unlink()
        return found

    monkeypatch.setattr(ingest, "find_recordings", then_delete)
    summary, settings = run(tmp_path, inbox)
    assert summary.processed == 1 and [f for f, _ in summary.failed] == ["broken.mp3"]
    with db.opened(settings.db, read_only=True) as con:
        assert con.execute("SELECT source_file FROM ingest_errors").fetchall() == [("broken.mp3",)]


def test_stereo_rep_channel_is_detected_set_or_overridden_per_call_and_recorded(tmp_path, inbox):
    (inbox / "two.wav.json").write_text('{"rep_channel": "right"}')
    _, settings = run(tmp_path, inbox)
    with db.opened(settings.db, read_only=True) as con:
        got = con.execute("SELECT c.source_file, c.rep_channel, c.rep_channel_source, t.speaker FROM calls c "
                          "JOIN turns t USING (call_id) WHERE t.turn_idx = 0 ORDER BY 1").fetchall()
    # one.wav: the left channel says "this is Dana from Clipcast"; two.wav: its sidecar says right
    assert got == [("one.wav", "left", "detected:intro", "rep"), ("two.wav", "right", "sidecar", "prospect")]
    (tmp_path / "preset").mkdir()
    _, settings = run(tmp_path / "preset", inbox, stereo_preset="amazon-connect")
    with db.opened(settings.db, read_only=True) as con:
        got = con.execute("SELECT source_file, rep_channel, rep_channel_source FROM calls ORDER BY 1").fetchall()
    assert got == [("one.wav", "right", "preset:amazon-connect"), ("two.wav", "right", "sidecar")]


def test_stereo_flags_are_checked(monkeypatch):
    from pipeline.core.errors import PitchlabError

    monkeypatch.setenv("PITCHLAB_STEREO_PRESET", "twilio-flex")
    assert (Settings.from_env().rep_channel, Settings.from_env().stereo_preset) == (None, "twilio-flex")
    flag = Settings.from_env(rep_channel="left")  # a flag replaces the environment's mapping
    assert (flag.rep_channel, flag.stereo_preset) == ("left", None)
    monkeypatch.delenv("PITCHLAB_STEREO_PRESET")
    assert (Settings.from_env().rep_channel, Settings.from_env().stereo_preset) == (None, None)

    with pytest.raises(PitchlabError, match="unknown stereo preset 'genesys': use one of amazon-connect, freeswitch"):
        Settings.from_env(stereo_preset="genesys")
    with pytest.raises(PitchlabError, match="either --rep-channel or --stereo-preset"):
        Settings.from_env(rep_channel="left", stereo_preset="vicidial")


def test_backchannels_are_stored_as_such_and_do_not_split_the_rep_turn(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    stereo_call(box / "one.wav")
    rep = words("Hi, this is Dana from Clipcast. You see exactly", 0.0, segment=0) \
        + words("who watched your video.", 3.0, segment=0)
    prospect = words("Mm-hm.", 2.8, segment=0) + words("Oh nice, how does that work?", 5.0, segment=1)
    settings = Settings(inbox=box, db=tmp_path / "calls.duckdb", progress=False)
    analyze(settings, models=FakeModels(ScriptTranscriber([rep, prospect])))
    with db.opened(settings.db, read_only=True) as con:
        turns = con.execute("SELECT turn_idx, speaker, text, backchannel FROM turns ORDER BY turn_idx").fetchall()
        reaction = con.execute("SELECT text, backchannels FROM reactions").fetchall()
    assert turns == [
        (0, "rep", "Hi, this is Dana from Clipcast. You see exactly who watched your video.", False),
        (1, "prospect", "Mm-hm.", True),
        (2, "prospect", "Oh nice, how does that work?", False),
    ]
    assert reaction == [("Oh nice, how does that work?", ["Mm-hm."])]
