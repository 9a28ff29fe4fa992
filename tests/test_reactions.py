import pytest
from dataclasses import replace

from conftest import BagEmbedder, CueScorer, words
from pipeline.core.records import PROSPECT, REP, Phrase, Turn
from pipeline.language import reaction_scorer, reactions
from pipeline.voices import speakers


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


def test_the_form_of_a_reply_is_read_question_doubt_acknowledgement_negations():
    assert reaction_scorer.form("Does it work on air freight, or only trucks?") == (True, False, False, 0)
    assert reaction_scorer.form("Why would we pay for that?") == (False, True, False, 0)
    assert reaction_scorer.form("Okay.") == (False, False, True, 0)
    assert reaction_scorer.form("Mm-hm, right.") == (False, False, True, 0)
    assert reaction_scorer.form("We don't need it, not now.") == (False, False, False, 2)


PITCH = "Our tool syncs every recorded view to Salesforce."


def test_the_scorer_reads_a_reply_against_its_pitch_and_explains_itself():
    # the bundled training pairs with a fake embedder (hashed words): cues, form and context carry it
    scorer = reactions.ReactionScorer(BagEmbedder())
    replies = ["Okay.", "Right.", "Does it sync with HubSpot too?", "We already use Gong for that.",
               "Every vendor says that.", "Send me more details."]
    got = scorer.score(replies, [PITCH] * len(replies))
    assert [s.label for s in got] == ["neutral", "neutral", "interested", "objection", "objection", "interested"]
    assert got[0].evidence == ("acknowledgement", "like “okay.” (neutral, 1.00)") and abs(got[0].interest) < 0.01
    assert got[2].evidence[0] == "question" and got[2].interest > 0.5
    assert got[3].evidence[0] == "-already use" and got[3].interest < -0.9
    # without its pitch a reply is still scored (a call's close reply is scored that way)
    assert [s.label for s in scorer.score(["We already use Gong for that."])] == ["objection"]


def test_a_reply_heard_twice_is_scored_on_both_hearings_weighted():
    # a telephone reply heard again (rehear.py): the text heard again and the transcript's words both count
    scorer = reactions.ReactionScorer(BagEmbedder())
    heard, transcript = "Oh, the ice.", "No thanks, not for us."  # heard again wrong, transcribed right
    (alone,), (other,) = scorer.score([heard], [PITCH]), scorer.score([transcript], [PITCH])
    both, plain = scorer.score([heard, "Okay."], [PITCH, PITCH], [transcript, None])
    w = reaction_scorer.HEARD_WEIGHT
    assert both.interest == pytest.approx(w * alone.interest + (1 - w) * other.interest, abs=2e-4)
    assert alone.label != "objection" and other.label == "objection" and both.label == "objection"
    assert both.evidence[-1] == "also heard as “No thanks, not for us.”"
    assert plain == scorer.score(["Okay."], [PITCH])[0]  # no second hearing: scored as before


def test_the_bundled_training_examples_are_balanced_and_the_pairs_name_their_pitch():
    labels = [label for _, label in reactions.load_examples()]
    assert {lab: labels.count(lab) for lab in reactions.LABELS} == {"interested": 102, "neutral": 102, "objection": 102}
    pairs = reaction_scorer.load_pairs()
    assert len(pairs) == 180 and all(pitch and text for pitch, text, _ in pairs)
    assert {label for _, _, label in pairs} == set(reactions.LABELS)


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


# --- pairing is one sweep, not a scan of the call per pitch (issue #14 item 11) ---

