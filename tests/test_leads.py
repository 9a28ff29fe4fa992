import math

from conftest import CueScorer
from pipeline.core.records import Phrase, Reaction, Turn
from pipeline.language import leads


def reaction(turn_idx, interest):
    return Reaction(0, turn_idx, 0.0, 1.0, "r", interest, "neutral")


TURNS = [Turn(0, "rep", 0, 1, "It shows who watched."), Turn(1, "prospect", 1, 2, "Nice."),
         Turn(2, "rep", 2, 3, "Can we book a demo Tuesday?"), Turn(3, "prospect", 3, 4, "Sounds good, let's do it.")]
PHRASES = [Phrase(0, 0, 0, 1, "It shows who watched."), Phrase(1, 2, 2, 3, "Can we book a demo Tuesday?", kind="close")]


def test_a_yes_at_the_close_makes_an_interested_lead_with_its_probability():
    guess = leads.infer(PHRASES, [reaction(1, 1.0)], TURNS, CueScorer())
    score = leads.CLOSE_WEIGHT * 1.0 + 1.0
    assert guess.outcome == "interested"
    assert guess.confidence == round(1 / (1 + math.exp(-leads.SLOPE * score)), 4)
    assert guess.evidence == ("close reply “Sounds good, let's do it.” (interested, +1.00); "
                              "mean reaction interest +1.00 over 1")


def test_a_no_at_the_close_outweighs_a_friendly_reaction():
    turns = TURNS[:3] + [Turn(3, "prospect", 3, 4, "No thanks, not a priority.")]
    guess = leads.infer(PHRASES, [reaction(1, 1.0)], turns, CueScorer())
    assert guess.outcome == "not_interested" and guess.confidence > 0.9


def test_no_close_and_no_reactions_is_no_guess():
    assert leads.infer(PHRASES[:1], [], TURNS[:1], CueScorer()) is None
