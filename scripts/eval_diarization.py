#!/usr/bin/env python3
"""Mono speaker attribution, measured: word accuracy and diarization error rate.

    .venv/bin/python scripts/eval_diarization.py [--cache /tmp/words.json] [--window 1.6 --hop 0.4] [--precision float32]
        [--phone /tmp/pitchlab-phone] [--words]

Transcribes (Whisper tiny.en, as the pipeline does) and diarizes
  * ../shared/data/speech/diarization/pyannote_sample.wav (real speech, two
    speakers with overlap) against its .rttm reference, and
  * every mono call of the demo corpus against data/demo_truth.json,
  * with --phone DIR, every mono call of the telephone-band evaluation set
    (scripts/make_phone_calls.py DIR) against DIR.truth.json,
  * with --two-channel FILE..., real stereo calls recorded with one party a channel (e.g. the SpokenWOZ
    phone call below), split as their mono mixdown; the reference turns are each channel's Whisper words
    joined across pauses under TURN_GAP_S (who speaks is the channel, when is Whisper's),
with the voice-print method (pipeline/voices/diarize.py). (The pitch split it replaced
was measured by this script at commit 8191dc6.) A word's true speaker is the reference speaker whose
turns overlap the word most (the nearest turn when none does).
  word accuracy: share of words given the true speaker; on the pyannote clip
    (no rep) under the better of the two speaker mappings, on the demo as rep
    or prospect, so choosing the rep is part of it;
  DER: (missed + false alarm + confused speech) / reference speech, in 10 ms
    frames, no collar, hypothesis speech = our turns' spans;
  time attributed: of our turns' time that overlaps reference speech, the share
    that overlaps the same speaker's reference turns (scripts/eval_phone.py's
    "speaker-attributed speech time", here on the mono split alone).
--words prints every word of the real clip (time, word, reference and hypothesis speaker), and the
wrongly attributed words of the other calls.
--cache keeps the Whisper words between runs (only the transcription is cached).

A real telephone call for --two-channel (SpokenWOZ dialogue MUL1011: two people on an 8 kHz line, 183 s,
one party a channel; SpokenWOZ's own terms, see spokenwoz.github.io; never commit it), from SpeechBrain's
test samples:
    git clone https://github.com/speechbrain/speechbrain /tmp/sb && git -C /tmp/sb show \
        10e5ca1da23c1c3beb6a5c4a420ba0626d5df60e:tests/samples/DST/SpokenWOZ/audio_5700_train_dev/MUL1011.opus \
        > /tmp/spokenwoz/MUL1011.opus
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper.audio import decode_audio  # noqa: E402

from pipeline.core.records import PROSPECT, REP, Word  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.voices import diarize, speakers  # noqa: E402
from pipeline.voices.voice import ResemblyzerEncoder  # noqa: E402

SPEECH = ROOT.parent / "shared" / "data" / "speech"
FRAME = 0.01
TURN_GAP_S = 1.0  # --two-channel: a channel's words less than this apart are one reference turn


def read_rttm(path: Path) -> list[tuple[str, float, float]]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            out.append((f[7], float(f[3]), float(f[3]) + float(f[4])))
    return out


def true_speaker(word: Word, ref: list[tuple[str, float, float]]) -> str:
    overlap: dict[str, float] = {}
    for spk, a, b in ref:
        overlap[spk] = overlap.get(spk, 0.0) + max(0.0, min(b, word.end_s) - max(a, word.start_s))
    best = max(overlap, key=overlap.get)
    if overlap[best] > 0:
        return best
    mid = (word.start_s + word.end_s) / 2
    return min(ref, key=lambda r: max(r[1] - mid, mid - r[2], 0.0))[0]


def der(hyp: list[tuple[str, float, float]], ref: list[tuple[str, float, float]], mapping: dict[str, str]) -> float:
    r, h = masks(hyp, ref, mapping)
    return sum(der_parts(r, h))


def der_parts(r: np.ndarray, h: np.ndarray) -> tuple[float, float, float]:
    """(missed, false alarm, confused) speech over reference speech, from (speaker, frame) masks."""
    n_ref, n_hyp = r.sum(axis=0), h.sum(axis=0)
    correct = (r & h).sum(axis=0)
    missed = np.maximum(n_ref - n_hyp, 0).sum()
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum()
    confused = (np.minimum(n_ref, n_hyp) - correct).sum()
    return float(missed / n_ref.sum()), float(false_alarm / n_ref.sum()), float(confused / n_ref.sum())


def masks(hyp, ref, mapping):
    end = max(b for _, _, b in ref + hyp)
    n = int(end / FRAME) + 1
    speakers_ = sorted({s for s, _, _ in ref})
    r = np.zeros((len(speakers_), n), dtype=bool)
    h = np.zeros((len(speakers_), n), dtype=bool)
    for s, a, b in ref:
        r[speakers_.index(s), int(a / FRAME) : int(b / FRAME)] = True
    for s, a, b in hyp:
        h[speakers_.index(mapping[s]), int(a / FRAME) : int(b / FRAME)] = True
    return r, h


def attributed(hyp: list[tuple[str, float, float]], ref: list[tuple[str, float, float]], mapping: dict[str, str]):
    """(seconds of our turns overlapping the same speaker's reference turns, seconds overlapping any)."""
    right = anywhere = 0.0
    for s, a, b in hyp:
        for r, ra, rb in ref:
            o = max(0.0, min(b, rb) - max(a, ra))
            anywhere += o
            right += o if mapping[s] == r else 0.0
    return right, anywhere


def score(words, who, ref, mappings):
    """(accuracy, DER, time attributed (right, any), mapping) under the best of the given mappings
    hypothesis label -> reference label."""
    truth = [true_speaker(w, ref) for w in words]
    turns = speakers.to_turns(words, who)
    hyp = [(t.speaker, t.start_s, t.end_s) for t in turns]
    results = []
    for m in mappings:
        acc = sum(m[s] == t for s, t in zip(who, truth)) / len(words)
        results.append((acc, der(hyp, ref, m), attributed(hyp, ref, m), m))
    return max(results, key=lambda x: x[0])


def print_words(words, who, ref, mapping, wrong_only: bool = False) -> None:
    """Every word (or every wrong one): time, text, reference speaker, hypothesis speaker, and
    whether reference turns overlap there."""
    for w, s in zip(words, who):
        t = true_speaker(w, ref)
        if wrong_only and mapping[s] == t:
            continue
        live = sorted({r for r, a, b in ref if a < w.end_s and b > w.start_s})
        note = "overlap" if len(live) > 1 else ("outside" if not live else "")
        print(f"  {w.start_s:6.2f}-{w.end_s:6.2f} {w.text:14s} ref {t:10s} hyp {mapping[s]:10s}"
              f" {'ok' if mapping[s] == t else 'WRONG'} {note}")


def channel_turns(channel_words: list[list[Word]], gap_s: float = TURN_GAP_S) -> list[tuple[str, float, float]]:
    """Reference turns of a call recorded with one party a channel ("L", "R"): each channel's Whisper words,
    joined where less than gap_s apart. Who speaks is the channel (physical truth); when is Whisper's word times."""
    ref = []
    for side, words in zip("LR", channel_words):
        for w in sorted(words, key=lambda w: w.start_s):
            if ref and ref[-1][0] == side and w.start_s - ref[-1][2] < gap_s:
                ref[-1] = (side, ref[-1][1], max(ref[-1][2], w.end_s))
            else:
                ref.append((side, w.start_s, w.end_s))
    return sorted(ref, key=lambda t: t[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, help="JSON file keeping the Whisper words between runs")
    ap.add_argument("--window", type=float, default=diarize.WINDOW_S, help="analysis window, s (to compare settings)")
    ap.add_argument("--hop", type=float, default=diarize.HOP_S, help="window hop, s")
    ap.add_argument("--real-only", action="store_true", help="only the real two-speaker clip, not the demo calls")
    ap.add_argument("--phone", type=Path, help="also the mono calls of this telephone-band set (make_phone_calls.py)")
    ap.add_argument("--two-channel", type=Path, nargs="+", default=[], metavar="FILE",
                    help="real stereo calls with one party a channel, split as their mono mixdown (reference below)")
    ap.add_argument("--words", action="store_true", help="print every word of the real clip with both speakers, the wrong ones elsewhere")
    ap.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                    help="the voice encoder's LSTM precision (auto: bfloat16 where the CPU has it)")
    args = ap.parse_args()
    diarize.WINDOW_S, diarize.HOP_S = args.window, args.hop
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    transcriber = None
    encoder = ResemblyzerEncoder(precision=args.precision)

    def words_of(key: str, samples: np.ndarray) -> list[Word]:
        """Whisper's words as `pitchlab analyze` hears them: whole windows for a telephone-band clip."""
        nonlocal transcriber
        if key not in cache:
            from pipeline.audio import transcribe
            from pipeline.audio.ingest import detect_band

            if transcriber is None:
                transcriber = transcribe.WhisperTranscriber(Settings())
            with transcribe.windows_for(transcriber, detect_band((samples,), 16000)[0]):
                cache[key] = [w.__dict__ for w in transcriber.words(samples)]
        return [Word(**w) for w in cache[key]]

    cases = []
    sample = SPEECH / "diarization" / "pyannote_sample.wav"
    ref = read_rttm(sample.with_suffix(".rttm"))
    a, b = sorted({s for s, _, _ in ref})
    cases.append(("pyannote_sample.wav", decode_audio(str(sample), sampling_rate=16000), ref,
                  [{REP: a, PROSPECT: b}, {REP: b, PROSPECT: a}]))
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())["calls"]
    for call in [] if args.real_only else truth:
        if call["channels"] != 1:
            continue
        ref = [(t["speaker"], t["start_s"], t["end_s"]) for t in call["turns"]]
        cases.append((call["file"], decode_audio(str(ROOT / "data" / "demo" / call["file"]), sampling_rate=16000),
                      ref, [{REP: REP, PROSPECT: PROSPECT}]))
    phone = json.loads(args.phone.with_suffix(".truth.json").read_text())["calls"] if args.phone else []
    for call in phone:
        if call["channels"] != 1:
            continue
        ref = [(t["speaker"], t["start_s"], t["end_s"]) for t in call["turns"]]
        cases.append(("phone/" + call["file"], decode_audio(str(args.phone / call["file"]), sampling_rate=16000),
                      ref, [{REP: REP, PROSPECT: PROSPECT}]))

    for path in args.two_channel:
        sides = decode_audio(str(path), sampling_rate=16000, split_stereo=True)
        ref = channel_turns([words_of(f"{path.name}:{side}", samples) for side, samples in zip("LR", sides)])
        cases.append(("two-channel/" + path.name, (sides[0] + sides[1]) / 2, ref,
                      [{REP: "L", PROSPECT: "R"}, {REP: "R", PROSPECT: "L"}]))

    totals: dict[tuple[str, str], list[float]] = {}
    split_s = 0.0
    for name, samples, ref, mappings in cases:
        words = words_of(name, samples)
        started = time.monotonic()
        d = diarize.diarize(words, samples, encoder)
        took = time.monotonic() - started
        split_s += took
        methods = {"voice-print": list(d.speakers)}
        group = ("pyannote" if name.startswith("pyannote") else "phone mono" if name.startswith("phone/")
                 else "real two-channel, mixed" if name.startswith("two-channel/") else "demo mono")
        for method, who in methods.items():
            acc, err, (right, anywhere), mapping = score(words, who, ref, mappings)
            t = totals.setdefault((group, method), [0, 0, 0.0, 0.0, 0.0, 0.0])
            t[0] += acc * len(words)
            t[1] += len(words)
            t[2] += err * sum(b - a for _, a, b in ref)
            t[3] += sum(b - a for _, a, b in ref)
            t[4] += right
            t[5] += anywhere
            print(f"{name:24s} {method:12s} words {len(words):4d}  accuracy {100 * acc:5.1f}%  DER {100 * err:5.1f}%"
                  f"  time {right / max(anywhere, 1e-9):.3f}"
                  + (f"  ({took:.1f} s, voices cos {d.voice_similarity:.2f})" if method == "voice-print" else ""))
            if args.words:
                print_words(words, who, ref, mapping, wrong_only=group != "pyannote")
                hyp = [(t.speaker, t.start_s, t.end_s) for t in speakers.to_turns(words, who)]
                print("  DER = missed %.1f%% + false alarm %.1f%% + confused %.1f%%"
                      % tuple(100 * x for x in der_parts(*masks(hyp, ref, mapping))))
    if args.cache:
        args.cache.write_text(json.dumps(cache))
    audio_s = sum(len(c[1]) for c in cases) / 16000
    print(f"\nwindows {diarize.WINDOW_S:g} s every {diarize.HOP_S:g} s: {encoder.precision}: voice-print split {split_s:.1f} s "
          f"for {audio_s / 60:.1f} min of audio")
    print()
    print("| audio | method | words | word accuracy | DER | time attributed |")
    print("|---|---|---|---|---|---|")
    for (group, method), (right, n, err, ref_s, t_right, t_any) in totals.items():
        print(f"| {group} | {method} | {int(n)} | {100 * right / n:.1f}% | {100 * err / ref_s:.1f}% | {t_right / t_any:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
