"""Descriptors: the benefits under test, and which one each pitch phrase speaks for.

A founder declares descriptors (a name and one or more example lines: a CSV
`descriptor,example`, or `pitchlab descriptors add`); wording clusters that fit
none get suggested ones (`themes`). Every pitch phrase then gets a descriptor
or none (`other`), decided in SQL from stored embeddings, in one transaction:

- a phrase's similarity to a descriptor is its highest cosine to that
  descriptor's example lines, each embedded under the descriptor's name
  ("fewer no-shows: Reminders cut your no-shows.");
- a wording cluster (near-identical phrasings) whose phrases resemble some
  declared descriptor at a mean of at least EXAMPLE_SIMILARITY takes a declared
  descriptor by balanced transport over all such wordings (`transport`: its
  mean similarities, with the prior that declared benefits are pitched about
  equally often, so one "hub" descriptor cannot take every paraphrase); else
  its suggested descriptor, if any; a confirmed cluster keeps the descriptor
  you gave it (and counts against that descriptor's share);
- a clustered phrase takes its wording's descriptor (so one garbled phrase is
  corrected by the wording it belongs to); an unclustered phrase takes its own
  nearest descriptor when at least EXAMPLE_SIMILARITY, else none.

`pitch_phrases.descriptor_method` says which rule decided: `example` (its own
nearest example agrees), `wording` (its wording cluster decided),
`confirmed` (you assigned its wording), `suggested` (a suggested descriptor)
or `other` (none fits).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np

from pipeline.analysis.transport import balanced_assignment
from pipeline.core.errors import PitchlabError
from pipeline.language.embed import Embedder
from pipeline.storage.db import transaction

log = logging.getLogger(__name__)

EXAMPLE_SIMILARITY = 0.2  # cosine to a descriptor's nearest example (a wording's mean) to count as that descriptor
OTHER = "other"  # the name of "no descriptor"; not a name you can declare


@dataclass(frozen=True)
class Declared:
    name: str
    examples: tuple[str, ...]


def parse_csv(text: str, *, source: str = "descriptors.csv") -> tuple[Declared, ...]:
    """Descriptors from `descriptor,example` rows (several rows per descriptor, `#` comments, blank lines).

    Raises PitchlabError naming the line of the first bad row: a missing column, an empty name or
    example, `other`, or a name that differs only in case from an earlier one.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise PitchlabError(f"{source}: no rows: write a header `descriptor,example`, then one example a row")
    header_no, header = lines[0]
    columns = [c.strip().lower() for c in next(csv.reader([header]))]
    for needed in ("descriptor", "example"):
        if needed not in columns:
            raise PitchlabError(f"{source} line {header_no}: no `{needed}` column: the header must be "
                                "`descriptor,example`")
    at_name, at_example = columns.index("descriptor"), columns.index("example")
    examples: dict[str, list[str]] = {}
    spelled: dict[str, tuple[str, int]] = {}
    for n, row in zip((n for n, _ in lines[1:]), csv.reader(io.StringIO("\n".join(line for _, line in lines[1:])))):
        name = row[at_name].strip() if len(row) > at_name else ""
        example = row[at_example].strip() if len(row) > at_example else ""
        if not name:
            raise PitchlabError(f"{source} line {n}: empty descriptor name")
        if not example:
            raise PitchlabError(f"{source} line {n}: empty example for {name!r}: give the line a rep would say")
        _check_name(name, f"{source} line {n}")
        first = spelled.setdefault(name.lower(), (name, n))
        if first[0] != name:
            raise PitchlabError(f"{source} line {n}: {name!r} differs only in case from {first[0]!r} "
                                f"(line {first[1]}): spell a descriptor the same way on every row")
        examples.setdefault(name, [])
        if example not in examples[name]:
            examples[name].append(example)
    return tuple(Declared(name, tuple(ex)) for name, ex in examples.items())


def read_csv(path: Path) -> tuple[Declared, ...]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PitchlabError(f"descriptors file {path} not found: write `descriptor,example` rows there") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PitchlabError(f"cannot read descriptors file {path} ({exc})") from None
    return parse_csv(text, source=str(path))


def _check_name(name: str, where: str) -> None:
    if name.lower() == OTHER:
        raise PitchlabError(f"{where}: `{OTHER}` is reserved for pitches that fit no descriptor: choose another name")


def declared(con: duckdb.DuckDBPyConnection) -> tuple[Declared, ...]:
    """The declared descriptors, by name."""
    rows = con.execute("SELECT name, examples FROM descriptors WHERE source = 'declared' ORDER BY name").fetchall()
    return tuple(Declared(name, tuple(ex)) for name, ex in rows)


