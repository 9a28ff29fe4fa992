"""Frozen records passed between the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REP = "rep"
PROSPECT = "prospect"

INTERESTED = "interested"
NOT_INTERESTED = "not_interested"


@dataclass(frozen=True)
class Recording:
    """An audio file found in the inbox; `call_id` is the sha256 of its bytes."""

    path: Path
    source_file: str  # path relative to the inbox, as the user dropped it
    call_id: str
    size_bytes: int


@dataclass(frozen=True)
class AudioInfo:
    call_id: str
    source_file: str
    duration_s: float
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class Word:
    start_s: float
    end_s: float
    text: str
    channel: int | None = None  # 0 = left, 1 = right; None for mono
    segment: int = 0  # index of the Whisper segment the word came from


@dataclass(frozen=True)
class Turn:
    turn_idx: int
    speaker: str  # REP or PROSPECT
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Phrase:
    """A pitch phrase: one sentence (or clause of a long one) of a rep turn."""

    phrase_idx: int
    turn_idx: int
    start_s: float
    end_s: float
    text: str
    descriptors: tuple[str, ...] = ()
    kind: str = "pitch"  # pitch / greeting / discovery / close
    kind_evidence: str = ""


@dataclass(frozen=True)
class Reaction:
    """The prospect's speech after a pitch phrase (or a run of them), with its interest score."""

    phrase_idx: int
    turn_idx: int  # first prospect turn of the reaction
    start_s: float
    end_s: float
    text: str
    interest: float  # in [-1, 1]
    label: str  # interested / neutral / objection
    evidence: tuple[str, ...] = ()
    latency_s: float = 0.0  # reaction start minus the end of the pitch run; negative = interrupted
    interrupted: bool = False
    backchannels: tuple[str, ...] = ()  # short prospect sounds heard during the pitch run
    run_size: int = 1  # pitch phrases in the run this reaction answers


@dataclass(frozen=True)
class LeadGuess:
    """The call's lead status inferred from the call itself."""

    outcome: str  # INTERESTED or NOT_INTERESTED
    confidence: float  # probability of that outcome, 0.5..1
    evidence: str


@dataclass(frozen=True)
class Outcome:
    """A call's outcome and rep as given by the user (outcomes.csv or sidecar)."""

    file: str
    outcome: str | None  # INTERESTED, NOT_INTERESTED or None
    rep: str | None = None
    origin: str = ""  # where it came from, for error messages


@dataclass(frozen=True)
class CallAnalysis:
    """Everything the pipeline derives from one recording, written in one transaction."""

    info: AudioInfo
    speaker_method: str
    model: str
    turns: tuple[Turn, ...]
    phrases: tuple[Phrase, ...]
    reactions: tuple[Reaction, ...]
    embeddings: tuple[tuple[float, ...], ...]
    lead: LeadGuess | None = None
