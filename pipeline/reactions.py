"""Each pitch phrase paired with the prospect's next turn, scored for interest.

A first, transparent method: the reaction's text is matched against two short
cue lists (phrases that signal interest, phrases that signal an objection).
Longer cues are matched first and consume their words, so "not interested"
counts as an objection and not also as interest. The score is
(interest cues - objection cues) / (all cues), in [-1, 1]; above 0 is
`interested`, below 0 `objection`, no cue or a tie `neutral`. The cues that
fired are stored as the reaction's evidence.
"""

from __future__ import annotations

import re
from typing import Sequence

from .records import PROSPECT, Phrase, Reaction, Turn

INTEREST_CUES = (
    "how does", "how do", "how would", "how much", "what does it cost", "what does that cost",
    "price", "pricing", "cost", "show me", "send me", "tell me more", "demo", "trial",
    "interesting", "nice", "great", "love", "cool", "awesome", "sounds good", "that would help",
    "we need", "exactly what", "sign me up", "can you show", "can i see", "really useful",
    "that helps", "impressive", "wow", "let's do it", "let's book", "works for me",
)
OBJECTION_CUES = (
    "already have", "already use", "already got", "not a priority", "not interested",
    "skeptical", "too expensive", "no budget", "don't need", "do not need", "not sure",
    "no thanks", "not really", "not for us", "doubt", "pass", "not now", "maybe later",
    "we're fine", "we are fine", "happy with", "no time", "too busy", "not convinced",
)


def _compile(cues: Sequence[str], sign: int) -> list[tuple[str, re.Pattern, int]]:
    return [(cue, re.compile(r"\b" + re.escape(cue) + r"\b"), sign) for cue in cues]


# Longest cue first, so a longer cue consumes the words of the shorter ones inside it.
_CUES = sorted(
    _compile(INTEREST_CUES, +1) + _compile(OBJECTION_CUES, -1),
    key=lambda c: len(c[0]),
    reverse=True,
)


def score(text: str) -> tuple[float, str, tuple[str, ...]]:
    """(interest in [-1, 1], label, evidence) for one reaction's text."""
    remaining = " " + re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("’", "'")) + " "
    pos = neg = 0
    evidence = []
    for cue, pattern, sign in _CUES:
        hits = len(pattern.findall(remaining))
        if hits:
            remaining = pattern.sub(" ", remaining)
            evidence.extend([("+" if sign > 0 else "-") + cue] * hits)
            pos += hits if sign > 0 else 0
            neg += hits if sign < 0 else 0
    interest = 0.0 if pos + neg == 0 else (pos - neg) / (pos + neg)
    label = "interested" if interest > 0 else "objection" if interest < 0 else "neutral"
    return round(interest, 4), label, tuple(evidence)


def pair(phrases: Sequence[Phrase], turns: Sequence[Turn], window_s: float) -> list[Reaction]:
    """For each phrase, the first prospect turn after it that starts within `window_s`
    (any next prospect turn when the times are unknown)."""
    prospect_turns = [t for t in turns if t.speaker == PROSPECT]
    reactions = []
    for phrase in phrases:
        nxt = next((t for t in prospect_turns if t.turn_idx > phrase.turn_idx), None)
        if nxt is None or _too_late(nxt.start_s, phrase.end_s, window_s):
            continue
        interest, label, evidence = score(nxt.text)
        reactions.append(
            Reaction(
                phrase_idx=phrase.phrase_idx,
                turn_idx=nxt.turn_idx,
                start_s=nxt.start_s,
                end_s=nxt.end_s,
                text=nxt.text,
                interest=interest,
                label=label,
                evidence=evidence,
            )
        )
    return reactions


def _too_late(reply_start: float | None, phrase_end: float | None, window_s: float) -> bool:
    """Without times (a transcript that has none) the next prospect turn is the reaction."""
    if reply_start is None or phrase_end is None:
        return False
    return reply_start - phrase_end > window_s
