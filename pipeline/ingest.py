"""Find recordings and transcripts in the inbox, hash them, read their format and decode them."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioError, PitchlabError
from .records import TRANSCRIPT_EXTENSIONS, AudioInfo, Recording
from .settings import AUDIO_EXTENSIONS

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # what Whisper and the speaker features work at


def find_recordings(inbox: Path) -> list[Recording]:
    """Every audio file and transcript under `inbox` (recursively), sorted by relative path.

    A `.json` file is a transcript unless it is the outcome sidecar of another
    call file beside it (`call.mp3.json` or `call.json` next to `call.mp3`).
    """
    if not inbox.is_dir():
        raise PitchlabError(
            f"inbox {inbox} does not exist: create it and drop .wav/.mp3/.m4a files there"
        )
    found = []
    for path in sorted(inbox.rglob("*")):
        rel = path.relative_to(inbox)
        if not path.is_file() or path.suffix.lower() not in AUDIO_EXTENSIONS + TRANSCRIPT_EXTENSIONS:
            continue
        if any(part.startswith(".") for part in rel.parts):  # hidden files and folders
            continue
        found.append(path)
    sidecars = {p.with_name(p.name + ".json") for p in found} | {
        p.with_suffix(".json") for p in found if p.suffix.lower() != ".json"
    }
    recordings = []
    for path in found:
        if path in sidecars:
            continue
        rel = path.relative_to(inbox)
        recordings.append(
            Recording(
                path=path,
                source_file=rel.as_posix(),
                call_id=sha256_of(path),
                size_bytes=path.stat().st_size,
            )
        )
    if not recordings:
        raise PitchlabError(
            f"no audio or transcripts in {inbox}: drop {'/'.join(AUDIO_EXTENSIONS + TRANSCRIPT_EXTENSIONS)}"
            " files there"
        )
    return recordings


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


def probe(recording: Recording) -> tuple[int, int]:
    """(channels, sample rate) of the first audio stream, or AudioError."""
    import av

    if not recording.path.exists():
        raise FileNotFoundError(f"{recording.source_file} disappeared before it was read")
    try:
        with av.open(str(recording.path)) as container:
            if not container.streams.audio:
                raise AudioError("no audio stream")
            stream = container.streams.audio[0]
            return stream.codec_context.channels, stream.codec_context.sample_rate
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many types for junk input
        raise AudioError(f"not readable as audio ({_one_line(exc)})") from exc


def decode(recording: Recording) -> DecodedAudio:
    """Decode with PyAV (faster-whisper's decode_audio); stereo keeps both channels."""
    from faster_whisper.audio import decode_audio

    channels, sample_rate = probe(recording)
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
    info = AudioInfo(
        call_id=recording.call_id,
        source_file=recording.source_file,
        duration_s=round(samples / SAMPLE_RATE, 3),
        channels=channels,
        sample_rate=sample_rate,
    )
    return DecodedAudio(info=info, channels=arrays)


def is_fake_stereo(left: np.ndarray, right: np.ndarray, tolerance: float = 1e-3) -> bool:
    """Both channels carry the same mix: treat the call as mono."""
    energy = float(np.dot(left, left) + np.dot(right, right))
    if energy == 0:
        return True
    diff = left - right
    return float(np.dot(diff, diff)) / energy < tolerance


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
