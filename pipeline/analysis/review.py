"""Reviewing wording clusters: one answer per wording confirms or moves its descriptor.

`items` reads what a founder needs to decide (example lines, calls, the
descriptor it has now and how sure that is); `review` asks about each, reading
answers from `answers` (a terminal, or lines piped in: an empty line accepts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import duckdb

from pipeline.analysis.descriptors import OTHER, assign_cluster
from pipeline.core.errors import PitchlabError


@dataclass(frozen=True)
class Item:
    cluster_id: int
    phrases: int
    calls: int
    examples: tuple[str, ...]
    descriptor: str  # what it has now (`other` when none)
    method: str  # confirmed / example (declared by its examples) / suggested / other
    confidence: float | None  # mean cosine of its phrases to the descriptor's examples
    best_declared: str | None  # the declared descriptor its phrases resemble most, however little
    best_similarity: float | None


def items(con: duckdb.DuckDBPyConnection, *, include_confirmed: bool = False, examples: int = 3) -> list[Item]:
    """Wording clusters, most calls first (confirmed ones only with `include_confirmed`)."""
    rows = con.execute(
        """
        WITH sims AS (
            SELECT p.cluster_id, s.descriptor_id, avg(s.similarity) AS mean_sim
            FROM phrase_similarities s JOIN pitch_phrases p USING (phrase_id)
            WHERE p.cluster_id <> 0 GROUP BY p.cluster_id, s.descriptor_id
        ),
        best AS (SELECT cluster_id, arg_max(descriptor_id, mean_sim) AS descriptor_id, max(mean_sim) AS sim
                 FROM sims GROUP BY cluster_id)
        SELECT c.cluster_id, c.size, (SELECT count(DISTINCT call_id) FROM pitch_phrases p
                                      WHERE p.cluster_id = c.cluster_id) AS calls,
               coalesce(d.name, ?) AS descriptor,
               CASE WHEN c.descriptor_confirmed THEN 'confirmed' WHEN d.source = 'suggested' THEN 'suggested'
                    WHEN d.name IS NULL THEN 'other' ELSE 'example' END AS method,
               c.descriptor_confidence, bd.name, b.sim
        FROM clusters c
        LEFT JOIN descriptors d ON d.descriptor_id = c.descriptor_id
        LEFT JOIN best b ON b.cluster_id = c.cluster_id
        LEFT JOIN descriptors bd ON bd.descriptor_id = b.descriptor_id
        WHERE c.cluster_id <> 0 AND c.size > 0 AND (? OR NOT coalesce(c.descriptor_confirmed, false))
        ORDER BY calls DESC, c.cluster_id
        """,
        [OTHER, include_confirmed],
    ).fetchall()
    out = []
    for cid, size, calls, name, method, confidence, best, best_sim in rows:
        lines = [r[0] for r in con.execute(
            """
            SELECT text FROM pitch_phrases p JOIN clusters c USING (cluster_id) WHERE p.cluster_id = ?
            GROUP BY text ORDER BY max(array_cosine_similarity(p.embedding, c.centroid)) DESC, text LIMIT ?
            """, [cid, examples]).fetchall()]
        out.append(Item(cid, size, calls, tuple(lines), name, method, confidence, best, best_sim))
    return out


def describe(item: Item) -> str:
    """The lines shown for one wording."""
    if item.method == "confirmed":
        now = f"{item.descriptor} (confirmed by you)"
    elif item.method == "example":
        now = f"{item.descriptor} (declared; its phrases resemble its examples at {item.confidence:.2f} on average)"
    elif item.method == "suggested":
        hint = ("" if item.best_declared is None else
                f"; nearest declared: {item.best_declared} at {item.best_similarity:.2f}, too far to count")
        now = f"{item.descriptor} (suggested theme: no declared descriptor fits{hint})"
    else:
        now = f"{OTHER} (fits no descriptor)"
    head = (f"wording {item.cluster_id}: {item.phrases} phrase{'s' if item.phrases != 1 else ''} in "
            f"{item.calls} call{'s' if item.calls != 1 else ''} · now: {now}")
    return "\n".join([head, *(f"    “{line}”" for line in item.examples)])


PROMPT = "  answer (Enter = keep {now}; a descriptor name; `other`; s = skip; q = stop): "


def review(con: duckdb.DuckDBPyConnection, answers: Iterator[str], say: Callable[[str], None], *,
           prompt: bool, include_confirmed: bool = False) -> tuple[int, int]:
    """Ask about each wording; returns (wordings assigned, wordings shown)."""
    todo = items(con, include_confirmed=include_confirmed)
    if not todo:
        say("no wording clusters to review: analyze some calls first")
        return 0, 0
    assigned = shown = 0
    for item in todo:
        say(describe(item))
        shown += 1
        while True:
            if prompt:
                say(PROMPT.format(now=item.descriptor))
            answer = next(answers, None)
            if answer is None:
                left = len(todo) - shown + 1
                say(f"no more answers: {left} wording{'s' if left != 1 else ''} left as they are")
                return assigned, shown
            answer = answer.strip()
            if answer.lower() == "q":
                return assigned, shown
            if answer.lower() == "s":
                break
            try:
                message = assign_cluster(con, item.cluster_id, answer or item.descriptor)
            except PitchlabError as exc:
                say(f"  {exc}")
                if prompt:
                    continue
                break
            say(f"  {message}")
            assigned += 1
            break
    return assigned, shown
