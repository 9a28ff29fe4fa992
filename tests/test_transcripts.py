"""Transcript files (committed examples of each format) into turns, and their one-line errors."""

import shutil

import numpy as np
import pytest

from conftest import ROOT, BagEmbedder, CueScorer, FakeModels, ScriptTranscriber
from pipeline.analyze import analyze
from pipeline.audio import ingest, transcripts
from pipeline.core.errors import AudioError
from pipeline.core.records import Phrase, Recording, Turn
from pipeline.core.settings import Settings
from pipeline.language import reactions
from pipeline.storage import db

EXAMPLES = ROOT / "tests" / "data" / "transcripts"


def read(path, rep_names=()):
    return transcripts.read(Recording(path, path.name, "0" * 64, path.stat().st_size), rep_names=rep_names)


def rows(transcript):
    return [(t.speaker, t.name, t.start_s, t.end_s, t.text) for t in transcript.turns]


def test_zoom_vtt_with_three_participants_maps_the_whole_selling_side_to_rep():
    t = read(EXAMPLES / "zoom_three.vtt", rep_names=["dana smith", "Lee"])
    assert (t.speaker_method, t.rep, t.outcome, t.info.duration_s) == ("transcript-names", "Dana Smith, Lee Park", None, 28.0)
    assert (t.info.channels, t.info.sample_rate) == (None, None)
    assert rows(t) == [
        ("rep", "Dana Smith", 1.0, 9.5,
         "Hi Priya, thanks for making time today. With Clipcast you see exactly who watched your video, and for how long."),
        ("prospect", "Priya Shah", 10.0, 12.0, "Oh nice, how does that work?"),
        ("rep", "Lee Park", 12.5, 17.5, "Every view syncs into Salesforce automatically, on the contact record."),
        ("prospect", "Priya Shah", 18.0, 21.0, "We already have a CRM plugin for that."),
        ("rep", "Dana Smith", 21.5, 25.5, "The dashboard shows which buyers watched to the end."),
        ("prospect", "Priya Shah", 26.0, 28.0, "Can you show me the dashboard?"),
    ]
    first_words = t.turns[0].words[:2]
    assert [(w.text, w.start_s, w.end_s) for w in first_words] == [("Hi", 1.0, 1.154), ("Priya,", 1.231, 1.692)]


def test_without_known_names_the_first_speaker_is_the_rep_and_everyone_else_a_prospect():
    t = read(EXAMPLES / "zoom_three.vtt")
    assert (t.speaker_method, t.rep) == ("transcript-first-speaker", "Dana Smith")
    assert [(s, n) for s, n, *_ in rows(t)] == [
        ("rep", "Dana Smith"), ("prospect", "Priya Shah"), ("prospect", "Lee Park"),
        ("prospect", "Priya Shah"), ("rep", "Dana Smith"), ("prospect", "Priya Shah"),
    ]


def test_teams_vtt_voice_tags_merge_consecutive_cues_and_unescape_entities():
    t = read(EXAMPLES / "teams_voice.vtt", rep_names=["Sam"])
    assert (t.speaker_method, t.rep, t.info.duration_s) == ("transcript-names", "Sam Lee", 16.5)
    assert rows(t) == [
        ("rep", "Sam Lee", 0.5, 7.0,
         "Good morning, Alex. This is Sam from Clipcast. Our AI-powered editor trims your recordings for you."),
        ("prospect", "Alex Romero", 7.5, 9.5, "Not sure we need that & we are busy."),
        ("rep", "Sam Lee", 10.0, 14.0, "It takes two clicks to send a personal video to a lead."),
        ("prospect", "Alex Romero", 14.5, 16.5, "Interesting, send me a link."),
    ]


