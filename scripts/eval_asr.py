#!/usr/bin/env python3
"""Whisper models compared: word error rate and speed on real speech with references.

    PYTHONPATH=. .venv/bin/python scripts/eval_asr.py [--models tiny.en base] [--models-dir models]
                                                      [--beams 1 5] [--demo] [--batch 0 8] [--vad 2000:400 500:100]
                                                      [--encoder-steps 0 10]

Transcribes every clip in ../shared/data/speech/asr/ (clean read speech, human
reference beside each clip) and the rep and prospect channels of the committed
test call tests/data/calls/short_stereo.wav (synthetic speech; reference: the
generator's text in tests/data/calls_truth.json) with the pipeline's own
transcriber (pipeline/audio/transcribe.py: int8, the default beam unless --beams, Silero VAD, Settings'
thread count). Word error rate = (substitutions + deletions + insertions) /
reference words, pooled over the clips, after lower-casing and dropping
punctuation. Real-time factor = transcription wall time / audio time (lower is
faster), model loading excluded; the first clip is transcribed once untimed to
warm up. --demo adds both channels of every stereo demo call (data/demo, reference:
data/demo_truth.json), a larger sample of synthetic speech. --beams compares
beam sizes side by side. --batch compares batch sizes (0: faster-whisper's sequential decoding with
its own VAD settings, the way before batching) and --vad Silero's min_silence_ms:speech_pad_ms for the
batched decoding (default: pipeline.audio.transcribe.VAD), side by side. --encoder-steps compares
pipeline.audio.transcribe.ENCODER_STEP_S (Whisper's encoder window cut after its audio in steps of so many
seconds; 0: the whole 30 s window, as faster-whisper does). Each clip is transcribed as `pitchlab analyze` hears
it: a telephone-band one (the demo's 8 kHz .wav calls) in whole windows whatever the step (transcribe.windows_for).
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

from pipeline.audio import transcribe  # noqa: E402
from pipeline.audio.ingest import detect_band  # noqa: E402
from pipeline.audio.transcribe import BATCH_SIZE, VAD, WhisperTranscriber  # noqa: E402
from pipeline.audio.whisper_batch import Vad  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402

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


def demo_clips() -> list[tuple[str, list, list[str]]]:
    """Each stereo demo call's two channels, with the generator's text of each speaker."""
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())
    out = []
    for call in truth["calls"]:
        if call["channels"] != 2:
            continue
        sides = decode_audio(str(ROOT / "data" / "demo" / call["file"]), split_stereo=True)
        out.append((call["file"], list(sides), [" ".join(t["text"] for t in call["turns"] if t["speaker"] == speaker)
                                                for speaker in ("rep", "prospect")]))
    return out


def clips() -> list[tuple[str, list, list[str]]]:
    """(name, channels of 16 kHz samples, reference text of each channel); a stereo call's channels are
    transcribed together, as the pipeline does."""
    out = []
    for path in sorted(SPEECH.iterdir()):
        if path.suffix in AUDIO:
            out.append((path.name, [decode_audio(str(path))], [path.with_suffix(".txt").read_text()]))
    truth = json.loads((ROOT / "tests" / "data" / "calls_truth.json").read_text())
    call = next(c for c in truth["calls"] if c["file"] == "short_stereo.wav")
    sides = decode_audio(str(ROOT / "tests" / "data" / "calls" / call["file"]), split_stereo=True)
    out.append(("short_stereo.wav", list(sides), [" ".join(t["text"] for t in call["turns"] if t["speaker"] == speaker)
                                                  for speaker in ("rep", "prospect")]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--beams", type=int, nargs="+", default=[Settings.beam_size],
                        help="beam sizes to compare (each model runs once per beam size, side by side)")
    parser.add_argument("--verbose", action="store_true", help="print each clip's hypothesis")
    parser.add_argument("--demo", action="store_true", help="also the stereo demo calls, channel by channel")
    parser.add_argument("--batch", type=int, nargs="+", default=[BATCH_SIZE],
                        help="batch sizes to compare (0: sequential decoding, as before batching)")
    parser.add_argument("--vad", nargs="+", default=[f"{VAD.min_silence_duration_ms}:{VAD.speech_pad_ms}"],
                        metavar="MS:PAD", help="Silero min_silence_duration_ms:speech_pad_ms for batched decoding")
    parser.add_argument("--encoder-steps", type=int, nargs="+", default=[transcribe.ENCODER_STEP_S], metavar="S",
                        help="Whisper's encoder window cut after its audio in steps of S seconds (0: whole 30 s windows)")
    args = parser.parse_args()
    try:
        vads = [Vad(*(int(x) for x in v.split(":"))) for v in args.vad]
    except (TypeError, ValueError):
        parser.error(f"--vad takes MIN_SILENCE_MS:PAD_MS, e.g. 500:100, not {' '.join(args.vad)}")
    data = clips() + (demo_clips() if args.demo else [])
    audio_s = sum(len(samples) / 16000 for _, channels, _ in data for samples in channels)
    print(f"{sum(len(channels) for _, channels, _ in data)} clips, {audio_s:.1f} s of audio")
    print("| model | beam | batch | VAD (min silence:pad ms) | encoder step | WER | errors / reference words "
          "| real-time factor | transcription s | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ways = [(b, None) for b in args.batch if b == 0] + [(b, v) for b in args.batch if b for v in vads]
    for name, beam, (batch, vad), step in ((m, b, w, e) for m in args.models for b in args.beams for w in ways
                                           for e in args.encoder_steps):
        transcribe.ENCODER_STEP_S = step
        transcriber = WhisperTranscriber(Settings(model=name, models_dir=args.models_dir, beam_size=beam),
                                         batch_size=batch, vad=vad or VAD)
        transcriber.words(data[0][1][0])  # warm-up
        errors = ref_words = 0
        wall = cpu = 0.0
        for clip, channels, references in data:
            started, cpu_started = time.perf_counter(), time.process_time()
            with transcribe.windows_for(transcriber, detect_band(tuple(channels), 16000)[0]):  # as analyze hears it
                found = transcriber.channel_words(channels)
            wall += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            for side, words, reference in zip([""] if len(channels) == 1 else [":left", ":right"], found, references):
                ref, hyp = normalise(reference), normalise(" ".join(w.text for w in words))
                errors += edit_distance(ref, hyp)
                ref_words += len(ref)
                if args.verbose:
                    print(f"  {name} {clip}{side}: {edit_distance(ref, hyp)}/{len(ref)}: {' '.join(hyp)}",
                          file=sys.stderr)
        way = ("sequential, 2000:400" if not batch else f"{vad.min_silence_duration_ms}:{vad.speech_pad_ms}")
        print(f"| `{name}` | {beam} | {batch} | {way} | {f'{step} s' if step else '30 s whole'} | "
              f"{100 * errors / ref_words:.2f}% | {errors} / {ref_words} | "
              f"{wall / audio_s:.3f} | {wall:.1f} | {cpu:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
