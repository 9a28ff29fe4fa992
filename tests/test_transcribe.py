"""Whisper segments to words: hallucinations on silence and hold music are dropped, and counted."""

from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import transcribe
from pipeline.core.records import Word


@dataclass
class FakeWord:
    word: str
    start: float
    end: float


@dataclass
class FakeSegment:
    """The fields of a faster-whisper Segment that the guard reads."""

    text: str
    start: float
    no_speech_prob: float = 0.01
    avg_logprob: float = -0.3
    compression_ratio: float = 1.4
    words: list = field(default_factory=list)

    def __post_init__(self):
        self.words = [FakeWord(" " + w, self.start + i * 0.5, self.start + i * 0.5 + 0.4)
                      for i, w in enumerate(self.text.split())]


def test_speech_is_kept_and_hallucinations_are_dropped_and_counted():
    segments = [
        FakeSegment("Hi Tom, this is Dana.", 0.0),
        FakeSegment("Thank you.", 5.0, no_speech_prob=0.8, avg_logprob=-1.2),  # silence
        FakeSegment("Thank you. Thank you. Thank you. Thank you.", 9.0),  # loop over hold music
        FakeSegment("la la la la la la la la la la la la", 20.0, compression_ratio=2.8),
        FakeSegment("Sure, go ahead.", 30.0, no_speech_prob=0.8, avg_logprob=-0.4),  # confident: speech
        FakeSegment("No, no, no, that is fine.", 40.0, no_speech_prob=0.3, avg_logprob=-1.5),  # speech, poorly heard
    ]
    words, dropped = transcribe.segments_to_words(segments)
    assert [(w.text, w.segment) for w in words] == [
        ("Hi", 0), ("Tom,", 0), ("this", 0), ("is", 0), ("Dana.", 0),
        ("Sure,", 4), ("go", 4), ("ahead.", 4),
        ("No,", 5), ("no,", 5), ("no,", 5), ("that", 5), ("is", 5), ("fine.", 5),
    ]
    assert words[5] == Word(30.0, 30.4, "Sure,", None, 4)
    assert dict(dropped) == {"no speech": 1, "repetition loop": 1, "compression ratio": 1}


def test_repetition_loops():
    loop = transcribe.repetition_loop
    assert loop("thank you thank you thank you thank you".split())
    assert loop("so we so we so we so we and then".split())
    assert loop("yeah yeah yeah yeah yeah yeah".split())
    assert not loop("yeah yeah yeah yeah yeah".split())  # a single word needs six in a row
    assert not loop("thank you thank you thank you".split())
    assert not loop("we sync views we sync contacts we sync deals".split())


def test_vocabulary_file_becomes_whisper_hotwords(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("# our names\nClipcast\n\nHubSpot  # CRM\nSalesforce\nClipcast\n")
    assert transcribe.read_vocabulary(path) == ("Clipcast", "HubSpot", "Salesforce", "Clipcast")
    assert transcribe.hotwords(transcribe.read_vocabulary(path)) == "Clipcast, HubSpot, Salesforce"
    assert transcribe.hotwords(()) is None


def test_missing_vocabulary_file_is_a_one_line_error(tmp_path):
    import pytest

    from pipeline.core.errors import PitchlabError
    from pipeline.core.settings import Settings

    with pytest.raises(PitchlabError, match=r"vocabulary file .*nope.txt not found: give a text file"):
        Settings.from_env(vocabulary=tmp_path / "nope.txt")


def padded_window(audio_frames: int, batch: int = 0) -> np.ndarray:
    """A log-mel window as faster-whisper hands it to the encoder: frames of sound, then zeros to 30 s."""
    shape = (80, 3000) if not batch else (batch, 80, 3000)
    features = np.zeros(shape, np.float32)
    features[..., :audio_frames] = np.random.default_rng(audio_frames).uniform(-1.5, 1.0, (*shape[:-1], audio_frames))
    return features


def test_the_encoder_reads_the_window_cut_after_its_audio_in_steps_of_ten_seconds():
    for audio, kept in [(420, 1000), (899, 1000), (901, 2000), (1950, 3000), (2950, 3000), (3000, 3000)]:
        window = padded_window(audio)
        cut = transcribe.encoder_window(window)
        assert cut.shape == (80, kept), audio
        assert np.array_equal(cut[:, :audio], window[:, :audio])  # every frame of sound kept, unchanged
    assert transcribe.encoder_window(np.zeros((80, 3000), np.float32)).shape == (80, 1000)  # nothing but padding


def test_a_batch_of_windows_is_cut_after_its_longest_audio():
    batch = padded_window(300, batch=3)
    batch[1, :, :1500] = 0.5
    assert transcribe.encoder_window(batch).shape == (3, 80, 2000)


def test_with_no_step_the_encoder_reads_whole_windows(monkeypatch):
    monkeypatch.setattr(transcribe, "ENCODER_STEP_S", 0)
    window = padded_window(420)
    assert transcribe.encoder_window(window) is window


def encoding_whisper(monkeypatch) -> tuple[object, list]:
    """`_repeatable_whisper` over a fake faster-whisper model whose encoder records the shape of what it reads."""
    import faster_whisper

    seen = []

    class Base:
        def __init__(self, path, **options):
            pass

        def encode(self, features):
            seen.append(features.shape)
            return "encoded"

    monkeypatch.setattr(faster_whisper, "WhisperModel", Base)
    return transcribe._repeatable_whisper("unused"), seen


def test_the_model_encodes_the_cut_window(monkeypatch):
    model, seen = encoding_whisper(monkeypatch)
    assert model.encode(padded_window(420)) == "encoded"
    assert seen == [(80, 1000)]


def test_a_telephone_band_call_is_encoded_in_whole_windows_and_a_wideband_call_cut(monkeypatch):
    from pipeline.audio.ingest import TELEPHONE, WIDEBAND, DecodedAudio
    from pipeline.core.records import AudioInfo

    whisper, seen = encoding_whisper(monkeypatch)

    class Encoding:
        """A transcriber whose model encodes one 4.2 s window for each channel it hears."""

        model = whisper

        def words(self, audio):
            self.model.encode(padded_window(420))
            return [Word(0.0, 0.5, "okay")]

    for band, frames in [(TELEPHONE, 3000), (WIDEBAND, 1000), (None, 1000)]:
        seen.clear()
        info = AudioInfo("c", "c.wav", 4.2, 2, 8000, band=band)
        transcribe.transcribe(DecodedAudio(info, (np.zeros(10), np.zeros(10))), Encoding())
        assert seen == [(80, frames), (80, frames)], band
    assert Encoding.model.encoder_step is None  # back to ENCODER_STEP_S after the call
