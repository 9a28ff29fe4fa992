#!/usr/bin/env python3
"""Macro-F1 of the reaction scorer on held-out labelled replies, beside the scorer it replaced.

    .venv/bin/python scripts/eval_reactions.py            # both held-out sets, old and new scorer
    .venv/bin/python scripts/eval_reactions.py --tune     # 5-fold CV on the training set only

Training: pipeline/data/reactions_train.csv (240 replies) and reactions_train_context.csv (120
replies with their pitch). Held out, never used to choose anything:
- tests/data/reactions_context_heldout.csv: 181 replies with the pitch each answers, 14 products
  none of the training sets or the demo sell (hand-written for issue #16, before the new scorer);
- tests/data/reactions_heldout.csv: 120 replies without their pitch (the earlier set);
- tests/data/reactions_stalls_heldout.csv: 72 replies with their pitch, 8 products, 32 of them stalls and
  hedges ("I'll bring it up with the owner when she's in on Thursday.", labelled neutral), written by a
  second writer from the label definitions alone, without seeing the training replies (issue #16).
`old` is the scorer before issue #16 (cue lists plus the mean similarity of the 9 nearest
training replies of each label, trained on reactions_train.csv alone), kept here to compare.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.language import reaction_scorer  # noqa: E402
from pipeline.language.embed import MiniLMEmbedder, embed_unique  # noqa: E402

LABELS = reaction_scorer.LABELS
CONTEXT_HELDOUT = ROOT / "tests" / "data" / "reactions_context_heldout.csv"
HELDOUT = ROOT / "tests" / "data" / "reactions_heldout.csv"
STALLS_HELDOUT = ROOT / "tests" / "data" / "reactions_stalls_heldout.csv"
C_GRID = (1.0, 3.0, 10.0, 30.0)
SCALE_GRID = (0.5, 1.0, 2.0)


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted))
        fp = sum(p == label != t for t, p in zip(truth, predicted))
        fn = sum(t == label != p for t, p in zip(truth, predicted))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


class Remembered:
    """The embedder, each text embedded once (cross-validation refits the scorer 100 times)."""

    def __init__(self, embedder):
        self.embedder, self.seen = embedder, {}

    def embed(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.embedder.embed(new)))
        return np.array([self.seen[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)


class OldScorer:
    """The scorer before issue #16: softmax(10 x mean similarity of each label's 9 nearest + 1 x cue count)."""

    def __init__(self, embedder, examples: list[tuple[str, str]]):
        self.embedder = embedder
        self.labels = np.array([label for _, label in examples])
        self.vectors = embedder.embed([t for t, _ in examples])

    def labels_of(self, texts: list[str]) -> list[str]:
        sims = embed_unique(self.embedder, texts) @ self.vectors.T
        knn = np.stack([np.sort(sims[:, self.labels == lab], axis=1)[:, ::-1][:, :9].mean(axis=1) for lab in LABELS], 1)
        out = []
        for text, row in zip(texts, knn):
            pos, neg, _ = reaction_scorer.cues(text)
            out.append(LABELS[int(np.argmax(10.0 * row + np.array([pos, 0, neg])))])
        return out


def evaluate(embedder, train: list[tuple[str, str, str]], test: list[tuple[str, str, str]]) -> float:
    """Macro-F1 of the scorer fitted on `train` over `test`, both (pitch, reply, label)."""
    scorer = reaction_scorer.ReactionScorer(embedder, train)
    predicted = [s.label for s in scorer.score([t for _, t, _ in test], [p for p, _, _ in test])]
    return macro_f1([label for _, _, label in test], predicted)


def heldout_sets() -> dict[str, list[tuple[str, str, str]]]:
    return {"with pitches (181, issue #16)": reaction_scorer.load_pairs(CONTEXT_HELDOUT),
            "without pitches (120, earlier)": [("", t, label) for t, label in reaction_scorer.load_examples(HELDOUT)],
            "stalls and hedges (72)": reaction_scorer.load_pairs(STALLS_HELDOUT)}


def cross_validate(embedder, train: list[tuple[str, str, str]], folds: int = 5) -> float:
    """Mean macro-F1 over `folds` folds (every folds-th example, so each fold has every label and both files)."""
    parts = [train[i::folds] for i in range(folds)]
    return sum(evaluate(embedder, [x for j, part in enumerate(parts) if j != i for x in part], parts[i])
               for i in range(folds)) / folds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true", help="choose C and EMBED_SCALE by 5-fold CV on the training set")
    parser.add_argument("--errors", action="store_true", help="list the new scorer's mistakes on the held-out sets")
    args = parser.parse_args()
    embedder = Remembered(MiniLMEmbedder())
    train = reaction_scorer.training_set()
    if args.tune:
        best = None
        for c, scale in itertools.product(C_GRID, SCALE_GRID):
            reaction_scorer.C, reaction_scorer.EMBED_SCALE = c, scale
            f1 = cross_validate(embedder, train)
            print(f"C={c} EMBED_SCALE={scale}: CV macro-F1 {f1:.3f}", flush=True)
            best = max(best or (f1, c, scale), (f1, c, scale))
        print(f"best: C={best[1]} EMBED_SCALE={best[2]} (CV macro-F1 {best[0]:.3f})")
        return 0
    old = OldScorer(embedder, reaction_scorer.load_examples())
    new = reaction_scorer.ReactionScorer(embedder, train)
    seen = {t.lower() for _, t, _ in train}
    for name, test in heldout_sets().items():
        truth = [label for _, _, label in test]
        predicted = [s.label for s in new.score([t for _, t, _ in test], [p for p, _, _ in test])]
        unseen = [i for i, (_, t, _) in enumerate(test) if t.lower() not in seen]
        print(f"held-out {name}: old scorer {macro_f1(truth, old.labels_of([t for _, t, _ in test])):.3f}, "
              f"new {macro_f1(truth, predicted):.3f}; on the {len(unseen)} replies not worded as any training reply: "
              f"new {macro_f1([truth[i] for i in unseen], [predicted[i] for i in unseen]):.3f}")
        print("   recall by label: " + ", ".join(
            f"{lab} {sum(t == g == lab for t, g in zip(truth, predicted))}/{truth.count(lab)}" for lab in LABELS))
        if any(p for p, _, _ in test):  # what the pitch adds: the same replies scored without it
            blind = [s.label for s in new.score([t for _, t, _ in test])]
            print(f"   the same scorer not given the pitches: {macro_f1(truth, blind):.3f}")
        if args.errors:
            for (pitch, text, label), guess in zip(test, predicted):
                if guess != label:
                    print(f"   {label} -> {guess}: {text}")
    print(f"(C={reaction_scorer.C}, EMBED_SCALE={reaction_scorer.EMBED_SCALE}, "
          f"{len(train)} training replies)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
