"""A call's lead status inferred from the call itself, for calls without an outcome.

Two signals, both from the prospect's own words:
- the close: the prospect's reply to the rep's last next-step phrase (kind
  `close`, e.g. "Can we book a demo Tuesday?"), scored like any reaction;
- the balance of the prospect's reactions to the pitches (mean interest).
score = CLOSE_WEIGHT * close interest + mean reaction interest;
P(interested) = 1 / (1 + exp(-SLOPE * score)). The outcome is the likelier
side and its probability the confidence; a score of exactly 0 leaves it unknown. Explicit outcomes always win over
this guess (outcome_source 'label' vs 'inferred').
"""

from __future__ import annotations

import math
from typing import Sequence

from pipeline.core.records import INTERESTED, NOT_INTERESTED, PROSPECT, LeadGuess, Phrase, Reaction, Turn
from pipeline.language.kinds import CLOSE
from pipeline.language.reactions import ReactionScorer, Score

CLOSE_WEIGHT = 2.0
SLOPE = 2.5


def close_reply(phrases: Sequence[Phrase], turns: Sequence[Turn]) -> str | None:
    """The prospect's words after the last close phrase that got a reply (before the rep's next phrase)."""
    for phrase in sorted((p for p in phrases if p.kind == CLOSE), key=lambda p: p.phrase_idx, reverse=True):
        until = min((p.turn_idx for p in phrases if p.turn_idx > phrase.turn_idx), default=len(turns) + 1)
        reply = [t.text for t in turns if t.speaker == PROSPECT and phrase.turn_idx < t.turn_idx < until]
        if reply:
            return " ".join(reply)
    return None


def infer(phrases: Sequence[Phrase], reactions: Sequence[Reaction], turns: Sequence[Turn],
          scorer: ReactionScorer) -> LeadGuess | None:
    reply = close_reply(phrases, turns)
    return guess(reply, scorer.score([reply])[0] if reply else None, reactions)


def guess(reply: str | None, close: Score | None, reactions: Sequence[Reaction]) -> LeadGuess | None:
    """The lead status from the close reply (and its score) and the call's reactions."""
    per_run = {r.turn_idx: r.interest for r in reactions}  # one value per reaction, not per phrase
    if close is None and not per_run:
        return None
    mean = sum(per_run.values()) / len(per_run) if per_run else 0.0
    score = CLOSE_WEIGHT * (close.interest if close else 0.0) + mean
    if score == 0:
        return None  # no evidence either way: the outcome stays unknown
    p = 1 / (1 + math.exp(-SLOPE * score))
    outcome = INTERESTED if p >= 0.5 else NOT_INTERESTED
    parts = [f"close reply “{reply}” ({close.label}, {close.interest:+.2f})" if close else "no close reply"]
    parts.append(f"mean reaction interest {mean:+.2f} over {len(per_run)}")
    return LeadGuess(outcome, round(max(p, 1 - p), 4), "; ".join(parts))
