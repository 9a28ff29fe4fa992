"""Call outcomes given by the user: outcomes.csv (file,outcome[,rep]) or a sidecar JSON.

A sidecar `<recording file name>.json` (e.g. `call_07.mp3.json`, or
`call_07.json`) beside the recording wins over the CSV row for that file in what
it says (`outcome`, `rep`; what it leaves out comes from the row); it may also say
which channel of a stereo recording is the rep (`"rep_channel": "right"`).

Which CSV row is a recording's (docs/recordings.md):
- a row whose `file` is the recording's path inside the inbox (`sub1/call.srt`) is its row;
- otherwise a row whose `file` is the recording's bare name (`call.srt`), when that
  name is no other recording's in the inbox and no recording's exact path; a bare
  name that fits several recordings labels none of them (a warning);
- several rows for one file must agree: an empty cell says nothing, but two
  different outcomes (or reps) leave the file unknown (a warning).
An entry with an empty outcome means unknown: it clears a label stored earlier.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

from pipeline.core import textfile
from pipeline.core.errors import PitchlabError
from pipeline.core.records import INTERESTED, NOT_INTERESTED, Outcome, Recording

log = logging.getLogger(__name__)

WORDS = {
    "interested": INTERESTED, "won": INTERESTED, "yes": INTERESTED, "1": INTERESTED,
    "not_interested": NOT_INTERESTED, "lost": NOT_INTERESTED, "no": NOT_INTERESTED, "0": NOT_INTERESTED,
}
COLUMNS = ("file", "outcome", "rep")
FIELD_LIMIT = csv.field_size_limit()  # 128 KiB: no file name, outcome or rep is longer

Warn = Callable[[str], None]


def parse_outcome(word: str | None, origin: str) -> str | None:
    """Normalise an outcome word; empty means unknown; anything else is an error naming `origin`."""
    if word is None or str(word).strip() == "":
        return None
    key = str(word).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in WORDS:
        shown = str(word) if len(str(word)) <= 40 else str(word)[:39] + "…"
        raise PitchlabError(
            f"{origin}: unknown outcome {shown!r} (use interested/won/yes/1 or not_interested/lost/no/0)"
        )
    return WORDS[key]


def load_csv(path: Path, *, warn: Warn = log.warning) -> dict[str, Outcome]:
    """Outcomes by the `file` column; a missing file or column, or any unreadable row, is an error naming the row."""
    if not path.is_file():
        raise PitchlabError(f"outcomes file {path} not found (columns: file,outcome[,rep])")
    try:
        text = textfile.decode(path.read_bytes())
    except OSError as exc:
        raise PitchlabError(f"outcomes file {path} not readable ({exc.strerror or exc})") from exc
    except textfile.NotText as exc:
        raise PitchlabError(f"{path} line {exc.line}: {exc}: save it as \"CSV UTF-8\"") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: dict[str, list[Outcome]] = defaultdict(list)
    header: list[str] | None = None
    line = 1  # the line the row being read starts on
    try:
        for fields in reader:
            origin = f"{path} line {line}"
            line = reader.line_num + 1
            if not any(f.strip() for f in fields):  # blank lines, also before the header
                continue
            if header is None:
                header = _header(fields, path, origin)
                continue
            if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
                raise PitchlabError(f"{origin}: {len(fields)} fields but the header has {len(header)} "
                                    f"({','.join(header)}); put a name that contains a comma in double quotes")
            row = {name: value.strip() for name, value in zip(header, fields)}
            if not row.get("file"):
                raise PitchlabError(f"{origin}: empty file name")
            file = _as_path(row["file"])
            rows[file].append(Outcome(file=file, outcome=parse_outcome(row.get("outcome"), origin),
                                      rep=row.get("rep") or None, origin=origin))
    except csv.Error as exc:
        reason = (f"a field longer than {FIELD_LIMIT // 1024} KB (a quote left open?)" if "field limit" in str(exc)
                  else f"not valid CSV ({exc})")
        raise PitchlabError(f"{path} line {line}: {reason}") from exc
    if header is None:
        raise PitchlabError(f"{path}: needs a header with columns file,outcome (optional rep)")
    return {file: _merged(file, found, warn) for file, found in rows.items()}


def _header(fields: list[str], path: Path, origin: str) -> list[str]:
    names = [f.strip().lower() for f in fields]
    if not {"file", "outcome"} <= set(names):
        raise PitchlabError(f"{path}: needs a header with columns file,outcome (optional rep)")
    for name in COLUMNS:
        if names.count(name) > 1:
            raise PitchlabError(f"{origin}: column {name!r} appears {names.count(name)} times")
    return names


def _as_path(file: str) -> str:
    """A `file` cell as an inbox-relative path: `/` separators, no leading `./`."""
    file = file.replace("\\", "/")
    while file.startswith("./"):
        file = file[2:]
    return file


def _merged(file: str, found: list[Outcome], warn: Warn) -> Outcome:
    """One entry from the rows of one file: empty cells say nothing; two different values leave it unknown."""
    if len(found) == 1:
        return found[0]
    lines = ", ".join(o.origin.rsplit(" line ", 1)[1] for o in found)
    origin = f"{found[0].origin.rsplit(' line ', 1)[0]} lines {lines}"
    outcomes = sorted({o.outcome for o in found if o.outcome})
    reps = sorted({o.rep for o in found if o.rep})
    if len(outcomes) > 1 or len(reps) > 1:
        clash = " vs ".join(outcomes if len(outcomes) > 1 else reps)
        warn(f"{origin}: rows for {file} disagree ({clash}): {file} is left unknown until they agree")
        return Outcome(file=file, outcome=None, rep=None, origin=origin)
    return Outcome(file=file, outcome=outcomes[0] if outcomes else None, rep=reps[0] if reps else None,
                   origin=origin)


def sidecar_path(recording: Recording) -> Path | None:
    for candidate in (
        recording.path.with_name(recording.path.name + ".json"),
        recording.path.with_suffix(".json"),
    ):
        if candidate != recording.path and candidate.is_file():  # a JSON transcript is not its own sidecar
            return candidate
    return None


def load_sidecar(path: Path, file: str, csv_row: Outcome | None = None) -> Outcome:
    """The sidecar's entry; `outcome` or `rep` it does not mention come from the file's CSV row, if any."""
    try:
        data = json.loads(textfile.decode(path.read_bytes()))
    except (OSError, ValueError, RecursionError) as exc:  # NotText and JSONDecodeError are ValueErrors
        reason = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())[:200]
        raise PitchlabError(f"{path}: not valid JSON ({reason})") from exc
    if not isinstance(data, dict):
        raise PitchlabError(f"{path}: expected an object like {{\"outcome\": \"interested\", \"rep\": \"Dana\"}}")
    rep, channel = data.get("rep"), data.get("rep_channel")
    if channel is not None and channel not in ("left", "right"):
        raise PitchlabError(f"{path}: rep_channel must be \"left\" or \"right\", not {str(channel)[:40]!r}")
    if rep is not None and not isinstance(rep, str):
        raise PitchlabError(f"{path}: rep must be a name (text)")
    outcome, given = parse_outcome(data.get("outcome"), str(path)), "outcome" in data
    rep = (rep.strip() or None) if rep else None
    if csv_row is not None:
        outcome, given = (outcome, given) if given else (csv_row.outcome, csv_row.outcome_given)
        rep = rep if "rep" in data else csv_row.rep
    return Outcome(file=file, outcome=outcome, rep=rep, origin=str(path), rep_channel=channel, outcome_given=given)


def resolve(recordings: Iterable[Recording], csv_rows: dict[str, Outcome], *,
            warn: Warn = log.warning, strict: bool = True) -> dict[str, Outcome]:
    """Outcome per call_id: the sidecar if present, else the CSV row by relative path or bare name (module docstring).

    An unusable sidecar is an error, or with `strict=False` a warning, and that recording gets no entry.
    """
    recordings = list(recordings)
    paths = {rec.source_file for rec in recordings}
    by_name: dict[str, list[str]] = defaultdict(list)
    for rec in recordings:
        by_name[Path(rec.source_file).name].append(rec.source_file)
    ambiguous = {name for name, files in by_name.items()
                 if len(files) > 1 and name in csv_rows and name not in paths and not paths_given(files, csv_rows)}
    for name in sorted(ambiguous):
        warn(f"{csv_rows[name].origin}: {name} is the name of {len(by_name[name])} files "
             f"({', '.join(sorted(by_name[name]))}): write the path inside the inbox; this row labels none of them")
    out: dict[str, Outcome] = {}
    for rec in recordings:
        name = Path(rec.source_file).name
        row = csv_rows.get(rec.source_file)
        if row is None and name not in paths and name not in ambiguous:
            row = csv_rows.get(name)
        side = sidecar_path(rec)
        if side is not None:
            try:
                row = load_sidecar(side, rec.source_file, row)
            except PitchlabError as exc:
                if strict:
                    raise
                warn(f"outcomes not updated for {rec.source_file}: {exc}")
                continue
        if row is not None:
            out[rec.call_id] = row
    return out


def paths_given(files: list[str], csv_rows: dict[str, Outcome]) -> bool:
    """Whether each of these recordings has a row by its own path."""
    return all(f in csv_rows for f in files)
