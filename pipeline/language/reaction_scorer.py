"""A prospect's reply to a pitch, scored: interested, neutral or objection, and why.

What a reply means depends on its words, its form and the pitch it answers, so each
(pitch, reply) pair becomes these features:
- the reply's embedding (all-MiniLM-L6-v2), times EMBED_SCALE;
- cue counts: phrases that signal interest or an objection, longest first, so "not
  interested" is one objection and not also interest;
- its form: a question (a follow-up question is interest, unless it doubts: "why would we"),
  a bare acknowledgement ("Okay.", "Right.", "mm-hm": lukewarm, neutral), negations;
- its context: the cosine between the reply and the pitch it answers, alone and for a
  question ("Does it work on air freight?" after a pitch about shipments asks about what was
  pitched; "Sorry, what was that?" does not);
- the nearest training replies: each label's mean similarity over its K nearest (for a
  training reply, the others').
A multinomial logistic regression (L2, weight 1/C, L-BFGS to the optimum) over those features
is fitted when the scorer loads, on the labelled training replies:
`pipeline/data/reactions_train.csv` (306 replies without their pitch; 22 of them stalls and hedges,
"let me give it some thought and get back to you." is neutral) and
`reactions_train_context.csv` (180 replies with the pitch they answer), different products
and wording from every evaluation set. C and EMBED_SCALE were chosen by 5-fold
cross-validation on the training set only (`scripts/eval_reactions.py --tune`).
interest = p(interested) - p(objection), in [-1, 1]. The evidence lists the cues that fired
(+ interest, - objection), the form, and the nearest training reply with its label. A reply heard twice
(a telephone reply heard again, and the transcript's words) is scored on both: see `score(also=)`.
On the held-out replies the pitch features have not yet helped (docs/measurements.md: 0.900 with the
pitches, 0.911 without, on the 181 replies): they are where context a larger labelled set could teach goes.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

from pipeline.language.embed import Embedder, embed_unique
from pipeline.language.example_cache import NO_CACHE, ExampleCache

LABELS = ("interested", "neutral", "objection")
C = 1.0
EMBED_SCALE = 1.0
K = 9  # nearest training replies per label
MAX_ITERATIONS = 2000
# a reply heard twice (rehear.py: Moonshine on its cut-out audio, Whisper in the call) is scored on both texts, the
# label probabilities averaged with this weight on the text heard again, the rest on the transcript's words: chosen
# on the seed-1616 telephone set (0.5 / 0.6 / 0.7 / 0.8: macro-F1 0.789 / 0.828 / 0.812 / 0.789), then held-out set
# 0.776 / 0.793 / 0.773 / 0.777 (scripts/eval_heard_weight.py; docs/phone.md, "Both hearings scored")
HEARD_WEIGHT = 0.6

INTEREST_CUES = (
    "how does", "how do", "how would", "how much", "what does it cost", "what does that cost",
    "price", "pricing", "cost", "show me", "send me", "tell me more", "demo", "trial",
    "interesting", "nice", "great", "love", "cool", "awesome", "sounds good", "that would help",
    "we need", "exactly what", "sign me up", "can you show", "can i see", "really useful",
    "that helps", "impressive", "wow", "let's do it", "let's book", "works for me",
)
OBJECTION_CUES = (
    "already have", "already use", "already got", "not a priority", "not interested",
    "skeptical", "too expensive", "no budget", "don't need", "do not need", "not sure",
    "no thanks", "not really", "not for us", "doubt", "pass", "not now", "maybe later",
    "we're fine", "we are fine", "happy with", "no time", "too busy", "not convinced",
)
QUESTION_OPENERS = frozenset({
    "how", "what", "which", "who", "when", "where", "why", "can", "could", "does", "do", "is", "are",
    "would", "will", "should", "so", "wait",
})
ACKNOWLEDGEMENTS = frozenset({
    "okay", "ok", "right", "alright", "sure", "yeah", "yes", "yep", "mm", "mmm", "hm", "hmm", "mhm",
    "mm-hm", "mm-hmm", "uh-huh", "uh", "huh", "i", "see", "got", "it", "gotcha", "understood", "follow",
})
DOUBTS = ("why would", "why should", "who says", "how could", "really?", "how is that different")
NEGATIONS = re.compile(r"\b(?:not|no|never|nothing|nobody|won't|can't|don't|doesn't|isn't|wouldn't|n't)\b")


def _compile(cues: Sequence[str], sign: int) -> list[tuple[str, re.Pattern, int]]:
    return [(cue, re.compile(r"\b" + re.escape(cue) + r"\b"), sign) for cue in cues]


# Longest cue first, so a longer cue consumes the words of the shorter ones inside it.
_CUES = sorted(
    _compile(INTEREST_CUES, +1) + _compile(OBJECTION_CUES, -1),
    key=lambda c: len(c[0]),
    reverse=True,
)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9'\- ]+", " ", text.lower().replace("’", "'"))


def cues(text: str) -> tuple[int, int, tuple[str, ...]]:
    """(interest cues, objection cues, evidence) found in one reaction's text."""
    remaining = " " + re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("’", "'")) + " "
    pos = neg = 0
    evidence = []
    for cue, pattern, sign in _CUES:
        hits = len(pattern.findall(remaining))
        if hits:
            remaining = pattern.sub(" ", remaining)
            evidence.extend([("+" if sign > 0 else "-") + cue] * hits)
            pos += hits if sign > 0 else 0
            neg += hits if sign < 0 else 0
    return pos, neg, tuple(evidence)


