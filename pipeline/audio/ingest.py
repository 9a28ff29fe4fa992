"""Find recordings and transcripts in the inbox, hash them, read their format and decode them."""

from __future__ import annotations

import hashlib
import logging
import os
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from pipeline.core.errors import AudioError, PitchlabError
from pipeline.core.records import TRANSCRIPT_EXTENSIONS, AudioInfo, Recording
from pipeline.core.settings import AUDIO_EXTENSIONS

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # what Whisper and the speaker features work at
MAX_DURATION_S = 3 * 3600.0  # longer files are refused before decoding (16 kHz float32: 0.7 GB per 3 h)
SILENCE_PEAK = 0.001  # -60 dBFS: below this everywhere, a file is silence


def find_recordings(inbox: Path) -> list[Recording]:
    """Every audio file and transcript under `inbox` (recursively, see `candidates`), sorted by relative path."""
    if not inbox.is_dir():
        raise PitchlabError(
            f"inbox {inbox} does not exist: create it and drop .wav/.mp3/.m4a files there"
        )
    recordings = []
    for path, rel in candidates(inbox):
        try:
            recordings.append(Recording(path=path, source_file=rel, call_id=sha256_of(path),
                                        size_bytes=path.stat().st_size))
        except FileNotFoundError:  # gone since the folder was listed
            continue
        except OSError as exc:  # no read permission, an I/O error: this file only, and not keyed, so not stored
            log.warning("%s: not readable (%s); skipped", rel, exc.strerror or exc)
    if not recordings:
        raise PitchlabError(
            f"no audio or transcripts in {inbox}: drop {'/'.join(AUDIO_EXTENSIONS + TRANSCRIPT_EXTENSIONS)}"
            " files there"
        )
    return recordings


TEMPORARY_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial")


