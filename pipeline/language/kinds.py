"""What each rep phrase is: a pitch (a claim about the product or its value) or other speech.

Kinds: `pitch`, `greeting` (greetings, thanks, small talk, goodbyes),
`discovery` (questions about the prospect's situation) and `close` (next
steps, scheduling). Only pitches are clustered and scored.

Method, explainable: each phrase's embedding is compared with lists of
example phrases per kind (PROTOTYPES below: generic wording from many kinds
of product, none taken from the demo or the evaluation corpora); a kind's
score is the mean similarity of its three nearest examples; the best score
wins. `greeting` also holds the speech that claims nothing (transitions,
check-ins such as "Let me share my screen."); `close` is next steps only
(scheduling, sending things), never a product feature ("a book now button").
A question is not a pitch unless it is clearly closer to the pitch examples
(QUESTION_MARGIN), and an open question ("What ...?", "How ...?") never is:
it asks about the prospect, it claims nothing about the product. A question
starts with an auxiliary verb or a wh-word (after a lead-in such as "So," or an adverb such as "Roughly"):
a statement that speech recognition ended with "?" stays a statement. With
declared descriptors (`analyze --descriptors FILE`), their example lines are
pitch examples too: a phrase close to a declared benefit is a pitch. The
evidence stored is the nearest example and its similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.language.embed import Embedder
from pipeline.language.example_cache import NO_CACHE, ExampleCache

PITCH, GREETING, DISCOVERY, CLOSE = "pitch", "greeting", "discovery", "close"
TOP = 3
QUESTION_MARGIN = 0.08
OPEN_QUESTION_WORDS = frozenset({"what", "what's", "how", "how's", "who", "who's", "whose", "whom", "which", "where",
                                 "when", "why"})
# A question starts with an auxiliary verb or a wh-word; speech recognition ends some statements with "?"
# ("You see exactly who watched your video?"), and those stay statements.
AUXILIARIES = frozenset(
    "am is are was were do does did have has had can could will would shall should may might must "
    "isn't aren't wasn't weren't don't doesn't didn't haven't hasn't hadn't can't couldn't won't wouldn't "
    "shouldn't mightn't mustn't".split())
PRONOUNS = frozenset({"i", "you", "we", "they", "he", "she", "it", "your", "our", "their"})
LEAD_INS = frozenset({"so", "and", "but", "okay", "ok", "well", "now", "then", "also", "just", "oh", "right"})

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
        "There's a share button right inside every document.",
        "Your customers can pay straight from the invoice with one tap.",
        "The mobile app lets your drivers sign for deliveries on the spot.",
        "Warehouse staff scan a barcode and the stock count updates itself.",
        "Nobody has to copy numbers between spreadsheets anymore.",
        "The software files the paperwork for you, so you never miss a deadline.",
        "We keep you compliant with the latest regulations in every region.",
        "It pulls data from the tools you already use, no exports needed.",
        "Tenants submit maintenance requests from their phone.",
        "A weekly summary lands in your inbox every Monday.",
        "You pay one flat monthly fee, no matter how many users you add.",
        "There are no setup fees and no long contract.",
        "The model predicts which customers are about to cancel.",
        "Just ask the chatbot a question in plain words and it answers from your data.",
        "Managers approve expenses from their phone in seconds.",
        "The whole report builds itself overnight.",
        "What used to take a full afternoon now happens in the background.",
        "Most clients are up and running the same day.",
        "Your team learns it in under an hour, no training course needed.",
        "Shoppers can reorder their favourite items in two taps.",
        "The system catches billing errors before they go out.",
        "Restaurants using it cut food waste by a fifth.",
        "You see at a glance which stores are behind on their targets.",
        "Drivers get the fastest route automatically.",
        "Your data is backed up every hour in two locations.",
        "Students can submit homework and get feedback in the same app.",
        "It checks every contract against your policy and highlights the risky clauses.",
        "Guests check in with a QR code, no front desk queue.",
        "You can track every shipment live on a map.",
        "The plugin works with Shopify, WooCommerce and Magento.",
        "Support tickets get routed to the right person automatically.",
        "You never have to chase anyone for a signature again.",
        "It's about half the price of the enterprise tools.",
        "Every change is logged, so audits take minutes instead of weeks.",
        "Leads from your website show up in the pipeline instantly.",
        "Your accountant gets read-only access with one link.",
        "Our customers usually get their money back within three months.",
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
        "Let me pull that up on my screen.",
        "Bear with me one second.",
        "Okay, let me show you something.",
        "That's a great question, people ask it all the time.",
        "Does that make sense?",
        "Any questions so far?",
        "Let me walk you through it.",
        "Here's the part I wanted to get to.",
        "I hear you, that's fair.",
        "Right, got it.",
        "Sure, happy to explain.",
        "Give me a moment to find it.",
        "Let me jump to the next slide.",
        "That's really helpful to know.",
        "Makes sense.",
        "So, moving on.",
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
        "How many locations do you have?",
        "Walk me through how that works for you now.",
        "Are you happy with your current vendor?",
        "Do you have a budget set aside for this?",
        "What happens when someone on the team is out sick?",
        "Roughly how many people work there?",
        "I'd love to hear how your team handles that today.",
        "When does your current contract end?",
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
        "What's the best email to send the proposal to?",
        "Can I set up a demo with your team next week?",
        "I'll get the contract over to you today.",
        "Let's pick this up again after your board meeting.",
        "How about I set you up with a pilot account?",
        "I'll send a short recap and the next steps.",
        "Would Monday or Tuesday be better for the next call?",
        "Who should I loop in on the follow-up email?",
    ),
}


@dataclass(frozen=True)
class Kind:
    kind: str
    evidence: str  # the nearest example phrase and its similarity


class KindClassifier:
    """Nearest-example classification of rep phrases; prototypes embedded once."""

    def __init__(self, embedder: Embedder, pitch_examples: Sequence[str] = (), cache: ExampleCache = NO_CACHE):
        """`pitch_examples`: more pitch examples, such as the declared descriptors' example lines;
        `cache`: where the examples' vectors are kept between runs (`example_cache`)."""
        self.labels: list[str] = []
        texts: list[str] = []
        for kind, examples in PROTOTYPES.items():
            more = [e for e in pitch_examples if e not in examples] if kind == PITCH else []
            self.labels += [kind] * (len(examples) + len(more))
            texts += list(examples) + more
        self.texts = texts
        self.embedder = embedder
        self.vectors = cache.get("kinds", texts, lambda: {"vectors": embedder.embed(texts)})["vectors"]

    def classify(self, texts: Sequence[str], vectors: np.ndarray) -> list[Kind]:
        if len(texts) == 0:
            return []
        vectors = self._as_statements(texts, vectors)
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        labels = np.array(self.labels)
        columns = [np.flatnonzero(labels == kind) for kind in PROTOTYPES]
        # (phrases, kinds): mean similarity of each kind's TOP nearest examples
        scores = np.stack([np.ascontiguousarray(np.sort(sims[:, cols], axis=1)[:, ::-1][:, :TOP]).mean(axis=1)
                           for cols in columns], axis=1).astype(np.float64)
        pitch = list(PROTOTYPES).index(PITCH)
        questions = np.array([_is_question(text) for text in texts])
        scores[questions, pitch] -= QUESTION_MARGIN
        open_questions = np.array([q and _question_word(t) in OPEN_QUESTION_WORDS for q, t in zip(questions, texts)])
        scores[open_questions, pitch] = -np.inf
        best = scores.argmax(axis=1)  # ties go to the first kind, as max() over the dict did
        out = []
        for row, k in zip(sims, best):
            idx = columns[k][int(np.argmax(row[columns[k]]))]
            out.append(Kind(list(PROTOTYPES)[k], f"like “{self.texts[idx]}” ({row[idx]:.2f})"))
        return out


    def _as_statements(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """A statement that speech recognition ended with "?" (rising intonation: "You see exactly who
        watched your video and for how long?") is compared with the examples as the statement it is: its
        vector is that of the text ending in "." (the "?" alone pulls it towards the discovery questions)."""
        rising = [i for i, t in enumerate(texts) if t.rstrip().endswith("?") and not _is_question(t)]
        if not rising:
            return vectors
        out = np.array(vectors, dtype=np.float32, copy=True)
        out[rising] = self.embedder.embed([texts[i].rstrip()[:-1] + "." for i in rising])
        return out


def _is_question(text: str) -> bool:
    """Ends with "?" and starts like a question: an auxiliary verb ("Does ...", "Can ...") or a wh-word; or, with
    no "?" (speech recognition drops it, or cuts the question short: "Roughly how many invoices do you send in a"),
    a wh-word whose next four words hold an auxiliary verb before a pronoun ("how many invoices do you")."""
    words = _words(text)
    at = _question_start(words)
    first = words[at] if at < len(words) else ""
    if text.rstrip().endswith("?"):
        return first in AUXILIARIES or first in OPEN_QUESTION_WORDS
    if first not in OPEN_QUESTION_WORDS:
        return False  # "What you get is a forecast ..." and "How it works is simple" stay statements
    after = [w.strip(".!") for w in words[at + 1:at + 5]]
    return any(a in AUXILIARIES and b in PRONOUNS for a, b in zip(after, after[1:]))


def _question_word(text: str) -> str:
    """The first word after lead-ins such as "So," or "And" and adverbs in -ly ("Roughly how many ...?",
    "Honestly, is that a problem?"), lower case; a last word is never skipped."""
    words = _words(text)
    at = _question_start(words)
    return words[at] if at < len(words) else ""


def _words(text: str) -> list[str]:
    return [w.lower().strip("\"'“‘(,") for w in text.split()]


def _question_start(words: list[str]) -> int:
    """Where a question would start: the index of the first word that is neither a lead-in nor an adverb in -ly
    with words after it (len(words) if there is none)."""
    return next((i for i, w in enumerate(words) if w not in LEAD_INS and not (w.endswith("ly") and i + 1 < len(words))),
                len(words))
