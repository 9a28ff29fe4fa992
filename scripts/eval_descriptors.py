#!/usr/bin/env python3
"""How well an analyzed database puts pitch phrases on the true benefits of a synthetic corpus (issue 15).

    .venv/bin/python scripts/eval_descriptors.py DB [TRUTH] [--json] [--review-script FILE]

TRUTH is the truth.json of scripts/make_descriptor_calls.py (or of scripts/import_persuasionforgood.py,
which has no pitches: then only the coverage figures are printed).  The database is opened read-only.

Figures:
* matching: every stored phrase is matched to the rep sentence of the truth, in the same call, whose
  words it shares most (at least half of its own words); a true pitch's stored phrase is the longest
  `kind = 'pitch'` phrase matched to it (none: the pitch was missed, and counts as wrong);
* accuracy: the share of true pitches whose phrase got the right descriptor.  Declared descriptors are
  right when their name is the benefit's name (case aside); suggested ones (and wording clusters on a
  database without descriptors) are mapped to the benefit most of their phrases have, which is
  reported as "majority-mapped" accuracy;
* ARI: adjusted Rand index of the phrases' descriptors (and, separately, of their wording clusters)
  against the true benefits, over the matched true pitches; "wording ARI" is that of the wording
  clusters against the true wording (benefit and wording index);
* ranking: each benefit's interested-lead rate computed from the truth on the analyzed calls (the calls
  where it was truly pitched, their stored outcome) against `descriptor_performance`: Spearman rho over
  the benefits both rank, and whether the top row (at least 5 labelled calls, not `other`) is the
  truth's top benefit; also against the truth computed from the found pitches only (what perfect
  descriptors could rank, given the phrases the kind stage kept as pitches).  On a database without descriptors (the clusters-only schema before issue 15)
  each benefit stands at the rate of its best-ranked cluster with at least 5 labelled calls;
* coverage: how many wording clusters and descriptors there are and the share of calls each is used in;
* review: how many cluster answers (`pitchlab descriptors assign CLUSTER NAME`) an oracle founder needs
  to get 95% of the found true pitches right (a missed pitch has no phrase to move) and the filler
  sentences taken for pitches on `other`: greedily, the answer that fixes most phrases first
  ("greedy"), and answering every cluster from the largest down ("in size order").  --review-script writes the greedy answers as commands.

ARI (scikit-learn's `adjusted_rand_score`, the test extra) and Spearman are not imported from `pipeline`,
so the evaluation does not depend on the code it evaluates.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

TARGET = 0.95
MIN_LABELLED = 5  # rows with fewer labelled calls are low support (as in descriptor_performance)
OTHER = "other"
WORD = re.compile(r"[a-z0-9]+")


# --- metrics -----------------------------------------------------------------


def adjusted_rand(a, b) -> float:
    """Adjusted Rand index of two labelings of the same items (1 = same partition, ~0 = chance): scikit-learn's."""
    if len(a) != len(b):
        raise ValueError("labelings differ in length")
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties get their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho (Pearson correlation of the ranks); None under 3 items or without variation."""
    if len(a) != len(b):
        raise ValueError("lists differ in length")
    if len(a) < 3:
        return None
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va, vb = sum((x - ma) ** 2 for x in ra), sum((y - mb) ** 2 for y in rb)
    return None if va == 0 or vb == 0 else cov / math.sqrt(va * vb)


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def overlap(phrase: str, sentence: str) -> float:
    """Share of the phrase's words found in the sentence (multiset)."""
    p, s = Counter(words(phrase)), Counter(words(sentence))
    total = sum(p.values())
    return sum((p & s).values()) / total if total else 0.0


@dataclass(frozen=True)
class Item:
    """One true pitch and what the database made of it."""
    benefit: str
    wording: str | None  # benefit/wording index; None when the truth has no wordings
    cluster: int | None  # its phrase's wording cluster (None: missed, or not clustered)
    descriptor: str | None  # its phrase's descriptor name (None: missed, or `other`)
    found: bool = True  # a `kind = 'pitch'` phrase of the database came from it
    file: str = ""  # its call


