#!/usr/bin/env python3
"""Word error rate of real speech sent through the telephone set's 8 kHz line, beside the same speech as recorded.

    PYTHONPATH=. .venv/bin/python scripts/eval_asr_line.py [--models tiny.en] [--codecs ulaw gsm opus]
                                                          [--attenuation 0 11] [--demo] [--verbose]

The telephone evaluation set (scripts/make_phone_calls.py) is synthetic: piper voices pitch-shifted by sox
(which moves the formants with the pitch, as no real voice does) and espeak-ng. Whether a real voice survives
the line is measured here: every clip of ../shared/data/speech/asr/ (real read speech, human reference beside
each) goes through the same line as a call of that set (`make_phone_calls.line_channel`: hiss about -52 dBFS,
60 Hz hum, band-pass 300-3400 Hz at 8 kHz, then G.711 mu-law, GSM 06.10 or Opus at 10 kbit/s, written as the
file the set writes), `--attenuation` dB quieter first (the set's prospect side is 6-16 dB quieter than the
rep's), and is decoded and transcribed the way `pitchlab analyze` does (pipeline.audio.ingest.decode, its band
detected, then pipeline.audio.transcribe.transcribe: the pipeline's Whisper transcriber, whole 30 s windows for a
telephone-band clip, with its rescue of short runs). `--demo` adds both channels of every stereo demo call
(synthetic piper voices at mild shifts; reference: data/demo_truth.json). Word error rate as in scripts/eval_asr.py
(pooled, lower-cased, punctuation dropped). Needs sox and ffmpeg (libgsm, libopus).
`--models moonshine-base` hears each clip whole with the model that hears telephone-band replies again
(pipeline/audio/moonshine.py, the clip peak-normalized as pipeline/language/rehear.py does), for comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_asr import AUDIO, SPEECH, demo_clips, edit_distance, normalise  # noqa: E402
from faster_whisper.audio import decode_audio  # noqa: E402
from make_phone_calls import line_channel  # noqa: E402

from pipeline.audio import ingest, moonshine  # noqa: E402
from pipeline.language import rehear  # noqa: E402
from pipeline.audio.transcribe import WhisperTranscriber, transcribe  # noqa: E402
from pipeline.core.records import AudioInfo, Recording  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402

OPUS_KBPS = 10  # the set draws 8, 10 or 12 kbit/s a channel


def real_clips() -> list[tuple[str, np.ndarray, str]]:
    if not SPEECH.is_dir():
        sys.exit(f"no real speech at {SPEECH}: this evaluation reads ../shared/data/speech/asr (see its README)")
    return [(p.name, decode_audio(str(p)), p.with_suffix(".txt").read_text())
            for p in sorted(SPEECH.iterdir()) if p.suffix in AUDIO]


def as_recorded(samples: np.ndarray) -> ingest.DecodedAudio:
    """16 kHz samples as a wideband call (its band, which sets how Whisper's windows are encoded)."""
    info = AudioInfo("clip", "clip", len(samples) / 16000, 1, 16000, band=ingest.detect_band((samples,), 16000)[0])
    return ingest.DecodedAudio(info, (samples,))


def through_line(samples: np.ndarray, codec: str, attenuation_db: float, seed: int, tmp: Path) -> ingest.DecodedAudio:
    """The clip as the pipeline decodes it after the telephone line and codec (band detected)."""
    quiet = samples * 10 ** (-attenuation_db / 20)
    path = line_channel(quiet, codec, OPUS_KBPS, np.random.default_rng(seed), tmp / f"clip{seed}")
    rec = Recording(path=path, source_file=path.name, call_id=str(seed), size_bytes=path.stat().st_size)
    return ingest.decode(rec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en"])
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--codecs", nargs="+", default=["ulaw", "gsm", "opus"], choices=["ulaw", "gsm", "opus"])
    parser.add_argument("--attenuation", type=float, nargs="+", default=[0.0],
                        help="dB quieter before the line (the set's prospect side: 6-16)")
    parser.add_argument("--demo", action="store_true", help="also both channels of the stereo demo calls")
    parser.add_argument("--verbose", action="store_true", help="print each clip's hypothesis")
    args = parser.parse_args()
    if args.demo and moonshine.NAME in args.models:
        parser.error(f"{moonshine.NAME} hears at most 30 s at once: the demo's channels are minutes long")
    data = [(name, samples, ref, "real") for name, samples, ref in real_clips()]
    if args.demo:
        data += [(f"{name}:{side}", samples, ref, "demo") for name, channels, refs in demo_clips()
                 for side, samples, ref in zip(("rep", "prospect"), channels, refs)]
    sets = sorted({d[3] for d in data}, key=["real", "demo"].index)
    print(f"{len(data)} clips, {sum(len(d[1]) for d in data) / 16000:.1f} s of audio")
    print("| model | speech | line | WER | errors / reference words | exact clips |")
    print("|---|---|---|---|---|---|")
    conditions = [("as recorded", None, 0.0)] + [(f"{c}, {a:g} dB quieter" if a else c, c, a)
                                                 for a in args.attenuation for c in args.codecs]
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            if model == moonshine.NAME:
                listener = moonshine.MoonshineListener()
                hear = lambda audio: listener.hear([rehear.scaled(audio.channels[0])])[0]  # noqa: E731
            else:
                transcriber = WhisperTranscriber(Settings(model=model, models_dir=args.models_dir))
                hear = lambda audio: " ".join(w.text for w in transcribe(audio, transcriber))  # noqa: E731
            hear(as_recorded(data[0][1]))  # warm-up
            for label, codec, attenuation in conditions:
                tally = {s: [0, 0, 0, 0] for s in sets}  # errors, reference words, exact clips, clips
                for seed, (name, samples, reference, kind) in enumerate(data):
                    audio = (as_recorded(samples) if codec is None
                             else through_line(samples, codec, attenuation, seed, Path(tmp)))
                    ref, hyp = normalise(reference), normalise(hear(audio))
                    errors = edit_distance(ref, hyp)
                    t = tally[kind]
                    t[0] += errors
                    t[1] += len(ref)
                    t[2] += errors == 0
                    t[3] += 1
                    if args.verbose:
                        print(f"  {model} {label} {name}: {errors}/{len(ref)}: {' '.join(hyp)}", file=sys.stderr)
                for kind in sets:
                    e, n, exact, clips = tally[kind]
                    print(f"| `{model}` | {kind} | {label} | {100 * e / n:.2f}% | {e} / {n} | {exact}/{clips} |",
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
