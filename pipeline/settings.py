"""One frozen settings object, filled from CLI flags with environment fallbacks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def split_names(text: str) -> tuple[str, ...]:
    """"Dana Smith, Sam" -> ("Dana Smith", "Sam")."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


@dataclass(frozen=True)
class Settings:
    inbox: Path = Path("data/inbox")
    db: Path = Path("data/calls.duckdb")
    outcomes: Path | None = None
    model: str = "tiny.en"  # bundled name, faster-whisper model name, or a local directory
    models_dir: Path = Path("models")  # where assembled model files are cached
    rep_channel: str | None = None  # stereo: the rep's channel, "left"/"right"; None: preset or detection
    stereo_preset: str | None = None  # stereo: a named source (speakers.STEREO_PRESETS) fixing the rep's channel
    language: str | None = "en"
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1  # greedy: 2.3x faster than beam 5 for +0.5 points of WER (README "Why tiny.en, greedy")
    reaction_window_s: float = 15.0  # a reaction must start this soon after the phrase
    max_phrase_words: int = 25  # longer sentences are split into clauses
    max_call_s: float = 3 * 3600.0  # longer recordings are refused before decoding
    progress: bool = True
    chunk_calls: int = 256  # transcripts analyzed together: one spaCy and one embedding pass per chunk
    rep_names: tuple[str, ...] = ()  # transcripts: known reps (--rep, PITCHLAB_REPS)
    team: Path | None = None  # transcripts: a file of rep names, one a line
    vocabulary: Path | None = None  # product and company names, one a line, given to Whisper as hotwords
    descriptors: Path | None = None  # CSV `descriptor,example`: the benefits under test (--descriptors)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then PITCHLAB_* environment variables, then explicit overrides."""
        values = dict(
            inbox=Path(_env("PITCHLAB_INBOX", str(cls.inbox))),
            db=Path(_env("PITCHLAB_DB", str(cls.db))),
            model=_env("PITCHLAB_MODEL", cls.model),
            models_dir=Path(_env("PITCHLAB_MODELS_DIR", str(cls.models_dir))),
            rep_channel=os.environ.get("PITCHLAB_REP_CHANNEL") or None,
            stereo_preset=os.environ.get("PITCHLAB_STEREO_PRESET") or None,
            cpu_threads=int(_env("PITCHLAB_THREADS", str(cls.cpu_threads))),
            beam_size=int(_env("PITCHLAB_BEAM", str(cls.beam_size))),
        )
        if os.environ.get("PITCHLAB_REPS"):
            values["rep_names"] = split_names(os.environ["PITCHLAB_REPS"])
        if "PITCHLAB_TEAM" in os.environ:
            values["team"] = Path(os.environ["PITCHLAB_TEAM"])
        if os.environ.get("PITCHLAB_VOCABULARY"):
            values["vocabulary"] = Path(os.environ["PITCHLAB_VOCABULARY"])
        if os.environ.get("PITCHLAB_DESCRIPTORS"):
            values["descriptors"] = Path(os.environ["PITCHLAB_DESCRIPTORS"])
        if "PITCHLAB_OUTCOMES" in os.environ:
            values["outcomes"] = Path(os.environ["PITCHLAB_OUTCOMES"])
        given = {k: v for k, v in overrides.items() if v is not None}
        if "rep_channel" in given or "stereo_preset" in given:  # a flag replaces the environment's mapping
            values.pop("rep_channel"), values.pop("stereo_preset")
        values.update(given)
        settings = cls(**values)
        from .errors import PitchlabError
        from .speakers import STEREO_PRESETS

        if settings.rep_channel not in (None, "left", "right"):
            raise PitchlabError(f"rep channel must be 'left' or 'right', not {settings.rep_channel!r}")
        if settings.stereo_preset is not None and settings.stereo_preset not in STEREO_PRESETS:
            raise PitchlabError(f"unknown stereo preset {settings.stereo_preset!r}: use one of "
                                f"{', '.join(sorted(STEREO_PRESETS))}, or --rep-channel left|right")
        if settings.vocabulary is not None and not settings.vocabulary.is_file():
            raise PitchlabError(f"vocabulary file {settings.vocabulary} not found: give a text file with one "
                                "product or company name a line")
        if settings.descriptors is not None and not settings.descriptors.is_file():
            raise PitchlabError(f"descriptors file {settings.descriptors} not found: write `descriptor,example` rows "
                                "there (one example line a row)")
        if settings.beam_size < 1:
            raise PitchlabError(f"beam size must be 1 or more, not {settings.beam_size}")
        if settings.rep_channel and settings.stereo_preset:
            raise PitchlabError("give either --rep-channel or --stereo-preset, not both")
        return settings