def test_srt_with_name_prefixes():
    t = read(EXAMPLES / "short_call.srt", rep_names=["Dana"])
    assert rows(t) == [
        ("rep", "Dana", 0.8, 8.2,
         "Hello, this is Dana calling from Clipcast. Your reps record one video and send it to every lead."),
        ("prospect", "Jordan", 8.6, 10.6, "What does that cost?"),
        ("rep", "Dana", 11.0, 14.0, "Pricing starts at twenty dollars per seat."),
        ("prospect", "Jordan", 14.5, 16.0, "Too expensive for us right now."),
    ]


def test_json_turns_without_times_keep_their_order_and_carry_rep_and_outcome():
    t = read(EXAMPLES / "notes.json")
    assert (t.speaker_method, t.rep, t.outcome, t.info.duration_s) == ("transcript-roles", "Dana", "interested", None)
    assert [(s, n, a, b) for s, n, a, b, _ in rows(t)] == [("rep", None, None, None), ("prospect", None, None, None)] * 2
    assert rows(t)[1][4] == "Wow, tell me more."


def test_json_names_are_mapped_by_its_rep_field(tmp_path):
    path = tmp_path / "named.json"
    path.write_text('{"rep": "Dana", "turns": [{"speaker": "Kim", "text": "Hello, who is this?", "start": 0, "end": 1.5},'
                    ' {"speaker": "Dana Smith", "text": "Dana from Clipcast, about your video outreach.", "start": 2, "end": 4}]}')
    t = read(path)
    assert t.speaker_method == "transcript-names"
    assert rows(t) == [("prospect", "Kim", 0.0, 1.5, "Hello, who is this?"),
                       ("rep", "Dana Smith", 2.0, 4.0, "Dana from Clipcast, about your video outreach.")]


