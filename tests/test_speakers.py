from conftest import words
from pipeline import speakers
from pipeline.records import PROSPECT, REP, Turn


def test_stereo_words_get_the_speaker_of_their_channel():
    ws = words("hello there", 0, channel=0) + words("hi", 1, channel=1)
    assert speakers.by_channel(ws, "left") == [REP, REP, PROSPECT]
    assert speakers.by_channel(ws, "right") == [PROSPECT, PROSPECT, REP]


def test_turns_are_runs_of_one_speaker():
    ws = words("we show who watched", 0) + words("oh nice", 2) + words("and more", 3)
    turns = speakers.to_turns(ws, [REP] * 4 + [PROSPECT] * 2 + [REP] * 2)
    assert turns == [
        Turn(0, REP, 0.0, 1.14, "we show who watched"),
        Turn(1, PROSPECT, 2.0, 2.54, "oh nice"),
        Turn(2, REP, 3.0, 3.54, "and more"),
    ]
    assert [w.text for w in turns[1].words] == ["oh", "nice"]


def test_chunks_break_at_pauses_and_segments():
    ws = words("a b", 0.0, segment=0) + words("c", 0.62, segment=0) + words("d", 2.0, segment=0) + words("e", 2.3, segment=1)
    assert speakers.chunks(ws) == [[0, 1, 2], [3], [4]]
