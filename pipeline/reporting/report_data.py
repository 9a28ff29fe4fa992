"""The report's frozen records: what `report.gather` reads from the database and `report_html` draws."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.analysis.board import Board
from pipeline.analysis.stats import LeaderRow

REACTION_LABELS = ("interested", "neutral", "objection")


@dataclass(frozen=True)
class Example:
    """A pitch phrase said in a call, with where to hear it and how the prospect reacted."""

    text: str
    source_file: str
    start_s: float | None
    reaction: str | None  # interested / neutral / objection, None when nobody replied


@dataclass(frozen=True)
class ClusterReport:
    row: LeaderRow
    examples: tuple[Example, ...]
    reactions: tuple[tuple[str, int], ...]  # (label, count) in REACTION_LABELS order


@dataclass(frozen=True)
class RepReport:
    rep: str
    calls: int
    talk_ratio: float | None  # the rep's share of the words spoken in their calls
    questions_per_call: float
    descriptors: tuple[tuple[str, int], ...]  # (cluster label, pitch phrases), most used first


@dataclass(frozen=True)
class Quality:
    calls: int
    audio_minutes: float
    transcripts: int
    failed: int
    labelled: int
    inferred: int
    unknown: int
    pitches: int
    unclustered: int
    telephone: int = 0  # recordings in the telephone band (calls.band)
    wideband: int = 0

    @property
    def unclustered_share(self) -> float | None:
        return self.unclustered / self.pitches if self.pitches else None


@dataclass(frozen=True)
class Report:
    baseline: float | None  # interested-lead rate over all calls with an outcome
    clusters: tuple[ClusterReport, ...]  # best interested-lead rate first
    reps: tuple[RepReport, ...]
    quality: Quality
    next_tests: tuple[str, ...]
    include_inferred: bool
    descriptors: Board | None = None  # the benefit level: descriptors, each with its wordings
