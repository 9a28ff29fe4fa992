"""Voice prints: resemblyzer's bundled speaker encoder, and VAD speech frames.

The weights are the `pretrained.pt` that the `resemblyzer` package ships
(GE2E speaker encoder: 40 mel bands → 3-layer LSTM of 256 → 256-d unit
vector), checked by sha256 before loading. resemblyzer's own module imports
librosa only for the mel spectrogram; we compute the same mel spectrogram
here with numpy (librosa's defaults: 25 ms Hann window, 10 ms hop, Slaney mel
filters, power 2) and rebuild the small network with torch, so librosa and
numba are not needed.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Protocol, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one mel frame
N_MELS = 40
TARGET_DBFS = -30.0  # resemblyzer's volume normalisation (raise only)
VAD_FRAME_S = 0.03
BATCH = 64  # voice-print windows per LSTM call
DENSE_MIN = 8  # clips of one length run as a dense batch from this many on


class VoiceEncoder(Protocol):
    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """One unit-length voice print per clip of 16 kHz mono audio: (len(clips), d)."""


def embed_spans(encoder: VoiceEncoder, samples: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Voice prints of samples[a:b] for each span (a, b) in seconds: the encoder's own `embed_spans`
    where it has one (one spectrogram for the whole call), else its prints of the cut clips."""
    if hasattr(encoder, "embed_spans"):
        return encoder.embed_spans(samples, spans)
    return encoder.embed([samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in spans])


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale (librosa's default, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = hz / f_sp
    high = hz >= min_log_hz
    mel[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = f_sp * mel
    high = mel >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mel[high] - min_log_mel))
    return hz


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) Slaney-normalised triangular filters, as librosa.filters.mel."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_pts = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([SAMPLE_RATE / 2]))[0], N_MELS + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2 : N_MELS + 2] - mel_pts[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) power mel spectrogram, frame i centred on sample i * HOP."""
    padded = np.pad(wav.astype(np.float32), (N_FFT // 2, N_FFT // 2))
    n = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ mel_filters().T).astype(np.float32)


def normalize_volume(wav: np.ndarray) -> np.ndarray:
    """Raise quiet audio to TARGET_DBFS of RMS, as resemblyzer does before embedding."""
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) if len(wav) else 0.0
    if rms == 0:
        return wav
    change_db = TARGET_DBFS - 20 * np.log10(rms)
    return wav * (10 ** (change_db / 20)) if change_db > 0 else wav


def speech_frames(wav: np.ndarray, aggressiveness: int = 2) -> np.ndarray:
    """WebRTC VAD over 30 ms frames: a bool per frame, True where someone speaks."""
    import webrtcvad

    vad = webrtcvad.Vad(aggressiveness)
    step = int(VAD_FRAME_S * SAMPLE_RATE)
    pcm = (np.clip(wav, -1, 1) * 32767).astype("<i2")
    n = len(pcm) // step
    return np.array([vad.is_speech(pcm[i * step : (i + 1) * step].tobytes(), SAMPLE_RATE) for i in range(n)], dtype=bool)


def bf16_is_native() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX)."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


