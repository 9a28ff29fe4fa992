import hashlib

import numpy as np
import pytest

from conftest import tone, write_wav
from pipeline.audio import ingest
from pipeline.core.errors import AudioError, PitchlabError


def test_finds_audio_recursively_skipping_hidden_and_other_files(tmp_path):
    write_wav(tmp_path / "b.wav", [tone(0.5, 440)])
    (tmp_path / "sub").mkdir()
    write_wav(tmp_path / "sub" / "a.WAV", [tone(0.5, 220)])
    write_wav(tmp_path / ".hidden.wav", [tone(0.5, 220)])
    (tmp_path / ".cache").mkdir()
    write_wav(tmp_path / ".cache" / "c.wav", [tone(0.5, 220)])
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "b.wav.json").write_text("{}")
    found = ingest.find_recordings(tmp_path)
    assert [r.source_file for r in found] == ["b.wav", "sub/a.WAV"]
    assert found[0].call_id == hashlib.sha256((tmp_path / "b.wav").read_bytes()).hexdigest()
    assert found[0].size_bytes == (tmp_path / "b.wav").stat().st_size


def test_missing_or_empty_inbox_is_a_clear_error(tmp_path):
    with pytest.raises(PitchlabError, match="does not exist"):
        ingest.find_recordings(tmp_path / "nope")
    with pytest.raises(PitchlabError, match="no audio or transcripts in .*drop .wav.*vtt"):
        ingest.find_recordings(tmp_path)


def test_decode_mono_and_stereo_keep_channels_at_16k(tmp_path):
    write_wav(tmp_path / "m.wav", [tone(1.0, 440, rate=8000)], rate=8000)
    write_wav(tmp_path / "s.wav", [tone(2.0, 300), tone(2.0, 900) * 0.5])
    mono, stereo = (ingest.decode(r) for r in ingest.find_recordings(tmp_path))
    assert (mono.info.channels, mono.info.sample_rate, mono.info.duration_s) == (1, 8000, 1.0)
    assert len(mono.channels) == 1 and len(mono.channels[0]) == 16000
    assert (stereo.info.channels, stereo.info.duration_s, len(stereo.channels)) == (2, 2.0, 2)
    left, right = stereo.channels
    assert np.abs(left).max() == pytest.approx(0.3, abs=0.01)
    assert np.abs(right).max() == pytest.approx(0.15, abs=0.01)


def test_stereo_with_the_same_signal_on_both_channels_is_decoded_as_mono(tmp_path):
    signal = tone(1.0, 500)
    write_wav(tmp_path / "fake.wav", [signal, signal])
    (rec,) = ingest.find_recordings(tmp_path)
    audio = ingest.decode(rec)
    assert audio.info.channels == 2 and len(audio.channels) == 1


def test_unreadable_files_raise_audio_error_with_one_line_reason(tmp_path):
    (tmp_path / "junk.mp3").write_bytes(b"this is not audio at all" * 10)
    (tmp_path / "empty.wav").write_bytes(b"")
    for rec in ingest.find_recordings(tmp_path):
        with pytest.raises(AudioError) as info:
            ingest.decode(rec)
        assert "\n" not in str(info.value)


def test_the_watchers_candidate_list_skips_outcome_sidecars(tmp_path):
    write_wav(tmp_path / "a.wav", [tone(0.5, 440)])
    (tmp_path / "a.wav.json").write_text('{"outcome": "won"}')
    (tmp_path / "notes.json").write_text('{"turns": []}')  # a transcript, not a sidecar
    assert [rel for _, rel in ingest.candidates(tmp_path)] == ["a.wav", "notes.json"]
