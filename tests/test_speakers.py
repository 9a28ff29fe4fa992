import numpy as np

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


def voice(seconds, f0, brightness, rate=16000):
    """A buzzy harmonic voice: fundamental f0, harmonics rolling off by `brightness`."""
    t = np.arange(int(seconds * rate)) / rate
    sig = sum((brightness ** h) * np.sin(2 * np.pi * f0 * (h + 1) * t) for h in range(12))
    return (0.2 * sig / np.abs(sig).max()).astype(np.float32)


def test_mono_voices_are_split_by_spectrum_and_the_first_speaker_is_the_rep():
    rate = 16000
    low, high = voice(1.0, 110, 0.8), voice(1.0, 260, 0.4)
    gap = np.zeros(rate // 2, dtype=np.float32)
    # rep (low) 0-1 s, prospect (high) 1.5-2.5, rep 3-4, prospect 4.5-5.5, rep 6-7
    audio = np.concatenate([low, gap, high, gap, low, gap, high, gap, low])
    ws = []
    for i, start in enumerate([0.0, 1.5, 3.0, 4.5, 6.0]):
        ws += words("one two three", start + 0.05, segment=i)
    who = speakers.by_voice(ws, audio)
    expected = [REP] * 3 + [PROSPECT] * 3 + [REP] * 3 + [PROSPECT] * 3 + [REP] * 3
    assert who == expected


def test_two_means_is_deterministic_and_handles_one_point():
    pts = np.array([[0.0, 0], [0.1, 0], [5, 5], [5.1, 5]])
    assert speakers.two_means(pts).tolist() == [0, 0, 1, 1]
    assert speakers.two_means(pts[:1]).tolist() == [0]
