"""Telephone-band calls: the band is detected and stored, short replies survive 8 kHz audio.

The audio in tests/data/phone/ is written by `scripts/make_phone_calls.py --test-assets`:
a rep's pitch answered by "Okay.", a second pitch answered by "Really? Can you send me more
details?", over an 8 kHz line (band-pass, hiss, the prospect 12 dB quieter); stereo as
Opus (rep left; the file says 48 kHz) and mono as GSM 06.10 in a wav (8 kHz); and
`reply_after_silence_8k.opus`: a pitch met with 3 s of silence (the rep goes on), a second
pitch answered after 4 s of silence by "Sorry, how much does that cost?".
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT, TEST_CALLS
from pipeline.audio import ingest, transcribe
from pipeline.core.records import Recording, Word
from pipeline.core.settings import Settings
from pipeline.reporting import report
from pipeline.storage import db

PHONE = ROOT / "tests" / "data" / "phone"
TRUTH = {c["file"]: c for c in json.loads((PHONE / "truth.json").read_text())["calls"]}


def decoded(path):
    return ingest.decode(Recording(path=path, source_file=path.name, call_id=path.name, size_bytes=1))


def test_band_is_telephone_for_8_khz_files_and_for_phone_audio_saved_at_48_khz():
    mono, stereo = decoded(PHONE / "reply_mono_8k.wav"), decoded(PHONE / "reply_stereo_8k.opus")
    assert (mono.info.sample_rate, mono.info.band) == (8000, ingest.TELEPHONE)
    assert (stereo.info.sample_rate, stereo.info.band, len(stereo.channels)) == (48000, ingest.TELEPHONE, 2)
    assert stereo.info.high_band_db < -45  # nothing above 4 kHz: the spectrum decides, not the rate
    wide = decoded(TEST_CALLS / "short_mono.mp3")  # 16 kHz mp3 of wideband speech
    assert (wide.info.band, wide.info.high_band_db > -30) == (ingest.WIDEBAND, True)


def test_band_from_the_spectrum_of_speech_not_the_pauses():
    rng = np.random.default_rng(0)
    white = rng.normal(0, 0.1, 16000).astype(np.float32)  # energy up to 8 kHz
    spectrum = np.fft.rfft(white)
    spectrum[np.fft.rfftfreq(16000, 1 / 16000) > 3400] = 0
    narrow = np.fft.irfft(spectrum).astype(np.float32)
    assert ingest.detect_band((white,), 16000)[0] == ingest.WIDEBAND
    assert ingest.detect_band((narrow,), 16000)[0] == ingest.TELEPHONE
    # wideband hiss in the pauses, 40 dB under the speech, does not make a phone call wideband
    hiss = rng.normal(0, 0.001, 48000).astype(np.float32)
    call = np.concatenate([hiss, narrow + hiss[:16000], hiss])
    assert ingest.detect_band((call,), 16000)[0] == ingest.TELEPHONE
    assert ingest.detect_band((white,), 8000)[0] == ingest.TELEPHONE  # an 8 kHz file carries no more


def test_migration_stores_band_and_the_report_shows_it(tmp_path):
    path = tmp_path / "calls.duckdb"
    with db.opened(path) as con:
        for i, (band, rate) in enumerate([("telephone", 8000), ("telephone", 48000), ("wideband", 16000)]):
            con.execute("INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes,"
                        " speaker_method, model, band, high_band_db) VALUES (?, ?, 60, 1, ?, 1, 'voice-print',"
                        " 'tiny.en', ?, -50)", [f"c{i}", f"c{i}.wav", rate, band])
        quality = report.gather(con).quality
    assert (quality.telephone, quality.wideband) == (2, 1)
    from pipeline.reporting.report_html import _quality_table

    html = _quality_table(report.Report(None, (), (), quality, (), True))
    assert "2 telephone (8 kHz line: nothing above 4 kHz), 1 wideband" in html


def w(start, end, text, segment=0):
    return Word(start, end, text, None, segment)


def test_a_short_run_the_first_pass_skipped_is_transcribed_alone(monkeypatch):
    """The first pass heard the rep around it but nothing of the prospect's "Okay." (8 kHz)."""
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(4.2, 4.8), (5.3, 7.0)])
    first = [w(3.5, 4.0, "invoice."), w(5.3, 5.6, "get", 1), w(5.6, 6.9, "paid.", 1)]
    heard = []

    def decode(clip):
        heard.append(len(clip) / 16000)
        return [w(0.55, 0.9, "Okay.")]

    out = transcribe.rescue_short_runs(np.zeros(16000 * 8, np.float32), first, decode)
    assert heard == [pytest.approx(0.6 + 2 * transcribe.RESCUE_PAD_S)]  # only the run with no word on it
    assert [(x.text, x.start_s, x.end_s, x.segment) for x in out] == [
        ("invoice.", 3.5, 4.0, 0), ("Okay.", 4.25, 4.6, 2), ("get", 5.3, 5.6, 1), ("paid.", 5.6, 6.9, 1)]


