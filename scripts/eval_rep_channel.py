#!/usr/bin/env python3
"""Stereo rep-channel detection, measured on every stereo demo call and the stereo test call.

    PYTHONPATH=. .venv/bin/python scripts/eval_rep_channel.py

Each call is transcribed per channel with Whisper tiny.en (as the pipeline does)
and `speakers.rep_channel` decides with no sidecar, setting or preset; then the
same words with the channels swapped (the rep on the right). The truth: the
generator puts the rep on the left (data/demo_truth.json, tests/data/calls_truth.json).
Prints each call's decision and the share right, by how it was decided.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import json  # noqa: E402

from faster_whisper.audio import decode_audio  # noqa: E402

from pipeline.audio.transcribe import WhisperTranscriber  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.voices import speakers  # noqa: E402


def stereo_calls() -> list[Path]:
    out = []
    for truth, folder in ((ROOT / "data" / "demo_truth.json", ROOT / "data" / "demo"),
                          (ROOT / "tests" / "data" / "calls_truth.json", ROOT / "tests" / "data" / "calls")):
        out += [folder / c["file"] for c in json.loads(truth.read_text())["calls"] if c["channels"] == 2]
    return out


def main() -> int:
    transcriber = WhisperTranscriber(Settings())
    right, total = Counter(), Counter()
    for path in stereo_calls():
        channels = decode_audio(str(path), split_stereo=True)
        words = []
        for idx, samples in enumerate(channels):
            words += [replace(w, channel=idx, segment=w.segment + 1000 * idx) for w in transcriber.words(samples)]
        words.sort(key=lambda w: (w.start_s, w.channel))
        swapped = [replace(w, channel=1 - w.channel) for w in words]
        for layout, ws, truth in (("as recorded", words, "left"), ("swapped", swapped, "right")):
            channel, how = speakers.rep_channel(ws)
            total[how] += 1
            right[how] += channel == truth
            print(f"{path.name:18} {layout:12} rep {truth:5} -> {channel:5} ({how})")
    for how in sorted(total):
        print(f"{how}: {right[how]} of {total[how]} right")
    print(f"all: {sum(right.values())} of {sum(total.values())} right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
