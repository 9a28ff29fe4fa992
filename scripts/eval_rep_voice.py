#!/usr/bin/env python3
"""Enrolled-rep matching, measured: cosines of same and different voices, and calls named right.

    PYTHONPATH=. .venv/bin/python scripts/eval_rep_voice.py [--cache /tmp/words.json]

Real speech (../shared/data/speech): the LibriVox reader of the five
sense_and_sensibility clips is enrolled from two of them (`reps.voice_print`)
and compared with the other three (same voice) and with every other voice there:
jfk, quilter, librispeech, goforward, both sides of the stereo clip and both
speakers of the pyannote clip (cut by its .rttm).
Demo calls: each rep (Sam, Dana, Priya) is enrolled from the rep channel of
their first stereo call; every other call is then analyzed as the pipeline does
(stereo: each channel's print; mono: the two diarized voices, with the
Whisper words cached by --cache as in eval_diarization.py) and the enrolled rep
it matches is compared with the truth. The demo reps are one synthetic voice
pitch-shifted by 2.5 semitones, a harder case than most real teams.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper.audio import decode_audio  # noqa: E402

from pipeline.core.records import Word  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.voices import diarize, reps  # noqa: E402
from pipeline.voices.voice import ResemblyzerEncoder  # noqa: E402
from pipeline.voices.voice import embed_spans  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech"
RATE = 16000


def load(path: Path, **kw) -> np.ndarray:
    return decode_audio(str(path), sampling_rate=RATE, **kw)


def cut(samples: np.ndarray, spans) -> np.ndarray:
    return np.concatenate([samples[int(a * RATE) : int(b * RATE)] for a, b in spans])


def speaker_print(samples: np.ndarray, encoder) -> np.ndarray:
    """A call speaker's print as the pipeline makes it (no minimum of speech)."""
    return reps.mean_print(reps.window_prints(samples, encoder))


def real_speech(encoder) -> tuple[list[float], list[float], list[float]]:
    """Cosines: same voice; different voices from other recordings; different voices in one recording."""
    asr = SPEECH / "asr"
    reader = sorted(asr.glob("sense_and_sensibility_*.wav"))
    enrolled, _ = reps.voice_print([load(p) for p in reader[:2]], encoder)
    same = [float(enrolled @ speaker_print(load(p), encoder)) for p in reader[2:]]
    others = [load(asr / n) for n in ("jfk.flac", "quilter.wav", "librispeech_2412-153948-0000.flac", "goforward.wav")]
    others += list(load(SPEECH / "stereo" / "stereo_diarization.wav", split_stereo=True))
    sample = load(SPEECH / "diarization" / "pyannote_sample.wav")
    rttm = [line.split() for line in (SPEECH / "diarization" / "pyannote_sample.rttm").read_text().splitlines()]
    for spk in sorted({f[7] for f in rttm}):
        others.append(cut(sample, [(float(f[3]), float(f[3]) + float(f[4])) for f in rttm if f[7] == spk]))
    different = [float(enrolled @ speaker_print(o, encoder)) for o in others]
    # the two pyannote speakers against each other: first half enrolled, second half compared
    one_recording: list[float] = []
    for spk in sorted({f[7] for f in rttm}):
        turns = [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in rttm]
        early = speaker_print(cut(sample, [(a, b) for a, b, s in turns if s == spk and b <= 15.5]), encoder)
        for other in sorted({f[7] for f in rttm}):
            late = speaker_print(cut(sample, [(a, b) for a, b, s in turns if s == other and a >= 14]), encoder)
            (same if other == spk else one_recording).append(float(early @ late))
    return same, different, one_recording


def demo(encoder, cache: dict, minimum: float) -> tuple[list[float], list[float], list[str]]:
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())["calls"]
    enrolled_from: dict[str, str] = {}
    prints: dict[str, np.ndarray] = {}
    for call in truth:
        if call["channels"] == 2 and call["rep"] not in prints:
            left, _ = load(ROOT / "data" / "demo" / call["file"], split_stereo=True)
            prints[call["rep"]] = reps.voice_print([left], encoder)[0]
            enrolled_from[call["rep"]] = call["file"]
    transcriber = None
    same, different, lines = [], [], []
    for call in truth:
        if call["file"] in enrolled_from.values():
            continue
        path = ROOT / "data" / "demo" / call["file"]
        if call["channels"] == 2:
            sides = [speaker_print(c, encoder) for c in load(path, split_stereo=True)]
            voices, truth_names = np.stack(sides), [call["rep"], call["prospect"]]
            found, _ = reps.match(voices, prints, minimum)
            said = f"{'left' if found.speaker == 0 else 'right'}={found.name}" if found else "none"
            right = found is not None and found.speaker == 0 and found.name == call["rep"]
        else:
            samples = load(path)
            if call["file"] not in cache:
                if transcriber is None:
                    from pipeline.audio.transcribe import WhisperTranscriber

                    transcriber = WhisperTranscriber(Settings())
                cache[call["file"]] = [w.__dict__ for w in transcriber.words(samples)]
            words = [Word(**w) for w in cache[call["file"]]]
            d = diarize.diarize(words, samples, encoder, rep_prints=prints)
            voices = _voices(words, samples, encoder)
            truth_names = None
            said = d.rep_by
            right = d.rep_name == call["rep"]
        for name, p in prints.items():
            cos = voices @ p
            if truth_names is not None:
                for who, c in zip(truth_names, cos):
                    (same if who == name else different).append(float(c))
            else:  # mono: the voice closer to the true rep's print stands for the rep
                (same if call["rep"] == name else different).append(float(cos.max()))
        lines.append(f"{call['file']:12s} rep {call['rep']:6s} {said:22s} {'right' if right else 'WRONG'}")
    return same, different, lines


def _voices(words, samples, encoder) -> np.ndarray:
    """The two voice centroids diarize() compares with enrolled prints."""
    from pipeline.voices.voice import normalize_volume, speech_frames

    samples = normalize_volume(samples.astype(np.float32))
    spans = diarize.windows(speech_frames(samples), len(samples) / RATE)
    prints = embed_spans(encoder, samples, [diarize._clip(a, b) for a, b in spans])
    labels, _ = diarize.two_voices(diarize._centred(prints, prints.mean(axis=0)))
    return np.stack([reps.mean_print(prints[labels == k]) for k in (0, 1)])


def summary(name: str, same: list[float], different: list[float]) -> None:
    print(f"{name}: same voice {len(same)} pairs, cosine min {min(same):.3f} median {np.median(same):.3f}; "
          f"different voices {len(different)} pairs, max {max(different):.3f} median {np.median(different):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, help="JSON file keeping the Whisper words between runs")
    ap.add_argument("--minimum", type=float, default=reps.MATCH_MIN, help="cosine threshold to test")
    args = ap.parse_args()
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    encoder = ResemblyzerEncoder()
    same, different, one_recording = real_speech(encoder)
    summary("real speech", same, different)
    print(f"  same voice {', '.join(f'{c:.3f}' for c in same)}; different voices, other recordings "
          f"{', '.join(f'{c:.3f}' for c in different)}; the two voices of one recording "
          f"{', '.join(f'{c:.3f}' for c in one_recording)}")
    same, different, lines = demo(encoder, cache, args.minimum)
    if args.cache:
        args.cache.write_text(json.dumps(cache))
    summary("demo voices", same, different)
    print("\n".join(lines))
    right = sum(line.endswith("right") for line in lines)
    print(f"demo calls with the rep found and named right at cosine >= {args.minimum}: {right} of {len(lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