def is_temporary(name: str) -> bool:
    """Names that copy tools, browsers and editors give files still being written."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(TEMPORARY_SUFFIXES)


def candidates(inbox: Path) -> list[tuple[Path, str]]:
    """(path, path relative to the inbox) of every audio or transcript file under `inbox`, sorted.

    Hidden and temporary names are skipped, and so is any symlink (file or
    folder) that points outside the inbox. A `.json` file is a transcript unless
    it is the outcome sidecar of another call file beside it (`call.mp3.json`,
    or `call.json` next to `call.mp3`).
    """
    root = inbox.resolve()
    out = []
    for folder, dirs, files in os.walk(inbox, followlinks=False):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not is_temporary(d)]  # symlinked folders are not walked
        for name in files:
            path = here / name
            if is_temporary(name) or path.suffix.lower() not in AUDIO_EXTENSIONS + TRANSCRIPT_EXTENSIONS:
                continue
            if _inside(path, root) and path.is_file():
                out.append((path, path.relative_to(inbox).as_posix()))
    paths = {path for path, _ in out}
    sidecars = {p.with_name(p.name + ".json") for p in paths} | {
        p.with_suffix(".json") for p in paths if p.suffix.lower() != ".json"
    }
    return sorted(((p, rel) for p, rel in out if p not in sidecars), key=lambda pr: pr[1])


def _inside(path: Path, root: Path) -> bool:
    """A symlink is followed only when its target lies inside the inbox."""
    if not path.is_symlink():
        return True
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # dangling or looping link
        return False


def modified_at(path: Path) -> datetime | None:
    """The file's modification time (local time): the recording date `pitchlab forget --older-than` uses."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """A recording decoded to 16 kHz float32: (mono,) or (left, right).

    A stereo file whose channels carry the same signal is decoded as mono.
    """

    info: AudioInfo
    channels: tuple[np.ndarray, ...]  # (mono,) or (left, right)


def probe(recording: Recording, *, max_duration_s: float = MAX_DURATION_S) -> tuple[int, int, float | None]:
    """(channels, sample rate, declared seconds or None) of the first audio stream, or AudioError.

    Cheap checks first, so bad files fail before anything is decoded or any
    model is loaded: empty files, more than two channels, calls over the limit.
    """
    import av

    if not recording.path.exists():
        raise FileNotFoundError(f"{recording.source_file} disappeared before it was read")
    if recording.path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        with av.open(str(recording.path)) as container:
            if not container.streams.audio:
                raise AudioError("no audio stream")
            stream = container.streams.audio[0]
            channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate
            seconds = _declared_seconds(container, stream)
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many types for junk input
        raise AudioError(f"not readable as audio ({_one_line(exc)})") from exc
    if channels > 2:
        raise AudioError(f"{channels} channels: only mono or two-channel (stereo) calls can be analyzed")
    if seconds is not None and seconds > max_duration_s:
        raise AudioError(
            f"too long: {seconds / 3600:.1f} h (limit {max_duration_s / 3600:g} h); split the recording"
        )
    return channels, rate, seconds


def _declared_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base
    return None


def decode(recording: Recording, *, max_duration_s: float = MAX_DURATION_S) -> DecodedAudio:
    """Decode with PyAV (faster-whisper's decode_audio); stereo keeps both channels."""
    from faster_whisper.audio import decode_audio

    channels, sample_rate, declared_s = probe(recording, max_duration_s=max_duration_s)
    try:
        if channels == 2:
            left, right = decode_audio(str(recording.path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            arrays = (left, right) if not is_fake_stereo(left, right) else ((left + right) / 2,)
        else:
            arrays = (decode_audio(str(recording.path), sampling_rate=SAMPLE_RATE),)
    except Exception as exc:
        raise AudioError(f"decoding failed ({_one_line(exc)})") from exc
    samples = len(arrays[0])
    if samples == 0:
        raise AudioError("no audio samples (empty or truncated file)")
    declared_s = _wav_header_seconds(recording.path) or declared_s
    if declared_s and samples / SAMPLE_RATE < declared_s / 2:
        raise AudioError(f"truncated: {samples / SAMPLE_RATE:.1f} s of the {declared_s:.1f} s its header declares")
    if samples / SAMPLE_RATE > max_duration_s:  # the header said less, or nothing
        raise AudioError(f"too long: {samples / SAMPLE_RATE / 3600:.1f} h (limit {max_duration_s / 3600:g} h); split the recording")
    peak = max(float(np.abs(a).max()) for a in arrays)
    if peak < SILENCE_PEAK:
        raise AudioError("silence only (no sample above -60 dBFS)")
    band, high_band_db = detect_band(arrays, sample_rate)
    info = AudioInfo(
        call_id=recording.call_id,
        source_file=recording.source_file,
        duration_s=round(samples / SAMPLE_RATE, 3),
        channels=channels,
        sample_rate=sample_rate,
        recorded_at=modified_at(recording.path),
        band=band,
        high_band_db=high_band_db,
    )
    return DecodedAudio(info=info, channels=arrays)


TELEPHONE, WIDEBAND = "telephone", "wideband"
HIGH_BAND_HZ = 4000  # a telephone line (8 kHz sampling, G.711/GSM/narrowband Opus) carries nothing above this
TELEPHONE_MAX_DB = -35.0  # speech recorded wideband keeps -10 to -30 dB of its energy above 4 kHz
BAND_FRAME = 512  # 32 ms at 16 kHz
SPEECH_FLOOR = 10 ** (-30 / 10)  # frames within 30 dB of the loud ones are speech, the rest pauses


def detect_band(channels: tuple[np.ndarray, ...], sample_rate: int) -> tuple[str, float | None]:
    """(`telephone` | `wideband`, energy above 4 kHz relative to all, in dB) of decoded 16 kHz audio.

    A file sampled at 8 kHz or less is telephone band whatever it holds. Otherwise the
    spectrum decides: a phone recording saved at 16 or 48 kHz (an Opus or mp3 export of a
    dialer's call) has next to no energy above 4 kHz. Only frames within 30 dB of the loud
    ones count (speech, fricatives included), not the pauses between.
    """
    frames = np.concatenate([c[: len(c) // BAND_FRAME * BAND_FRAME].reshape(-1, BAND_FRAME) for c in channels])
    high_db = None
    if len(frames):
        energy = (frames ** 2).sum(axis=1)
        loud = frames[energy >= np.percentile(energy, 95) * SPEECH_FLOOR]
        power = (np.abs(np.fft.rfft(loud * np.hanning(BAND_FRAME), axis=1)) ** 2).sum(axis=0)
        hz = np.fft.rfftfreq(BAND_FRAME, 1 / SAMPLE_RATE)
        total = float(power[hz >= 100].sum())
        if total > 0:
            high_db = round(10 * float(np.log10(max(float(power[hz >= HIGH_BAND_HZ + 100].sum()) / total, 1e-12))), 1)
    if sample_rate <= 2 * HIGH_BAND_HZ:
        return TELEPHONE, high_db
    return (TELEPHONE if high_db is not None and high_db < TELEPHONE_MAX_DB else WIDEBAND), high_db


def _wav_header_seconds(path: Path) -> float | None:
    """The length a PCM wav's header declares (PyAV trusts the file size instead); None otherwise."""
    if path.suffix.lower() != ".wav":
        return None
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, OSError, ZeroDivisionError):
        return None


def is_fake_stereo(left: np.ndarray, right: np.ndarray, tolerance: float = 1e-3) -> bool:
    """Both channels carry the same mix: treat the call as mono."""
    energy = float(np.dot(left, left) + np.dot(right, right))
    if energy == 0:
        return True
    diff = left - right
    return float(np.dot(diff, diff)) / energy < tolerance


def _one_line(exc: Exception) -> str:
    """The reason alone: PyAV's errors carry FFmpeg's message in `strerror` (their str() adds "[Errno N]" and the
    file's full path, which the line already names)."""
    reason = getattr(exc, "strerror", None)
    text = (reason if isinstance(reason, str) and reason.strip() else str(exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
