"""Call outcomes given by the user: outcomes.csv (file,outcome[,rep]) or a sidecar JSON.

A sidecar `<recording file name>.json` (e.g. `call_07.mp3.json`, or
`call_07.json`) beside the recording wins over the CSV row for that file; it may
also say which channel of a stereo recording is the rep (`"rep_channel": "right"`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

from .errors import PitchlabError
from .records import INTERESTED, NOT_INTERESTED, Outcome, Recording

WORDS = {
    "interested": INTERESTED, "won": INTERESTED, "yes": INTERESTED, "1": INTERESTED,
    "not_interested": NOT_INTERESTED, "lost": NOT_INTERESTED, "no": NOT_INTERESTED, "0": NOT_INTERESTED,
}


def parse_outcome(word: str | None, origin: str) -> str | None:
    """Normalise an outcome word; empty means unknown; anything else is an error naming `origin`."""
    if word is None or str(word).strip() == "":
        return None
    key = str(word).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in WORDS:
        raise PitchlabError(
            f"{origin}: unknown outcome {word!r} (use interested/won/yes/1 or not_interested/lost/no/0)"
        )
    return WORDS[key]


def load_csv(path: Path) -> dict[str, Outcome]:
    """Outcomes by file name; a missing file or column is an error."""
    if not path.is_file():
        raise PitchlabError(f"outcomes file {path} not found (columns: file,outcome[,rep])")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        if not {"file", "outcome"} <= columns:
            raise PitchlabError(f"{path}: needs a header with columns file,outcome (optional rep)")
        out: dict[str, Outcome] = {}
        for line_no, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            origin = f"{path} line {line_no}"
            if not row.get("file"):
                raise PitchlabError(f"{origin}: empty file name")
            out[row["file"]] = Outcome(
                file=row["file"],
                outcome=parse_outcome(row.get("outcome"), origin),
                rep=row.get("rep") or None,
                origin=origin,
            )
    return out


def sidecar_path(recording: Recording) -> Path | None:
    for candidate in (
        recording.path.with_name(recording.path.name + ".json"),
        recording.path.with_suffix(".json"),
    ):
        if candidate != recording.path and candidate.is_file():  # a JSON transcript is not its own sidecar
            return candidate
    return None


def load_sidecar(path: Path, file: str) -> Outcome:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PitchlabError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PitchlabError(f"{path}: expected an object like {{\"outcome\": \"interested\", \"rep\": \"Dana\"}}")
    rep, channel = data.get("rep"), data.get("rep_channel")
    if channel is not None and channel not in ("left", "right"):
        raise PitchlabError(f"{path}: rep_channel must be \"left\" or \"right\", not {channel!r}")
    return Outcome(file=file, outcome=parse_outcome(data.get("outcome"), str(path)),
                   rep=str(rep) if rep else None, origin=str(path), rep_channel=channel)


def resolve(recordings: Iterable[Recording], csv_rows: dict[str, Outcome]) -> dict[str, Outcome]:
    """Outcome per call_id: the sidecar if present, else the CSV row by relative path or file name."""
    out: dict[str, Outcome] = {}
    for rec in recordings:
        side = sidecar_path(rec)
        if side is not None:
            out[rec.call_id] = load_sidecar(side, rec.source_file)
            continue
        row = csv_rows.get(rec.source_file) or csv_rows.get(Path(rec.source_file).name)
        if row is not None:
            out[rec.call_id] = row
    return out
