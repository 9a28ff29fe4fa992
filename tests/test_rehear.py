"""Replies on telephone-band calls heard a second time (pipeline/language/rehear.py, pipeline/audio/moonshine.py).

Unit tests use a fake listener; the e2e tests run Moonshine base on the committed 8 kHz clips of
tests/data/phone/ (written by `scripts/make_phone_calls.py --test-assets`, truth in truth.json there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, CueScorer, FakeModels, ScriptTranscriber, tone, words, write_wav
from pipeline.audio import ingest, moonshine
from pipeline.core.records import PROSPECT, REP, AudioInfo, CallTurns, Phrase, Recording, Turn
from pipeline.core.settings import Settings
from pipeline.language import reactions, rehear
from pipeline.process import analyze_calls, audio_turns

PHONE = ROOT / "tests" / "data" / "phone"
TRUTH = {c["file"]: c for c in json.loads((PHONE / "truth.json").read_text())["calls"]}


class ListListener:
    """Fake listener: hears each clip as the next text of its list, and records what it was given."""

    name = "fake-listener"

    def __init__(self, texts):
        self.texts, self.given = list(texts), []

    def hear(self, clips):
        self.given.append([len(c) for c in clips])
        return [self.texts.pop(0) for _ in clips]


class OtherHearings(CueScorer):
    """Fake scorer that records the other hearings (`also`) it is given."""

    def __init__(self):
        self.also = []

    def score(self, texts, pitches=None, also=None):
        self.also.append(list(also) if also is not None else None)
        return super().score(texts, pitches)


def turn(idx, speaker, text, start, end):
    return Turn(idx, speaker, start, end, text)


def reply(start, end, text="napa"):
    run = (Phrase(0, 0, 0.0, start - 0.5, "It chases your late invoices by email.", kind="pitch"),)
    return reactions.Reply(run, (turn(1, PROSPECT, text, start, end),), ())


def test_a_clip_is_the_reply_with_padding_scaled_to_one_peak():
    signal = np.zeros(16000 * 5, np.float32)
    signal[16000:24000] = 0.01 * np.sin(np.arange(8000) / 5)  # a quiet far end
    out = rehear.clip(signal, 1.0, 1.5)
    assert len(out) == int(1.1 * 16000)  # 0.3 s on each side of 1.0-1.5 s
    assert np.abs(out).max() == pytest.approx(rehear.PEAK)
    assert rehear.clip(signal, 3.0, 4.0).size == 0  # nothing but silence: nothing to hear
    assert len(rehear.clip(np.ones(16000 * 40, np.float32), 0.0, 40.0)) == 30 * 16000  # at most MAX_S


def test_replies_of_calls_with_audio_are_heard_again_in_one_pass_and_the_others_keep_their_words():
    signal = np.full(16000 * 10, 0.2, np.float32)
    found = [[reply(2.0, 2.5), reply(6.0, 8.0)], [reply(1.0, 1.4)], [reply(3.0, 3.5)]]
    listener = ListListener(["Not for us.", "", "How much?"])
    out = rehear.rehear(found, [signal, None, signal], listener)
    assert listener.given == [[int(1.1 * 16000), int(2.6 * 16000), int(1.1 * 16000)]]
    assert out[0][0].text == "Not for us." and out[0][0].heard_by == "fake-listener"
    assert out[0][1].text == "napa" and out[0][1].heard_by is None  # heard as nothing: the transcript's words stay
    assert out[1][0].text == "napa" and out[1][0].heard_by is None  # no audio (wideband, or a transcript)
    assert out[2][0].text == "How much?"
    assert found[0][0].text == "napa"  # the replies given are not changed


def test_a_reaction_stores_the_text_heard_again_and_the_model_that_heard_it():
    heard = rehear.rehear([[reply(2.0, 2.5)]], [np.full(16000 * 4, 0.2, np.float32)], ListListener(["No thanks."]))
    score = reactions.Score(-0.8, "objection", ("no thanks",))
    (reaction,) = reactions.to_reactions(heard[0], [score])
    assert (reaction.text, reaction.heard_by, reaction.label) == ("No thanks.", "fake-listener", "objection")
    (plain,) = reactions.to_reactions([reply(2.0, 2.5)], [score])
    assert (plain.text, plain.heard_by) == ("napa", None)


def test_the_prospect_side_is_the_channel_that_is_not_the_reps():
    left, right = np.zeros(3), np.ones(3)
    assert rehear.prospect_signal((left, right), "left") is right
    assert rehear.prospect_signal((left, right), "right") is left
    assert rehear.prospect_signal((left,), None) is left


def telephone_call(tmp_path: Path, rate: int) -> tuple[ingest.DecodedAudio, list]:
    """Two channels of tones, with noise above 4 kHz in the 16 kHz file (a wideband one)."""
    noise = np.random.default_rng(0).normal(0, 0.05, 6 * rate) if rate > 8000 else 0.0
    path = write_wav(tmp_path / f"call_{rate}.wav", [tone(6.0, 440.0, rate=rate) + noise,
                                                     tone(6.0, 300.0, rate=rate) + noise], rate)
    audio = ingest.decode(Recording(path=path, source_file=path.name, call_id=path.name, size_bytes=1))
    rep = words("It chases your late invoices by email and text message.", 0.0, step=0.3, channel=0)
    prospect = words("Napa.", 4.0, step=0.5, channel=1)
    return audio, rep + prospect


@pytest.mark.parametrize("rate, heard", [(8000, True), (16000, False)])
def test_only_telephone_band_calls_are_heard_again(tmp_path, rate, heard):
    audio, said = telephone_call(tmp_path, rate)
    assert audio.info.band == (ingest.TELEPHONE if rate == 8000 else ingest.WIDEBAND)
    settings = Settings(inbox=tmp_path, db=tmp_path / "c.duckdb", progress=False, rep_channel="left")
    models = FakeModels(ScriptTranscriber([said]), listener=ListListener(["Not for us."]))
    models.scorer = OtherHearings()
    (call,) = analyze_calls([audio_turns(audio, models, settings, words=said)], models, settings)
    (reaction,) = call.reactions
    assert (reaction.text, reaction.heard_by) == (("Not for us.", "fake-listener") if heard else ("Napa.", None))
    assert models.listener.given == ([[int((0.6 + 0.4) * 16000)]] if heard else [])
    # a reply heard again is scored on its transcript's words too
    assert models.scorer.also == [["Napa." if heard else None]]


def test_pitchlab_rehear_0_turns_it_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PITCHLAB_REHEAR", "0")
    settings = Settings.from_env(inbox=tmp_path, db=tmp_path / "c.duckdb", progress=False, rep_channel="left")
    assert settings.rehear is False
    audio, said = telephone_call(tmp_path, 8000)
    models = FakeModels(ScriptTranscriber([said]))
    assert audio_turns(audio, models, settings, words=said).prospect_audio is None


def test_the_tokenizer_file_is_read_piece_by_piece_and_bytes_join_into_text(tmp_path):
    pieces = [b"<unk>", b"<s>", b"</s>", "\u2581Not".encode(), "\u2581for".encode(), "\u2581us".encode(), b".",
              b"\xc3", b"\xa9"]
    path = tmp_path / "tokenizer.bin"
    path.write_bytes(b"".join(bytes([len(p)]) + p for p in pieces))
    vocabulary = moonshine.read_vocabulary(path)
    assert vocabulary == pieces
    assert moonshine.detokenize([1, 3, 4, 5, 6, 2], vocabulary) == "Not for us."
    assert moonshine.detokenize([3, 7, 8], vocabulary) == "Not\u00e9"  # byte pieces make one character


def test_unnamed_subgraphs_get_names_and_every_other_field_stays():
    schema = moonshine._graph_names_schema()
    model = schema()
    node = model.graph.node.add(name="optimum::if")
    node.attribute.add(name="then_branch").g.node.add(name="inner")
    node.attribute.add(name="else_branch").g.name = "kept"
    ir_version, opset = b"\x08\x07", b"\x42\x04\x12\x02\x31\x34"  # fields 1 and 8 of ModelProto, not in the schema
    data = ir_version + model.SerializeToString() + opset
    named = schema.FromString(moonshine.name_subgraphs(data))
    then, other = (a.g for a in named.graph.node[0].attribute)
    assert (named.graph.name, then.name, other.name) == ("main", "main/optimum::if/then_branch", "kept")
    assert then.node[0].name == "inner"
    out = moonshine.name_subgraphs(data)
    assert ir_version in out and opset in out


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    return moonshine.MoonshineListener(cache=tmp_path_factory.mktemp("moonshine"))


@pytest.mark.e2e
def test_the_onnx_copies_are_written_once_and_hear_as_the_shipped_models(listener, tmp_path):
    import onnxruntime as ort

    copies = sorted(p.name for p in listener.cache.iterdir())
    assert copies == [f"decoder_model_merged-ort{ort.__version__}.onnx", f"encoder_model-ort{ort.__version__}.onnx"]
    stamp = [p.stat().st_mtime_ns for p in sorted(listener.cache.iterdir())]
    again = moonshine.MoonshineListener(cache=listener.cache)
    assert [p.stat().st_mtime_ns for p in sorted(listener.cache.iterdir())] == stamp  # not written again
    shipped = moonshine.model_dir()
    options = ort.SessionOptions()
    again.encoder = ort.InferenceSession(str(shipped / "encoder_model.ort"), options, providers=["CPUExecutionProvider"])
    again.decoder = ort.InferenceSession(str(shipped / "decoder_model_merged.ort"), options,
                                         providers=["CPUExecutionProvider"])
    clip = prospect_clip("reply_after_silence_8k.opus",
                         next(t["text"] for t in TRUTH["reply_after_silence_8k.opus"]["turns"] if t["speaker"] == "prospect"))
    assert listener.hear([clip]) == again.hear([clip])


def prospect_clip(name: str, text: str) -> np.ndarray:
    path = PHONE / name
    audio = ingest.decode(Recording(path=path, source_file=name, call_id=name, size_bytes=1))
    said = next(t for t in TRUTH[name]["turns"] if t["speaker"] == "prospect" and t["text"] == text)
    return rehear.clip(rehear.prospect_signal(audio.channels, "left"), said["start_s"], said["end_s"])


@pytest.mark.e2e
def test_moonshine_hears_short_replies_on_an_8_khz_line(listener):
    okay = prospect_clip("reply_stereo_8k.opus", "Okay.")
    cost = next(t["text"] for t in TRUTH["reply_after_silence_8k.opus"]["turns"] if t["speaker"] == "prospect")
    how_much = prospect_clip("reply_after_silence_8k.opus", cost)
    heard = listener.hear([how_much, okay])
    assert heard[1].lower().strip(" .!") == "okay", heard
    assert "how much" in heard[0].lower(), heard  # Whisper tiny.en heard "Bye. of our child." there


def test_clips_are_heard_in_batches_of_similar_length_and_come_back_in_their_order(monkeypatch):
    batches = []

    def fake_batch(self, clips):
        batches.append([len(c) for c in clips])
        return [f"{len(c)} samples" for c in clips]

    monkeypatch.setattr(moonshine.MoonshineListener, "_batch", fake_batch)
    sizes = [5, 40, 12, 3, 33, 8, 21, 17, 2, 30]
    heard = moonshine.MoonshineListener.hear(object.__new__(moonshine.MoonshineListener), [np.zeros(n) for n in sizes])
    assert heard == [f"{n} samples" for n in sizes]
    assert batches == [[2, 3, 5, 8, 12, 17, 21, 30], [33, 40]]  # padding only to the longest of similar ones


def test_no_rehear_on_the_command_line_turns_it_off(monkeypatch):
    from pipeline import cli

    monkeypatch.delenv("PITCHLAB_REHEAR", raising=False)
    for argv, expected in [(["analyze"], True), (["analyze", "--no-rehear"], False), (["watch", "--no-rehear"], False)]:
        args = cli._parser().parse_args(argv)
        assert cli._pipeline_settings(args, progress=False).rehear is expected, argv


class NameRedactor:
    """Fake redact.Redactor: "Maria" becomes <PERSON> unless kept."""

    def redact(self, texts, keep=()):
        return [t if "Maria" in keep else t.replace("Maria", "<PERSON>") for t in texts]


def test_with_redact_the_text_heard_again_is_redacted_too(tmp_path):
    audio, said = telephone_call(tmp_path, 8000)
    settings = Settings(inbox=tmp_path, db=tmp_path / "c.duckdb", progress=False, rep_channel="left", redact=True)
    models = FakeModels(ScriptTranscriber([said]), listener=ListListener(["This is Maria, how much?"] * 2),
                        redactor=NameRedactor())
    call = audio_turns(audio, models, settings, words=said)
    (reaction,) = analyze_calls([call], models, settings)[0].reactions
    assert reaction.text == "This is <PERSON>, how much?"
    (kept,) = analyze_calls([call], models, settings, keep=("Maria",))[0].reactions
    assert kept.text == "This is Maria, how much?"