@pytest.mark.parametrize("name, content, reason", [
    ("bad.json", '{"turns": [\n  {"speaker": "rep", "text": "hi"}\n  {"speaker": "prospect"}\n]}',
     "line 3: not valid JSON (Expecting ',' delimiter, column 3)"),
    ("no_speaker.json", '{"turns": [\n {"speaker": "rep", "text": "Hello there, friend."},\n {"text": "who?"}\n]}',
     'line 3: turn 2 has no "speaker" (rep, prospect or a name)'),
    ("mixed_times.json", '{"rep": "Dana",\n "turns": [\n  {"speaker": "rep", "text": "a b c", "start": 0, "end": 1},\n'
     '  {"speaker": "prospect", "text": "d e f"}]}',
     "line 4: turn 2: give start and end on every turn or on none"),
    ("bad_outcome.json", '{\n "outcome": "maybe",\n "turns": [{"speaker": "rep", "text": "x"}, {"speaker": "prospect", "text": "y"}]}',
     "line 2: unknown outcome 'maybe' (use interested/won/yes/1 or not_interested/lost/no/0)"),
    ("not_turns.json", '[1, 2]', 'line 1: expected an object with a non-empty "turns" list '
     '(each {"speaker": ..., "text": ..., "start"?: s, "end"?: s})'),
    ("empty.vtt", "WEBVTT\n\nNOTE nothing here\n", "line 3: no cues found (WebVTT needs 'start --> end' timing lines)"),
    ("header.vtt", "Dana: hi\n", "line 1: not WebVTT (the first line must be WEBVTT)"),
    ("anonymous.vtt", "WEBVTT\n\n00:00.000 --> 00:02.000\n- Hello there, how are you?\n",
     "line 4: cue text without a speaker (write <v Name>text or 'Name: text')"),
    ("solo.srt", "1\n00:00:00,000 --> 00:00:02,000\nDana: Hello?\n\n2\n00:00:02,500 --> 00:00:03,000\nDana: Anyone?\n",
     "line 3: no prospect among the speakers (Dana); a call needs a prospect too"),
    ("backwards.srt", "1\n00:00:05,000 --> 00:00:02,000\nDana: Hello?\n",
     "line 2: cue ends before it starts (00:00:05,000 --> 00:00:02,000)"),
])
def test_a_malformed_transcript_is_one_line_naming_the_line(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(AudioError) as err:
        read(path)
    assert str(err.value) == reason


def test_only_prospects_named_by_role_is_an_unknown_layout(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"turns": [{"speaker": "prospect", "text": "hi"},\n{"speaker": "Kim", "text": "hello"}]}')
    with pytest.raises(AudioError, match=r"^line 1: no rep among the speakers \(prospect, Kim\); name the rep"):
        read(path)


def test_reactions_without_times_pair_with_the_next_prospect_turn():
    turns = [Turn(0, "rep", None, None, "One two three."), Turn(1, "prospect", None, None, "Nice, show me.")]
    paired = reactions.pair([Phrase(0, 0, None, None, "One two three.")], turns, CueScorer(), window_s=15.0)
    assert [(r.turn_idx, r.label, r.start_s, r.latency_s, r.interrupted) for r in paired] == [
        (1, "interested", None, None, False)]


def test_inbox_finds_transcripts_but_not_outcome_sidecars(tmp_path):
    shutil.copy(EXAMPLES / "notes.json", tmp_path / "notes.json")
    shutil.copy(EXAMPLES / "short_call.srt", tmp_path / "short_call.srt")
    (tmp_path / "short_call.srt.json").write_text('{"outcome": "lost"}')
    (tmp_path / "call.wav").write_bytes(b"RIFF")
    (tmp_path / "call.json").write_text('{"outcome": "won"}')
    found = ingest.find_recordings(tmp_path)
    assert [(r.source_file, r.source_kind) for r in found] == [
        ("call.wav", "audio"), ("notes.json", "transcript"), ("short_call.srt", "transcript")]


def test_transcripts_and_audio_in_one_batch(tmp_path):
    from test_analyze import PROSPECT_SCRIPT, REP_SCRIPT, stereo_call

    box = tmp_path / "inbox"
    shutil.copytree(EXAMPLES, box)
    stereo_call(box / "one.wav")
    (box / "bad.json").write_text('{"turns": [\n  {"speaker": "rep" "text": "hi"}\n]}')
    (box / "empty.vtt").write_text("WEBVTT\n")
    (box / "outcomes.csv").write_text("file,outcome,rep\nzoom_three.vtt,won,Lee Park\nshort_call.srt,lost,\n")
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", outcomes=box / "outcomes.csv",
                        rep_names=("Dana Smith",), progress=False)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([REP_SCRIPT, PROSPECT_SCRIPT])))
    assert (summary.found, summary.processed) == (7, 5)
    assert summary.failed == (("bad.json", "line 2: not valid JSON (Expecting ',' delimiter, column 21)"),
                              ("empty.vtt", "line 1: no cues found (WebVTT needs 'start --> end' timing lines)"))
    with db.opened(settings.db, read_only=True) as con:
        calls = con.execute("SELECT source_file, source_kind, duration_s, channels, sample_rate, model, rep, outcome, outcome_source,"
                            " speaker_method FROM calls ORDER BY source_file").fetchall()
        zoom = con.execute("SELECT t.speaker, t.speaker_name FROM turns t JOIN calls c USING (call_id)"
                           " WHERE c.source_file = 'zoom_three.vtt' ORDER BY turn_idx").fetchall()
        notes = con.execute("SELECT p.text, p.start_s, r.text, r.label FROM pitch_phrases p JOIN reactions r"
                            " USING (phrase_id) JOIN calls c ON c.call_id = p.call_id"
                            " WHERE c.source_file = 'notes.json' ORDER BY p.phrase_id").fetchall()
        unclustered = con.execute("SELECT count(*) FROM pitch_phrases WHERE cluster_id IS NULL AND kind = 'pitch'"
                                  ).fetchone()[0]
        stored = con.execute("SELECT text, embedding FROM pitch_phrases ORDER BY phrase_id").fetchall()
        errors = con.execute("SELECT source_file, reason FROM ingest_errors ORDER BY 1").fetchall()
    assert calls == [
        ("notes.json", "transcript", None, None, None, None, "Dana", "interested", "label", "transcript-roles"),
        ("one.wav", "audio", 15.0, 2, 16000, "fake", None, None, None, "channel"),
        ("short_call.srt", "transcript", 16.0, None, None, None, "Dana", "not_interested", "label",
         "transcript-names"),
        # no outcome given: inferred from its reactions (mean interest +0.5)
        ("teams_voice.vtt", "transcript", 16.5, None, None, None, "Sam Lee", "interested", "inferred",
         "transcript-first-speaker"),
        ("zoom_three.vtt", "transcript", 28.0, None, None, None, "Lee Park", "interested", "label",
         "transcript-names"),
    ]
    # Lee Park is a rep because the outcomes CSV names them as this call's rep.
    assert zoom == [("rep", "Dana Smith"), ("prospect", "Priya Shah"), ("rep", "Lee Park"),
                    ("prospect", "Priya Shah"), ("rep", "Dana Smith"), ("prospect", "Priya Shah")]
    assert notes == [
        # the greeting is not a pitch, so it has no reaction
        ("Videos get answered three times as often as plain emails.", None, "Wow, tell me more.", "interested"),
        ("You see exactly who watched your video and when.", None, "Sounds good, let's book a demo.", "interested"),
    ]
    assert unclustered == 0
    texts = [t for t, _ in stored]
    assert np.array_equal(np.array([e for _, e in stored], dtype=np.float32), BagEmbedder().embed(texts))
    assert [f for f, _ in errors] == ["bad.json", "empty.vtt"]


