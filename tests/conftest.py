"""Shared fakes and fixtures. Unit tests use small fakes behind the stages' protocols."""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from pipeline.core.records import Word
from pipeline.language.phrases import Span

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEECH = ROOT.parent / "shared" / "data" / "speech"
TEST_CALLS = ROOT / "tests" / "data" / "calls"


def write_wav(path: Path, channels: Sequence[np.ndarray], rate: int = 16000) -> Path:
    """16-bit PCM wav from float arrays in [-1, 1], one per channel."""
    data = np.stack([np.clip(c, -1, 1) for c in channels], axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((data * 32767).astype("<i2").tobytes())
    return path


def tone(seconds: float, freq: float, rate: int = 16000, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def words(text: str, start: float, step: float = 0.3, segment: int = 0, channel=None) -> list[Word]:
    """Evenly timed words of `text` starting at `start`."""
    out = []
    for i, w in enumerate(text.split()):
        out.append(Word(round(start + i * step, 3), round(start + i * step + step * 0.8, 3), w, channel, segment))
    return out


class ScriptTranscriber:
    """Fake Transcriber: returns the next script in turn (stereo calls ask once per channel)."""

    name = "fake"

    def __init__(self, scripts: Sequence[list[Word]]):
        self.scripts = list(scripts)
        self.calls = 0

    def words(self, audio: np.ndarray) -> list[Word]:
        script = self.scripts[self.calls % len(self.scripts)]
        self.calls += 1
        return list(script)


class SentenceSplitter:
    """Fake Splitter: sentences end at '.', '?' or '!'; descriptors are capitalised-free nouns-ish (words > 6 letters)."""

    def split(self, texts: Sequence[str]) -> list[list[Span]]:
        out = []
        for text in texts:
            spans, start = [], 0
            for i, ch in enumerate(text):
                if ch in ".?!" and (i + 1 == len(text) or text[i + 1] == " "):
                    piece = text[start : i + 1]
                    if len(piece.split()) >= 3:
                        terms = tuple(dict.fromkeys(  # each term once, as the real splitter gives them
                            w.strip(".,?!").lower() for w in piece.split() if len(w.strip(".,?!")) > 6))
                        spans.append(Span(start, i + 1, terms))
                    start = i + 2
            out.append(spans)
        return out


class BagEmbedder:
    """Fake Embedder: hashed bag of words into 384 dims, unit length (same words, same vector)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in text.lower().split():
                w = w.strip(".,?!")
                out[i, sum(map(ord, w)) * 7 % 384] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] /= norm if norm else 1
        return out


class RuleKinds:
    """Fake phrase-kind classifier: '?' is discovery, hi/thanks greeting, demo/invite close, else pitch."""

    def classify(self, texts, vectors):
        from pipeline.language.kinds import Kind

        out = []
        for text in texts:
            low = text.lower()
            kind = ("discovery" if low.endswith("?") else "greeting" if low.startswith(("hi", "thanks"))
                    else "close" if ("demo" in low or "invite" in low) else "pitch")
            out.append(Kind(kind, "rule"))
        return out


class CueScorer:
    """Fake reaction scorer: the cue lists only (the pitch each reply answers and its other hearing are ignored)."""

    def score(self, texts, pitches=None, also=None):
        from pipeline.language.reactions import Score, cues

        out = []
        for text in texts:
            pos, neg, evidence = cues(text)
            interest = 0.0 if pos + neg == 0 else (pos - neg) / (pos + neg)
            label = "interested" if interest > 0 else "objection" if interest < 0 else "neutral"
            out.append(Score(interest, label, evidence))
        return out


class BandEncoder:
    """Fake VoiceEncoder: a clip's print is the square root of each band's share of its power (16 bands, 80 Hz-4 kHz),
    zero-padded to the real encoder's 256 dimensions (the `reps` table stores FLOAT[256])."""

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        edges = np.geomspace(80, 4000, 17)
        out = []
        for clip in clips:
            power = np.abs(np.fft.rfft(clip.astype(np.float64))) ** 2
            freqs = np.fft.rfftfreq(len(clip), 1 / 16000)
            bands = np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges[:-1], edges[1:])])
            out.append(np.pad(np.sqrt(bands / (bands.sum() or 1.0)), (0, 256 - len(bands))))
        return np.array(out, dtype=np.float32).reshape(len(clips), 256)


class DeafListener:
    """Fake rehear.Listener: hears nothing again, so every reply keeps the transcript's words."""

    name = "deaf"

    def hear(self, clips):
        return ["" for _ in clips]


class FakeModels:
    def __init__(self, transcriber, splitter=None, embedder=None, voice_encoder=None, redactor=None, listener=None):
        self.transcriber = transcriber
        self.splitter = splitter or SentenceSplitter()
        self.embedder = embedder or BagEmbedder()
        self.kinds = RuleKinds()
        self.scorer = CueScorer()
        self.voice_encoder = voice_encoder or BandEncoder()
        self.redactor = redactor  # --redact: a redact.Redactor (the real one needs the privacy extra)
        self.listener = listener or DeafListener()  # telephone-band replies heard again (rehear.Listener)


_MISSING_SHARED: list[str] = []  # tests skipped because ../shared is not beside this checkout


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def shared_speech(request) -> Path:
    """The real speech with human references in ../shared/data/speech (never copied into the repository).

    A clone without ../shared skips these tests, named in one line at the end of the run; under CI
    (CI=true) a missing ../shared fails them, so the real-speech checks never silently stop running there.
    """
    if not SHARED_SPEECH.is_dir():
        why = f"real speech missing at {SHARED_SPEECH} (this project lays ../shared beside the checkout)"
        if under_ci():
            pytest.fail(why + "; CI must have it")
        _MISSING_SHARED.append(request.node.nodeid)
        pytest.skip(why)
    return SHARED_SPEECH


def pytest_terminal_summary(terminalreporter):
    if _MISSING_SHARED:
        terminalreporter.write_line(
            f"skipped {len(_MISSING_SHARED)} tests that need ../shared/data/speech (real speech with human references, "
            f"not part of the repository; under CI=true they fail instead): {', '.join(_MISSING_SHARED)}")
