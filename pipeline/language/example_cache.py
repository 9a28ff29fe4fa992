"""The kind and reaction scorers' state derived from their examples, kept between runs.

When they load, the kind classifier embeds its example phrases and the reaction scorer embeds
its 420 training replies and fits its regression: seconds of every batch's start, for a result
that depends only on the embedding model, the examples and the code's constants. So it is kept
in `models_dir/cache/examples/NAME-KEY.npz`, KEY a sha256 of everything it depends on: the
embedding model (its pinned weights' sha256 and the versions of the libraries that run it,
`Embedder.cache_id`), the example texts and labels, the constants, numpy's and scipy's versions.

A file is trusted only when the key stored inside it is the key asked for and it holds exactly
the arrays expected; it is read with `allow_pickle=False` (arrays only, never code) and written
to a temporary file then renamed, so a reader never sees half a file. Anything else (missing,
damaged, foreign, unreadable, unwritable) is computed as before and the cache is left aside.
An embedder without a `cache_id` (the tests' fakes) is never cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]


class ExampleCache:
    """`get(name, inputs, compute)`: `compute()`'s arrays, from the cache file when one matches `inputs`."""

    def __init__(self, folder: Path | None, model_id: str | None):
        self.folder = folder
        self.model_id = model_id

    def key(self, name: str, inputs) -> str:
        text = json.dumps([name, self.model_id, _versions(), inputs], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, name: str, inputs, compute: Callable[[], Arrays]) -> Arrays:
        if self.folder is None or not self.model_id:
            return compute()
        key = self.key(name, inputs)
        path = self.folder / f"{name}-{key[:16]}.npz"
        found = _read(path, key)
        if found is not None:
            log.debug("%s: examples' state read from %s", name, path)
            return found
        arrays = compute()
        _write(path, key, arrays)
        return arrays


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = ""
    return out


def _read(path: Path, key: str) -> Arrays | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            names = json.loads(str(data["names"]))
            if sorted(names) != sorted(set(data.files) - {"key", "names"}):
                return None
            return {name: data[name] for name in names}
    except FileNotFoundError:
        return None
    except Exception as exc:  # damaged, foreign or unreadable: computed again and replaced
        log.info("ignoring the examples cache %s (%s)", path, exc.__class__.__name__)
        return None


def _write(path: Path, key: str, arrays: Arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, key=np.array(key), names=np.array(json.dumps(list(arrays))), **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:  # a read-only models folder: the next run computes it again
        log.info("could not keep the examples cache in %s (%s)", path.parent, exc.strerror or exc)


NO_CACHE = ExampleCache(None, None)