def _scan_replies(phrases, turns, window_s):
    """The pairing as a scan of the call per run (quadratic): the code before the sweep, with its rule for
    ending a run brought up to date (any reply after a phrase ends it), to check the sweep against."""
    is_bc = reactions.is_backchannel

    def reply_by_order(run):
        last = run[-1]
        next_rep = min((p.turn_idx for p in phrases if p.phrase_idx > last.phrase_idx and p.turn_idx > last.turn_idx),
                       default=len(turns) + 1)
        return [t for t in turns if t.speaker == PROSPECT and last.turn_idx < t.turn_idx < next_rep]

    def runs(pitches):
        out = []
        for phrase in pitches:
            if out:
                prev = out[-1][-1]
                if timed:
                    replied = [t for t in turns if t.speaker == PROSPECT and (
                        prev.end_s <= t.start_s < phrase.start_s or prev.start_s <= t.start_s < prev.end_s
                        and not is_bc(t))]
                else:
                    replied = [t for t in turns if prev.turn_idx < t.turn_idx < phrase.turn_idx
                               and t.speaker == PROSPECT and not t.backchannel]
                if prev.phrase_idx + 1 == phrase.phrase_idx and not replied:
                    out[-1].append(phrase)
                    continue
            out.append([phrase])
        return out

    def reaction_turns(run):
        start, end = run[0].start_s, run[-1].end_s
        if start is None or end is None or any(t.start_s is None for t in turns):
            return reply_by_order(run), []
        later = sorted((p for p in phrases if p.phrase_idx > run[-1].phrase_idx), key=lambda p: p.phrase_idx)
        while later and later[0].turn_idx == run[-1].turn_idx and later[0].kind != "pitch" \
                and not later[0].text.endswith("?"):  # a statement the rep adds in the same turn
            later = later[1:]
        next_rep = min((p.start_s for p in later), default=float("inf"))
        prospect = [t for t in turns if t.speaker == PROSPECT and t.start_s >= start]
        during = [t for t in prospect if t.start_s < end]
        backchannels = [t for t in during if is_bc(t) and t.end_s <= end]  # said while the rep spoke
        interruption = [t for t in during if t not in backchannels]
        if interruption:
            first = interruption[0].start_s
        else:
            after = [t for t in prospect if end <= t.start_s <= end + window_s and t.start_s < next_rep]
            if not after:
                return [], backchannels
            first = after[0].start_s
        reply = [t for t in prospect if first <= t.start_s < max(next_rep, first + 1e-9)]
        return [t for t in reply if t not in backchannels], backchannels

    timed = all(t.start_s is not None for t in turns) and all(p.start_s is not None for p in phrases)
    found = [(run, *reaction_turns(run)) for run in runs([p for p in phrases if p.kind == "pitch"])]
    return [reactions.Reply(tuple(run), tuple(r), tuple(b)) for run, r, b in found if r]


def random_call(rng, n_turns, timed=True):
    """Alternating-ish speakers with overlaps, asides and pauses; 1-3 phrases per rep turn of random kinds."""
    turns, phrases, t = [], [], 0.0
    replies = ["mm-hm", "okay", "yeah right", "how much does it cost", "we already have one", "okay sounds good"]
    for i in range(n_turns):
        speaker = REP if i == 0 or rng.random() < 0.55 else PROSPECT
        start = max(0.0, t + rng.uniform(-1.5, 4.0))
        if speaker == REP:
            k = rng.randint(1, 3)
            dur = rng.uniform(1.0, 3.0)
            for j in range(k):
                phrases.append(Phrase(len(phrases), i, round(start + j * dur, 2) if timed else None,
                                      round(start + (j + 1) * dur - 0.2, 2) if timed else None,
                                      f"pitch {i} {j}" + rng.choice([".", ".", "?"]),
                                      kind=rng.choice(["pitch", "pitch", "pitch", "discovery", "close"])))
            end = start + k * dur
            text = "pitch"
        else:
            text = rng.choice(replies)
            end = start + rng.uniform(0.3, 3.0)
        turns.append(Turn(i, speaker, round(start, 2) if timed else None, round(end, 2) if timed else None, text,
                          backchannel=speaker == PROSPECT and rng.random() < 0.2))
        t = end
    if timed:
        order = sorted(range(len(turns)), key=lambda k: turns[k].start_s)
        renumber = {old: new for new, old in enumerate(order)}
        turns = [Turn(renumber[t.turn_idx], t.speaker, t.start_s, t.end_s, t.text, backchannel=t.backchannel)
                 for t in (turns[k] for k in order)]
        phrases = [Phrase(p.phrase_idx, renumber[p.turn_idx], p.start_s, p.end_s, p.text, kind=p.kind) for p in phrases]
    return phrases, turns


@pytest.mark.parametrize("timed", [True, False])
def test_the_sweep_finds_the_same_replies_as_a_scan_of_the_call_per_run(timed):
    import random

    rng = random.Random(7)
    checked = 0
    for _ in range(60):
        phrases, turns = random_call(rng, rng.randint(2, 60), timed=timed)
        window = rng.choice([2.0, 5.0, 15.0])
        expected = _scan_replies(phrases, turns, window)
        assert reactions.replies(phrases, turns, window) == expected
        checked += len(expected)
    assert checked > 100  # the random calls do have replies to compare


class CountingList(list):
    """A list that counts the items handed out by iterating it (every scan of the call)."""

    def __init__(self, items):
        super().__init__(items)
        self.seen = 0

    def __iter__(self):
        for item in super().__iter__():
            self.seen += 1
            yield item


