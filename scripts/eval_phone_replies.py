"""Replies to a pitch cut out of the telephone set by their true times, transcribed alone, then scored.

This separates the two losses of the end-to-end reaction figure (scripts/eval_phone.py): finding and pairing
the replies (here: none, the true span is given) and hearing them (here: all of it). Each true reply to a pitch
of scripts/phone_truth.json is cut from its call (the prospect's channel of a stereo call, the mixdown of a mono
one; 0.3 s around it), decoded without VAD by each Whisper model given, and scored by the real
`ReactionScorer` with the true pitch it answers. Printed: the label macro-F1 over the replies, how many
transcripts equal the true text (case and end punctuation aside), and that count by codec, channels, the
prospect's voice engine and the prospect.

    PYTHONPATH=. .venv/bin/python scripts/eval_phone_replies.py                     # /tmp/pitchlab-phone, tiny.en
    PYTHONPATH=. .venv/bin/python scripts/eval_phone_replies.py --models tiny.en:1 base:5 --errors
    PYTHONPATH=. .venv/bin/python scripts/eval_phone_replies.py /tmp/pitchlab-phone-16k   # the same calls at 16 kHz
    PYTHONPATH=. .venv/bin/python scripts/eval_phone_replies.py /tmp/pitchlab-phone-ho --models tiny.en moonshine-base

`moonshine-base` hears the clips as pitchlab hears a telephone reply again (pipeline/language/rehear.py): each
scaled to one peak, in batches of similar length. A set's truth is read from beside its folder
(`/tmp/pitchlab-phone-ho.truth.json`), else from scripts/phone_truth.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.audio import moonshine  # noqa: E402
from pipeline.audio.ingest import decode, find_recordings  # noqa: E402
from pipeline.core.models import whisper_model_dir  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.language.embed import MiniLMEmbedder  # noqa: E402
from pipeline.language import rehear  # noqa: E402
from pipeline.language.reaction_scorer import ReactionScorer  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from eval_reactions import macro_f1  # noqa: E402

TRUTH = ROOT / "scripts" / "phone_truth.json"
PAD_S = 0.3
RATE = 16000


def truth_of(folder: Path) -> Path:
    """The set's truth beside it (as scripts/eval_phone.py reads it), else the committed one of the seed-1616 set."""
    beside = folder.parent / f"{folder.name}.truth.json"
    return beside if beside.exists() else TRUTH


def replies(folder: Path, espeak: set[str]) -> list[dict]:
    """Every true reply to a pitch: its pitch, text, label, audio and where it comes from."""
    truth = json.loads(truth_of(folder).read_text())
    found = {r.path.stem: r for r in find_recordings(folder)}  # the --wide set: the same names, all .wav
    out = []
    for call in truth["calls"]:
        audio = decode(found[Path(call["file"]).stem]).channels
        signal = audio[1] if len(audio) == 2 else audio[0]  # the generator puts the rep on the left
        pitch = None
        for turn in call["turns"]:
            if turn["speaker"] == "rep" and turn["kind"] == "pitch":
                pitch = turn["text"]
            if turn["speaker"] == "prospect" and turn["kind"] == "reaction":
                a, b = int(max(0.0, turn["start_s"] - PAD_S) * RATE), int((turn["end_s"] + PAD_S) * RATE)
                out.append({"pitch": pitch, "text": turn["text"], "label": turn["label"],
                            "audio": np.ascontiguousarray(signal[a:b], dtype=np.float32),
                            "codec": call["codec"], "channels": call["channels"], "prospect": call["prospect"],
                            "voice": "espeak" if call["prospect"] in espeak else "piper"})
    return out


def plain(text: str) -> str:
    return text.lower().strip(" .?!,")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=Path("/tmp/pitchlab-phone"))
    parser.add_argument("--models", nargs="+", default=["tiny.en:1"], metavar="MODEL:BEAM")
    parser.add_argument("--errors", action="store_true", help="print each wrongly labelled reply")
    args = parser.parse_args()
    from make_phone_calls import PROSPECTS

    items = replies(args.folder, {name for name, (_company, v) in PROSPECTS.items() if v.engine == "espeak"})
    scorer = ReactionScorer(MiniLMEmbedder())
    gold = [i["label"] for i in items]
    pitches = [i["pitch"] for i in items]
    on_truth = [s.label for s in scorer.score([i["text"] for i in items], pitches)]
    print(f"{len(items)} replies to a pitch; scorer on the true text: macro-F1 {macro_f1(gold, on_truth):.3f}")
    from faster_whisper import WhisperModel

    for spec in args.models:
        name, _, beam = spec.partition(":")
        start, heard = time.perf_counter(), []
        if name == moonshine.NAME:  # as pitchlab hears a telephone reply again: scaled to one peak, in batches
            heard = moonshine.MoonshineListener().hear([rehear.scaled(i["audio"]) for i in items])
            beam = "1"
        else:
            model = WhisperModel(whisper_model_dir(name, Settings().models_dir), device="cpu", compute_type="int8",
                                 cpu_threads=2)
            for item in items:
                segments, _info = model.transcribe(item["audio"], language="en", beam_size=int(beam or 1),
                                                   vad_filter=False, condition_on_previous_text=False,
                                                   without_timestamps=True)
                heard.append(" ".join(s.text.strip() for s in segments))
        seconds = time.perf_counter() - start
        labels = [s.label for s in scorer.score(heard, pitches)]
        same = [plain(h) == plain(i["text"]) for h, i in zip(heard, items)]
        print(f"{name} beam {beam or 1}: macro-F1 {macro_f1(gold, labels):.3f}, heard exactly {sum(same)}/{len(items)}"
              f" ({seconds:.0f} s)")
        for key in ("codec", "channels", "voice", "prospect"):
            counts = defaultdict(lambda: [0, 0])
            for ok, item in zip(same, items):
                counts[item[key]][0] += ok
                counts[item[key]][1] += 1
            print(f"   exactly, by {key}: " + ", ".join(f"{k} {a}/{n}" for k, (a, n) in sorted(counts.items(), key=str)))
        if args.errors:
            for h, i, label in zip(heard, items, labels):
                if label != i["label"]:
                    print(f"   {i['label']:>10} -> {label:<10} {i['text']!r} heard {h!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
