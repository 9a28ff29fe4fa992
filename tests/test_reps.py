"""Enrolled reps: storing voice prints, matching them to a call's speakers, naming the call's rep."""

from dataclasses import replace

import numpy as np
import pytest

from conftest import BandEncoder, FakeModels, ScriptTranscriber, words, write_wav
from pipeline.analyze import analyze
from pipeline.core.errors import AudioError, PitchlabError
from pipeline.core.records import PROSPECT, REP
from pipeline.core.settings import Settings
from pipeline.storage import db
from pipeline.voices import reps
from test_diarize import gap, prospect, rep, speech


def stored(path):
    with db.opened(path, read_only=True) as con:
        return con.execute("SELECT name, samples, seconds FROM reps ORDER BY name").fetchall()


def test_enroll_stores_a_unit_print_of_the_samples_and_enrolling_again_replaces_it(tmp_path):
    one = write_wav(tmp_path / "dana1.wav", [rep(4)])
    two = write_wav(tmp_path / "dana2.wav", [np.concatenate([gap(1), rep(3)])])
    encoder = BandEncoder()
    with db.opened(tmp_path / "c.duckdb") as con:
        first = reps.enroll(con, "Dana", [one], encoder=encoder)
        again = reps.enroll(con, "Dana", [one, two], encoder=encoder)
        prints = reps.load(con)
        assert [r[0] for r in reps.listed(con)] == ["Dana"]
    assert np.linalg.norm(first.voice_print) == pytest.approx(1.0, abs=1e-6)
    assert first.seconds == pytest.approx(4.0, abs=0.1) and again.seconds == pytest.approx(7.0, abs=0.1)
    assert stored(tmp_path / "c.duckdb") == [("Dana", ["dana1.wav", "dana2.wav"], pytest.approx(7.0, abs=0.1))]
    assert prints["Dana"] @ encoder.embed([rep(3)])[0] > 0.99


def test_bad_samples_are_one_line_errors_and_store_nothing(tmp_path):
    short = write_wav(tmp_path / "short.wav", [np.concatenate([rep(1.5), gap(3)])])
    silent = write_wav(tmp_path / "silent.wav", [gap(5)])
    stereo = write_wav(tmp_path / "stereo.wav", [rep(4), prospect(4)])
    (tmp_path / "junk.wav").write_bytes(b"RIFF" + b"\x00" * 40)
    path = tmp_path / "c.duckdb"
    with db.opened(path) as con:
        reps.enroll(con, "Sam", [write_wav(tmp_path / "sam.wav", [prospect(4)])], encoder=BandEncoder())
        with pytest.raises(AudioError, match=r"^only 1\.\d s of speech; a voice sample needs at least 3 s"):
            reps.enroll(con, "Sam", [short], encoder=BandEncoder())
        with pytest.raises(AudioError, match="silence only"):
            reps.enroll(con, "Dana", [silent], encoder=BandEncoder())
        with pytest.raises(PitchlabError, match="is stereo: say which channel is the rep's with --channel"):
            reps.enroll(con, "Dana", [stereo], encoder=BandEncoder())
        with pytest.raises(AudioError, match="^voice sample .*junk.wav: "):
            reps.enroll(con, "Dana", [junk := tmp_path / "junk.wav"], encoder=BandEncoder())
        with pytest.raises(PitchlabError, match="not found"):
            reps.enroll(con, "Dana", [tmp_path / "nope.wav"], encoder=BandEncoder())
        with pytest.raises(PitchlabError, match="no enrolled rep named 'Dana': enrolled are Sam"):
            reps.remove(con, "Dana")
        dana = reps.enroll(con, "Dana", [stereo], encoder=BandEncoder(), channel="left")
    assert junk.exists() and dana.seconds == pytest.approx(4.0, abs=0.1)
    assert [(n, s) for n, s, _ in stored(path)] == [("Dana", ["stereo.wav"]), ("Sam", ["sam.wav"])]
    with db.opened(path) as con:
        reps.remove(con, "Sam")
    assert [n for n, _, _ in stored(path)] == ["Dana"]