def review(items: list[Item], benefit_of: dict[str, str], name_of: dict[str, str],
           *, target: float = TARGET) -> dict:
    """Cluster answers an oracle needs until `target` of the items are right.

    benefit_of maps a descriptor name to the benefit it stands for; name_of maps a benefit to the
    descriptor name the oracle answers with.  An answer moves every item of a cluster to one descriptor.
    An item whose benefit is OTHER (a filler sentence taken for a pitch) is right on `other` (None).
    """
    benefit_of, name_of = {**benefit_of, OTHER: OTHER}, {**name_of, OTHER: OTHER}
    current = {i: it.descriptor for i, it in enumerate(items)}
    members: dict[int, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        if it.cluster is not None and it.cluster > 0:
            members[it.cluster].append(i)

    def right(i: int) -> bool:
        return benefit_of.get((current[i] or OTHER).lower()) == items[i].benefit

    def accuracy() -> float:
        return sum(right(i) for i in current) / len(items) if items else 0.0

    def answer(cluster: int) -> str:
        majority = Counter(items[i].benefit for i in members[cluster]).most_common(1)[0][0]
        return name_of[majority]

    start = accuracy()
    greedy: list[tuple[int, str]] = []
    while accuracy() < target:
        best = None
        for c, idx in members.items():
            name = answer(c)
            gain = sum(benefit_of.get(name.lower()) == items[i].benefit for i in idx) - sum(right(i) for i in idx)
            if gain > 0 and (best is None or gain > best[0] or (gain == best[0] and c < best[1])):
                best = (gain, c, name)
        if best is None:
            break
        _, c, name = best
        for i in members[c]:
            current[i] = name
        greedy.append((c, name))
    greedy_acc = accuracy()
    current = {i: it.descriptor for i, it in enumerate(items)}
    in_order = 0
    for c in sorted(members, key=lambda c: (-len(members[c]), c)):
        if accuracy() >= target:
            break
        for i in members[c]:
            current[i] = answer(c)
        in_order += 1
    return {"start": start, "greedy_answers": len(greedy), "greedy_accuracy": greedy_acc,
            "reached": greedy_acc >= target, "size_order_answers": in_order,
            "size_order_accuracy": accuracy(), "commands": greedy}


def share_spread(calls_per_group: dict, n_calls: int) -> dict | None:
    shares = sorted(len(v) / n_calls for v in calls_per_group.values()) if n_calls else []
    if not shares:
        return None
    return {"min": shares[0], "median": statistics.median(shares), "max": shares[-1]}


# --- database ----------------------------------------------------------------


def _columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}


def load(con) -> dict:
    """Phrases, calls and the leaderboard of a database, in either schema."""
    has_descriptors = "descriptor_id" in _columns(con, "pitch_phrases")
    if has_descriptors:
        dcols = _columns(con, "descriptors")
        source = "d.source" if "source" in dcols else "NULL"
        rows = con.execute(
            f"SELECT c.source_file, p.phrase_id, p.text, p.kind, p.cluster_id, d.name, {source} "
            "FROM pitch_phrases p JOIN calls c USING (call_id) LEFT JOIN descriptors d USING (descriptor_id) "
            "ORDER BY p.phrase_id").fetchall()
        board = con.execute("SELECT descriptor, calls_with_outcome, interest_rate FROM descriptor_performance "
                            "ORDER BY interest_rate DESC NULLS LAST, calls_with_outcome DESC").fetchall()
        declared = {r[0] for r in con.execute("SELECT lower(name) FROM descriptors WHERE source = 'declared'")
                    .fetchall()} if "source" in dcols else set()
    else:
        rows = con.execute(
            "SELECT c.source_file, p.phrase_id, p.text, p.kind, p.cluster_id, "
            "CASE WHEN p.cluster_id > 0 THEN 'cluster ' || p.cluster_id END, 'cluster' "
            "FROM pitch_phrases p JOIN calls c USING (call_id) ORDER BY p.phrase_id").fetchall()
        board = con.execute("SELECT 'cluster ' || cluster_id, calls_with_outcome, interest_rate "
                            "FROM descriptor_performance WHERE NOT unclustered "
                            "ORDER BY interest_rate DESC NULLS LAST, calls_with_outcome DESC").fetchall()
        declared = set()
    calls = dict(con.execute("SELECT source_file, outcome FROM calls").fetchall())
    phrases = [dict(zip(("file", "phrase_id", "text", "kind", "cluster", "descriptor", "source"), r)) for r in rows]
    for p in phrases:
        if p["descriptor"] is not None and p["descriptor"].lower() == OTHER:
            p["descriptor"] = None
    return {"schema": "descriptors" if has_descriptors else "clusters", "phrases": phrases, "calls": calls,
            "board": board, "declared": declared}


