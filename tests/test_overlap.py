"""Whisper on the next call while this one is analyzed (`analyze.overlapped`): the same rows as one call at a
time, a failing file still its own ingest error, and the overlap real (issue #19)."""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np

from conftest import ROOT, FakeModels, ScriptTranscriber, SentenceSplitter, tone, words, write_wav
from pipeline.analyze import analyze
from pipeline.core.settings import Settings
from pipeline.storage import db

REP = words("Hi, this is Dana from Clipcast. You see exactly who watched your video.", 0.0, segment=0) \
    + words("Every view syncs into Salesforce automatically.", 8.0, segment=1)
PROSPECT = words("Oh nice, how does that work?", 5.0, segment=0) + words("We already have a CRM.", 12.0, segment=1)
MONO = REP + PROSPECT  # a mono call's words: speakers by voice print (the fake encoder's bands)


def voices(seconds: float = 15.0) -> np.ndarray:
    """A mono call of two voices taking turns as MONO's words do: rep at 300 Hz, prospect at 700 Hz."""
    rate, out = 16000, np.zeros(int(seconds * 16000), dtype=np.float32)
    for w, freq in [(w, 300 if w in REP else 700) for w in MONO]:
        a, b = int(w.start_s * rate), int(w.end_s * rate)
        out[a:b] = tone((b - a) / rate, freq)[: b - a]
    return out


def make_inbox(box):
    box.mkdir()
    write_wav(box / "a_one.wav", [tone(15, 300), tone(15, 630)])
    write_wav(box / "b_mono.wav", [voices()])
    (box / "c_broken.mp3").write_bytes(b"\x00garbage" * 100)
    write_wav(box / "d_two.wav", [tone(15, 310), tone(15, 650)])
    shutil.copyfile(ROOT / "tests" / "data" / "transcripts" / "zoom_three.vtt", box / "e_zoom.vtt")
    write_wav(box / "f_three.wav", [tone(15, 320), tone(15, 670)])
    (box / "outcomes.csv").write_text("file,outcome,rep\na_one.wav,won,Dana\nd_two.wav,lost,Sam\n")
    return box


class Scripted(ScriptTranscriber):
    """Rep then prospect for stereo channels, MONO for a mono call (told apart by length of the script list);
    each call to `words` noted with the thread it ran on, and the one numbered `fail_at` raising."""

    def __init__(self, fail_at: int | None = None):
        super().__init__([REP, PROSPECT])
        self.fail_at, self.threads = fail_at, []

    def words(self, audio):
        self.threads.append(threading.current_thread().name)
        if len(self.threads) == self.fail_at:
            raise RuntimeError("decoder exploded")
        if heard_at(audio, 700) > heard_at(audio, 300) / 4:  # the mono call's prospect (stereo: 630-670 Hz)
            return list(MONO)
        return super().words(audio)


def heard_at(audio: np.ndarray, hz: float) -> float:
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
    return float(power[np.abs(freqs - hz) < 3].sum())


def run(tmp_path, name, *, overlap, transcriber=None, splitter=None):
    settings = Settings(inbox=tmp_path / "inbox", db=tmp_path / f"{name}.duckdb", progress=False, overlap=overlap,
                        outcomes=tmp_path / "inbox" / "outcomes.csv", rep_names=("Dana Smith",))
    models = FakeModels(transcriber or Scripted(), splitter=splitter)
    return analyze(settings, models=models), settings.db


def dump(path) -> dict[str, list[tuple]]:
    """Every table's rows, in order, without the columns that say when (and the migrations' log)."""
    with db.opened(path, read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                            "'main' AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            cols = [c for c, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [t]).fetchall() if "TIMESTAMP" not in kind and "DATE" not in kind]
            if t != "schema_migrations" and cols:
                out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out


def test_an_overlapped_batch_stores_exactly_what_one_call_at_a_time_stores(tmp_path):
    make_inbox(tmp_path / "inbox")
    together, one_by_one = Scripted(), Scripted()
    s1, db1 = run(tmp_path, "overlap", overlap=True, transcriber=together)
    s2, db2 = run(tmp_path, "sequential", overlap=False, transcriber=one_by_one)
    assert (s1.processed, s1.failed, s1.clustering) == (s2.processed, s2.failed, s2.clustering)
    assert s1.processed == 5 and [f for f, _ in s1.failed] == ["c_broken.mp3"]
    first, second = dump(db1), dump(db2)
    assert {t: len(r) for t, r in first.items()} == {t: len(r) for t, r in second.items()}
    assert len(first["calls"]) == 5 and len(first["turns"]) > 15 and len(first["ingest_errors"]) == 1
    assert first == second
    assert set(together.threads) == {"pitchlab-listen"} and set(one_by_one.threads) == {"MainThread"}


def test_a_file_failing_in_the_middle_of_an_overlapped_batch_is_its_ingest_error_and_the_others_are_stored(tmp_path):
    make_inbox(tmp_path / "inbox")
    summary, path = run(tmp_path, "calls", overlap=True, transcriber=Scripted(fail_at=4))  # d_two's first channel
    assert summary.processed == 4
    assert sorted(summary.failed) == [("c_broken.mp3", summary.failed[0][1]),
                                      ("d_two.wav", "could not be analyzed (RuntimeError: decoder exploded)")]
    with db.opened(path, read_only=True) as con:
        assert con.execute("SELECT source_file FROM calls ORDER BY 1").fetchall() == [
            ("a_one.wav",), ("b_mono.wav",), ("e_zoom.vtt",), ("f_three.wav",)]
        assert con.execute("SELECT source_file, reason FROM ingest_errors ORDER BY 1").fetchall()[1] == (
            "d_two.wav", "could not be analyzed (RuntimeError: decoder exploded)")


class WaitingSplitter(SentenceSplitter):
    """Notes, at its first split (the first call's back half), whether Whisper has begun the next call: it waits
    up to 10 s for that, which only a second thread can bring about."""

    def __init__(self, transcriber: Scripted):
        self.transcriber, self.seen = transcriber, None

    def split(self, texts):
        if self.seen is None:
            deadline = time.monotonic() + 10
            while len(self.transcriber.threads) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.seen = len(self.transcriber.threads)
        return super().split(texts)


def test_whisper_works_on_the_next_call_while_this_one_is_analyzed(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    for i, name in enumerate(("a.wav", "b.wav")):
        write_wav(box / name, [tone(15, 300 + 10 * i), tone(15, 630 + 10 * i)])
    (box / "outcomes.csv").write_text("file,outcome\n")
    transcriber = Scripted()
    splitter = WaitingSplitter(transcriber)
    summary, _ = run(tmp_path, "calls", overlap=True, transcriber=transcriber, splitter=splitter)
    assert summary.processed == 2
    assert splitter.seen >= 3  # a.wav's two channels done, b.wav's begun before a.wav's phrases were split


class NoVoices(FakeModels):
    """Models whose voice encoder must not be needed."""

    @property
    def voice_encoder(self):
        raise AssertionError("the voice encoder was loaded")

    @voice_encoder.setter
    def voice_encoder(self, _value):
        pass


def test_a_stereo_batch_without_enrolled_reps_never_loads_the_voice_encoder(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    write_wav(box / "a.wav", [tone(15, 300), tone(15, 630)])
    settings = Settings(inbox=box, db=tmp_path / "calls.duckdb", progress=False)
    summary = analyze(settings, models=NoVoices(Scripted()))
    assert (summary.processed, summary.failed) == (1, ())
