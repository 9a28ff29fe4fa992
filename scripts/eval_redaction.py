"""How well `--redact` removes personal data, on sentences written for it (tests/data/pii_sentences.jsonl).

A labelled entity counts as redacted when every character of it (spaces aside) lies inside a
redacted span, whatever its placeholder; `typed` says how many got their own placeholder. A
sentence without personal data counts as changed when anything in it was replaced. The reps'
names (tests/data/pii_team.txt) and the vocabulary (tests/data/pii_vocabulary.txt) are kept, as a
team would set them with --team and --vocabulary.

Run: PYTHONPATH=. .venv/bin/python scripts/eval_redaction.py [--data tests/data/pii_heldout.jsonl]
     [--no-vocabulary] [--verbose]
(needs the privacy extra: .venv/bin/pip install -e '.[privacy]')
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PLACEHOLDER = {"PERSON": "<PERSON>", "PHONE": "<PHONE>", "EMAIL": "<EMAIL>", "CARD": "<CARD>", "ADDRESS": "<ADDRESS>"}
FLOORS = {"PHONE": 0.95, "EMAIL": 0.95, "CARD": 0.95, "PERSON": 0.9}  # recall floors (issue 17)
MAX_CLEAN_CHANGED = 0.05


@dataclass(frozen=True)
class Result:
    recall: dict[str, tuple[int, int, int]]  # type -> (redacted, typed right, labelled)
    clean_changed: tuple[int, int]  # (changed, sentences without personal data)
    misses: tuple[str, ...]
    changed: tuple[str, ...]
    seconds: float


def lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def evaluate(redactor=None, *, vocabulary: bool = True, data: Path = DATA / "pii_sentences.jsonl") -> Result:
    from pipeline.language.redact import PresidioRedactor

    rows = [json.loads(ln) for ln in data.read_text().splitlines() if ln.strip()]
    keep = lines(DATA / "pii_team.txt") + (lines(DATA / "pii_vocabulary.txt") if vocabulary else [])
    redactor = redactor or PresidioRedactor()
    started = time.perf_counter()
    found = redactor.find([r["text"] for r in rows], keep)
    seconds = time.perf_counter() - started
    recall = {t: [0, 0, 0] for t in PLACEHOLDER}
    misses, changed, clean = [], [], 0
    for row, spans in zip(rows, found):
        text = row["text"]
        if not row["pii"]:
            clean += 1
            if spans:
                changed.append(f"{text!r} -> {_apply(text, spans)!r}")
            continue
        for kind, entity in row["pii"]:
            a = text.index(entity)
            chars = [i for i in range(a, a + len(entity)) if not text[i].isspace()]
            covering = [s for s in spans if s[0] < a + len(entity) and s[1] > a]
            ok = all(any(s[0] <= i < s[1] for s in covering) for i in chars)
            recall[kind][2] += 1
            if ok:
                recall[kind][0] += 1
                recall[kind][1] += all(s[2] == PLACEHOLDER[kind] for s in covering)
            else:
                misses.append(f"{kind}: {entity!r} in {_apply(text, spans)!r}")
    return Result({k: tuple(v) for k, v in recall.items()}, (len(changed), clean), tuple(misses), tuple(changed),
                  seconds)


def _apply(text, spans):
    from pipeline.language.redact import _apply as apply

    return apply(text, spans)


def report(result: Result, verbose: bool = False) -> str:
    out = [f"{'type':8} {'redacted':>12} {'typed':>7}"]
    for kind, (hit, typed, n) in result.recall.items():
        out.append(f"{kind:8} {hit:3d}/{n:<3d} {hit / n:5.1%} {typed:7d}")
    changed, clean = result.clean_changed
    out.append(f"sentences without personal data changed: {changed}/{clean} ({changed / clean:.1%})")
    out.append(f"{sum(v[2] for v in result.recall.values())} entities in "
               f"{sum(1 for _ in result.recall)} types; redaction took {result.seconds:.1f} s")
    if verbose:
        out += ["missed:"] + [f"  {m}" for m in result.misses] + ["clean sentences changed:"] + \
               [f"  {c}" for c in result.changed]
    return "\n".join(out)


def meets_floors(result: Result) -> bool:
    changed, clean = result.clean_changed
    return all(result.recall[k][0] / result.recall[k][2] >= f for k, f in FLOORS.items()) \
        and changed / clean <= MAX_CLEAN_CHANGED


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-vocabulary", action="store_true", help="keep only the reps' names, not the vocabulary")
    parser.add_argument("--verbose", action="store_true", help="list what was missed and what changed")
    parser.add_argument("--data", type=Path, default=DATA / "pii_sentences.jsonl",
                        help="labelled sentences (default tests/data/pii_sentences.jsonl; the held-out set: "
                        "tests/data/pii_heldout.jsonl)")
    args = parser.parse_args()
    result = evaluate(vocabulary=not args.no_vocabulary, data=args.data)
    print(report(result, verbose=args.verbose))
    return 0 if meets_floors(result) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