def test_a_20000_cue_call_is_paired_in_a_few_passes_over_its_turns():
    import random

    phrases, turns = random_call(random.Random(3), 20_000)
    turns, phrases = CountingList(turns), CountingList(phrases)
    found = reactions.replies(phrases, turns, 15.0)
    assert len(found) > 1_000
    # the scan this replaced went over every turn once per pitch run: about 10^8 items here
    assert turns.seen <= 3 * len(turns) and phrases.seen <= 3 * len(phrases)


# --- every reply to a pitch is a reaction; silence is recorded (issue #16) ---

TWO_PITCHES = [Phrase(0, 0, 0.0, 1.74, "We sync every view to Salesforce."),
               Phrase(1, 0, 3.0, 4.74, "Setup takes ten minutes flat.")]


def test_a_flat_okay_after_a_pitch_is_its_neutral_reaction_with_its_latency():
    # the rep goes on 0.5 s after "Okay.": the turn split keeps it an aside of the rep's turn,
    # but it was said after the pitch ended, so it is that pitch's reaction, and the run ends there
    turns = call((REP, "We sync every view to Salesforce.", 0.0), (PROSPECT, "Okay.", 2.2),
                 (REP, "Setup takes ten minutes flat.", 3.0))
    assert [(t.text, t.backchannel) for t in turns if t.speaker == PROSPECT] == [("Okay.", True)]
    ps = [Phrase(0, 0, 0.0, 1.74, "We sync every view to Salesforce."),
          Phrase(1, 0, 3.0, 4.44, "Setup takes ten minutes flat.")]
    got = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert [(r.phrase_idx, r.text, r.label, r.latency_s, r.run_size, r.backchannels) for r in got] == [
        (0, "Okay.", "neutral", 0.46, 1, ())]
    turns = call((REP, "We sync every view to Salesforce.", 0.0), (PROSPECT, "Right.", 2.5),
                 (REP, "So what do you use today?", 4.0))
    (r,) = reactions.pair(ps[:1], turns, CueScorer(), window_s=15)
    assert (r.text, r.label, r.latency_s) == ("Right.", "neutral", 0.76)


def test_a_backchannel_while_the_pitch_is_said_stays_a_backchannel_of_the_run():
    turns = call((REP, "We sync every view to Salesforce.", 0.0), (PROSPECT, "mm-hm", 0.7),
                 (REP, "Setup takes ten minutes flat.", 1.0), (PROSPECT, "How much is it?", 5.5))
    ps = [Phrase(0, 0, 0.0, 1.74, "We sync every view to Salesforce."),
          Phrase(1, 0, 1.8, 3.24, "Setup takes ten minutes flat.")]
    got = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert [(r.phrase_idx, r.text, r.run_size, r.backchannels) for r in got] == [
        (0, "How much is it?", 2, ("mm-hm",)), (1, "How much is it?", 2, ("mm-hm",))]


def test_without_times_a_short_reply_between_two_pitches_is_the_first_ones_reaction():
    turns = [Turn(0, REP, None, None, "We sync every view to Salesforce."), Turn(1, PROSPECT, None, None, "Okay."),
             Turn(2, REP, None, None, "Setup takes ten minutes flat."), Turn(3, PROSPECT, None, None, "Hm, how?")]
    ps = [Phrase(0, 0, None, None, turns[0].text), Phrase(1, 2, None, None, turns[2].text)]
    got = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert [(r.phrase_idx, r.text, r.run_size, r.latency_s) for r in got] == [
        (0, "Okay.", 1, None), (1, "Hm, how?", 1, None)]


def test_a_reply_after_a_long_silence_keeps_its_latency_and_silence_alone_is_recorded():
    # 6.3 s of nothing after the first pitch, then the prospect asks
    turns = call((REP, "We sync every view to Salesforce.", 0.0), (PROSPECT, "Hmm. How long is the setup?", 8.0))
    (r,) = reactions.pair(TWO_PITCHES[:1], turns, CueScorer(), window_s=15)
    assert (r.text, r.label, r.latency_s) == ("Hmm. How long is the setup?", "neutral", 6.26)
    assert reactions.silences(TWO_PITCHES[:1], turns, window_s=15) == {}
    # nothing from the prospect: the rep picks up again 4.5 s after the run of two pitches
    turns = call((REP, "We sync every view to Salesforce. Setup takes ten minutes flat.", 0.0),
                 (REP, "Does that sound useful?", 7.0))
    ps = [Phrase(0, 0, 0.0, 1.44, "We sync every view to Salesforce."),
          Phrase(1, 0, 1.5, 3.24, "Setup takes ten minutes flat."), Phrase(2, 0, 7.0, 7.84, "Does that sound useful?", kind="discovery")]
    assert reactions.pair(ps, turns, CueScorer(), window_s=15) == []
    assert reactions.silences(ps, turns, window_s=15) == {0: 3.76, 1: 3.76}
    # a short pause is no silence, and the end of the call is none either
    assert reactions.silences(ps[:1] + [replace(ps[2], start_s=2.5)], turns[:1], window_s=15) == {}
    assert reactions.silences(ps[:2], turns[:1], window_s=15) == {}