def test_team_file_names_and_a_missing_one_is_a_clear_error(tmp_path):
    team = tmp_path / "team.txt"
    team.write_text("# our reps\nDana Smith\n\nLee Park  # SE\n")
    assert transcripts.team_names(team) == ("Dana Smith", "Lee Park")
    with pytest.raises(Exception, match="team file .* not found"):
        transcripts.team_names(tmp_path / "none.txt")


# --- hostile and odd input (issue 14): a clear rule each, never a traceback ---------------------------------------

NOTES = (EXAMPLES / "notes.json").read_text()


def test_json_with_leading_whitespace_is_read_and_its_errors_name_the_right_line(tmp_path):
    path = tmp_path / "ws.json"
    path.write_text("\n  \n" + NOTES)
    assert [t.text for t in read(path).turns][1] == "Wow, tell me more."
    path.write_text('\n\n {"turns": [\n {"speaker": "rep", "text": "Hello there."},\n {"text": "who?"}\n]}')
    with pytest.raises(AudioError, match=r'^line 5: turn 2 has no "speaker"'):
        read(path)


@pytest.mark.parametrize("content, reason", [
    ("[" * 100_000 + "]" * 100_000, "line 1: not usable JSON (nested too deeply)"),
    ('{"turns": ' + "[" * 5000 + "]" * 5000 + "}", "line 1: not usable JSON (nested too deeply)"),
    ('{"turns": [{"speaker": "rep", "text": "a", "start": NaN, "end": 1}]}',
     "line 1: turn 1: start and end must be seconds from the start of the call (0 to 24 hours), not nan"),
    ('{"turns": [{"speaker": "rep", "text": "a", "start": 0, "end": Infinity}]}',
     "line 1: turn 1: start and end must be seconds from the start of the call (0 to 24 hours), not inf"),
    ('{"turns": [\n{"speaker": "rep", "text": "a", "start": -50, "end": 1}]}',
     "line 2: turn 1: start and end must be seconds from the start of the call (0 to 24 hours), not -50"),
    ('{"turns": [{"speaker": "rep", "text": "a", "start": 0, "end": 1e400}]}',
     "line 1: turn 1: start and end must be seconds from the start of the call (0 to 24 hours), not inf"),
    ('{"turns": [{"speaker": "rep", "text": "a", "start": 0, "end": 1' + "0" * 400 + '}]}',
     "line 1: turn 1: start and end must be seconds from the start of the call (0 to 24 hours), not 1" + "0" * 18 + "…"),
    ('{"turns": [{"speaker": "rep", "text": "bad \\ud800 text"}]}',
     "line 1: turn 1: text with an unpaired surrogate escape (\\ud800-\\udfff), not Unicode"),
    ('{"rep": ["Dana"],\n "turns": [{"speaker": "rep", "text": "a"}, {"speaker": "prospect", "text": "b"}]}',
     'line 1: "rep" must be a name (text)'),
])
def test_unusable_json_is_one_line(tmp_path, content, reason):
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(AudioError) as err:
        read(path)
    assert str(err.value) == reason


