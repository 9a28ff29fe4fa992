import pytest

from pipeline.audio import ingest, outcomes
from pipeline.core.errors import PitchlabError
from pipeline.core.records import Outcome


@pytest.mark.parametrize("word", ["interested", "Won", "yes", "1", " YES "])
def test_interested_words(word):
    assert outcomes.parse_outcome(word, "row") == "interested"


@pytest.mark.parametrize("word", ["not_interested", "not interested", "lost", "no", "0"])
def test_not_interested_words(word):
    assert outcomes.parse_outcome(word, "row") == "not_interested"


def test_empty_is_unknown_and_anything_else_names_the_row(tmp_path):
    assert outcomes.parse_outcome("", "row") is None
    path = tmp_path / "o.csv"
    path.write_text("file,outcome\na.wav,yes\nb.wav,maybe\n")
    with pytest.raises(PitchlabError, match=r"o.csv line 3: unknown outcome 'maybe'"):
        outcomes.load_csv(path)


def test_csv_needs_its_columns_and_must_exist(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("name,result\na.wav,yes\n")
    with pytest.raises(PitchlabError, match="file,outcome"):
        outcomes.load_csv(path)
    with pytest.raises(PitchlabError, match="not found"):
        outcomes.load_csv(tmp_path / "missing.csv")


def test_sidecar_wins_over_csv_and_csv_matches_by_file_name(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.wav", "b.wav", "sub/c.wav"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "a.wav.json").write_text('{"outcome": "lost", "rep": "Sam"}')
    csv_path = tmp_path / "o.csv"
    csv_path.write_text("file,outcome,rep\na.wav,won,Dana\nc.wav,1,Priya\n")
    recs = {r.source_file: r for r in ingest.find_recordings(tmp_path)}
    got = outcomes.resolve(recs.values(), outcomes.load_csv(csv_path))
    assert got[recs["a.wav"].call_id].outcome == "not_interested"
    assert got[recs["a.wav"].call_id].rep == "Sam"
    assert got[recs["sub/c.wav"].call_id] == Outcome("c.wav", "interested", "Priya", f"{csv_path} line 3")
    assert recs["b.wav"].call_id not in got


def test_bad_sidecar_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "a.mp3").write_bytes(b"x")
    (tmp_path / "a.mp3.json").write_text("{not json")
    with pytest.raises(PitchlabError, match=r"a.mp3.json: not valid JSON"):
        outcomes.resolve(ingest.find_recordings(tmp_path), {})


def test_sidecar_may_map_the_stereo_channels(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"a")
    (tmp_path / "b.wav").write_bytes(b"b")
    (tmp_path / "a.wav.json").write_text('{"rep_channel": "right"}')
    (tmp_path / "b.wav.json").write_text('{"outcome": "won"}')
    recs = {r.source_file: r for r in ingest.find_recordings(tmp_path)}
    got = outcomes.resolve(recs.values(), {})
    assert got[recs["a.wav"].call_id] == Outcome("a.wav", None, None, str(tmp_path / "a.wav.json"), "right",
                                                 outcome_given=False)  # it says nothing about the outcome
    assert got[recs["b.wav"].call_id].rep_channel is None
    (tmp_path / "a.wav.json").write_text('{"rep_channel": "agent"}')
    with pytest.raises(PitchlabError, match=r'a.wav.json: rep_channel must be "left" or "right", not \'agent\''):
        outcomes.resolve(ingest.find_recordings(tmp_path), {})


# --- mistakes in the outcomes CSV (issue 14): one line naming the row --------------------------------------------


@pytest.mark.parametrize("content, reason", [
    ("file,outcome,rep\na.wav,won,Dana\nb.wav,lost,Ren\xe9e\n".encode("cp1252"),
     'line 3: not UTF-8 text (byte 0xe9): save it as "CSV UTF-8"'),
    (b"file,outcome\na.wav,won\nb.wav,lost," + b"x" * (128 * 1024 + 1) + b"\nc.wav,won\n",
     "line 3: a field longer than 128 KB (a quote left open?)"),
    (b'file,outcome\na.wav,won\n"b.wav,lost\nc.wav,won\n', "line 3: not valid CSV (unexpected end of data)"),
    (b"file,outcome,rep\na.wav,won,Dana\nb, c.wav,lost,Sam\n",
     "line 3: 4 fields but the header has 3 (file,outcome,rep); put a name that contains a comma in double quotes"),
    (b'file,outcome\na.wav,won\n"b".wav,lost\n', "line 3: not valid CSV (',' expected after '\"')"),
    (b"file,outcome\na.wav,won\nb.wav,lo\x00st\n",
     "line 3: unknown outcome 'lo\\x00st' (use interested/won/yes/1 or not_interested/lost/no/0)"),
    (b"file,outcome,outcome\na.wav,won,lost\n", "line 1: column 'outcome' appears 2 times"),
    (b"file,outcome\na.wav,won\nb.wav," + b"maybe" * 100 + b"\n",
     "line 3: unknown outcome '" + "maybe" * 7 + "mayb…' (use interested/won/yes/1 or not_interested/lost/no/0)"),
])
def test_a_broken_csv_is_one_line_naming_the_row(tmp_path, content, reason):
    path = tmp_path / "o.csv"
    path.write_bytes(content)
    with pytest.raises(PitchlabError) as err:
        outcomes.load_csv(path)
    assert str(err.value) == f"{path} {reason}"


def test_what_excel_and_editors_save_is_read(tmp_path):
    path = tmp_path / "o.csv"
    text = "\r\nfile,outcome,rep\r\n./a.wav,won,Renée\r\nsub\\b.wav,lost,\r\n,,\r\n\r\nc.wav,,Sam,,\r\n"
    expected = {"a.wav": ("interested", "Renée"), "sub/b.wav": ("not_interested", None), "c.wav": (None, "Sam")}
    for raw in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("utf-16")):
        path.write_bytes(raw)
        assert {f: (o.outcome, o.rep) for f, o in outcomes.load_csv(path).items()} == expected