def test_the_skipped_runs_of_a_channel_are_decoded_together_in_one_clip_and_their_words_go_back(monkeypatch):
    """Two replies the first pass skipped (4.2-4.8 s, 9.0-9.5 s): one clip, pad + run + gap + run + pad."""
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(4.2, 4.8), (9.0, 9.5)])
    first = [w(3.5, 4.0, "invoice."), w(6.0, 8.5, "every week.", 1)]
    pad, gap = transcribe.RESCUE_PAD_S, transcribe.RESCUE_GAP_S
    heard = []

    def decode(clip):
        heard.append(len(clip) / 16000)
        second = pad + 0.6 + gap  # where the second run lies in the clip
        return [w(pad + 0.05, pad + 0.4, "Okay."), w(second + 0.1, second + 0.3, "Not"),
                w(second + 0.3, second + 0.45, "for us.")]

    out = transcribe.rescue_short_runs(np.zeros(16000 * 10, np.float32), first, decode)
    assert heard == [pytest.approx(pad + 0.6 + gap + 0.5 + pad)]  # one decoding for both
    assert [(x.text, x.start_s, x.end_s, x.segment) for x in out] == [
        ("invoice.", 3.5, 4.0, 0), ("Okay.", 4.25, 4.6, 2), ("every week.", 6.0, 8.5, 1),
        ("Not", 9.1, 9.3, 3), ("for us.", 9.3, 9.45, 3)]


def test_a_run_inside_a_word_the_first_pass_heard_is_decoded_alone(monkeypatch):
    """Real read speech (jfk.flac): "ask" 2.28-3.88 s holds a run of sound at 3.18-3.76 s, though the word's
    middle lies before it; decoded beside other runs it came back as "S", a word that was never said; alone,
    as "Ask!", the word heard there, and nothing is added."""
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(3.18, 3.76), (10.72, 11.0), (11.5, 11.9)])
    first = [w(1.76, 2.28, "Americans"), w(2.28, 3.88, "ask"), w(3.88, 4.52, "not")]
    clips = []

    def decode(clip):
        clips.append(round(len(clip) / 16000, 2))
        return [w(0.6, 0.9, "Ask!")] if len(clips) == 1 else []

    out = transcribe.rescue_short_runs(np.zeros(16000 * 12, np.float32), first, decode)
    pad, gap = transcribe.RESCUE_PAD_S, transcribe.RESCUE_GAP_S
    assert clips == [round(0.58 + 2 * pad, 2), round(0.28 + gap + 0.4 + 2 * pad, 2)]  # alone, then the others together
    assert out == first


def test_a_run_inside_a_heard_word_that_comes_back_as_a_piece_of_it_adds_nothing(monkeypatch):
    """jfk.flac through the telephone line (scripts/eval_asr_line.py, mu-law): "ask" 2.4-3.88 s holds a run at
    3.18-3.82 s that, decoded alone, came back as "S" (the word's end), which was added as a word never said."""
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(3.18, 3.82)])
    first = [w(1.78, 2.4, "American"), w(2.4, 3.88, "ask"), w(3.88, 4.62, "not")]
    out = transcribe.rescue_short_runs(np.zeros(16000 * 6, np.float32), first, lambda clip: [w(0.5, 1.06, "S")])
    assert out == first


