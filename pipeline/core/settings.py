"""One frozen settings object, filled from CLI flags with environment fallbacks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import PitchlabError

ENGINES = ("local", "ray")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus")
# Worker processes analyzing recordings at once (--workers, PITCHLAB_WORKERS; pipeline/pool.py). 1: everything in
# this one process. Measured side by side on the 2-core machine (bench group `workers`, the 28 demo calls from nothing
# loaded, quiet machine, two runs each): one process of 2 threads 150.1 s / 145.5 s, two worker processes of 1 thread
# 123.0 s / 123.7 s (1.20x), at 2.7 GB of memory instead of 1.1 GB. Not the default: on the telephone set
# (scripts/eval_phone.py) the workers' Whisper heard other words (its numerics differ in a worker process), and found
# 70 of the 78 replies to a pitch and 77 of 78 pitches where one process, of 2 threads or 1, found 74 and 78
# (docs/speed.md, "Worker processes").
WORKERS = 1


def _env(name: str, default: str) -> str:
    """The variable's value; unset or blank means the default."""
    return os.environ.get(name, "").strip() or default


def _env_flag(name: str) -> bool:
    """A switch from the environment: on unless it says 0, false, no or off (read only when it is set)."""
    return _env(name, "").lower() not in ("0", "false", "no", "off")


