#!/usr/bin/env python3
"""Pitchlab's clusters against BERTopic's default pipeline and plain k-means, on the same stored embeddings.

    .venv/bin/pip install -e '.[compare]'      # bertopic, umap-learn, hdbscan (not in the default install)
    .venv/bin/python scripts/compare_clustering.py data/demo.duckdb data/demo_truth.json
    .venv/bin/python scripts/compare_clustering.py data/demo.duckdb data/demo_truth.json --fit mypkg.mod:func

Each stored pitch phrase gets the true family of the demo generator's rep turn it overlaps most
(as in scripts/eval_clusters.py). Every method clusters the same embeddings; the table gives the
adjusted Rand index (ARI) against the families (outliers counted as one more group, as a user sees
them; and over the clustered phrases only), the share of outliers, the number of clusters and the
time, as medians over seeds (min–max where the method depends on the seed).

- BERTopic default: BERTopic 0.17's own pipeline with its default UMAP (n_neighbors=15,
  n_components=5, min_dist=0.0, metric cosine) and HDBSCAN (min_cluster_size=10), given the stored
  embeddings; only UMAP's random_state is set, so runs repeat. Without the bertopic package the
  same two steps run from umap-learn and hdbscan directly (the row says so).
- k-means: scikit-learn KMeans (n_init=10) on the unit vectors, at k=5 (the demo's number of
  families) and at the k in 2..20 with the best cosine silhouette.
- Pitchlab: `--fit module:function` (default `pipeline.analysis.cluster:fit`), called as function(vectors)
  and returning labels or an object with `.labels`; imported at run time, so rerun this after
  changing the fit.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from eval_clusters import adjusted_rand  # noqa: E402

Method = Callable[[np.ndarray, list[str], int], np.ndarray]  # (unit vectors, texts, seed) -> labels, -1 = outlier
OUTLIER = -1


@dataclass(frozen=True)
class Row:
    method: str
    ari: list[float]  # one per seed, outliers as one group
    ari_clustered: list[float]  # one per seed, outliers left out
    outliers: list[float]  # share of phrases, one per seed
    clusters: list[int]
    seconds: list[float]


def demo_phrases(db_path: Path, truth_path: Path) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """(embeddings, texts, true family, call) of the stored pitch phrases, in phrase_id order."""
    truth = {c["file"]: c for c in json.loads(truth_path.read_text())["calls"]}
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT c.source_file, p.start_s, p.end_s, p.text, p.embedding FROM pitch_phrases p "
                       "JOIN calls c USING (call_id) WHERE p.kind = 'pitch' ORDER BY p.phrase_id").fetchall()
    con.close()
    x, texts, family, calls = [], [], [], []
    for file, start, end, text, vector in rows:
        turn = max(truth[file]["turns"], key=lambda t: min(end, t["end_s"]) - max(start, t["start_s"]))
        x.append(vector)
        texts.append(text)
        family.append(turn["family"] or turn["kind"])
        calls.append(file)
    return np.array(x, dtype=np.float32), texts, family, calls


def bertopic_default(x: np.ndarray, texts: list[str], seed: int) -> np.ndarray:
    from umap import UMAP

    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False,
                      random_state=seed)  # BERTopic's default, seeded
    try:
        from bertopic import BERTopic
    except ImportError:
        from hdbscan import HDBSCAN

        reduced = umap_model.fit_transform(x)
        return HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom").fit_predict(reduced)
    topics, _ = BERTopic(umap_model=umap_model).fit_transform(texts, embeddings=x)
    return np.asarray(topics)


def bertopic_name() -> str:
    try:
        import bertopic

        return f"BERTopic {bertopic.__version__} default (UMAP + HDBSCAN)"
    except ImportError:
        return "BERTopic's default steps (umap-learn + hdbscan, no bertopic package)"


def kmeans_at(k: int) -> Method:
    def method(x: np.ndarray, texts: list[str], seed: int) -> np.ndarray:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)

    return method


def kmeans_by_silhouette(x: np.ndarray, texts: list[str], seed: int, max_k: int = 20) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best = None
    for k in range(2, min(max_k, len(x) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
        score = silhouette_score(x, labels, metric="cosine")
        if best is None or score > best[0]:
            best = (score, labels)
    return best[1]


def pitchlab(fit: Callable, calls: list[str] | None = None) -> Method:
    """Pitchlab's fit as `refit` runs it: with each phrase's call (`groups`) and the seed."""
    def method(x: np.ndarray, texts: list[str], seed: int) -> np.ndarray:
        result = fit(x, seed=seed) if calls is None else fit(x, groups=np.array(calls), seed=seed)
        return np.asarray(getattr(result, "labels", result))

    return method


def load_fit(spec: str) -> Callable:
    module, _, name = spec.partition(":")
    if not name:
        raise SystemExit(f"--fit {spec}: expected module:function, e.g. pipeline.analysis.cluster:fit")
    return getattr(importlib.import_module(module), name)


def compare(x: np.ndarray, texts: list[str], family: list[str], methods: dict[str, tuple[Method, bool]],
            seeds: int = 5) -> list[Row]:
    """Run each method (name -> (method, depends on the seed)) over seeds 0..seeds-1 (once if it does not)."""
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    rows = []
    for name, (method, seeded) in methods.items():
        ari, ari_in, out, clusters, seconds = [], [], [], [], []
        for seed in range(seeds if seeded else 1):
            start = time.perf_counter()
            labels = method(unit, texts, seed)
            seconds.append(time.perf_counter() - start)
            inside = labels != OUTLIER
            ari.append(adjusted_rand(family, labels.tolist()))
            ari_in.append(adjusted_rand([f for f, keep in zip(family, inside) if keep], labels[inside].tolist())
                          if inside.sum() > 1 else 0.0)
            out.append(float((~inside).mean()))
            clusters.append(len(set(labels[inside].tolist())))
        rows.append(Row(name, ari, ari_in, out, clusters, seconds))
    return rows


def _spread(values: list, fmt: str) -> str:
    mid = format(statistics.median(values), fmt)
    return mid if len(set(values)) == 1 else f"{mid} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def table(rows: list[Row]) -> str:
    lines = ["| method | seeds | ARI vs true families | ARI, clustered phrases only | outliers | clusters | time |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.method} | {len(r.ari)} | {_spread(r.ari, '.3f')} | {_spread(r.ari_clustered, '.3f')} | "
                     f"{_spread(r.outliers, '.0%')} | {_spread(r.clusters, 'd')} | "
                     f"{statistics.median(r.seconds):.2f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="analyzed demo database, e.g. data/demo.duckdb")
    parser.add_argument("truth", type=Path, help="the demo generator's truth, e.g. data/demo_truth.json")
    parser.add_argument("--fit", default="pipeline.analysis.cluster:fit", help="Pitchlab's fit as module:function")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the methods that depend on one")
    args = parser.parse_args(argv)
    for path in (args.db, args.truth):
        if not path.exists():
            raise SystemExit(f"no file at {path}: run `make demo` first (it writes data/demo.duckdb)")
    x, texts, family, calls = demo_phrases(args.db, args.truth)
    methods: dict[str, tuple[Method, bool]] = {
        f"Pitchlab `{args.fit}`": (pitchlab(load_fit(args.fit), calls), True),
        bertopic_name(): (bertopic_default, True),
        "k-means, k=5": (kmeans_at(5), True),
        "k-means, k by cosine silhouette (2..20)": (kmeans_by_silhouette, True),
    }
    print(f"{len(x)} pitch phrases, {len(set(family))} true groups: "
          + ", ".join(f"{f} {family.count(f)}" for f in sorted(set(family))))
    print()
    print(table(compare(x, texts, family, methods, seeds=args.seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