def test_match_takes_the_closest_speaker_and_rep_from_the_threshold_up():
    a, b = np.eye(4)[0], np.eye(4)[1]
    voices = np.stack([0.6 * a + 0.8 * b, 0.9 * a + np.sqrt(0.19) * b])  # unit rows
    found, best = reps.match(voices, {"Ann": a, "Bo": b})
    assert (found.speaker, found.name, round(found.cosine, 3)) == (1, "Ann", 0.9) and best == found.cosine
    assert reps.match(voices, {"Ann": a}, minimum=0.95) == (None, pytest.approx(0.9))
    assert reps.match(voices, {}) == (None, None)


REP_WORDS = words("Hi this is Dana from Clipcast we sync every view.", 0.1)
PROSPECT_WORDS = words("Oh nice how does that work for us?", 4.4, segment=1)


def mono_call(path):
    """The prospect opens, so without enrollment or an introduction the opening rule takes the prospect for the rep."""
    audio = np.concatenate([prospect(4), gap(0.3), rep(4), gap(0.3), prospect(3), gap(0.3), rep(4)])
    return write_wav(path, [audio])


def run(tmp_path, inbox, script, enroll=()):
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False)
    with db.opened(settings.db) as con:
        for name, clip in enroll:
            reps.enroll(con, name, [write_wav(tmp_path / f"{name}.wav", [clip])], encoder=BandEncoder())
    analyze(settings, models=FakeModels(ScriptTranscriber(script)))
    with db.opened(settings.db, read_only=True) as con:
        call = con.execute("SELECT rep, rep_channel, rep_channel_source, rep_voice_source, rep_voice_cosine "
                           "FROM calls").fetchone()
        turns = con.execute("SELECT speaker, text FROM turns ORDER BY turn_idx").fetchall()
    return call, turns


MONO_SCRIPT = [words("Hello who is this calling me?", 0.1)
               + words("Hi this is Dana from Clipcast we sync every view.", 4.4, step=0.35, segment=1)
               + words("Sounds good tell me more.", 8.8, segment=2)
               + words("Every view goes into your CRM automatically.", 12.1, segment=3)]