def test_a_transcript_call_stores_a_short_reply_as_a_reaction_and_a_silence_on_its_pitch(tmp_path):
    import json

    from conftest import FakeModels
    from pipeline.storage import db
    from pipeline.analyze import analyze
    from pipeline.core.settings import Settings

    box = tmp_path / "inbox"
    box.mkdir()
    turns = [("rep", "Our tool syncs every recorded view to Salesforce.", 0.0, 3.0),
             ("prospect", "Okay.", 3.4, 3.8),
             ("rep", "It also transcribes every single recording overnight.", 4.2, 7.0),
             ("rep", "Would a demo next week work?", 10.5, 12.0)]
    (box / "call.json").write_text(json.dumps({"turns": [
        {"speaker": s, "text": t, "start": a, "end": b} for s, t, a, b in turns]}))
    settings = Settings(inbox=box, db=tmp_path / "c.duckdb", progress=False)
    assert analyze(settings, models=FakeModels(None)).processed == 1
    with db.opened(settings.db, read_only=True) as con:
        rows = con.execute("SELECT p.text, p.silence_after_s, r.text, r.label, r.latency_s FROM pitch_phrases p"
                           " LEFT JOIN reactions r USING (phrase_id) WHERE p.kind = 'pitch' ORDER BY p.start_s").fetchall()
    assert rows == [("Our tool syncs every recorded view to Salesforce.", None, "Okay.", "neutral", 0.4),
                    ("It also transcribes every single recording overnight.", 3.5, None, None, None)]


def test_a_short_reply_that_starts_as_the_pitch_ends_and_outlasts_it_is_the_reaction():
    # mono telephone call: "Okay. Oh, that's." from 14.04 s, the pitch's last word ends at 14.05 s
    turns = [Turn(0, REP, 10.01, 14.05, "Late payers get a friendly reminder every week."),
             Turn(1, PROSPECT, 14.04, 15.11, "Okay. Oh, nice."),
             Turn(2, REP, 15.49, 18.33, "Could we put fifteen minutes in the diary for Thursday?")]
    ps = [Phrase(0, 0, 10.01, 14.05, turns[0].text),
          Phrase(1, 2, 15.49, 18.33, turns[2].text, kind="close")]
    (r,) = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert (r.phrase_idx, r.text, r.latency_s, r.interrupted, r.backchannels) == (0, "Okay. Oh, nice.", -0.01, True, ())
    # a short sound said and ended while the pitch goes on stays a backchannel
    turns[1] = Turn(1, PROSPECT, 12.5, 12.9, "mm-hm")
    assert reactions.pair(ps, turns, CueScorer(), window_s=15) == []


def test_a_statement_the_rep_adds_in_the_same_turn_does_not_end_the_pitchs_window_a_question_does():
    # the recognizer split "... automatically, by email and text message." into a pitch and a fragment
    # that reads as `close`; the prospect answers after the whole turn
    turns = [Turn(0, REP, 18.0, 22.92, "It follows up on every overdue invoice automatically, i .e. mail and text message."),
             Turn(1, PROSPECT, 23.32, 28.3, "That would save my office manager a whole day every week."),
             Turn(2, REP, 28.31, 30.75, "Could we put fifteen minutes in the diary for Thursday?")]
    ps = [Phrase(0, 0, 18.0, 21.66, "It follows up on every overdue invoice automatically, i .e."),
          Phrase(1, 0, 21.66, 22.92, "mail and text message.", kind="close"),
          Phrase(2, 2, 28.31, 30.75, turns[2].text, kind="close")]
    (r,) = reactions.pair(ps, turns, CueScorer(), window_s=15)
    assert (r.phrase_idx, r.turn_idx, r.latency_s) == (0, 1, 1.66)
    # a question the rep asks after the pitch, in the same turn, is what the prospect answers
    ps[1] = replace(ps[1], text="Can we book a call on Thursday?")
    assert reactions.pair(ps, turns, CueScorer(), window_s=15) == []
    assert reactions.silences(ps, turns, window_s=15) == {}  # the rep went on speaking: no silence
