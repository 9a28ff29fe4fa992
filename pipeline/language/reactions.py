"""The prospect's reaction to each pitch, scored for interest.

Pairing: consecutive pitch phrases with no prospect reply between them form a
run; the run's reaction is the prospect speech that starts within
`window_s` after the run ends (or interrupts it) and before the rep speaks
again. Every reply counts, however short: a flat "Okay." or "Right." said
after a pitch phrase ended is that phrase's reaction (scored, usually
`neutral`), and it ends the run. Only short prospect sounds said while the rep
is still saying a phrase of the run ("mm-hm", "yeah") are backchannels, kept
with the reaction and not as it; a short sound that starts in the run's last
moments and goes on after the run ended was not said while the rep spoke: it
is a reply (word times are a few tens of ms off on a phone line: "Okay." from
14.04 s after a pitch that ends at 14.05 s). "Before the rep speaks again" means a phrase that asks
for a reply: a statement the rep adds in the same turn ("... by email and text
message." split off by the recognizer, "Let me show you.") does not end the
pitch's window; a question, a pitch, or a phrase of a later turn does. A transcript without times has no "while":
there a prospect turn between two pitch phrases ends the run unless it is
marked a backchannel.

Silence: a run that got no reply, after which nobody spoke for at least
SILENCE_S, has that silence recorded (`silences`; stored as
`pitch_phrases.silence_after_s`).

Scoring: `reaction_scorer` (each reply with the pitch it answers).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Sequence

from pipeline.core.records import PROSPECT, Phrase, Reaction, Turn
from pipeline.language.reaction_scorer import (  # noqa: F401 (the scorer's API)
    LABELS, ReactionScorer, Score, cues, load_examples,
)

BACKCHANNEL_MAX_WORDS = 3
SILENCE_S = 2.0  # no reply and nobody speaking this long after a pitch run: a silence


@dataclass(frozen=True)
class Reply:
    """A run of pitch phrases and the prospect turns that answer it (before they are scored)."""

    run: tuple[Phrase, ...]
    turns: tuple[Turn, ...]  # the reply
    backchannels: tuple[Turn, ...]  # short prospect sounds during the run
    heard: str | None = None  # the reply heard again from its audio (pipeline.language.rehear), scored with its words
    heard_by: str | None = None  # the model that heard it again

    @property
    def text(self) -> str:
        """What is stored, and scored first: the reply heard again if it was, else its turns' words."""
        return self.heard if self.heard is not None else self.transcribed

    @property
    def transcribed(self) -> str:
        """The reply's words as the transcript has them."""
        return " ".join(t.text for t in self.turns)

    @property
    def other_hearing(self) -> str | None:
        """For a reply heard again, its transcript's words: scored beside the text (ReactionScorer.score(also=))."""
        return self.transcribed if self.heard is not None else None

    @property
    def pitch(self) -> str:
        """What the reply answers: the run's phrases."""
        return " ".join(p.text for p in self.run)


def pair(phrases: Sequence[Phrase], turns: Sequence[Turn], scorer: ReactionScorer, window_s: float) -> list[Reaction]:
    """Reactions to the runs of pitch phrases; every phrase of a run shares its run's reaction."""
    found = replies(phrases, turns, window_s)
    return to_reactions(found, scorer.score([r.text for r in found], [r.pitch for r in found],
                                            [r.other_hearing for r in found]))


def replies(phrases: Sequence[Phrase], turns: Sequence[Turn], window_s: float) -> list[Reply]:
    """The runs of pitch phrases that got a reply, with that reply (see the module docstring).

    One sweep over the call: prospect turns sorted by start and bisected, so a call of
    100,000 cues pairs in seconds (docs/how-it-works.md, "Reactions"; `make bench`, group `long_call`).
    """
    call = _Call(phrases, turns)
    pitches = [p for p in call.phrases if p.kind == "pitch"]
    found = [(run, *_reaction_turns(run, call, window_s)) for run in _runs(pitches, call)]
    return [Reply(tuple(run), tuple(reply), tuple(backchannels)) for run, reply, backchannels in found if reply]