def declare(con: duckdb.DuckDBPyConnection, wanted: Sequence[Declared], embedder: Embedder, *,
            replace_all: bool = False) -> bool:
    """Store descriptors (a name already declared gets the new examples), then re-assign every stored pitch phrase.

    With `replace_all` the declared descriptors become exactly `wanted` (a CSV given to analyze,
    watch or recluster). Returns False, touching nothing, when nothing changes.
    """
    current = {d.name: d for d in declared(con)}
    lower = {name.lower(): name for name in current}
    for d in wanted:
        _check_name(d.name, "descriptor")
        if not d.examples or not all(e.strip() for e in d.examples):
            raise PitchlabError(f"descriptor {d.name!r}: give at least one non-empty example line")
        if lower.get(d.name.lower(), d.name) != d.name and not replace_all:
            raise PitchlabError(f"descriptor {d.name!r} differs only in case from {lower[d.name.lower()]!r}: "
                                "use the same spelling (or remove the other first)")
    target = {d.name: d for d in wanted} if replace_all else {**current, **{d.name: d for d in wanted}}
    if replace_all:  # a descriptor you confirmed wordings into stays until you remove it
        for name in _confirmed_names(con):
            if name in current and name not in target:
                target[name] = current[name]
    if target == current:
        return False
    changed = [d for name, d in target.items() if current.get(name) != d]
    texts = [example_text(d.name, e) for d in changed for e in d.examples]
    vectors = iter(embedder.embed(texts)) if texts else iter(())
    ids = dict(con.execute("SELECT name, descriptor_id FROM descriptors WHERE source = 'declared'").fetchall())
    with transaction(con):
        for name in current:
            if name not in target:
                _delete(con, ids[name], keep_confirmed=False)
            elif current[name] != target[name]:
                _delete(con, ids[name], keep_confirmed=True)
        top = con.execute("SELECT coalesce(max(descriptor_id), 0) FROM descriptors").fetchone()[0]
        top = max(top, con.execute("SELECT coalesce(max(descriptor_id), 0) FROM clusters").fetchone()[0])
        for d in changed:
            if d.name in ids:
                did = ids[d.name]
            else:
                top += 1
                did = top
            con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) VALUES (?, ?, 'declared', ?)",
                        [did, d.name, list(d.examples)])
            for example in d.examples:
                con.execute("INSERT INTO descriptor_examples VALUES (?, ?, ?)", [did, example, next(vectors).tolist()])
        reassign(con, in_transaction=True)
    return True


def example_text(name: str, example: str) -> str:
    """What is embedded for an example line: the line said under its descriptor's name, so "Reminders cut
    your no-shows." also carries "fewer no-shows" (the stored `example` stays the line as written)."""
    return f"{name}: {example}"


def _confirmed_names(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT d.name FROM clusters c JOIN descriptors d USING (descriptor_id) WHERE c.descriptor_confirmed"
    ).fetchall()]


def _delete(con, did: int, *, keep_confirmed: bool) -> None:
    """Forget a declared descriptor's row and examples; unless `keep_confirmed` (it is re-declared with
    new examples, under the same id), wordings confirmed into it are no longer confirmed."""
    con.execute("DELETE FROM descriptor_examples WHERE descriptor_id = ?", [did])
    con.execute("DELETE FROM phrase_similarities WHERE descriptor_id = ?", [did])
    con.execute("DELETE FROM descriptors WHERE descriptor_id = ?", [did])
    if not keep_confirmed:
        con.execute("UPDATE clusters SET descriptor_confirmed = false, descriptor_id = NULL "
                    "WHERE descriptor_id = ?", [did])


