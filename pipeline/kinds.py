"""What each rep phrase is: a pitch (a claim about the product or its value) or other speech.

Kinds: `pitch`, `greeting` (greetings, thanks, small talk, goodbyes),
`discovery` (questions about the prospect's situation) and `close` (next
steps, scheduling). Only pitches are clustered and scored.

Method, explainable: each phrase's embedding is compared with short lists of
example phrases per kind (PROTOTYPES below, generic wording, not taken from
the demo); a kind's score is the mean similarity of its three nearest
examples; the best score wins. A question is not a pitch unless it is
clearly closer to the pitch examples (QUESTION_MARGIN), and an open question
("What ...?", "How ...?") never is: it asks about the prospect, it claims
nothing about the product. The evidence stored is the nearest example and its
similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .embed import Embedder

PITCH, GREETING, DISCOVERY, CLOSE = "pitch", "greeting", "discovery", "close"
TOP = 3
QUESTION_MARGIN = 0.08
OPEN_QUESTION_WORDS = frozenset({"what", "what's", "how", "how's", "who", "who's", "which", "where", "when", "why"})

PROTOTYPES: dict[str, tuple[str, ...]] = {
    PITCH: (
        "Our platform shows you exactly which accounts are engaging.",
        "It integrates with your CRM out of the box.",
        "You can automate every follow-up in one click.",
        "We cut onboarding time in half.",
        "The tool flags risky deals before they slip.",
        "Everything is encrypted end to end.",
        "Our pricing beats anything else you will find.",
        "Our AI writes the first draft for you.",
        "You get a real-time alert when a customer opens the proposal.",
        "Teams save about five hours a week with it.",
        "It works on any device, no install needed.",
        "You get a dashboard of every rep's activity.",
        "Setup takes less than ten minutes.",
        "It syncs your calendar and your inbox automatically.",
        "Customers see a thirty percent lift in replies.",
        "Every client receives a custom report.",
        "It costs a fraction of what the big vendors charge.",
        "Your managers can coach reps with recorded examples.",
    ),
    GREETING: (
        "Hi, this is Alex from Acme.",
        "Thanks for taking the time today.",
        "How's your week going?",
        "Good morning!",
        "Nice to meet you.",
        "Enjoy the rest of your day.",
        "Thanks so much, talk soon.",
        "Sorry I'm a couple of minutes late.",
        "Can you hear me okay?",
        "It's been a busy week here too.",
        "Great to finally connect with you.",
        "Bye for now.",
    ),
    DISCOVERY: (
        "What tools are you using today?",
        "How big is the department?",
        "What's the biggest challenge with your current process?",
        "How do you handle follow-ups right now?",
        "Who else is involved in the decision?",
        "Tell me a bit about your role.",
        "What made you take this call?",
        "How are you tracking that today?",
        "What does a typical week look like for your reps?",
    ),
    CLOSE: (
        "Could we get a walkthrough on the calendar?",
        "I'll send over a calendar invite.",
        "Does Thursday at two work for you?",
        "I'll follow up by email with the details.",
        "Let's book thirty minutes with your manager.",
        "Would you like to start a free trial?",
        "I'll send you the pricing sheet after the call.",
        "Should we schedule a follow-up call?",
        "Great, I'll put it on the calendar.",
        "Understood, I'll check back next quarter.",
    ),
}


@dataclass(frozen=True)
class Kind:
    kind: str
    evidence: str  # the nearest example phrase and its similarity


class KindClassifier:
    """Nearest-example classification of rep phrases; prototypes embedded once."""

    def __init__(self, embedder: Embedder):
        self.labels: list[str] = []
        texts: list[str] = []
        for kind, examples in PROTOTYPES.items():
            self.labels += [kind] * len(examples)
            texts += list(examples)
        self.texts = texts
        self.vectors = embedder.embed(texts)

    def classify(self, texts: Sequence[str], vectors: np.ndarray) -> list[Kind]:
        if len(texts) == 0:
            return []
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        labels = np.array(self.labels)
        columns = [np.flatnonzero(labels == kind) for kind in PROTOTYPES]
        # (phrases, kinds): mean similarity of each kind's TOP nearest examples
        scores = np.stack([np.ascontiguousarray(np.sort(sims[:, cols], axis=1)[:, ::-1][:, :TOP]).mean(axis=1)
                           for cols in columns], axis=1).astype(np.float64)
        pitch = list(PROTOTYPES).index(PITCH)
        questions = np.array([text.rstrip().endswith("?") for text in texts])
        scores[questions, pitch] -= QUESTION_MARGIN
        open_questions = np.array([q and _first_word(t) in OPEN_QUESTION_WORDS for q, t in zip(questions, texts)])
        scores[open_questions, pitch] = -np.inf
        best = scores.argmax(axis=1)  # ties go to the first kind, as max() over the dict did
        out = []
        for row, k in zip(sims, best):
            idx = columns[k][int(np.argmax(row[columns[k]]))]
            out.append(Kind(list(PROTOTYPES)[k], f"like “{self.texts[idx]}” ({row[idx]:.2f})"))
        return out


def _first_word(text: str) -> str:
    words = text.split()
    return words[0].lower().strip("\"'“‘(,") if words else ""
