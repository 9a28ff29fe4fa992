#!/usr/bin/env python3
"""Macro-F1 of the reaction scorer on the held-out labelled reactions.

    .venv/bin/python scripts/eval_reactions.py            # held-out score
    .venv/bin/python scripts/eval_reactions.py --tune     # 5-fold CV on the training set only

The scorer's examples are pipeline/data/reactions_train.csv; the held-out set
tests/data/reactions_heldout.csv is never used to choose parameters.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import reactions  # noqa: E402
from pipeline.embed import MiniLMEmbedder  # noqa: E402


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in reactions.LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted))
        fp = sum(p == label != t for t, p in zip(truth, predicted))
        fn = sum(t == label != p for t, p in zip(truth, predicted))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def evaluate(embedder, train, test) -> float:
    scorer = reactions.ReactionScorer(embedder, train)
    return macro_f1([label for _, label in test], [s.label for s in scorer.score([t for t, _ in test])])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    embedder = MiniLMEmbedder()
    train = reactions.load_examples()
    if args.tune:
        folds = [train[i::5] for i in range(5)]
        for k, temp, cue in itertools.product((3, 5, 9), (10.0, 20.0, 40.0), (0.0, 0.5, 1.0, 2.0)):
            reactions.K, reactions.TEMPERATURE, reactions.CUE_WEIGHT = k, temp, cue
            f1s = [evaluate(embedder, [x for j, f in enumerate(folds) if j != i for x in f], folds[i]) for i in range(5)]
            print(f"K={k} TEMPERATURE={temp} CUE_WEIGHT={cue}: CV macro-F1 {sum(f1s) / 5:.3f}")
        return 0
    heldout = reactions.load_examples(ROOT / "tests" / "data" / "reactions_heldout.csv")
    print(f"held-out macro-F1 {evaluate(embedder, train, heldout):.3f} on {len(heldout)} reactions "
          f"(K={reactions.K}, TEMPERATURE={reactions.TEMPERATURE}, CUE_WEIGHT={reactions.CUE_WEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
