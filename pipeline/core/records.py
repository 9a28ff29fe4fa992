"""Frozen records passed between the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

REP = "rep"
PROSPECT = "prospect"

AUDIO = "audio"  # calls.source_kind
TRANSCRIPT = "transcript"
TRANSCRIPT_EXTENSIONS = (".vtt", ".srt", ".json")

INTERESTED = "interested"
NOT_INTERESTED = "not_interested"


@dataclass(frozen=True)
class Recording:
    """An audio file found in the inbox; `call_id` is the sha256 of its bytes."""

    path: Path
    source_file: str  # path relative to the inbox, as the user dropped it
    call_id: str
    size_bytes: int

    @property
    def source_kind(self) -> str:
        """AUDIO for a recording, TRANSCRIPT for a .vtt/.srt/.json transcript."""
        return TRANSCRIPT if self.path.suffix.lower() in TRANSCRIPT_EXTENSIONS else AUDIO


@dataclass(frozen=True)
class AudioInfo:
    """What is known of a call's source; a transcript has no channels or sample rate."""

    call_id: str
    source_file: str
    duration_s: float | None
    channels: int | None = None
    sample_rate: int | None = None
    recorded_at: datetime | None = None  # the file's modification time: when the call was recorded, as far as we know
    band: str | None = None  # `telephone` or `wideband` (ingest.detect_band); None for a transcript
    high_band_db: float | None = None  # energy above 4 kHz relative to all speech energy, dB


@dataclass(frozen=True)
class Word:
    start_s: float | None  # None: a transcript without times
    end_s: float | None
    text: str
    channel: int | None = None  # 0 = left, 1 = right; None for mono
    segment: int = 0  # index of the Whisper segment the word came from


@dataclass(frozen=True)
class Turn:
    turn_idx: int
    speaker: str  # REP or PROSPECT
    start_s: float | None  # None: a transcript without times
    end_s: float | None
    text: str
    words: tuple[Word, ...] = field(default=(), compare=False, repr=False)
    name: str | None = None  # the person, when a transcript names them
    backchannel: bool = False  # "mm-hm" while the other side keeps talking; that side's turn goes on


@dataclass(frozen=True)
class Phrase:
    """A pitch phrase: one sentence (or clause of a long one) of a rep turn."""

    phrase_idx: int
    turn_idx: int
    start_s: float | None
    end_s: float | None
    text: str
    descriptors: tuple[str, ...] = ()
    kind: str = "pitch"  # pitch / greeting / discovery / close
    kind_evidence: str = ""
    silence_after_s: float | None = None  # no reply to its pitch run, then nobody spoke this long (reactions.silences)


@dataclass(frozen=True)
class Reaction:
    """The prospect's speech after a pitch phrase (or a run of them), with its interest score."""

    phrase_idx: int
    turn_idx: int  # first prospect turn of the reaction
    start_s: float | None  # None for transcripts without times
    end_s: float | None
    text: str
    interest: float  # in [-1, 1]
    label: str  # interested / neutral / objection
    evidence: tuple[str, ...] = ()
    latency_s: float | None = 0.0  # reaction start minus the end of the pitch run; negative = interrupted
    interrupted: bool = False
    backchannels: tuple[str, ...] = ()  # short prospect sounds heard during the pitch run
    run_size: int = 1  # pitch phrases in the run this reaction answers
    heard_by: str | None = None  # `text` heard again from the audio by this model (pipeline.language.rehear)


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
    rep_channel: str | None = None  # stereo: "left"/"right" from the sidecar, overriding settings
    outcome_given: bool = True  # False when the entry does not mention the outcome (a sidecar without one)


@dataclass(frozen=True)
class CallTurns:
    """A call as turns, from audio (transcribed, speakers split) or a transcript file: the back half's input."""

    info: AudioInfo
    turns: tuple[Turn, ...]
    speaker_method: str
    model: str | None = None  # None for a transcript
    source_kind: str = AUDIO
    rep: str | None = None  # as the transcript itself says, or the enrolled rep whose voice matched
    outcome: str | None = None
    rep_channel: str | None = None  # stereo: "left"/"right"
    rep_channel_source: str | None = None
    rep_voice_source: str | None = None  # mono: how the rep's voice was chosen
    rep_voice_cosine: float | None = None  # best cosine between a speaker and an enrolled rep's print
    # telephone band: the prospect's side of the call (16 kHz), to hear its replies again (pipeline.language.rehear)
    prospect_audio: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CallAnalysis:
    """Everything the pipeline derives from one call, written in one transaction."""

    info: AudioInfo
    speaker_method: str
    model: str | None  # None for a transcript
    turns: tuple[Turn, ...]
    phrases: tuple[Phrase, ...]
    reactions: tuple[Reaction, ...]
    embeddings: tuple[tuple[float, ...], ...]
    lead: LeadGuess | None = None
    source_kind: str = AUDIO
    rep: str | None = None  # as the transcript itself says; outcomes.csv and sidecars win
    outcome: str | None = None
    rep_channel: str | None = None  # stereo: "left"/"right"
    rep_channel_source: str | None = None  # how rep_channel was decided (speakers.rep_channel)
    rep_voice_source: str | None = None  # mono: how the rep's voice was chosen ("voice:NAME", "intro" or "opening")
    rep_voice_cosine: float | None = None  # best cosine between a speaker and an enrolled rep's print
