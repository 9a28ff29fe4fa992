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

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one mel frame
N_MELS = 40
TARGET_DBFS = -30.0  # resemblyzer's volume normalisation (raise only)
VAD_FRAME_S = 0.03


class VoiceEncoder(Protocol):
    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """One unit-length voice print per clip of 16 kHz mono audio: (len(clips), d)."""


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


class ResemblyzerEncoder:
    """resemblyzer's GE2E voice encoder from its bundled, sha256-verified weights."""

    name = "resemblyzer-0.1.4"

    def __init__(self):
        import torch
        from torch import nn

        from .models import verified_package_dir

        path = verified_package_dir("resemblyzer") / "pretrained.pt"
        log.info("loading voice encoder from %s", path)
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.eval()
        self._torch = torch

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """Voice prints of clips; clips of equal length are run as one batch."""
        torch = self._torch
        out = np.zeros((len(clips), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        mels = [mel_spectrogram(c) for c in clips]
        for i, m in enumerate(mels):
            by_len.setdefault(len(m), []).append(i)
        with torch.no_grad():
            for idx in by_len.values():
                for start in range(0, len(idx), 256):
                    batch = idx[start : start + 256]
                    x = torch.from_numpy(np.stack([mels[i] for i in batch]))
                    _, (hidden, _) = self.lstm(x)
                    raw = torch.relu(self.linear(hidden[-1]))
                    raw = raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-9)
                    out[batch] = raw.numpy()
        return out