def silences(phrases: Sequence[Phrase], turns: Sequence[Turn], window_s: float) -> dict[int, float]:
    """{phrase_idx: seconds} for the pitch phrases whose run got no reply and was followed by at least
    SILENCE_S of nobody speaking (until the rep's or the prospect's next words; none at the call's end)."""
    call = _Call(phrases, turns)
    if not call.timed:
        return {}
    out = {}
    for run in _runs([p for p in call.phrases if p.kind == "pitch"], call):
        if _reaction_turns(run, call, window_s)[0]:
            continue
        end = run[-1].end_s
        i, j = bisect_left(call.starts, end), bisect_left(call.rep_starts, end)
        following = min(call.next_phrase_start(run[-1]), call.starts[i] if i < len(call.starts) else float("inf"),
                        call.rep_starts[j] if j < len(call.rep_starts) else float("inf"))
        if following - end >= SILENCE_S and following != float("inf"):
            out.update({p.phrase_idx: round(following - end, 3) for p in run})
    return out


def to_reactions(found: Sequence[Reply], scores: Sequence[Score]) -> list[Reaction]:
    """One reaction per phrase of each answered run, from the run's reply and its score."""
    reactions = []
    for found_reply, score in zip(found, scores):
        run, reply = found_reply.run, found_reply.turns
        run_end = run[-1].end_s
        timeless = run_end is None or reply[0].start_s is None
        for phrase in run:
            reactions.append(
                Reaction(
                    phrase_idx=phrase.phrase_idx,
                    turn_idx=reply[0].turn_idx,
                    start_s=reply[0].start_s,
                    end_s=reply[-1].end_s,
                    text=found_reply.text,
                    interest=score.interest,
                    label=score.label,
                    evidence=score.evidence,
                    latency_s=None if timeless else round(float(reply[0].start_s - run_end), 3),
                    interrupted=False if timeless else bool(reply[0].start_s < run_end),
                    backchannels=tuple(t.text for t in found_reply.backchannels),
                    run_size=len(run),
                    heard_by=found_reply.heard_by,
                )
            )
    return reactions


def is_backchannel(turn: Turn) -> bool:
    return turn.speaker == PROSPECT and (turn.backchannel or len(turn.text.split()) <= BACKCHANNEL_MAX_WORDS)