# --- evaluation --------------------------------------------------------------


def match(phrases: list[dict], truth: dict) -> dict[tuple[str, int, int], list[dict]]:
    """Stored phrases by the truth rep sentence they came from: (file, turn index, sentence index)."""
    sentences: dict[str, list[tuple[tuple[str, int, int], str]]] = defaultdict(list)
    for call in truth["calls"]:
        for t_idx, turn in enumerate(call["turns"]):
            for s_idx, s in enumerate(turn.get("sentences") or []):
                sentences[call["file"]].append(((call["file"], t_idx, s_idx), s["text"]))
    out: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
    for p in phrases:
        scored = [(overlap(p["text"], text), key) for key, text in sentences.get(p["file"], [])]
        if scored:
            score, key = max(scored, key=lambda x: (x[0], -x[1][1], -x[1][2]))
            if score >= 0.5:
                out[key].append(p)
    return out


def evaluate(db: dict, truth: dict | None) -> dict:
    phrases, calls = db["phrases"], db["calls"]
    pitches = [p for p in phrases if p["kind"] == "pitch"]
    n_calls = len(calls)
    by_cluster, by_descriptor = defaultdict(set), defaultdict(set)
    for p in pitches:
        if p["cluster"]:
            by_cluster[p["cluster"]].add(p["file"])
        by_descriptor[p["descriptor"] or OTHER].add(p["file"])
    sources = Counter()
    for name in {p["descriptor"] for p in pitches if p["descriptor"]}:
        sources[next(p["source"] for p in pitches if p["descriptor"] == name) or "?"] += 1
    result: dict = {
        "schema": db["schema"], "calls": n_calls, "pitch_phrases": len(pitches),
        "wording_clusters": len(by_cluster), "descriptors": len([d for d in by_descriptor if d != OTHER]),
        "descriptor_sources": dict(sources),
        "other_share": (sum(p["descriptor"] is None for p in pitches) / len(pitches)) if pitches else None,
        "cluster_call_share": share_spread(by_cluster, n_calls),
        "descriptor_call_share": share_spread({d: v for d, v in by_descriptor.items() if d != OTHER}, n_calls),
        "descriptor_calls": {d: len(v) for d, v in sorted(by_descriptor.items(), key=lambda kv: -len(kv[1]))},
    }
    if not truth or not truth.get("pitches"):
        return result

    benefits = truth["benefits"]
    name_of = {key: b["name"] for key, b in benefits.items()}
    matched = match(phrases, truth)
    items: list[Item] = []
    fillers = fillers_given = 0
    filler_items: list[Item] = []
    for call in truth["calls"]:
        if call["file"] not in calls:
            continue
        for t_idx, turn in enumerate(call["turns"]):
            for s_idx, s in enumerate(turn.get("sentences") or []):
                stored = [p for p in matched.get((call["file"], t_idx, s_idx), []) if p["kind"] == "pitch"]
                if s["kind"] == "filler":
                    fillers += 1
                    fillers_given += any(p["descriptor"] for p in stored)
                    for p in stored:  # the founder would answer `other` for a filler's wording
                        filler_items.append(Item(OTHER, None, p["cluster"], p["descriptor"]))
                if s["kind"] != "pitch":
                    continue
                best = max(stored, key=lambda p: len(words(p["text"])), default=None)
                wording = f"{s['benefit']}/{s['wording']}" if s.get("wording") is not None else None
                items.append(Item(s["benefit"], wording,
                                  best["cluster"] if best else None, best["descriptor"] if best else None,
                                  best is not None, call["file"]))
    found = [it for it in items if it.found]
    missed = len(items) - len(found)

    # which benefit each descriptor stands for: declared by name, the rest by their phrases' majority
    majority: dict[str, str] = {}
    votes: dict[str, Counter] = defaultdict(Counter)
    for it in items:
        if it.descriptor:
            votes[it.descriptor][it.benefit] += 1
    for d, v in votes.items():
        majority[d.lower()] = v.most_common(1)[0][0]
    by_name = {b["name"].lower(): key for key, b in benefits.items()}
    declared = {d: by_name[d] for d in db["declared"] if d in by_name}
    strict = {**declared}
    mapped = {**majority, **declared}

    def acc(mapping: dict[str, str], among: list[Item] = items) -> float:
        ok = sum(1 for it in among if it.descriptor and mapping.get(it.descriptor.lower()) == it.benefit)
        return ok / len(among) if among else 0.0

    labels_true = [it.benefit for it in found]
    result.update({
        "true_pitches": len(items), "missed_pitches": missed, "pitch_recall": len(found) / len(items) if items else None,
        "fillers": fillers, "fillers_given_a_descriptor": fillers_given,
        "accuracy_declared": acc(strict) if declared else None,
        "accuracy_declared_detected": acc(strict, found) if declared else None,
        "accuracy_majority_mapped": acc(mapped),
        "accuracy_majority_mapped_detected": acc(mapped, found),
        "ari_descriptors": adjusted_rand(labels_true, [it.descriptor or OTHER for it in found]),
        "ari_clusters": adjusted_rand(labels_true, [it.cluster or 0 for it in found]),
        "ari_wordings": adjusted_rand([it.wording for it in found], [it.cluster or 0 for it in found])
        if any(it.wording for it in found) else None,  # corpora without wordings (PersuasionForGood): n/a
    })

    # ranking: truth rates on the analyzed calls vs the leaderboard
    def rates(pairs) -> dict[str, float]:
        truth_calls: dict[str, set[str]] = defaultdict(set)
        for benefit, file in pairs:
            if file in calls:
                truth_calls[benefit].add(file)
        out = {}
        for b, files in truth_calls.items():
            labelled = [calls[f] for f in files if calls[f] is not None]
            if labelled:
                out[b] = sum(o == "interested" for o in labelled) / len(labelled)
        return out

    truth_rate = rates((p["benefit"], p["file"]) for p in truth["pitches"])
    # the same from the found pitches only: what perfect descriptors could rank, given the kind stage
    found_rate = rates((it.benefit, it.file) for it in found)
    board_rate: dict[str, float] = {}
    top_benefit = None
    for descriptor, labelled, rate in db["board"]:
        if descriptor is None or descriptor.lower() == OTHER or rate is None or (labelled or 0) < MIN_LABELLED:
            continue
        b = mapped.get(descriptor.lower())
        if b is None:
            continue
        top_benefit = top_benefit or b
        board_rate.setdefault(b, rate)  # best-ranked row of each benefit (the board is sorted by rate)
    common = sorted(set(board_rate) & set(truth_rate))
    common_found = sorted(set(board_rate) & set(found_rate))
    truth_top = max(truth_rate, key=truth_rate.get) if truth_rate else None
    found_top = max(found_rate, key=found_rate.get) if found_rate else None
    result.update({
        "truth_rates": {name_of[b]: round(r, 3) for b, r in sorted(truth_rate.items(), key=lambda kv: -kv[1])},
        "board_rates": {name_of[b]: round(r, 3) for b, r in sorted(board_rate.items(), key=lambda kv: -kv[1])},
        "spearman": spearman([truth_rate[b] for b in common], [board_rate[b] for b in common]),
        "ranked_benefits": len(common),
        "same_top": top_benefit is not None and top_benefit == truth_top,
        "board_top": name_of.get(top_benefit), "truth_top": name_of.get(truth_top),
        "found_rates": {name_of[b]: round(r, 3) for b, r in sorted(found_rate.items(), key=lambda kv: -kv[1])},
        "spearman_found": spearman([found_rate[b] for b in common_found], [board_rate[b] for b in common_found]),
        "same_top_found": top_benefit is not None and top_benefit == found_top,
    })
    if declared:  # the found pitches (a missed one has no phrase to move) and fillers taken for pitches
        rev = review(found + filler_items, dict(declared), name_of)
        result["review"] = {k: v for k, v in rev.items() if k != "commands"}
        result["review_commands"] = [f"pitchlab descriptors assign {c} {shlex.quote(n)}" for c, n in rev["commands"]]
    return result