def remove(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Forget a declared descriptor (any spelling case), then re-assign every stored pitch phrase."""
    row = con.execute("SELECT descriptor_id FROM descriptors WHERE source = 'declared' AND lower(name) = lower(?)",
                      [name]).fetchone()
    if row is None:
        known = ", ".join(d.name for d in declared(con)) or "none declared"
        raise PitchlabError(f"no declared descriptor {name!r} (declared: {known})")
    with transaction(con):
        _delete(con, row[0], keep_confirmed=False)
        reassign(con, in_transaction=True)


def sync_file(con: duckdb.DuckDBPyConnection, path: Path, embedder: Embedder) -> str:
    """Make the declared descriptors exactly those of the CSV at `path`; re-assign phrases when they changed."""
    wanted = read_csv(path)
    if declare(con, wanted, embedder, replace_all=True):
        return f"{len(wanted)} declared descriptors from {path}; every pitch phrase re-assigned"
    return f"{len(wanted)} declared descriptors from {path} (unchanged)"


def reassign(con: duckdb.DuckDBPyConnection, *, in_transaction: bool = False) -> None:
    """Decide every pitch phrase's descriptor from the stored embeddings, in SQL (see the module's docstring)."""
    if in_transaction:
        _reassign(con)
        return
    with transaction(con):
        _reassign(con)


def _reassign(con: duckdb.DuckDBPyConnection) -> None:
    t = EXAMPLE_SIMILARITY
    # Similarities are kept (`phrase_similarities`, complete per phrase and per descriptor); only what is missing
    # is computed: first phrases with none against the descriptors that have some, then descriptors with none
    # (new or edited) against every phrase. Plain cross joins: an anti-join carrying the embeddings is slower.
    con.execute("DELETE FROM phrase_similarities WHERE descriptor_id NOT IN (SELECT descriptor_id FROM descriptor_examples)")
    known = [r[0] for r in con.execute("SELECT DISTINCT descriptor_id FROM phrase_similarities ORDER BY 1").fetchall()]
    wanted = [r[0] for r in con.execute("SELECT DISTINCT descriptor_id FROM descriptor_examples ORDER BY 1").fetchall()]
    fresh = [d for d in wanted if d not in known]
    steps = []
    unseen = f"p.phrase_id NOT IN (SELECT phrase_id FROM phrase_similarities WHERE descriptor_id = {known[0]})" \
        if known else ""
    if known and con.execute(f"SELECT count(*) FROM pitch_phrases p WHERE p.kind = 'pitch' AND {unseen}").fetchone()[0]:
        steps.append((unseen, known))
    if fresh:
        steps.append(("true", fresh))
    for phrases, ids in steps:
        con.execute(
            f"""
            INSERT INTO phrase_similarities
            SELECT p.phrase_id, e.descriptor_id, max(array_cosine_similarity(p.embedding, e.embedding))
            FROM pitch_phrases p CROSS JOIN (SELECT * FROM descriptor_examples WHERE list_contains(?, descriptor_id)) e
            WHERE p.kind = 'pitch' AND {phrases}
            GROUP BY p.phrase_id, e.descriptor_id
            """, [ids]
        )
    con.execute("UPDATE clusters SET descriptor_id = suggested_id, descriptor_confidence = NULL "
                "WHERE NOT coalesce(descriptor_confirmed, false) AND cluster_id <> 0")
    _assign_wordings(con, t)
    con.execute(
        f"""
        UPDATE pitch_phrases SET descriptor_id = x.descriptor_id, descriptor_similarity = x.similarity,
                                 descriptor_method = x.method
        FROM (
            WITH own AS (
                SELECT phrase_id, arg_max(descriptor_id, similarity) AS own_id, max(similarity) AS own_sim
                FROM phrase_similarities GROUP BY phrase_id
            ),
            decided AS (
                SELECT p.phrase_id, o.own_id, o.own_sim,
                       CASE WHEN coalesce(p.cluster_id, 0) <> 0 THEN c.descriptor_id
                            WHEN o.own_sim >= {t} THEN o.own_id END AS descriptor_id,
                       CASE WHEN coalesce(p.cluster_id, 0) = 0 THEN
                                CASE WHEN o.own_sim >= {t} THEN 'example' ELSE 'other' END
                            WHEN c.descriptor_confirmed THEN 'confirmed'
                            WHEN c.descriptor_id IS NULL THEN 'other'
                            WHEN d.source = 'suggested' THEN 'suggested'
                            WHEN o.own_id = c.descriptor_id AND o.own_sim >= {t} THEN 'example'
                            ELSE 'wording' END AS method
                FROM pitch_phrases p
                LEFT JOIN own o USING (phrase_id)
                LEFT JOIN clusters c ON c.cluster_id = p.cluster_id
                LEFT JOIN descriptors d ON d.descriptor_id = c.descriptor_id
                WHERE p.kind = 'pitch'
            )
            SELECT x.phrase_id, x.descriptor_id, x.method,
                   CASE WHEN x.descriptor_id IS NULL THEN x.own_sim ELSE s.similarity END AS similarity
            FROM decided x
            LEFT JOIN phrase_similarities s ON s.phrase_id = x.phrase_id AND s.descriptor_id = x.descriptor_id
        ) x
        WHERE pitch_phrases.phrase_id = x.phrase_id  -- only the rows that change: a change moves few phrases
          AND (pitch_phrases.descriptor_id IS DISTINCT FROM x.descriptor_id
               OR pitch_phrases.descriptor_method IS DISTINCT FROM x.method
               OR pitch_phrases.descriptor_similarity IS DISTINCT FROM x.similarity)
        """
    )


def _assign_wordings(con: duckdb.DuckDBPyConnection, t: float) -> None:
    """Each unconfirmed wording cluster whose phrases' mean similarity to some declared descriptor is at
    least `t` takes a declared descriptor by balanced transport (`transport`), confirmed wordings counting
    against their descriptor's share; the others keep their suggested descriptor (set just before)."""
    rows = con.execute(
        """
        SELECT p.cluster_id, s.descriptor_id, avg(s.similarity) AS mean_sim, count(*) AS phrases
        FROM phrase_similarities s JOIN pitch_phrases p USING (phrase_id)
        WHERE p.cluster_id <> 0 GROUP BY p.cluster_id, s.descriptor_id ORDER BY 1, 2
        """
    ).fetchall()
    if not rows:
        return
    clusters = sorted({r[0] for r in rows})
    columns = sorted({r[1] for r in rows})
    at_c = {c: i for i, c in enumerate(clusters)}
    at_d = {d: j for j, d in enumerate(columns)}
    sim = np.full((len(clusters), len(columns)), -1.0)
    mass = np.zeros(len(clusters))
    for cid, did, mean_sim, n in rows:
        sim[at_c[cid], at_d[did]] = mean_sim
        mass[at_c[cid]] = n
    confirmed = dict(con.execute(
        "SELECT cluster_id, descriptor_id FROM clusters WHERE coalesce(descriptor_confirmed, false)").fetchall())
    free = np.array([c not in confirmed for c in clusters]) & (sim.max(axis=1) >= t)
    taken = np.zeros(len(columns))
    for cid, did in confirmed.items():
        if cid in at_c and did in at_d:
            taken[at_d[did]] += mass[at_c[cid]]
    share = (mass[free].sum() + taken.sum()) / len(columns)
    capacity = np.maximum(share - taken, share * 0.05)  # a descriptor full of confirmed wordings takes few more
    choice = balanced_assignment(sim[free], mass[free], capacity) if free.any() else np.zeros(0, dtype=int)
    chosen = [clusters[i] for i in np.flatnonzero(free)]
    con.execute(
        """
        UPDATE clusters SET descriptor_id = v.descriptor_id, descriptor_confidence = v.mean_sim
        FROM (SELECT unnest(?::INTEGER[]) AS cluster_id, unnest(?::INTEGER[]) AS descriptor_id,
                     unnest(?::DOUBLE[]) AS mean_sim) v
        WHERE clusters.cluster_id = v.cluster_id
        """,
        [chosen, [columns[j] for j in choice.tolist()],
         [float(sim[i, j]) for i, j in zip(np.flatnonzero(free).tolist(), choice.tolist())]],
    )