@pytest.mark.parametrize("timing, reason", [
    ("-00:00:01.000 --> 00:00:02.000",
     "line 3: negative cue time (-00:00:01.000 --> 00:00:02.000): times count from the start of the call"),
    ("00:00:01 --> 00:00:02", "line 3: cue timing not understood (00:00:01 --> 00:00:02): "
     "write '00:01:02.500 --> 00:01:05.000'"),
    ("24:00:00.001 --> 24:00:02.000", "line 3: cue time over 24 hours (24:00:00.001 --> 24:00:02.000)"),
    ("9" * 400 + ":00:00.000 --> " + "9" * 400 + ":00:01.000", "line 3: cue time over 24 hours (" + "9" * 59 + "…)"),
])
def test_a_cue_that_cannot_be_timed_is_an_error_not_dropped_text(tmp_path, timing, reason):
    path = tmp_path / "t.vtt"
    path.write_text(f"WEBVTT\n\n{timing}\n<v Dana>It syncs into Salesforce.\n\n"
                    "00:00:03.000 --> 00:00:04.000\n<v Priya>Nice.\n")
    with pytest.raises(AudioError) as err:
        read(path)
    assert str(err.value) == reason


def test_encodings_utf16_with_a_mark_is_read_and_cp1252_names_its_line(tmp_path):
    text = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Renée>Our videos sync.\n\n" \
           "00:00:02.000 --> 00:00:03.000\n<v Priya>Nice.\n"
    path = tmp_path / "t.vtt"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    assert [t.name for t in read(path).turns] == ["Renée", "Priya"]
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(AudioError) as err:
        read(path)
    assert str(err.value) == "line 4: not UTF-8 text (byte 0xe9): save the transcript as UTF-8"


OVERLAPPING = """WEBVTT

00:00:05.000 --> 00:00:09.000
<v Dana>You see exactly who watched your video and when.

00:00:04.500 --> 00:00:10.000
<v Priya>Wow, tell me more about that.

00:00:10.000 --> 00:00:13.000
<v Dana>Every reply lands in your Salesforce account.

00:00:12.000 --> 00:00:14.000
<v Dana>Each rep sees the viewers instantly.

00:00:14.500 --> 00:00:16.000
<v Priya>Sounds good, send me pricing.
"""


def test_overlapping_cues_keep_file_order_times_never_go_backwards_and_get_reactions(tmp_path, caplog):
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "overlap.vtt").write_text(OVERLAPPING)
    t = read(box / "overlap.vtt", rep_names=["Dana"])
    assert rows(t) == [
        ("rep", "Dana", 5.0, 9.0, "You see exactly who watched your video and when."),
        ("prospect", "Priya", 5.0, 10.0, "Wow, tell me more about that."),  # started before Dana: moved to 5.0
        # Dana's second cue started before her first one ended: moved to its end
        ("rep", "Dana", 10.0, 14.0, "Every reply lands in your Salesforce account. Each rep sees the viewers instantly."),
        ("prospect", "Priya", 14.5, 16.0, "Sounds good, send me pricing."),
    ]
    starts = [w.start_s for turn in t.turns for w in turn.words if turn.speaker == "rep"]
    assert starts == sorted(starts)
    assert "overlap.vtt: 2 cue(s) start before the cue above them" in caplog.text
    assert "(first at line 7)" in caplog.text  # Priya's cue text
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", rep_names=("Dana",), progress=False)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([[]])))
    assert (summary.processed, summary.failed) == (1, ())
    with db.opened(settings.db, read_only=True) as con:
        reacted = con.execute("SELECT p.text, r.text, r.interrupted FROM pitch_phrases p JOIN reactions r"
                              " USING (phrase_id) ORDER BY p.phrase_id").fetchall()
        times = con.execute("SELECT start_s FROM turns ORDER BY turn_idx").fetchall()
    assert reacted == [
        ("You see exactly who watched your video and when.", "Wow, tell me more about that.", True),
        ("Every reply lands in your Salesforce account.", "Sounds good, send me pricing.", False),
        ("Each rep sees the viewers instantly.", "Sounds good, send me pricing.", False),
    ]
    assert [s for s, in times] == sorted(s for s, in times)