class _Call:
    """A call's phrases and prospect turns, indexed once so each run's reply is found by bisection."""

    def __init__(self, phrases: Sequence[Phrase], turns: Sequence[Turn]):
        self.phrases = sorted(phrases, key=lambda p: p.phrase_idx)
        self.n_turns = len(turns)
        self.timed = all(t.start_s is not None for t in turns)
        prospect = [t for t in turns if t.speaker == PROSPECT]
        # by turn order (for runs and for transcripts without times)
        self.by_idx = sorted(prospect, key=lambda t: t.turn_idx)
        self.idx = [t.turn_idx for t in self.by_idx]
        # by start time (stable: turn order among equal starts)
        self.timed = self.timed and all(p.start_s is not None and p.end_s is not None for p in phrases)
        self.by_start = sorted(prospect, key=lambda t: t.start_s) if self.timed else []
        self.starts = [t.start_s for t in self.by_start]
        self.replying_before = [0]  # replying_before[i]: prospect turns among the first i by start that are not short
        for t in self.by_start:
            self.replying_before.append(self.replying_before[-1] + (not is_backchannel(t)))
        self.rep_starts = sorted(t.start_s for t in turns if t.speaker != PROSPECT) if self.timed else []
        self.phrase_pos = {p.phrase_idx: i for i, p in enumerate(self.phrases)}
        # the earliest start and the next turn of any later phrase, from each phrase's position on
        n = len(self.phrases)
        self.next_start: list[float] = [float("inf")] * (n + 1)
        self.next_turn: list[int] = [self.n_turns + 1] * (n + 1)
        # the position of the first later phrase that ends each phrase's reply window (see the module docstring)
        self.window_end: list[int] = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            p = self.phrases[i]
            self.next_start[i] = self.next_start[i + 1] if p.start_s is None else min(p.start_s, self.next_start[i + 1])
            nxt = self.phrases[i + 1] if i + 1 < n else None
            trailing = nxt is not None and nxt.turn_idx == p.turn_idx and nxt.kind != "pitch" and \
                not nxt.text.rstrip().endswith("?")
            self.window_end[i] = self.window_end[i + 1] if trailing else i + 1
            nxt = self.phrases[i + 1] if i + 1 < n else None
            # the first later phrase in a later turn (phrases follow their turns' order)
            self.next_turn[i] = self.next_turn[i + 1] if nxt is None or nxt.turn_idx == p.turn_idx else nxt.turn_idx

    def replied_between(self, prev: Phrase, phrase: Phrase) -> bool:
        """Did the prospect reply to `prev` before `phrase` began?

        With times: anything said after `prev` ended, or more than a short sound while it was said.
        Without: a prospect turn between their turns that is not marked a backchannel.
        """
        if not self.timed:
            lo = bisect_right(self.idx, prev.turn_idx)
            return any(not t.backchannel for t in self.by_idx[lo:max(lo, bisect_left(self.idx, phrase.turn_idx))])
        a, b = bisect_left(self.starts, prev.start_s), bisect_left(self.starts, prev.end_s)
        during = self.replying_before[max(a, b)] - self.replying_before[a]
        return during > 0 or bisect_left(self.starts, phrase.start_s) > b

    def prospect_between(self, after_turn: int, before_turn: int) -> list[Turn]:
        return self.by_idx[bisect_right(self.idx, after_turn):max(bisect_right(self.idx, after_turn),
                                                                    bisect_left(self.idx, before_turn))]

    def starting(self, lo: float, hi: float) -> list[Turn]:
        """Prospect turns starting in [lo, hi)."""
        return self.by_start[bisect_left(self.starts, lo):max(bisect_left(self.starts, lo), bisect_left(self.starts, hi))]

    def next_phrase_start(self, phrase: Phrase) -> float:
        """The earliest start of a phrase after this one (inf: none)."""
        return self.next_start[self.phrase_pos[phrase.phrase_idx] + 1]

    def window_end_s(self, phrase: Phrase) -> float:
        """When the rep next asks for a reply after this phrase (inf: never): the earliest start from the
        first later phrase that is a pitch, a question or in a later turn."""
        return self.next_start[self.window_end[self.phrase_pos[phrase.phrase_idx]]]


def _reply_by_order(run, call: _Call) -> list[Turn]:
    """Without times (a transcript that has none): the prospect turns before the rep's next phrase."""
    last = run[-1]
    next_rep = call.next_turn[call.phrase_pos[last.phrase_idx]]
    return call.prospect_between(last.turn_idx, next_rep)


def _runs(pitches: Sequence[Phrase], call: _Call) -> list[list[Phrase]]:
    """Consecutive pitch phrases the prospect did not reply between (backchannels during them aside)."""
    runs: list[list[Phrase]] = []
    for phrase in pitches:
        if runs:
            prev = runs[-1][-1]
            if prev.phrase_idx + 1 == phrase.phrase_idx and not call.replied_between(prev, phrase):
                runs[-1].append(phrase)
                continue
        runs.append([phrase])
    return runs


def _reaction_turns(run, call: _Call, window_s) -> tuple[list[Turn], list[Turn]]:
    """(reply turns, backchannel turns) for one run of pitch phrases."""
    start, end = run[0].start_s, run[-1].end_s
    if not call.timed:
        return _reply_by_order(run, call), []
    next_rep = call.window_end_s(run[-1])
    during = call.starting(start, end)  # said after the run began, before it ended
    backchannels = [t for t in during if is_backchannel(t) and t.end_s <= end]  # said while the rep spoke
    interruption = [t for t in during if not (is_backchannel(t) and t.end_s <= end)]
    if interruption:
        first = interruption[0].start_s
    else:
        i = bisect_left(call.starts, end)
        if i == len(call.starts) or not (call.starts[i] <= end + window_s and call.starts[i] < next_rep):
            return [], backchannels
        first = call.starts[i]
    aside = {id(t) for t in backchannels}
    reply = call.starting(first, max(next_rep, first + 1e-9))
    return [t for t in reply if id(t) not in aside], backchannels