def test_a_reply_inside_a_stretched_word_is_still_rescued(monkeypatch):
    """Whisper stretched the rep's "paid." over the pause in which the prospect said "Sure." (mono): the run
    lies within the heard word, but what it holds is not a piece of it, so it is kept."""
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(5.0, 5.6)])
    first = [w(4.0, 4.4, "get"), w(4.4, 7.0, "paid.")]
    out = transcribe.rescue_short_runs(np.zeros(16000 * 8, np.float32), first, lambda clip: [w(0.55, 0.95, "Sure.")])
    assert [x.text for x in out] == ["get", "paid.", "Sure."]


def test_skipped_runs_longer_together_than_a_whisper_window_take_more_clips(monkeypatch):
    runs = [(float(t), t + 2.5) for t in range(0, 100, 5)]  # 20 runs of 2.5 s
    lengths = []
    out = transcribe._decode_apart(np.zeros(16000 * 100, np.float32), runs,
                                   lambda clip: lengths.append(len(clip) / 16000) or [])
    assert out == [[]] * 20
    assert all(n <= transcribe.RESCUE_CLIP_S for n in lengths) and len(lengths) == 3  # 8 + 8 + 4 runs


def test_a_rescued_run_is_decoded_greedily_once_and_the_first_pass_keeps_a_fallback():
    """Whisper's fallback samples a run it is unsure of at temperatures up to 1.0 (slow, and random words)."""
    calls = []

    class Model:
        def transcribe(self, audio, **options):
            calls.append(options)
            return iter(()), SimpleNamespace(duration=len(audio) / 16000, duration_after_vad=0.0)

    whisper = object.__new__(transcribe.WhisperTranscriber)
    whisper.model, whisper.settings, whisper.hotwords = Model(), Settings(), None
    whisper.heard_s = whisper.decoded_s = 0.0
    whisper._decode(np.zeros(16000, np.float32))
    whisper._decode(np.zeros(16000, np.float32), vad=False)
    assert "temperature" not in calls[0] and calls[0]["vad_filter"] is True  # the fallback: beam search (below)
    assert calls[1]["temperature"] == 0.0 and calls[1]["vad_filter"] is False


def fake_whisper(monkeypatch, tries):
    """transcribe._repeatable_whisper over a fake faster-whisper model: each decoding of a window is looked up
    in `tries` by (beam size, temperatures) and recorded."""
    import faster_whisper

    seen = []

    class Base:
        def __init__(self, path, **options):
            pass

        def generate_with_fallback(self, encoder_output, prompt, tokenizer, options):
            seen.append((options.beam_size, tuple(options.temperatures)))
            return tries[seen[-1]]

    monkeypatch.setattr(faster_whisper, "WhisperModel", Base)
    return transcribe._repeatable_whisper("unused"), seen


def options(**changes):
    from faster_whisper.transcribe import TranscriptionOptions

    fields = {f: None for f in TranscriptionOptions.__dataclass_fields__}
    fields.update(beam_size=1, temperatures=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), compression_ratio_threshold=2.4,
                  log_prob_threshold=-1.0, no_speech_threshold=0.6)
    return TranscriptionOptions(**{**fields, **changes})


def window(avg_logprob, compression_ratio=1.5, no_speech_prob=0.1):
    return (SimpleNamespace(no_speech_prob=no_speech_prob), avg_logprob, 0.0, compression_ratio)


def test_an_unsure_window_is_decoded_again_by_beam_search_not_by_sampling(monkeypatch):
    unsure, sure = window(-1.4), window(-0.6)
    model, seen = fake_whisper(monkeypatch, {(1, (0.0,)): unsure, (transcribe.FALLBACK_BEAM, (0.0,)): sure})
    assert model.generate_with_fallback(None, [], None, options()) is sure
    assert seen == [(1, (0.0,)), (transcribe.FALLBACK_BEAM, (0.0,))]  # never a temperature above 0