# --- poison files: one file's failure is that file's ingest_errors row, the batch goes on -------------------------


def poison_inbox(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    shutil.copy(EXAMPLES / "notes.json", box / "good.json")
    shutil.copy(EXAMPLES / "short_call.srt", box / "short_call.srt")
    (box / "leading_space.json").write_text("  \n" + NOTES.replace("Dana", "Lee"))
    (box / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    return box


def stored(settings):
    with db.opened(settings.db, read_only=True) as con:
        calls = [f for f, in con.execute("SELECT source_file FROM calls ORDER BY 1").fetchall()]
        errors = con.execute("SELECT source_file, reason FROM ingest_errors ORDER BY 1").fetchall()
    return calls, errors


def test_poison_transcripts_become_their_own_errors_and_the_batch_is_stored_once(tmp_path):
    box = poison_inbox(tmp_path)
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", rep_names=("Dana",), progress=False)
    models = FakeModels(ScriptTranscriber([[]]))
    summary = analyze(settings, models=models)
    assert summary.failed == (("deep.json", "line 1: not usable JSON (nested too deeply)"),)
    assert stored(settings) == (["good.json", "leading_space.json", "short_call.srt"],
                                [("deep.json", "line 1: not usable JSON (nested too deeply)")])
    again = analyze(settings, models=models)  # the poison file is known as failed: not read again
    assert (again.new, again.skipped_failed, again.failed) == (0, 1, ())


class Defect(Exception):
    """A bug that meets one file somewhere in the pipeline."""


def test_an_unexpected_error_in_any_stage_loses_only_its_own_file(tmp_path, monkeypatch):
    from pipeline.storage import store

    box = poison_inbox(tmp_path)
    (box / "deep.json").unlink()
    for name in ("read_bug.vtt", "split_bug.vtt", "store_bug.vtt"):
        (box / name).write_text((EXAMPLES / "teams_voice.vtt").read_text().replace("Clipcast", name[:-4]))
    real_read, real_write = transcripts.read, store.write_calls

    def read_with_bug(recording, **kw):
        if recording.source_file == "read_bug.vtt":
            raise Defect("substring not found")
        return real_read(recording, **kw)

    class SplitterWithBug(FakeModels(None).splitter.__class__):
        def split(self, texts):
            if any("split_bug" in t for t in texts):
                raise Defect("splitter fell over\non two lines")
            return super().split(texts)

    def write_with_bug(con, calls):
        if any(c.info.source_file == "store_bug.vtt" for c, _ in calls):
            raise Defect("cannot store")
        return real_write(con, calls)

    monkeypatch.setattr(transcripts, "read", read_with_bug)
    monkeypatch.setattr(store, "write_calls", write_with_bug)
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", rep_names=("Dana",), progress=False)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([[]]), splitter=SplitterWithBug()))
    errors = [("read_bug.vtt", "could not be analyzed (Defect: substring not found)"),
              ("split_bug.vtt", "could not be analyzed (Defect: splitter fell over on two lines)"),
              ("store_bug.vtt", "could not be stored (Defect: cannot store)")]
    assert (summary.processed, summary.failed) == (3, tuple(errors))
    assert stored(settings) == (["good.json", "leading_space.json", "short_call.srt"], errors)


def test_set_up_errors_still_stop_the_batch_before_anything_is_stored(tmp_path):
    from pipeline.core.errors import ModelIntegrityError

    class BrokenModels(FakeModels):
        @property
        def splitter(self):
            raise ModelIntegrityError("en_core_web_sm: sha256 mismatch")

        @splitter.setter
        def splitter(self, value):
            pass

    settings = Settings(inbox=poison_inbox(tmp_path), db=tmp_path / "t.duckdb", progress=False)
    with pytest.raises(ModelIntegrityError):
        analyze(settings, models=BrokenModels(ScriptTranscriber([[]])))
    assert stored(settings) == ([], [])


def test_a_model_that_fails_to_load_stops_the_batch_rather_than_failing_every_file(tmp_path, monkeypatch):
    from pipeline import analyze as analyze_module
    from pipeline.language import phrases

    def no_model(**kw):
        raise OSError("[E050] Can't find model 'en_core_web_sm'")

    monkeypatch.setattr(phrases, "SpacySplitter", no_model)
    settings = Settings(inbox=poison_inbox(tmp_path), db=tmp_path / "t.duckdb", progress=False)
    with pytest.raises(OSError, match="E050"):
        analyze(settings, models=analyze_module.Models(settings))
    assert stored(settings) == ([], [])


def test_an_audio_file_that_breaks_the_decoder_or_cannot_be_read_costs_only_itself(tmp_path, monkeypatch, caplog):
    from test_analyze import PROSPECT_SCRIPT, REP_SCRIPT, stereo_call

    box = poison_inbox(tmp_path)
    (box / "deep.json").unlink()
    stereo_call(box / "audio.wav")
    stereo_call(box / "odd.wav", freq=410)
    stereo_call(box / "locked.wav", freq=420)
    real_decode, real_hash = ingest.decode, ingest.sha256_of

    def decode_with_bug(rec, **kw):
        if rec.source_file == "odd.wav":
            raise IndexError("index 3 is out of bounds for axis 0 with size 2")
        return real_decode(rec, **kw)

    def hash_or_refuse(path):
        if path.name == "locked.wav":
            raise PermissionError(13, "Permission denied")
        return real_hash(path)

    monkeypatch.setattr(ingest, "decode", decode_with_bug)
    monkeypatch.setattr(ingest, "sha256_of", hash_or_refuse)
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", rep_names=("Dana",), progress=False)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([REP_SCRIPT, PROSPECT_SCRIPT])))
    assert summary.failed == (("odd.wav", "could not be analyzed (IndexError: index 3 is out of bounds for axis 0 "
                                          "with size 2)"),)
    assert stored(settings)[0] == ["audio.wav", "good.json", "leading_space.json", "short_call.srt"]
    assert "locked.wav: not readable (Permission denied); skipped" in caplog.text


def test_a_timing_line_inside_a_cue_is_read_as_a_timing_not_as_text(tmp_path):
    path = tmp_path / "t.vtt"
    path.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Dana>It syncs.\n00:00:02.000 --> 00:00:03.000\n"
                    "<v Priya>Nice.\n")
    assert rows(read(path)) == [("rep", "Dana", 0.0, 2.0, "It syncs."), ("prospect", "Priya", 2.0, 3.0, "Nice.")]
    path.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Dana>It syncs.\n00:00:02 --> 00:00:03\n"
                    "<v Priya>Nice.\n")
    with pytest.raises(AudioError, match=r"^line 5: cue timing not understood \(00:00:02 --> 00:00:03\)"):
        read(path)


def test_line_numbers_of_a_long_json_transcript(tmp_path):
    path = tmp_path / "t.json"
    turns = ",\n".join(['{"speaker": "rep", "text": "a"}', '{"speaker": "prospect", "text": "b"}'] * 5000)
    path.write_text('{"turns": [\n' + turns + ',\n{"speaker": "rep"}]}')
    with pytest.raises(AudioError, match=r'^line 10002: turn 10001 has no "text"'):
        read(path)
