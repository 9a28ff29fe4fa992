from conftest import words
from pipeline.core.records import PROSPECT, REP, Turn
from pipeline.voices import speakers


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


def test_rep_channel_comes_from_sidecar_then_setting_then_preset():
    ws = words("hello", 0, channel=0) + words("hi this is Sam from Clipcast", 1, channel=1)
    assert speakers.rep_channel(ws, override="left", setting="right", preset="amazon-connect") == ("left", "sidecar")
    assert speakers.rep_channel(ws, setting="left", preset="amazon-connect") == ("left", "setting")
    assert speakers.rep_channel(ws, preset="vicidial") == ("left", "preset:vicidial")
    assert speakers.rep_channel(ws, preset="freeswitch") == ("right", "preset:freeswitch")
    assert speakers.rep_channel(ws, preset="twilio-flex") == ("right", "preset:twilio-flex")


def test_rep_channel_detected_from_an_introduction_even_when_the_prospect_answers_first():
    ws = words("Hello?", 0, channel=0) + words("Hi Tom, it's Sam with Clipcast, got a minute?", 1.5, channel=1) \
        + words("Sure, this is Tom speaking.", 5, channel=0)
    assert speakers.rep_channel(sorted(ws, key=lambda w: w.start_s)) == ("right", "detected:intro")
    ws = words("Good morning, I'm Dana calling from Clipcast.", 0.5, channel=0) + words("Yes?", 0, channel=1)
    assert speakers.rep_channel(sorted(ws, key=lambda w: w.start_s)) == ("left", "detected:intro")


def test_without_an_introduction_the_first_channel_to_say_three_words_is_the_rep():
    ws = words("Hello?", 0, channel=0, segment=0) + words("Hi Tom, do you have a minute?", 1.5, channel=1, segment=1) \
        + words("I guess so", 5, channel=0, segment=2)
    assert speakers.rep_channel(sorted(ws, key=lambda w: w.start_s)) == ("right", "detected:first-speaker")
    both = words("this is Sam from Clipcast", 0, channel=0, segment=0) \
        + words("and this is Tom from Bluepeak", 3, channel=1, segment=1)
    assert speakers.rep_channel(both) == ("left", "detected:first-speaker")  # both introduce: first wins


def test_a_backchannel_during_the_other_side_does_not_split_its_turn():
    rep = words("we show who watched", 0, channel=0) + words("and for how long", 1.5, channel=0)
    ws = sorted(rep + words("mm-hm", 1.3, channel=1) + words("Oh nice, how much?", 3.0, channel=1),
                key=lambda w: w.start_s)
    turns = speakers.to_turns(ws, speakers.by_channel(ws, "left"))
    assert turns == [
        Turn(0, REP, 0.0, 2.64, "we show who watched and for how long"),
        Turn(1, PROSPECT, 1.3, 1.54, "mm-hm", backchannel=True),
        Turn(2, PROSPECT, 3.0, 4.14, "Oh nice, how much?"),
    ]
    assert [w.text for w in turns[0].words] == "we show who watched and for how long".split()


def test_short_replies_that_are_not_backchannels_stay_turns():
    cases = [
        (words("sounds great", 1.3, channel=1), "not an acknowledgement"),
        (words("yeah", 3.5, channel=1), "the rep paused too long before it"),
    ]
    for reply, why in cases:
        ws = sorted(words("we show who watched", 0, channel=0) + reply + words("and for how long", 4.8, channel=0),
                    key=lambda w: w.start_s)
        turns = speakers.to_turns(ws, speakers.by_channel(ws, "left"))
        assert [(t.speaker, t.backchannel) for t in turns] == [(REP, False), (PROSPECT, False), (REP, False)], why
    question = words("can we book Tuesday?", 0, channel=0) + words("yes", 1.3, channel=1) \
        + words("great I will send it", 2.0, channel=0)
    turns = speakers.to_turns(question, speakers.by_channel(question, "left"))
    assert [t.text for t in turns] == ["can we book Tuesday?", "yes", "great I will send it"]
    assert not any(t.backchannel for t in turns)
