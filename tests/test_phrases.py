import pytest

from conftest import SentenceSplitter, words
from pipeline.core.records import PROSPECT, REP
from pipeline.language import phrases
from pipeline.voices import speakers


def test_rep_turns_become_timed_phrases_and_prospect_turns_do_not():
    ws = (words("Hi. You see exactly who watched your video. It syncs into Salesforce.", 0.0)
          + words("Oh nice, how does that work?", 5.0))
    who = [REP] * 12 + [PROSPECT] * 6
    turns = speakers.to_turns(ws, who)
    got = phrases.split_turns(turns, SentenceSplitter())
    assert [(p.phrase_idx, p.turn_idx, p.text, p.start_s, p.end_s) for p in got] == [
        (0, 0, "You see exactly who watched your video.", 0.3, 2.34),
        (1, 0, "It syncs into Salesforce.", 2.4, 3.54),
    ]
    assert got[0].descriptors == ("exactly", "watched")


@pytest.fixture(scope="module")
def spacy_splitter():
    return phrases.SpacySplitter(max_words=12)


def test_spacy_splits_sentences_drops_short_ones_and_extracts_descriptors(spacy_splitter):
    text = "Hi there. Our viewer analytics show exactly who watched your video. It syncs into Salesforce."
    spans = spacy_splitter.split([text])[0]
    assert [text[s.start_char : s.end_char] for s in spans] == [
        "Our viewer analytics show exactly who watched your video.",
        "It syncs into Salesforce.",
    ]
    assert spans[0].descriptors == ("viewer analytic", "video")
    assert spans[1].descriptors == ("salesforce",)


def test_spacy_cuts_long_sentences_into_clauses(spacy_splitter):
    text = ("You record a short personal video for every single prospect in under a minute "
            "and our editor removes all the pauses for you automatically.")
    spans = spacy_splitter.split([text])[0]
    parts = [text[s.start_char : s.end_char] for s in spans]
    assert parts == [
        "You record a short personal video for every single prospect in under a minute",
        "and our editor removes all the pauses for you automatically.",
    ]


def test_spacy_names_themes_with_noun_phrases_as_said_never_lemmas(spacy_splitter):
    from pipeline.analysis.themes import SpacyNamer

    names = SpacyNamer(spacy_splitter.nlp).names([
        ["Your data stays in your own account.", "All your data is encrypted at rest.", "We never sell your data."],
        ["The AI-powered editor removes filler words.", "Our AI-powered editor trims the pauses for you."],
        ["Setup takes five minutes.", "Paste one line of code and the player is live."],
    ])
    assert names[0] == "data" and names[1] == "ai-powered editor"  # not "datum", not "ai power editor"
    assert SpacyNamer(spacy_splitter.nlp).names([["The built -in AI assistant writes it."]]) == ["ai assistant"]
    assert len(set(names)) == 3 and all(n and n == n.lower() for n in names)
