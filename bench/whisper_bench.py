"""Against the naive way: plain faster-whisper on each stereo call's mono mixdown, one pass,
versus Pitchlab's per-channel path, on the same calls in the same process."""

from __future__ import annotations

import time
from pathlib import Path

from pipeline import ingest, speakers, transcribe
from pipeline.settings import Settings

from .common import DEMO, peak_rss_mb
from .corpus import attributed_errors, normalize, streams, truth, word_accuracy


def naive_vs_channels(*, model: str, calls: int) -> dict:
    settings = Settings(model=model, progress=False)
    pitchlab = transcribe.WhisperTranscriber(settings)
    whisper = pitchlab.model  # the same loaded model, so only the method differs
    known = truth()
    stereo = [c for c in sorted(known) if known[c]["channels"] == 2][:calls]
    totals = {"naive": [0.0, 0, 0, 0], "pitchlab": [0.0, 0, 0, 0]}  # seconds, word errors, attributed errors, ref words
    audio_s = 0.0
    for name in stereo:
        path = DEMO / name
        rec = ingest.Recording(path=path, source_file=name, call_id=ingest.sha256_of(path), size_bytes=path.stat().st_size)
        audio = ingest.decode(rec)
        audio_s += audio.info.duration_s
        ref = streams(known[name]["turns"])
        ref_all = [w for t in known[name]["turns"] for w in normalize(t["text"])]

        start = time.perf_counter()
        mix = (audio.channels[0] + audio.channels[1]) / 2 if len(audio.channels) == 2 else audio.channels[0]
        segments, _ = whisper.transcribe(mix, language="en")  # a user's first try: the defaults
        naive_text = " ".join(s.text for s in segments)
        totals["naive"][0] += time.perf_counter() - start
        hyp = normalize(naive_text)
        errors, n = word_accuracy(ref_all, hyp)
        attributed, _ = attributed_errors(ref, {"rep": hyp, "prospect": []}, permute=True)
        totals["naive"][1:] = [totals["naive"][1] + errors, totals["naive"][2] + attributed, totals["naive"][3] + n]

        start = time.perf_counter()
        words = transcribe.transcribe(audio, pitchlab)
        channel, _how = speakers.rep_channel(words, setting=settings.rep_channel, preset=settings.stereo_preset)
        turns = speakers.to_turns(words, speakers.by_channel(words, channel))
        totals["pitchlab"][0] += time.perf_counter() - start
        hyp_turns = [{"speaker": t.speaker, "text": t.text} for t in turns]
        errors, n = word_accuracy(ref_all, [w for t in hyp_turns for w in normalize(t["text"])])
        attributed, _ = attributed_errors(ref, streams(hyp_turns), permute=False)
        totals["pitchlab"][1:] = [totals["pitchlab"][1] + errors, totals["pitchlab"][2] + attributed,
                                  totals["pitchlab"][3] + n]
    out = {"model": model, "calls": len(stereo), "audio_s": audio_s, "peak_rss_mb": peak_rss_mb()}
    for way, (seconds, errors, attributed, n) in totals.items():
        out[way] = {"seconds": seconds, "rtf": audio_s / seconds if seconds else None,
                    "word_accuracy": 1 - errors / n, "attributed_word_accuracy": 1 - attributed / n,
                    "ref_words": n}
    return out