def test_a_mono_call_names_the_enrolled_rep_whose_voice_it_hears(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mono_call(inbox / "call.wav")
    call, turns = run(tmp_path, inbox, MONO_SCRIPT, enroll=[("Dana", rep(5)), ("Lee", speech(5, 160, 0.6))])
    assert call[:4] == ("Dana", None, None, "voice:Dana") and call[4] > reps.MATCH_MIN
    assert [s for s, _ in turns] == [PROSPECT, REP, PROSPECT, REP]


def test_without_enrollment_the_voice_that_introduces_itself_is_the_rep_and_no_name_is_given(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mono_call(inbox / "call.wav")
    call, turns = run(tmp_path, inbox, MONO_SCRIPT)
    assert call == (None, None, None, "intro", None)
    assert [s for s, _ in turns] == [PROSPECT, REP, PROSPECT, REP]


def test_without_enrollment_or_introduction_the_opening_voice_is_the_rep(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mono_call(inbox / "call.wav")
    script = [[w if w.segment != 1 else replace(w, text="so") for w in MONO_SCRIPT[0]]]
    call, turns = run(tmp_path, inbox, script)
    assert call == (None, None, None, "opening", None)
    assert [s for s, _ in turns] == [REP, PROSPECT, REP, PROSPECT]


STEREO_SCRIPT = [  # left, then right: the right channel speaks first and introduces itself
    words("Hello? Yes, who is this calling?", 3.0),
    words("Hi this is Dana from Clipcast, calling about video.", 0.1),
]


def test_a_stereo_channel_that_matches_an_enrolled_rep_is_the_rep_channel(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_wav(inbox / "call.wav", [np.concatenate([gap(3), prospect(3)]), np.concatenate([rep(3), gap(3)])])
    unmatched, _ = run(tmp_path / "a", inbox, STEREO_SCRIPT)  # the words alone: right introduces itself
    assert unmatched == (None, "right", "detected:intro", None, None)
    call, turns = run(tmp_path / "b", inbox, STEREO_SCRIPT, enroll=[("Dana", prospect(4))])
    assert call[:4] == ("Dana", "left", "voice:Dana", None) and call[4] > reps.MATCH_MIN
    assert turns[0] == (PROSPECT, "Hi this is Dana from Clipcast, calling about video.")


def test_a_sidecar_mapping_wins_over_the_voice_which_still_names_the_rep(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_wav(inbox / "call.wav", [np.concatenate([gap(3), prospect(3)]), np.concatenate([rep(3), gap(3)])])
    (inbox / "call.wav.json").write_text('{"rep_channel": "right"}')
    call, _ = run(tmp_path, inbox, STEREO_SCRIPT, enroll=[("Dana", rep(4)), ("Sam", prospect(4))])
    assert call[:4] == ("Dana", "right", "sidecar", None) and call[4] > reps.MATCH_MIN


@pytest.mark.e2e
def test_reps_enrolled_from_stereo_rep_channels_are_found_and_named_in_mono_calls(tmp_path):
    """Real voices: Sam and Dana enrolled (CLI) from the rep channel of one demo stereo call each;
    two mono demo calls, one of each, get their rep's name and voice."""
    import shutil

    from conftest import ROOT
    from pipeline.audio.transcribe import WhisperTranscriber
    from pipeline.voices.voice import ResemblyzerEncoder
    from test_cli import run_cli

    database = tmp_path / "calls.duckdb"
    for name, sample in (("Sam", "call_02.wav"), ("Dana", "call_05.wav")):
        out = run_cli("reps", "enroll", name, str(ROOT / "data" / "demo" / sample), "--channel", "left",
                      "--db", str(database))
        assert out.returncode == 0 and out.stdout.startswith(f"enrolled {name}: "), out.stderr
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for mono in ("call_01.wav", "call_11.wav"):  # Sam with Tom, Dana with Alex
        shutil.copy(ROOT / "data" / "demo" / mono, inbox / mono)
    settings = Settings(inbox=inbox, db=database, progress=False)
    models = FakeModels(WhisperTranscriber(settings), voice_encoder=ResemblyzerEncoder())
    analyze(settings, models=models)
    with db.opened(database, read_only=True) as con:
        calls = con.execute("SELECT source_file, rep, rep_voice_source FROM calls ORDER BY 1").fetchall()
        first = con.execute("SELECT speaker, text FROM turns WHERE turn_idx = 0 ORDER BY call_id").fetchall()
    assert calls == [("call_01.wav", "Sam", "voice:Sam"), ("call_11.wav", "Dana", "voice:Dana")]
    assert {s for s, _ in first} == {REP} and all("clipcast" in t.lower() for _, t in first)


def test_cli_errors_are_one_line_and_a_missing_sample_creates_no_database(tmp_path):
    from test_cli import run_cli

    database = tmp_path / "calls.duckdb"
    out = run_cli("reps", "enroll", "Dana", str(tmp_path / "nope.wav"), "--db", str(database))
    assert out.returncode == 2 and not database.exists()
    assert out.stderr.strip().splitlines() == [
        f"pitchlab: voice sample {tmp_path / 'nope.wav'} not found: give an audio file of the rep speaking"]
    out = run_cli("reps", "list", "--db", str(database))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "enroll a rep first" in out.stderr
    with db.opened(database):
        pass
    out = run_cli("reps", "--db", str(database), "list")
    assert (out.returncode, out.stdout) == (0, "no reps enrolled: pitchlab reps enroll NAME sample.wav\n")
    out = run_cli("reps", "remove", "Dana", "--db", str(database))
    assert out.returncode == 2 and out.stderr == "pitchlab: no enrolled rep named 'Dana': none is enrolled\n"