class ResemblyzerEncoder:
    """resemblyzer's GE2E voice encoder from its bundled, sha256-verified weights.

    `precision`: "bfloat16" runs the LSTM under bfloat16 autocast, faster where the CPU multiplies
    bfloat16 in hardware (the demo's mono split 3.9-4.4 s against 6.7 s in float32,
    scripts/eval_diarization.py --precision); prints stay within cosine 0.99 of float32 ones
    (tests/test_diarize.py). "auto" (the default) picks it only on such CPUs: elsewhere bfloat16
    is emulated and slower.
    """

    name = "resemblyzer-0.1.4"

    def __init__(self, precision: str = "auto"):
        import torch
        from torch import nn

        from pipeline.core.models import verified_package_dir

        path = verified_package_dir("resemblyzer") / "pretrained.pt"
        log.info("loading voice encoder from %s", path)
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.eval()
        self._torch = torch
        if precision == "auto":
            precision = "bfloat16" if bf16_is_native() else "float32"
        if precision not in ("bfloat16", "float32"):
            raise ValueError(f"precision must be auto, bfloat16 or float32, not {precision!r}")
        self.precision = precision

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """Voice prints of clips (unit length, float32)."""
        return self.embed_mels([mel_spectrogram(c) for c in clips])

    def embed_spans(self, samples: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
        """Voice prints of samples[a:b] for each span (a, b) in seconds, from one mel spectrogram of
        all the samples: a call's windows overlap, so each clip's own spectrogram would repeat the
        work (2.5 times over at a window of 1 s every 0.4 s). A clip's first and last frames see
        the audio just outside it instead of zeros; everything else is the same."""
        mel = mel_spectrogram(samples)
        mels = []
        for a, b in spans:  # frames centred on samples a .. b, HOP apart (1.0 s: always 101)
            f0 = int(round(max(0.0, a) * SAMPLE_RATE / HOP))
            mels.append(mel[f0 : f0 + 1 + int(round((b - max(0.0, a)) * SAMPLE_RATE)) // HOP])
        return self.embed_mels(mels)

    def embed_mels(self, mels: Sequence[np.ndarray]) -> np.ndarray:
        """Voice prints of mel spectrograms (unit length, float32).

        Clips of one length (a call's analysis windows) run as batches of exactly BATCH rows, zero
        rows padding the last: in one-off microbenchmarks bfloat16 kernels were several times
        slower at some batch sizes, and each new shape cost a setup of about 0.1 s once per
        process. Lengths heard fewer than DENSE_MIN times run together as one packed sequence in
        float32 (sorted by length, so a chunk pads little): the same prints as one by one
        (tests/test_diarize.py), in about half the time in a one-off microbenchmark.
        """
        torch = self._torch
        out = np.zeros((len(mels), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, m in enumerate(mels):
            by_len.setdefault(len(m), []).append(i)
        dense = [idx for idx in by_len.values() if len(idx) >= DENSE_MIN]
        odd = sorted((i for idx in by_len.values() if len(idx) < DENSE_MIN for i in idx), key=lambda i: len(mels[i]))
        with torch.no_grad():
            for idx in dense:
                for start in range(0, len(idx), BATCH):
                    batch = idx[start : start + BATCH]
                    x = np.zeros((BATCH, *mels[batch[0]].shape), dtype=np.float32)
                    x[: len(batch)] = np.stack([mels[i] for i in batch])
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
                        _, (hidden, _) = self.lstm(torch.from_numpy(x))
                    out[batch] = self._prints(hidden[-1, : len(batch)])
            for start in range(0, len(odd), BATCH):
                batch = odd[start : start + BATCH]
                packed = torch.nn.utils.rnn.pack_sequence([torch.from_numpy(mels[i]) for i in batch], enforce_sorted=False)
                _, (hidden, _) = self.lstm(packed)
                out[batch] = self._prints(hidden[-1])
        return out

    def _prints(self, hidden) -> np.ndarray:
        torch = self._torch
        raw = torch.relu(self.linear(hidden.float()))
        return (raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-9)).numpy()


MATCH_MIN = 0.85  # cosine to an enrolled print from which a speaker is that rep (docs/reps-and-voices.md)


@dataclass(frozen=True)
class Match:
    """The speaker (index into the prints compared) that is rep `name`, with its cosine."""

    speaker: int
    name: str
    cosine: float


def match(prints: np.ndarray, reps: dict[str, np.ndarray], minimum: float = MATCH_MIN) -> tuple[Match | None, float | None]:
    """Which of `prints` (a call's speakers) is an enrolled rep, and the best cosine seen.

    The (speaker, rep) pair with the highest cosine wins when it reaches `minimum`;
    otherwise no speaker is taken for an enrolled rep. The best cosine is returned
    either way (None without enrolled reps) so calls can show how close they came.
    """
    if not reps or not len(prints):
        return None, None
    names = sorted(reps)
    cos = prints @ np.stack([reps[n] for n in names]).T  # (speakers, reps)
    speaker, rep = np.unravel_index(int(np.argmax(cos)), cos.shape)
    best = float(cos[speaker, rep])
    if best < minimum:
        return None, best
    return Match(int(speaker), names[rep], best), best
