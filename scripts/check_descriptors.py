"""A small hand check of descriptors with the real MiniLM: themes (no declarations) and nearest-example assignment.

Two hand-written sets: the demo's five benefit families (data/demo_truth.json) and six payroll benefits,
three wordings each, written for this check. Prints, per set, the adjusted Rand index of the suggested
themes (`themes.group` at THEME_SIMILARITY) against the true benefits, and the share of lines whose nearest
one-line example (the demo's data/demo/descriptors.csv; payroll: below) is their own benefit, with the
similarities. A check of the thresholds' order of magnitude, not the evaluation (that needs calls).

    .venv/bin/python scripts/check_descriptors.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analysis.cluster import adjusted_rand_index  # noqa: E402
from pipeline.analysis.descriptors import EXAMPLE_SIMILARITY, read_csv  # noqa: E402
from pipeline.analysis.themes import THEME_SIMILARITY, group  # noqa: E402
from pipeline.language.embed import MiniLMEmbedder  # noqa: E402

PAYROLL = {
    "compliance": ["We file every payroll tax form for you, in every state.",
                   "You never miss a tax deadline again, we handle the filings.",
                   "Audits stop being scary: every record is kept the way regulators want it."],
    "time saved": ["Payroll that used to take a day now takes ten minutes.", "Run the whole payroll in a couple of clicks.",
                   "Your finance team gets back hours every week."],
    "employee app": ["Employees see their payslips on their phone.", "Staff can request time off from the mobile app.",
                     "Your people check their pay stubs themselves, no emails to HR."],
    "integrations": ["It connects to QuickBooks and Xero out of the box.", "Hours flow in from your time tracker automatically.",
                     "Your accounting software gets every journal entry without retyping."],
    "price": ["It's six dollars per employee per month, nothing else.", "No setup fee and no long contract.",
              "Half what the big payroll providers charge."],
    "ai": ["The assistant spots mistakes before you pay anyone.", "Our AI flags an unusual paycheck before it goes out.",
           "Ask the copilot any payroll question in plain English."],
}
PAYROLL_EXAMPLES = {"compliance": "we handle payroll tax compliance", "time saved": "payroll takes minutes instead of hours",
                    "employee app": "employees get a mobile app for their pay",
                    "integrations": "it integrates with your accounting software", "price": "a low price per employee",
                    "ai": "AI catches payroll mistakes"}


def main() -> int:
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())["families"]
    demo = {k: v["wordings"] for k, v in truth.items()}
    demo_examples = dict(zip(demo, (d.examples[0] for d in read_csv(ROOT / "data" / "demo" / "descriptors.csv"))))
    embedder = MiniLMEmbedder()
    for name, families, examples in (("demo", demo, demo_examples), ("payroll", PAYROLL, PAYROLL_EXAMPLES)):
        texts = [t for lines in families.values() for t in lines]
        labels = [k for k, lines in families.items() for _ in lines]
        x = embedder.embed(texts)
        themes = group(x, THEME_SIMILARITY)
        e = embedder.embed(list(examples.values()))
        sims = x @ e.T
        names = list(examples)
        right = np.array([names[i] == t for i, t in zip(sims.argmax(axis=1), labels)])
        best = sims.max(axis=1)
        print(f"{name}: {len(texts)} lines, {len(families)} benefits; themes: {themes.max() + 1}, adjusted Rand index "
              f"{adjusted_rand_index(labels, themes.tolist()):.2f}; nearest example right for {right.mean():.0%}, "
              f"at or above {EXAMPLE_SIMILARITY}: {(best >= EXAMPLE_SIMILARITY).mean():.0%}")
        print(f"  similarity when right: {[round(float(v), 2) for v in np.sort(best[right])]}")
        print(f"  similarity when wrong: {[round(float(v), 2) for v in np.sort(best[~right])]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
