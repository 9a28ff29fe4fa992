import pytest

from conftest import words
from pipeline import reactions, speakers
from pipeline.records import PROSPECT, REP, Phrase


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Oh nice, how does that work?", (1.0, "interested", ("+how does", "+nice"))),
        ("What does that cost?", (1.0, "interested", ("+what does that cost",))),
        ("We already have something for that.", (-1.0, "objection", ("-already have",))),
        ("Honestly we are not interested.", (-1.0, "objection", ("-not interested",))),
        ("Okay.", (0.0, "neutral", ())),
        ("Interesting, but we already use Loom.", (0.0, "neutral", ("+interesting", "-already use"))),
        ("Great, how much is it? We already have a tool.", (0.3333, "interested", ("-already have", "+how much", "+great"))),
    ],
)
def test_score_is_transparent(text, expected):
    assert reactions.score(text) == expected


def test_each_phrase_pairs_with_the_next_prospect_turn_within_the_window():
    ws = words("We show who watched.", 0) + words("Nice!", 2) + words("It syncs.", 3) + words("Okay.", 30)
    turns = speakers.to_turns(ws, [REP] * 4 + [PROSPECT] + [REP] * 2 + [PROSPECT])
    ps = [Phrase(0, 0, 0.0, 1.14, "We show who watched."), Phrase(1, 2, 3.0, 3.54, "It syncs.")]
    got = reactions.pair(ps, turns, window_s=15)
    assert [(r.phrase_idx, r.turn_idx, r.text, r.label) for r in got] == [(0, 1, "Nice!", "interested")]
    wide = reactions.pair(ps, turns, window_s=60)
    assert [(r.phrase_idx, r.turn_idx, r.label) for r in wide] == [(0, 1, "interested"), (1, 3, "neutral")]