def assign_cluster(con: duckdb.DuckDBPyConnection, cluster_id: int, name: str) -> str:
    """Confirm wording cluster `cluster_id` as descriptor `name` (`other`: none), then re-assign its phrases.

    A suggested descriptor confirmed this way becomes declared (its example lines are kept), so a
    later recluster, which replaces suggestions, cannot take it away.
    """
    if cluster_id == 0:
        raise PitchlabError("cluster 0 holds the unclustered phrases, not one wording: assign a wording cluster")
    if con.execute("SELECT count(*) FROM clusters WHERE cluster_id = ?", [cluster_id]).fetchone()[0] == 0:
        raise PitchlabError(f"no wording cluster {cluster_id}: `pitchlab descriptors review` lists them")
    if name.lower() == OTHER:
        did = None
    else:
        row = con.execute("SELECT descriptor_id, source FROM descriptors WHERE lower(name) = lower(?) "
                          "ORDER BY source = 'declared' DESC LIMIT 1", [name]).fetchone()
        if row is None:
            known = ", ".join(r[0] for r in con.execute("SELECT name FROM descriptors ORDER BY name").fetchall())
            raise PitchlabError(f"no descriptor {name!r}: declare it first (pitchlab descriptors add NAME EXAMPLE) "
                                f"or use one of: {known or 'none yet'}, {OTHER}")
        did = row[0]
    with transaction(con):
        if did is not None:
            con.execute("UPDATE descriptors SET source = 'declared' WHERE descriptor_id = ? AND source = 'suggested'",
                        [did])
            con.execute("UPDATE clusters SET suggested_id = NULL WHERE suggested_id = ?", [did])
        con.execute("UPDATE clusters SET descriptor_id = ?, descriptor_confirmed = true, descriptor_confidence = NULL "
                    "WHERE cluster_id = ?", [did, cluster_id])
        reassign(con, in_transaction=True)
    return f"wording {cluster_id} is now {name if did is not None else OTHER} (confirmed)"