def test_a_sure_window_or_silence_is_decoded_once(monkeypatch):
    for first in (window(-0.5), window(-1.5, no_speech_prob=0.9)):  # sure; silence (Whisper keeps it too)
        model, seen = fake_whisper(monkeypatch, {(1, (0.0,)): first})
        assert model.generate_with_fallback(None, [], None, options()) is first and len(seen) == 1


def test_when_beam_search_is_unsure_too_the_better_try_is_kept(monkeypatch):
    looped, low = window(-0.3, compression_ratio=3.1), window(-1.6)
    model, _ = fake_whisper(monkeypatch, {(1, (0.0,)): looped, (transcribe.FALLBACK_BEAM, (0.0,)): low})
    assert model.generate_with_fallback(None, [], None, options()) is low  # a loop loses, however likely
    worse = window(-2.0)
    model, _ = fake_whisper(monkeypatch, {(1, (0.0,)): low, (transcribe.FALLBACK_BEAM, (0.0,)): worse})
    assert model.generate_with_fallback(None, [], None, options()) is low


def test_a_rescued_run_and_beam_search_asked_for_are_not_decoded_again(monkeypatch):
    unsure = window(-1.4)
    model, seen = fake_whisper(monkeypatch, {(1, (0.0,)): unsure, (5, (0.0,)): unsure})
    model.generate_with_fallback(None, [], None, options(temperatures=[0.0]))  # the rescue pass: greedy once
    model.generate_with_fallback(None, [], None, options(beam_size=5))  # --beam-size 5: its own beam, once
    assert seen == [(1, (0.0,)), (5, (0.0,))]


@pytest.mark.e2e
def test_the_same_quiet_channel_gives_the_same_words_every_time():
    """quiet_prospect_8k.opus: the prospect's channel of a generated telephone call (make_phone_calls.py --seed
    2727, phone_06.wav, right channel, re-encoded `ffmpeg -af "pan=mono|c0=c1" -ar 8000 -c:a libopus -b:a 12k
    -application voip`), a quiet far end Whisper is unsure of. With Whisper's sampling fallback, four
    transcriptions in one process gave two different texts."""
    from faster_whisper.audio import decode_audio

    audio = decode_audio(str(PHONE / "quiet_prospect_8k.opus"), sampling_rate=16000)
    whisper = transcribe.WhisperTranscriber(Settings())
    heard = [[(w.text, w.start_s, w.end_s) for w in whisper.words(audio)] for _ in range(3)]
    assert heard[0] and heard[0] == heard[1] == heard[2]


def test_short_runs_are_sounds_above_the_line_noise_however_low_the_voice():
    rng = np.random.default_rng(1)
    audio = rng.normal(0, 0.001, 16000 * 8).astype(np.float32)  # line hiss, -60 dBFS
    t = np.arange(int(0.5 * 16000)) / 16000
    audio[32000:40000] += 0.02 * np.sin(2 * np.pi * 350 * t)  # 0.5 s at 2 s, 23 dB over the hiss
    audio[64000:64000 + 16000 * 3] += 0.05 * np.sin(2 * np.pi * 500 * np.arange(48000) / 16000)  # 3 s: too long
    runs = transcribe.short_runs(audio)
    assert len(runs) == 1 and runs[0] == (pytest.approx(1.9, abs=0.03), pytest.approx(2.6, abs=0.03))


