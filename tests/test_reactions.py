import pytest

from conftest import BagEmbedder, CueScorer, words
from pipeline import reactions, speakers
from pipeline.records import PROSPECT, REP, Phrase, Turn


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Oh nice, how does that work?", (2, 0, ("+how does", "+nice"))),
        ("What does that cost?", (1, 0, ("+what does that cost",))),
        ("We already have something for that.", (0, 1, ("-already have",))),
        ("Honestly we are not interested.", (0, 1, ("-not interested",))),
        ("Okay.", (0, 0, ())),
        ("Interesting, but we already use Loom.", (1, 1, ("+interesting", "-already use"))),
        ("Great, how much is it? We already have a tool.", (2, 1, ("-already have", "+how much", "+great"))),
    ],
)
def test_cues_are_counted_longest_first(text, expected):
    assert reactions.cues(text) == expected


EXAMPLES = [
    ("how does the setup work", "interested"), ("can we see pricing", "interested"),
    ("okay", "neutral"), ("i see", "neutral"),
    ("we already use another vendor", "objection"), ("not a priority this year", "objection"),
]


def test_scorer_combines_cues_and_nearest_examples_and_explains_itself(monkeypatch):
    monkeypatch.setattr(reactions, "K", 1)
    scorer = reactions.ReactionScorer(BagEmbedder(), EXAMPLES)
    interested, neutral, objection = scorer.score(["how does pricing work", "okay i see", "we already use one"])
    assert interested.label == "interested" and interested.interest > 0.9
    assert interested.evidence == ("+how does", "+pricing", "like “how does the setup work” (interested, 0.67)")
    assert neutral.label == "neutral" and abs(neutral.interest) < 0.01
    assert objection.label == "objection" and objection.interest < -0.9
    assert objection.evidence[0] == "-already use"


def test_the_bundled_training_examples_are_balanced():
    labels = [label for _, label in reactions.load_examples()]
    assert {lab: labels.count(lab) for lab in reactions.LABELS} == {"interested": 80, "neutral": 80, "objection": 80}


def call(*parts):
    """parts: (speaker, text, start); returns turns."""
    ws, who = [], []
    for speaker, text, start in parts:
        w = words(text, start)
        ws += w
        who += [speaker] * len(w)
    return speakers.to_turns(ws, who)


def test_a_run_of_pitches_shares_the_reaction_that_follows_within_the_window():
    turns = call((REP, "We show who watched. It syncs.", 0), (PROSPECT, "Nice, how does that work?", 3),
                 (REP, "It is cheap.", 5), (PROSPECT, "Okay.", 30))
    ps = [Phrase(0, 0, 0.0, 1.14, "We show who watched."), Phrase(1, 0, 1.2, 1.74, "It syncs."),
          Phrase(2, 2, 5.0, 5.84, "It is cheap.")]
    got = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert [(r.phrase_idx, r.turn_idx, r.text, r.label, r.run_size, r.latency_s) for r in got] == [
        (0, 1, "Nice, how does that work?", "interested", 2, 1.26),
        (1, 1, "Nice, how does that work?", "interested", 2, 1.26),
    ]
    wide = reactions.pair(ps, turns, CueScorer(), window_s=60)
    assert [(r.phrase_idx, r.text, r.label) for r in wide][2:] == [(2, "Okay.", "neutral")]


def test_backchannels_during_a_pitch_are_kept_apart_and_interruptions_flagged():
    turns = [Turn(0, REP, 0.0, 3.54, "Our dashboard shows every single viewer in real time for you."),
             Turn(1, PROSPECT, 1.0, 1.24, "mm-hm"), Turn(2, PROSPECT, 2.0, 3.5, "wait how much does it cost"),
             Turn(3, REP, 6.0, 6.84, "Let me finish.")]
    ps = [Phrase(0, 0, 0.0, 3.54, "Our dashboard shows every single viewer in real time for you."),
          Phrase(1, 3, 6.0, 6.84, "Let me finish.", kind="close")]
    (r,) = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert r.backchannels == ("mm-hm",)
    assert r.text == "wait how much does it cost" and r.interrupted and r.latency_s == -1.54
    assert r.label == "interested"


def test_phrases_that_are_not_pitches_get_no_reaction():
    turns = call((REP, "Hi there, thanks for the time.", 0), (PROSPECT, "Sure, no problem.", 3))
    ps = [Phrase(0, 0, 0.0, 1.74, "Hi there, thanks for the time.", kind="greeting")]
    assert reactions.pair(ps, turns, CueScorer(), window_s=15) == []


def test_a_reply_that_overlaps_the_start_of_the_next_pitch_belongs_to_the_earlier_one():
    turns = [Turn(0, REP, 0.0, 3.0, "You see who watched."), Turn(1, PROSPECT, 3.5, 5.2, "Oh nice, how does that work?"),
             Turn(2, REP, 5.1, 7.0, "It is the cheapest option."), Turn(3, PROSPECT, 7.5, 9.0, "We already have one.")]
    ps = [Phrase(0, 0, 0.0, 3.0, "You see who watched."), Phrase(1, 2, 5.1, 7.0, "It is the cheapest option.")]
    got = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert [(r.phrase_idx, r.text, r.label, r.interrupted) for r in got] == [
        (0, "Oh nice, how does that work?", "interested", False),
        (1, "We already have one.", "objection", False),
    ]