def test_duplicate_rows_must_agree_else_the_file_is_unknown_with_a_warning(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("file,outcome,rep\na.wav,won,\nb.wav,won,Dana\na.wav,,Sam\nb.wav,lost,Dana\nc.wav,yes,Dana\n"
                    "c.wav,no,Dana\nc.wav,1,Dana\nd.wav,won,Dana\nd.wav,won,Priya\n")
    warnings = []
    got = outcomes.load_csv(path, warn=warnings.append)
    assert {f: (o.outcome, o.rep) for f, o in got.items()} == {
        "a.wav": ("interested", "Sam"),  # an empty cell says nothing: the rows complete each other
        "b.wav": (None, None), "c.wav": (None, None), "d.wav": (None, None)}
    assert warnings == [
        f"{path} lines 3, 5: rows for b.wav disagree (interested vs not_interested): b.wav is left unknown "
        "until they agree",
        f"{path} lines 6, 7, 8: rows for c.wav disagree (interested vs not_interested): c.wav is left unknown "
        "until they agree",
        f"{path} lines 9, 10: rows for d.wav disagree (Dana vs Priya): d.wav is left unknown until they agree",
    ]


def test_exact_path_wins_and_a_bare_name_of_several_files_labels_none(tmp_path):
    for name in ("sub1/call.srt", "sub2/call.srt", "sub3/call.srt", "x/solo.srt", "top.srt", "y/top.srt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(name)
    path = tmp_path / "o.csv"
    path.write_text("file,outcome\ncall.srt,won\nsub2/call.srt,lost\nsolo.srt,yes\ntop.srt,no\n")
    recs = {r.source_file: r.call_id for r in ingest.find_recordings(tmp_path)}
    warnings = []
    got = outcomes.resolve([r for r in ingest.find_recordings(tmp_path)], outcomes.load_csv(path),
                           warn=warnings.append)
    assert {f: got[cid].outcome for f, cid in recs.items() if cid in got} == {
        "sub2/call.srt": "not_interested",  # its own path
        "x/solo.srt": "interested",  # the only file of that name
        "top.srt": "not_interested",  # the row is this file's exact path, so not y/top.srt's
    }
    assert warnings == [f"{path} line 2: call.srt is the name of 3 files (sub1/call.srt, sub2/call.srt, "
                        "sub3/call.srt): write the path inside the inbox; this row labels none of them"]


def test_analyze_refuses_a_broken_csv_in_one_line_before_any_work(tmp_path):
    import subprocess
    import sys

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "o.csv").write_bytes("file,outcome,rep\na.wav,won,Ren\xe9e\n".encode("cp1252"))
    out = subprocess.run([sys.executable, "-m", "pipeline", "analyze", "--inbox", str(tmp_path), "--db",
                          str(tmp_path / "x.duckdb"), "--outcomes", str(tmp_path / "o.csv")],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f'pitchlab: {tmp_path / "o.csv"} line 2: not UTF-8 text (byte 0xe9): save it as "CSV UTF-8"']
    assert not (tmp_path / "x.duckdb").exists()


def test_blanking_an_outcome_cell_clears_the_stored_label(tmp_path):
    import shutil

    from conftest import ROOT, FakeModels, ScriptTranscriber
    from pipeline.storage import db
    from pipeline.analyze import analyze
    from pipeline.core.settings import Settings

    box = tmp_path / "inbox"
    box.mkdir()
    examples = ROOT / "tests" / "data" / "transcripts"
    for name in ("notes.json", "short_call.srt", "teams_voice.vtt"):
        shutil.copy(examples / name, box / name)
    csv_path = tmp_path / "o.csv"
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", outcomes=csv_path, rep_names=("Dana",), progress=False)
    models = FakeModels(ScriptTranscriber([[]]))

    def outcomes_now(csv_text):
        csv_path.write_text(csv_text)
        analyze(settings, models=models)
        with db.opened(settings.db, read_only=True) as con:
            return con.execute("SELECT source_file, outcome, outcome_source, rep FROM calls ORDER BY 1").fetchall()

    assert outcomes_now("file,outcome,rep\nshort_call.srt,lost,Dana\nteams_voice.vtt,won,\n") == [
        ("notes.json", "interested", "label", "Dana"),  # its own "outcome"
        ("short_call.srt", "not_interested", "label", "Dana"),
        ("teams_voice.vtt", "interested", "label", "Sam Lee")]
    # empty means unknown: the labels go; a row without an outcome also overrides the transcript's own
    assert outcomes_now("file,outcome,rep\nshort_call.srt,,Dana\nteams_voice.vtt,,\nnotes.json,,\n") == [
        ("notes.json", None, None, "Dana"),
        ("short_call.srt", None, None, "Dana"),
        ("teams_voice.vtt", None, None, "Sam Lee")]
    assert outcomes_now("file,outcome,rep\nteams_voice.vtt,no,\n") == [  # rows removed: calls keep what they have
        ("notes.json", None, None, "Dana"),
        ("short_call.srt", None, None, "Dana"),
        ("teams_voice.vtt", "not_interested", "label", "Sam Lee")]
    (box / "teams_voice.vtt.json").write_text('{"rep": "Sam"}')  # a sidecar silent on the outcome: it stays
    assert outcomes_now("file,outcome,rep\n")[2] == ("teams_voice.vtt", "not_interested", "label", "Sam")
    (box / "teams_voice.vtt.json").write_text('{"rep": "Sam", "outcome": null}')  # says unknown: cleared
    assert outcomes_now("file,outcome,rep\n")[2] == ("teams_voice.vtt", None, None, "Sam")


def test_a_sidecar_wins_in_what_it_says_and_the_csv_row_gives_the_rest(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "a.wav.json").write_text('{"rep_channel": "right"}')
    (tmp_path / "b.wav.json").write_text('{"outcome": "", "rep": "Priya"}')
    (tmp_path / "c.wav.json").write_text('{"rep": "Lee"}')
    csv_path = tmp_path / "o.csv"
    csv_path.write_text("file,outcome,rep\na.wav,won,Dana\nb.wav,won,Dana\n")
    recs = {r.source_file: r.call_id for r in ingest.find_recordings(tmp_path)}
    got = outcomes.resolve(ingest.find_recordings(tmp_path), outcomes.load_csv(csv_path))
    assert {f: (got[cid].outcome, got[cid].rep, got[cid].rep_channel, got[cid].outcome_given)
            for f, cid in recs.items()} == {
        "a.wav": ("interested", "Dana", "right", True),
        "b.wav": (None, "Priya", None, True),  # "outcome": "" says unknown: clears a stored label
        "c.wav": (None, "Lee", None, False),  # says nothing about the outcome: a stored one stays
    }
