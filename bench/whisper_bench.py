"""Against the naive way: plain faster-whisper on each stereo call's mono mixdown, one pass,
versus Pitchlab's per-channel path, on the same calls in the same process."""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.audio import ingest, transcribe
from pipeline.core.settings import Settings
from pipeline.voices import speakers

from .common import DEMO, peak_rss_mb
from .corpus import attributed_errors, normalize, speech_seconds, streams, truth, word_accuracy


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


# (batch size, VAD, calls a batch) ways compared by `batched_vs_sequential`; batch 0 is faster-whisper's
# sequential decoding with its own VAD settings (2 s pause, 0.4 s pad): the way before batching.
BATCH_WAYS = [(0, None, 1), (2, "2000:400", 1), (4, "2000:400", 1), (8, "2000:400", 1), (16, "2000:400", 1),
              (16, "2000:400", 4), (8, "500:100", 1)]
GROUP = 4  # calls taken together; the ways alternate group by group


def batched_vs_sequential(*, model: str, calls: int, threads: tuple[int, ...] = (2,)) -> dict:
    """The demo calls' speech to words, each way side by side in this process (the ways take turns, four
    calls at a time, so a change of load on the shared machine falls on all of them): sequential per
    channel as before; batched with both channels of a call in one batch, batch sizes 2..16, the old and
    new VAD; the channels of four calls in one batch; then the batched default with each of `threads`
    (WhisperModel cpu_threads)."""
    import numpy as np

    from pipeline.audio.whisper_batch import Vad

    known = truth()
    names = sorted(known)[:calls]
    audio = []
    for name in names:
        path = DEMO / name
        rec = ingest.Recording(path=path, source_file=name, call_id=name, size_bytes=path.stat().st_size)
        audio.append(ingest.decode(rec))
    audio_s = sum(a.info.duration_s for a in audio)
    ways = [((f"batch {b}, VAD {v}" + (f", {g} calls a batch" if g > 1 else "")) if b else "sequential (before)",
             b, v, 0, g) for b, v, g in BATCH_WAYS]
    now = f"{transcribe.VAD.min_silence_duration_ms}:{transcribe.VAD.speech_pad_ms}"
    ways += [(f"batch 8, VAD {now}, {t} thread(s)", 8, now, t, 1)
             for t in threads if t != Settings.cpu_threads]
    transcribers, together = {}, {}
    for label, batch, vad, n, g in ways:
        settings = Settings(model=model, progress=False, **({"cpu_threads": n} if n else {}))
        transcribers[label] = transcribe.WhisperTranscriber(
            settings, batch_size=batch, vad=Vad(*map(int, vad.split(":"))) if vad else transcribe.VAD)
        together[label] = g
    for t in transcribers.values():
        t.words(np.zeros(16000, np.float32))  # warm-up
        t.heard_s = t.decoded_s = t.vad_s = 0.0
    out = {label: {"wall_s": 0.0, "cpu_s": 0.0, "errors": 0, "ref_words": 0} for label in transcribers}
    refs = []
    for name, decoded in zip(names, audio):
        turns = known[name]["turns"]
        refs.append([[w for t in turns if t["speaker"] == s for w in normalize(t["text"])] for s in ("rep", "prospect")]
                    if len(decoded.channels) == 2 else [[w for t in turns for w in normalize(t["text"])]])
    for first in range(0, len(audio), GROUP):
        group = audio[first:first + GROUP]
        for label, tr in transcribers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            if together[label] > 1:
                joint = tr.channel_words([c for a in group for c in a.channels])
                found, k = [], 0
                for a in group:
                    found.append(joint[k:k + len(a.channels)])
                    k += len(a.channels)
            else:
                found = [tr.channel_words(list(a.channels)) for a in group]
            out[label]["wall_s"] += time.perf_counter() - wall
            out[label]["cpu_s"] += time.process_time() - cpu
            for call_refs, call_found in zip(refs[first:first + GROUP], found):
                for ref, words in zip(call_refs, call_found):
                    errors, n = word_accuracy(ref, normalize(" ".join(w.text for w in words)))
                    out[label]["errors"] += errors
                    out[label]["ref_words"] += n
    for label, tr in transcribers.items():
        out[label].update(decoded_s=tr.decoded_s, heard_s=tr.heard_s, vad_s=tr.vad_s,
                          wer=out[label]["errors"] / max(1, out[label]["ref_words"]),
                          rtf=audio_s / out[label]["wall_s"])
    return {"model": model, "calls": len(names), "stereo": sum(len(a.channels) == 2 for a in audio),
            "audio_s": audio_s, "speech_s": sum(speech_seconds(known[n]) for n in names),
            "ways": out, "peak_rss_mb": peak_rss_mb()}