def form(text: str) -> tuple[bool, bool, bool, int]:
    """(a question, a doubting question, a bare acknowledgement, negations) of a reply."""
    words = _plain(text).split()
    question = "?" in text or bool(words and words[0] in QUESTION_OPENERS and len(words) > 2)
    doubt = question and any(d in text.lower() for d in DOUBTS)
    acknowledgement = bool(words) and all(w.strip("-") in ACKNOWLEDGEMENTS for w in words)
    return question and not doubt, doubt, acknowledgement, len(NEGATIONS.findall(_plain(text).replace("n't", " n't")))


@dataclass(frozen=True)
class Score:
    interest: float
    label: str
    evidence: tuple[str, ...]


def load_examples(path=None) -> list[tuple[str, str]]:
    """Labelled reactions (text, label) of a CSV; by default the bundled training replies."""
    source = path or resources.files("pipeline").joinpath("data/reactions_train.csv")
    with source.open(newline="", encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh)]


def load_pairs(path=None) -> list[tuple[str, str, str]]:
    """Labelled (pitch, reply, label) triples of a CSV; by default the bundled training pairs."""
    source = path or resources.files("pipeline").joinpath("data/reactions_train_context.csv")
    with source.open(newline="", encoding="utf-8") as fh:
        return [(row["pitch"], row["text"], row["label"]) for row in csv.DictReader(fh)]


def training_set() -> list[tuple[str, str, str]]:
    """Every bundled training reply as (pitch, reply, label); "" where the pitch is not known."""
    return [("", text, label) for text, label in load_examples()] + load_pairs()


def _handmade(texts: Sequence[str], context: np.ndarray) -> np.ndarray:
    """Cue counts, form and context features, one row per reply."""
    rows = []
    for text, cosine in zip(texts, context):
        pos, neg, _ = cues(text)
        question, doubt, ack, negations = form(text)
        rows.append([pos, neg, question, doubt, ack, min(negations, 2), cosine, question * cosine,
                     len(text.split()) <= 3])
    return np.array(rows, dtype=np.float64).reshape(len(texts), 9)


