import pytest

from pipeline import ingest, outcomes
from pipeline.errors import PitchlabError
from pipeline.records import Outcome


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
    assert got[recs["a.wav"].call_id] == Outcome("a.wav", None, None, str(tmp_path / "a.wav.json"), "right")
    assert got[recs["b.wav"].call_id].rep_channel is None
    (tmp_path / "a.wav.json").write_text('{"rep_channel": "agent"}')
    with pytest.raises(PitchlabError, match=r'a.wav.json: rep_channel must be "left" or "right", not \'agent\''):
        outcomes.resolve(ingest.find_recordings(tmp_path), {})