def _env_count(name: str, default: int) -> int:
    """A whole number of 1 or more from the environment, or a one-line error naming the variable."""
    from pipeline.core.errors import PitchlabError

    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise PitchlabError(f"{name}={raw!r} is not a whole number: set it to 1 or more, or unset it") from None
    if value < 1:
        raise PitchlabError(f"{name}={raw} must be 1 or more: set it to 1 or more, or unset it")
    return value


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
    beam_size: int = 1  # greedy: 2.3x faster than beam 5 for +0.5 points of WER (docs/models.md, "Why tiny.en, greedy")
    reaction_window_s: float = 15.0  # a reaction must start this soon after the phrase
    max_phrase_words: int = 25  # longer sentences are split into clauses
    max_call_s: float = 3 * 3600.0  # longer recordings are refused before decoding
    progress: bool = True
    chunk_calls: int = 256  # transcripts analyzed together: one spaCy and one embedding pass per chunk
    rep_names: tuple[str, ...] = ()  # transcripts: known reps (--rep, PITCHLAB_REPS)
    team: Path | None = None  # transcripts: a file of rep names, one a line
    vocabulary: Path | None = None  # product and company names, one a line, given to Whisper as hotwords
    engine: str = "local"  # where recordings are analyzed: "local", or "ray" (a Ray cluster; docs/ray.md)
    ray_address: str | None = None  # the Ray cluster to join (--ray-address, RAY_ADDRESS); None: a local one
    ray_workers: int | None = None  # Ray actors; None: the cluster's CPUs / cpu_threads
    # telephone-band calls: each reply to a pitch heard again by Moonshine base before it is scored (rehear.py);
    # PITCHLAB_REHEAR=0 turns it off
    rehear: bool = True
    redact: bool = False  # personal data in transcripts replaced by placeholders before it is stored (redact.py)
    descriptors: Path | None = None  # CSV `descriptor,example`: the benefits under test (--descriptors)
    # Whisper transcribing the next call while this one is analyzed (analyze.overlapped): off, because on the
    # 2-core machine it was slower, one run each side by side on a quiet machine (bench group `overlap`, 28 demo
    # calls): one at a time 113.6 s wall / 193.7 s CPU, overlapped 124.9 s / 228.7 s (both cores oversubscribed).
    overlap: bool = False
    workers: int = WORKERS  # worker processes, each with its own models and cpu_threads threads (pipeline/pool.py)

    @classmethod
    def paths_from_env(cls, **overrides) -> "Settings":
        """Only the database and inbox (PITCHLAB_DB, PITCHLAB_INBOX), then explicit overrides: for the commands
        that read what is stored, which no other variable concerns (a bad PITCHLAB_BEAM must not stop them)."""
        values = dict(inbox=Path(_env("PITCHLAB_INBOX", str(cls.inbox))), db=Path(_env("PITCHLAB_DB", str(cls.db))))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then PITCHLAB_* environment variables, then explicit overrides (analyze and watch)."""
        from pipeline.core.errors import PitchlabError

        values = dict(
            inbox=Path(_env("PITCHLAB_INBOX", str(cls.inbox))),
            db=Path(_env("PITCHLAB_DB", str(cls.db))),
            model=_env("PITCHLAB_MODEL", cls.model),
            models_dir=Path(_env("PITCHLAB_MODELS_DIR", str(cls.models_dir))),
            rep_channel=_env("PITCHLAB_REP_CHANNEL", "") or None,
            stereo_preset=_env("PITCHLAB_STEREO_PRESET", "") or None,
            engine=_env("PITCHLAB_ENGINE", "") or cls.engine,
            ray_address=_env("RAY_ADDRESS", "") or None,
        )
        if overrides.get("cpu_threads") is None:
            values["cpu_threads"] = _env_count("PITCHLAB_THREADS", cls.cpu_threads)
        if overrides.get("beam_size") is None:
            values["beam_size"] = _env_count("PITCHLAB_BEAM", cls.beam_size)
        if overrides.get("workers") is None:
            values["workers"] = _env_count("PITCHLAB_WORKERS", cls.workers)
        if _env("PITCHLAB_REPS", ""):
            values["rep_names"] = split_names(os.environ["PITCHLAB_REPS"])
        if _env("PITCHLAB_TEAM", ""):
            values["team"] = Path(_env("PITCHLAB_TEAM", ""))
        if _env("PITCHLAB_VOCABULARY", ""):
            values["vocabulary"] = Path(_env("PITCHLAB_VOCABULARY", ""))
        if _env("PITCHLAB_OUTCOMES", ""):
            values["outcomes"] = Path(_env("PITCHLAB_OUTCOMES", ""))
        if _env("PITCHLAB_REDACT", ""):
            values["redact"] = _env_flag("PITCHLAB_REDACT")
        if _env("PITCHLAB_REHEAR", ""):
            values["rehear"] = _env_flag("PITCHLAB_REHEAR")
        if _env("PITCHLAB_DESCRIPTORS", ""):
            values["descriptors"] = Path(_env("PITCHLAB_DESCRIPTORS", ""))
        given = {k: v for k, v in overrides.items() if v is not None}
        mapped = "rep_channel" in given or "stereo_preset" in given  # a flag replaces the environment's mapping
        if not mapped and values["rep_channel"] not in (None, "left", "right"):
            raise PitchlabError(f"PITCHLAB_REP_CHANNEL={values['rep_channel']!r} must be left or right: "
                                "fix it or unset it")
        if not mapped and values["stereo_preset"] is not None:
            if values["stereo_preset"] not in STEREO_PRESETS:
                raise PitchlabError(f"PITCHLAB_STEREO_PRESET={values['stereo_preset']!r} is not a preset: use one "
                                    f"of {', '.join(sorted(STEREO_PRESETS))}, or unset it")
        if "vocabulary" not in given and values.get("vocabulary") and not values["vocabulary"].is_file():
            raise PitchlabError(f"PITCHLAB_VOCABULARY={values['vocabulary']}: no such file (give a text file "
                                "with one product or company name a line, or unset it)")
        if mapped:
            values.pop("rep_channel"), values.pop("stereo_preset")
        values.update(given)
        settings = cls(**values)

        if settings.rep_channel not in (None, "left", "right"):
            raise PitchlabError(f"rep channel must be 'left' or 'right', not {settings.rep_channel!r}")
        if settings.stereo_preset is not None and settings.stereo_preset not in STEREO_PRESETS:
            raise PitchlabError(f"unknown stereo preset {settings.stereo_preset!r}: use one of "
                                f"{', '.join(sorted(STEREO_PRESETS))}, or --rep-channel left|right")
        if settings.vocabulary is not None and not settings.vocabulary.is_file():
            raise PitchlabError(f"vocabulary file {settings.vocabulary} not found: give a text file with one "
                                "product or company name a line")
        if settings.engine not in ENGINES:
            raise PitchlabError(f"unknown engine {settings.engine!r}: use {' or '.join(ENGINES)}")
        if settings.ray_workers is not None and settings.ray_workers < 1:
            raise PitchlabError(f"Ray workers must be 1 or more, not {settings.ray_workers}")
        if settings.descriptors is not None and not settings.descriptors.is_file():
            raise PitchlabError(f"descriptors file {settings.descriptors} not found: write `descriptor,example` rows "
                                "there (one example line a row)")
        if settings.beam_size < 1:
            raise PitchlabError(f"beam size must be 1 or more, not {settings.beam_size}")
        if settings.cpu_threads < 1:
            raise PitchlabError(f"threads must be 1 or more, not {settings.cpu_threads}")
        if settings.workers < 1:
            raise PitchlabError(f"workers must be 1 or more, not {settings.workers}")
        if settings.workers > 1 and settings.engine == "ray":
            raise PitchlabError("--workers is for the local engine: with --engine ray use --ray-workers")
        if settings.redact:
            require_presidio()  # before any slow work
        if settings.rep_channel and settings.stereo_preset:
            raise PitchlabError("give either --rep-channel or --stereo-preset, not both")
        return settings


# The rep's (agent's) channel in stereo recordings of common call-recording sources.
STEREO_PRESETS = {
    "vicidial": "left",  # agent left
    "amazon-connect": "right",  # agent right, customer left
    "twilio-flex": "right",  # agent right, customer left
    "freeswitch": "right",  # caller left: an inbound caller is the prospect
}


def require_presidio() -> None:
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        raise PitchlabError("--redact (PITCHLAB_REDACT) needs the privacy extra: "
                            ".venv/bin/pip install -e '.[privacy]'") from None