def test_a_short_run_heard_the_same_alone_is_left_as_it_was(monkeypatch):
    monkeypatch.setattr(transcribe, "short_runs", lambda audio: [(1.0, 1.5), (3.0, 3.4)])
    first = [w(1.1, 1.4, "Okay.")]
    out = transcribe.rescue_short_runs(np.zeros(16000 * 4, np.float32), first,
                                       lambda clip: [w(0.5, 0.8, "okay")] if len(clip) > 23000 else [])
    assert out == first  # the second run (silence between) hears nothing and adds nothing


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["reply_stereo_8k.opus", "reply_mono_8k.wav"])
def test_short_replies_at_8_khz_become_prospect_turns_after_the_pitch(tmp_path, name):
    from pipeline.analyze import analyze

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(PHONE / name, inbox / name)
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False)
    analyze(settings)
    with db.opened(settings.db, read_only=True) as con:
        band = con.execute("SELECT band FROM calls").fetchone()[0]
        turns = con.execute("SELECT speaker, start_s, end_s, lower(text) FROM turns ORDER BY turn_idx").fetchall()
    assert band == "telephone"
    truth = [t for t in TRUTH[name]["turns"] if t["speaker"] == "prospect"]
    for reply in truth:  # "Okay." (0.4 s) and "Really? Can you send me more details?" (2.0 s)
        on_it = [t for t in turns if t[0] == "prospect" and t[1] < reply["end_s"] and t[2] > reply["start_s"]]
        assert on_it, f"{reply['text']!r} at {reply['start_s']} s is no prospect turn: {turns}"
    first = next(t for t in turns if t[0] == "prospect")
    assert turns[0][0] == "rep" and 4.0 < first[1] < 5.3  # after the first pitch (0.4-4.0 s), before the next
    if name.endswith(".opus"):  # on its own channel it is heard right; the mono GSM mix may mishear it
        assert "okay" in first[3]


def analyzed(tmp_path, name):
    """Analyze one committed clip; its pitch phrases (start, end, silence_after_s, reaction start, text,
    label, latency) in order."""
    from pipeline.analyze import analyze

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(PHONE / name, inbox / name)
    settings = Settings(inbox=inbox, db=tmp_path / "calls.duckdb", progress=False)
    analyze(settings)
    with db.opened(settings.db, read_only=True) as con:
        return con.execute("SELECT p.start_s, p.end_s, p.silence_after_s, r.start_s, lower(r.text), r.label, r.latency_s"
                           " FROM pitch_phrases p LEFT JOIN reactions r USING (phrase_id) WHERE p.kind = 'pitch'"
                           " ORDER BY p.start_s").fetchall()


def on(turn, rows):
    """The pitch rows whose reaction overlaps a true turn."""
    return [r for r in rows if r[3] is not None and r[3] < turn["end_s"] and r[3] + 0.1 > turn["start_s"] - 0.5]


@pytest.mark.e2e
def test_short_replies_at_8_khz_are_reactions_and_a_flat_okay_is_neutral(tmp_path):
    # stereo only: in the mono GSM clip the split does not give "Okay." to the prospect (docs/phone.md)
    name = "reply_stereo_8k.opus"
    rows = analyzed(tmp_path, name)
    okay, details = [t for t in TRUTH[name]["turns"] if t["speaker"] == "prospect"]
    assert on(okay, rows) and on(details, rows), f"a reply with no reactions row: {rows}"
    (first,) = on(okay, rows)
    assert first[5] == "neutral" and 0 <= first[6] < 1.0 and "okay" in first[4]  # 0.26 s after the pitch ended


@pytest.mark.e2e
def test_a_reply_after_a_long_silence_is_a_reaction_with_its_latency(tmp_path):
    name = "reply_after_silence_8k.opus"
    rows = analyzed(tmp_path, name)
    first, second, reply = TRUTH[name]["turns"]
    answered = on(reply, rows)
    # 4 s of silence after the second pitch, then the reply (tiny.en garbles its words at 8 kHz)
    assert answered and any(r[0] < second["end_s"] and r[1] > second["start_s"] for r in answered), rows
    assert all(r[6] == pytest.approx(4.0, abs=0.5) for r in answered), rows
    # the 3 s of silence after the first pitch does not end the run of pitches: the rep went on with
    # another pitch and the prospect had said nothing, so both pitches share the reply (docs/phone.md)
    assert {r[3] for r in rows} == {answered[0][3]}