def _nearest(sims: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each label's mean similarity over its K nearest training replies, times 10."""
    return 10 * np.stack([np.sort(sims[:, labels == lab], axis=1)[:, ::-1][:, :K].mean(axis=1) for lab in LABELS], 1)


def _fit(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: mean cross-entropy + l2/2 |W|^2, minimised by L-BFGS (convex: the optimum)."""
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    n, d = x.shape
    k = len(LABELS)
    onehot = np.eye(k)[y]

    def loss(theta):
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        value = -(onehot * logp).sum() / n + 0.5 * l2 * (w * w).sum()
        grad_w = x.T @ (p - onehot) / n + l2 * w
        return value, np.concatenate([grad_w.ravel(), (p - onehot).mean(axis=0)])

    # one BLAS thread: the products are tiny, and threads spinning on a busy machine made the fit 10x slower
    with threadpool_limits(limits=1, user_api="blas"):
        theta = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                         options={"maxiter": MAX_ITERATIONS, "gtol": 1e-6}).x
    return theta[: d * k].reshape(d, k), theta[d * k:]


class ReactionScorer:
    """The reply model, fitted on the labelled training pairs when it loads (well under a second)."""

    def __init__(self, embedder: Embedder, examples: Sequence[tuple[str, str, str]] | None = None,
                 cache: ExampleCache = NO_CACHE):
        """`cache`: where the training replies' vectors and the fitted weights are kept between runs."""
        examples = list(examples) if examples is not None else training_set()
        self.embedder = embedder
        self.texts = [t for _, t, _ in examples]
        self.labels = np.array([label for _, _, label in examples])
        fitted = cache.get("reactions", [examples, C, EMBED_SCALE, K, MAX_ITERATIONS], lambda: self._fitted(examples))
        self.vectors, self.weights, self.bias = fitted["vectors"], fitted["weights"], fitted["bias"]

    def _fitted(self, examples: list[tuple[str, str, str]]) -> dict[str, np.ndarray]:
        """The training replies' vectors and the regression fitted on them."""
        self.vectors = self.embedder.embed(self.texts)
        own = self.vectors @ self.vectors.T
        np.fill_diagonal(own, -np.inf)  # a training reply's neighbours are the others
        x = self._features(self.vectors, [p for p, _, _ in examples], self.texts, own)
        weights, bias = _fit(x, np.array([LABELS.index(label) for label in self.labels]), 1.0 / (C * len(x)))
        return {"vectors": self.vectors, "weights": weights, "bias": bias}

    def _features(self, vectors: np.ndarray, pitches: Sequence[str | None], texts: Sequence[str],
                  sims: np.ndarray) -> np.ndarray:
        context = np.zeros(len(texts))
        known = [i for i, p in enumerate(pitches) if p]
        if known:
            pv = embed_unique(self.embedder, [pitches[i] for i in known])
            context[known] = np.sum(vectors[known] * pv, axis=1)
        return np.hstack([EMBED_SCALE * vectors, _handmade(texts, context), _nearest(sims, self.labels)])

    def _probabilities(self, texts: Sequence[str], pitches: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Each reply's probabilities of LABELS, and its similarities to the training replies (a row each)."""
        vectors = embed_unique(self.embedder, texts)
        sims = vectors @ self.vectors.T
        z = self._features(vectors, pitches, texts, sims) @ self.weights + self.bias
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True), sims

    def score(self, texts: Sequence[str], pitches: Sequence[str | None] | None = None,
              also: Sequence[str | None] | None = None) -> list[Score]:
        """Each reply's score; `pitches[i]` is the pitch reply i answers (None or "": not known).

        `also[i]`: another hearing of reply i (for a reply heard again, rehear.py: the transcript's words), or None;
        its probabilities count with weight 1 - HEARD_WEIGHT, the text's with HEARD_WEIGHT.
        """
        if not texts:
            return []
        pitches = list(pitches) if pitches is not None else [None] * len(texts)
        p, sims = self._probabilities(texts, pitches)
        twice = [i for i, t in enumerate(also or ()) if t]
        if twice:
            q, _ = self._probabilities([also[i] for i in twice], [pitches[i] for i in twice])
            p[twice] = HEARD_WEIGHT * p[twice] + (1 - HEARD_WEIGHT) * q
        out = []
        for i, (text, row, probs) in enumerate(zip(texts, sims, p)):
            _, _, evidence = cues(text)
            question, doubt, ack, _ = form(text)
            shape = ("question",) if question else ("doubting question",) if doubt else ("acknowledgement",) if ack else ()
            # the first of the training replies as near as the nearest: "okay." and "Okay." embed alike, and which
            # of two equal similarities is larger by float noise depends on the rows embedded beside it
            nearest = int(np.flatnonzero(row >= row.max() - 1e-5)[0])
            example = f"like “{self.texts[nearest]}” ({self.labels[nearest]}, {row[nearest]:.2f})"
            heard = (f"also heard as “{also[i]}”",) if also and also[i] else ()
            out.append(Score(round(float(probs[0] - probs[2]), 4), LABELS[int(np.argmax(probs))],
                             (*evidence, *shape, example, *heard)))
        return out