def _fmt(x) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def report(r: dict) -> str:
    lines = [f"schema: {r['schema']}; {r['calls']} calls, {r['pitch_phrases']} pitch phrases; "
             f"{r['wording_clusters']} wording clusters, {r['descriptors']} descriptors {r['descriptor_sources']}; "
             f"{_fmt(r['other_share'])} of pitch phrases on 'other'"]
    for key, what in (("cluster_call_share", "wording cluster"), ("descriptor_call_share", "descriptor")):
        s = r[key]
        if s:
            lines.append(f"share of calls per {what}: min {s['min']:.3f}, median {s['median']:.3f}, max {s['max']:.3f}")
    if "true_pitches" in r:
        lines += [
            f"true pitches {r['true_pitches']}, found as pitch phrases {_fmt(r['pitch_recall'])} (missed "
            f"{r['missed_pitches']}); fillers given a descriptor {r['fillers_given_a_descriptor']} of {r['fillers']}",
            f"accuracy (declared names) {_fmt(r['accuracy_declared'])} of all true pitches, "
            f"{_fmt(r['accuracy_declared_detected'])} of those found; majority-mapped {_fmt(r['accuracy_majority_mapped'])}, "
            f"{_fmt(r['accuracy_majority_mapped_detected'])} of those found",
            f"ARI descriptors vs benefits {_fmt(r['ari_descriptors'])}; clusters vs benefits {_fmt(r['ari_clusters'])}; "
            f"clusters vs wordings {_fmt(r['ari_wordings'])}",
            f"ranking: Spearman {_fmt(r['spearman'])} over {r['ranked_benefits']} benefits; same top: {r['same_top']} "
            f"(board {r['board_top']}, truth {r['truth_top']})",
            f"against the truth on the found pitches only: Spearman {_fmt(r['spearman_found'])}; same top: "
            f"{r['same_top_found']}",
            f"truth rates {r['truth_rates']}",
            f"truth rates, found pitches only {r['found_rates']}",
            f"board rates {r['board_rates']}",
        ]
    if "review" in r:
        v = r["review"]
        lines.append(f"review to {TARGET:.0%} of found pitches and fillers right: {v['greedy_answers']} answers greedily "
                     f"({_fmt(v['start'])} -> {_fmt(v['greedy_accuracy'])}), {v['size_order_answers']} in size order "
                     f"(-> {_fmt(v['size_order_accuracy'])})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("truth", type=Path, nargs="?")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--review-script", type=Path, help="write the oracle's greedy review answers as commands")
    args = ap.parse_args(argv)
    import duckdb

    if not args.db.is_file():
        print(f"error: database {args.db} not found", file=sys.stderr)
        return 2
    con = duckdb.connect(str(args.db), read_only=True)
    truth = json.loads(args.truth.read_text(encoding="utf-8")) if args.truth else None
    result = evaluate(load(con), truth)
    if args.review_script and result.get("review_commands") is not None:
        args.review_script.write_text("\n".join(result["review_commands"]) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "review_commands"}, indent=1))
    else:
        print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
