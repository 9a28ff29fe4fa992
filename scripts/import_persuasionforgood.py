#!/usr/bin/env python3
"""PersuasionForGood dialogues (Wang et al., ACL 2019) as Pitchlab JSON transcripts.

    .venv/bin/python scripts/import_persuasionforgood.py SRC_DIR OUT_DIR [--dialogues 300]

SRC_DIR holds the dataset's files (from github.com/ohyj1002/persuasionforgood, data/; see
docs/eval_descriptors.md): the 300 annotated dialogues `300_dialog.xlsx` + `300_info.xlsx` when present,
else the first dialogues of `full_dialog.csv` + `full_info.csv`.  The persuader (role 0) is the rep, the
persuadee (role 1) the prospect; consecutive sentences of one role are one turn.  A call's outcome is
`interested` when the persuadee's actual donation after the task (B6) is above 0, else `not_interested`.

It writes OUT_DIR/inbox/<dialogue id>.json (`{"turns": [{"speaker": "rep"|"prospect", "text"}]}`, no
times), OUT_DIR/outcomes.csv (`file,outcome`) and OUT_DIR/truth.json in the layout of
scripts/make_descriptor_calls.py.  With the annotated files, persuader sentences labelled with a
persuasion strategy (logical appeal, emotion appeal, credibility appeal, personal story, donation
information, foot in the door, self-modeling) are the truth's pitches, the strategy their "benefit";
that is the nearest thing to a benefit these dialogues have (a strategy, not a product claim).  The
xlsx files are read with the standard library (they hold inline strings only).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

STRATEGIES = ("logical-appeal", "emotion-appeal", "credibility-appeal", "personal-story",
              "donation-information", "foot-in-the-door", "self-modeling")
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CELL = re.compile(r"([A-Z]+)\d+")


def read_xlsx(path: Path) -> list[dict[str, str]]:
    """Rows of the first sheet as dicts keyed by the header row (inline or shared strings, numbers)."""
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ET.fromstring(z.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{NS}t")) for si in root.iter(f"{NS}si")]
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{NS}row"):
        cells = {}
        for c in row.iter(f"{NS}c"):
            col = CELL.match(c.get("r")).group(1)
            kind = c.get("t")
            if kind == "inlineStr":
                value = "".join(t.text or "" for t in c.iter(f"{NS}t"))
            else:
                v = c.find(f"{NS}v")
                value = "" if v is None else (shared[int(v.text)] if kind == "s" else v.text or "")
            cells[col] = value
        rows.append(cells)
    header = rows[0]
    return [{header[k]: v for k, v in r.items() if k in header} for r in rows[1:]]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load(src: Path) -> tuple[list[dict[str, str]], list[dict[str, str]], bool]:
    """(sentence rows, participant rows, annotated?) from SRC_DIR."""
    if (src / "300_dialog.xlsx").is_file() and (src / "300_info.xlsx").is_file():
        return read_xlsx(src / "300_dialog.xlsx"), read_xlsx(src / "300_info.xlsx"), True
    if (src / "full_dialog.csv").is_file() and (src / "full_info.csv").is_file():
        return read_csv(src / "full_dialog.csv"), read_csv(src / "full_info.csv"), False
    raise SystemExit(f"error: {src} has neither 300_dialog.xlsx + 300_info.xlsx nor full_dialog.csv + "
                     "full_info.csv (data/AnnotatedData or data/FullData of the PersuasionForGood repository)")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def convert(sentences: list[dict[str, str]], info: list[dict[str, str]], *, annotated: bool,
            dialogues: int) -> dict:
    """The truth document: calls with turns (role, text, sentences) and outcomes, in file order."""
    donation = {r["B2"]: _number(r.get("B6")) for r in info if str(r.get("B4", "")).split(".")[0] == "1"}
    by_dialogue: dict[str, list[dict[str, str]]] = defaultdict(list)
    order: list[str] = []
    for r in sentences:
        d = r.get("B2")
        if not d or not (r.get("Unit") or "").strip():
            continue
        if d not in by_dialogue:
            order.append(d)
        by_dialogue[d].append(r)
    calls, pitches = [], []
    for d in order[:dialogues]:
        turns: list[dict] = []
        for r in by_dialogue[d]:
            speaker = "rep" if str(r["B4"]).split(".")[0] == "0" else "prospect"
            text = " ".join(r["Unit"].split())
            label = (r.get("er_label_1") or "").strip() if speaker == "rep" else ""
            sentence = {"text": text, "kind": "pitch" if label in STRATEGIES else "other",
                        "benefit": label if label in STRATEGIES else None, "wording": None, "noise": None}
            if turns and turns[-1]["speaker"] == speaker:
                turns[-1]["text"] += " " + text
            else:
                turns.append({"speaker": speaker, "name": speaker, "start_s": None, "end_s": None,
                              "text": text, "sentences": [], "label": None})
            if speaker == "rep":
                turns[-1]["sentences"].append(sentence)
        gift = donation.get(d)
        outcome = None if gift is None else ("interested" if gift > 0 else "not_interested")
        file = f"{d}.json"
        calls.append({"file": file, "rep": None, "prospect": None, "outcome": outcome, "donation": gift,
                      "turns": turns})
        pitches += [{"file": file, "turn_idx": i, "text": s["text"], "benefit": s["benefit"], "wording": None,
                     "noise": None, "start_s": None, "end_s": None}
                    for i, t in enumerate(turns) for s in t["sentences"] if s["kind"] == "pitch"]
    benefits = {s: {"name": s.replace("-", " "), "p_interested": None, "example": None, "wordings": []}
                for s in STRATEGIES} if annotated else {}
    return {"generator": "scripts/import_persuasionforgood.py", "domain": "p4g", "product": "Save the Children",
            "annotated": annotated, "benefits": benefits, "calls": calls, "pitches": pitches}


def write(truth: dict, out: Path) -> None:
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for call in truth["calls"]:
        turns = [{"speaker": t["speaker"], "text": t["text"]} for t in call["turns"]]
        (inbox / call["file"]).write_text(json.dumps({"turns": turns}, indent=1) + "\n", encoding="utf-8")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "outcome"])
    for call in truth["calls"]:
        w.writerow([call["file"], call["outcome"] or ""])
    (out / "outcomes.csv").write_text(buf.getvalue(), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="folder with 300_dialog.xlsx + 300_info.xlsx or full_dialog.csv + full_info.csv")
    ap.add_argument("out", type=Path)
    ap.add_argument("--dialogues", type=int, default=300)
    args = ap.parse_args(argv)
    sentences, info, annotated = load(args.src)
    truth = convert(sentences, info, annotated=annotated, dialogues=args.dialogues)
    write(truth, args.out)
    known = [c["outcome"] for c in truth["calls"] if c["outcome"]]
    print(f"{len(truth['calls'])} dialogues ({'annotated' if annotated else 'full set'}), "
          f"{sum(o == 'interested' for o in known)} of {len(known)} with a donation, "
          f"{len(truth['pitches'])} strategy-labelled persuader sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
