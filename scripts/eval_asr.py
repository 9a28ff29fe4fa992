#!/usr/bin/env python3
"""Whisper models compared: word error rate and speed on real speech with references.

    PYTHONPATH=. .venv/bin/python scripts/eval_asr.py [--models tiny.en base] [--models-dir models]
                                                      [--beams 1 5] [--demo]

Transcribes every clip in ../shared/data/speech/asr/ (clean read speech, human
reference beside each clip) and the rep and prospect channels of the committed
test call tests/data/calls/short_stereo.wav (synthetic speech; reference: the
generator's text in tests/data/calls_truth.json) with the pipeline's own
transcriber (pipeline/transcribe.py: int8, the default beam unless --beams, Silero VAD, Settings'
thread count). Word error rate = (substitutions + deletions + insertions) /
reference words, pooled over the clips, after lower-casing and dropping
punctuation. Real-time factor = transcription wall time / audio time (lower is
faster), model loading excluded; the first clip is transcribed once untimed to
warm up. --demo adds both channels of every stereo demo call (data/demo, reference:
data/demo_truth.json), a larger sample of synthetic speech. --beams compares
beam sizes side by side.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper.audio import decode_audio  # noqa: E402

from pipeline.settings import Settings  # noqa: E402
from pipeline.transcribe import WhisperTranscriber  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech" / "asr"
AUDIO = (".wav", ".flac", ".mp3")


def normalise(text: str) -> list[str]:
    text = text.lower().replace("-", " ")
    return re.sub(r"[^a-z0-9' ]+", " ", text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def demo_clips() -> list[tuple[str, object, str]]:
    """Both channels of each stereo demo call, with the generator's text of that speaker."""
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())
    out = []
    for call in truth["calls"]:
        if call["channels"] != 2:
            continue
        sides = decode_audio(str(ROOT / "data" / "demo" / call["file"]), split_stereo=True)
        for side, samples, speaker in zip(("left", "right"), sides, ("rep", "prospect")):
            text = " ".join(t["text"] for t in call["turns"] if t["speaker"] == speaker)
            out.append((f"{call['file']}:{side}", samples, text))
    return out


def clips() -> list[tuple[str, object, str]]:
    """(name, 16 kHz mono samples, reference text)."""
    out = []
    for path in sorted(SPEECH.iterdir()):
        if path.suffix in AUDIO:
            out.append((path.name, decode_audio(str(path)), path.with_suffix(".txt").read_text()))
    truth = json.loads((ROOT / "tests" / "data" / "calls_truth.json").read_text())
    call = next(c for c in truth["calls"] if c["file"] == "short_stereo.wav")
    left, right = decode_audio(str(ROOT / "tests" / "data" / "calls" / call["file"]), split_stereo=True)
    for side, samples, speaker in (("left", left, "rep"), ("right", right, "prospect")):
        text = " ".join(t["text"] for t in call["turns"] if t["speaker"] == speaker)
        out.append((f"short_stereo.wav:{side}", samples, text))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--beams", type=int, nargs="+", default=[Settings.beam_size],
                        help="beam sizes to compare (each model runs once per beam size, side by side)")
    parser.add_argument("--verbose", action="store_true", help="print each clip's hypothesis")
    parser.add_argument("--demo", action="store_true", help="also the stereo demo calls, channel by channel")
    args = parser.parse_args()
    data = clips() + (demo_clips() if args.demo else [])
    audio_s = sum(len(samples) / 16000 for _, samples, _ in data)
    print(f"{len(data)} clips, {audio_s:.1f} s of audio")
    print("| model | beam | WER | errors / reference words | real-time factor | transcription s |")
    print("|---|---|---|---|---|---|")
    for name, beam in ((m, b) for m in args.models for b in args.beams):
        transcriber = WhisperTranscriber(Settings(model=name, models_dir=args.models_dir, beam_size=beam))
        transcriber.words(data[0][1])  # warm-up
        errors = ref_words = 0
        wall = 0.0
        for clip, samples, reference in data:
            started = time.perf_counter()
            words = transcriber.words(samples)
            wall += time.perf_counter() - started
            ref, hyp = normalise(reference), normalise(" ".join(w.text for w in words))
            errors += edit_distance(ref, hyp)
            ref_words += len(ref)
            if args.verbose:
                print(f"  {name} {clip}: {edit_distance(ref, hyp)}/{len(ref)}: {' '.join(hyp)}", file=sys.stderr)
        print(f"| `{name}` | {beam} | {100 * errors / ref_words:.1f}% | {errors} / {ref_words} | "
              f"{wall / audio_s:.3f} | {wall:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
