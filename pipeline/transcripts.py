"""Transcript files (WebVTT, SRT, JSON turns) into the turns the audio path produces.

A transcript is read into utterances (one cue, or one JSON turn, each with the
line it starts on), its speakers are mapped to `rep`/`prospect`, and
consecutive utterances of one person become one turn. Each turn gets
evenly-spread word times (by character position within its cue span) so the
phrase stage can time its phrases as it does for audio; a transcript without
times keeps the order of its turns and every time is None.

Speakers, in order of precedence:
1. the words `rep` and `prospect` (JSON) are taken as they are;
2. a named speaker is the rep when the name matches a known rep name (the
   `rep` field, the outcomes CSV/sidecar rep, `--rep`, the team file), case
   aside, by full name or by first name ("Dana" matches "Dana Smith");
   every other named speaker is then a prospect;
3. when nothing says who the rep is, the person who speaks first is the rep
   and everyone else a prospect (the rep opens the call, as for mono audio).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import AudioError, PitchlabError
from .ingest import modified_at
from .outcomes import parse_outcome
from .records import PROSPECT, REP, AudioInfo, Recording, Turn, Word

ROLE_WORDS = {"rep": REP, "prospect": PROSPECT}

_STAMP = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING = re.compile(rf"^\s*({_STAMP})\s+-->\s+({_STAMP})")
VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
NAME_PREFIX = re.compile(r"^([^\W\d_][\w.'’-]*(?: [\w.'’()-]+){0,3}):\s+(\S.*)$")
TAG = re.compile(r"<[^>]*>")
OUTCOME_KEY = '"outcome"'


@dataclass(frozen=True)
class Utterance:
    line: int  # 1-based line of the file where it starts
    speaker: str  # a person's name, or `rep`/`prospect`
    start_s: float | None
    end_s: float | None
    text: str


@dataclass(frozen=True)
class Transcript:
    info: AudioInfo
    turns: tuple[Turn, ...]
    speaker_method: str  # transcript-roles / transcript-names / transcript-first-speaker
    rep: str | None
    outcome: str | None


def team_names(path: Path | None) -> tuple[str, ...]:
    """Rep names from a team file: one name a line, `#` starts a comment."""
    if path is None:
        return ()
    if not path.is_file():
        raise PitchlabError(f"team file {path} not found (one rep name a line)")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line)


def read(recording: Recording, *, rep_names: Sequence[str] = ()) -> Transcript:
    """Parse one transcript file; AudioError("line N: ...") when it cannot be used."""
    try:
        text = recording.path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"{recording.source_file} disappeared before it was read") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AudioError(f"line 1: not a readable UTF-8 text file ({exc.__class__.__name__})") from exc
    suffix = recording.path.suffix.lower()
    rep, outcome = None, None
    if suffix == ".json":
        utterances, rep, outcome = parse_json(text)
    elif suffix == ".srt":
        utterances = parse_srt(text)
    else:
        utterances = parse_vtt(text)
    names = [*rep_names, *([rep] if rep else [])]
    roles, method = assign_roles(utterances, names)
    turns = to_turns(utterances, roles)
    ends = [t.end_s for t in turns if t.end_s is not None]
    reps = _unique(t.name for t in turns if t.speaker == REP and t.name)
    info = AudioInfo(recording.call_id, recording.source_file, duration_s=max(ends) if ends else None,
                     recorded_at=modified_at(recording.path))
    return Transcript(info, tuple(turns), method, rep or (", ".join(reps) or None), outcome)


# --- formats -----------------------------------------------------------------


def parse_vtt(text: str) -> list[Utterance]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise AudioError("line 1: not WebVTT (the first line must be WEBVTT)")
    return _speakers_of(_cues(lines, "WebVTT"))


def parse_srt(text: str) -> list[Utterance]:
    return _speakers_of(_cues(text.splitlines(), "SRT"))


def _cues(lines: list[str], fmt: str) -> list[tuple[int, float, float, list[tuple[int, str]]]]:
    """(line of the timing, start, end, [(line, text)]) of every cue."""
    cues, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(("NOTE", "STYLE", "REGION")):  # WebVTT blocks that are not cues
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        timing = TIMING.match(line)
        i += 1
        if not timing:
            continue
        start, end = _seconds(timing.group(1)), _seconds(timing.group(2))
        if end < start:
            raise AudioError(f"line {i}: cue ends before it starts ({line.strip()})")
        body = []
        while i < len(lines) and lines[i].strip():
            body.append((i + 1, lines[i]))
            i += 1
        cues.append((i - len(body), start, end, body))
    if not cues:
        raise AudioError(f"line {len(lines) or 1}: no cues found ({fmt} needs 'start --> end' timing lines)")
    return cues


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return round(seconds, 3)


def _speakers_of(cues) -> list[Utterance]:
    """Split cue text by `<v Name>` tags or `Name: ` prefixes; unnamed text continues the last speaker."""
    out: list[Utterance] = []
    speaker = None
    for timing_line, start, end, body in cues:
        for line_no, raw in body:
            for name, piece in _pieces(raw):
                speaker = name or speaker
                piece = " ".join(html.unescape(TAG.sub("", piece)).split())
                if not piece:
                    continue
                if speaker is None:
                    raise AudioError(
                        f"line {line_no}: cue text without a speaker (write <v Name>text or 'Name: text')"
                    )
                out.append(Utterance(line_no, speaker, start, end, piece))
    return out


def _pieces(line: str) -> list[tuple[str | None, str]]:
    """(speaker name or None, text) parts of one cue line."""
    parts = VOICE.split(line)
    if len(parts) > 1:  # [before, name1, text1, name2, text2, ...]
        out = [(None, parts[0])] if parts[0].strip() else []
        out += [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]
        return out
    named = NAME_PREFIX.match(TAG.sub("", line).strip())
    if named:
        return [(named.group(1).strip(), named.group(2))]
    return [(None, line)]


def parse_json(text: str) -> tuple[list[Utterance], str | None, str | None]:
    """{"rep"?, "outcome"?, "turns": [{"speaker", "text", "start"?, "end"?}, ...]}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AudioError(f"line {exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list) or not data["turns"]:
        raise AudioError('line 1: expected an object with a non-empty "turns" list '
                         '(each {"speaker": ..., "text": ..., "start"?: s, "end"?: s})')
    lines = _turn_lines(text)
    out, timed = [], None
    for i, turn in enumerate(data["turns"]):
        where = f"line {lines[i] if i < len(lines) else 1}: turn {i + 1}"
        if not isinstance(turn, dict):
            raise AudioError(f"{where} is not an object")
        speaker, said = turn.get("speaker"), turn.get("text")
        if not isinstance(speaker, str) or not speaker.strip():
            raise AudioError(f'{where} has no "speaker" (rep, prospect or a name)')
        if not isinstance(said, str):
            raise AudioError(f'{where} has no "text"')
        times = [turn.get("start"), turn.get("end")]
        has = [t is not None for t in times]
        if any(isinstance(t, bool) or not isinstance(t, (int, float, type(None))) for t in times):
            raise AudioError(f"{where}: start and end must be seconds (numbers)")
        if has[0] != has[1] or (timed is not None and has[0] != timed):
            raise AudioError(f"{where}: give start and end on every turn or on none")
        timed = has[0]
        if timed and times[1] < times[0]:
            raise AudioError(f"{where} ends before it starts")
        said = " ".join(said.split())
        if said:
            out.append(Utterance(lines[i] if i < len(lines) else 1, speaker.strip(),
                                 *(float(t) if t is not None else None for t in times), said))
    rep = data.get("rep")
    try:
        outcome = parse_outcome(data.get("outcome"), f"line {_line_of(text, text.find(OUTCOME_KEY))}")
    except PitchlabError as exc:
        raise AudioError(str(exc)) from exc
    return out, (str(rep).strip() or None) if rep else None, outcome


def _turn_lines(text: str) -> list[int]:
    """Line of each element of the top-level "turns" list (for error messages)."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[\s,]*")
    pos = ws.match(text, 1).end()  # after the top-level "{"
    while pos < len(text) and text[pos] != "}":
        key, pos = decoder.raw_decode(text, pos)
        pos = ws.match(text, text.index(":", pos) + 1).end()
        if key != "turns":
            _, pos = decoder.raw_decode(text, pos)
            pos = ws.match(text, pos).end()
            continue
        pos = ws.match(text, pos + 1).end()  # after "["
        lines = []
        while text[pos] != "]":
            lines.append(_line_of(text, pos))
            _, pos = decoder.raw_decode(text, pos)
            pos = ws.match(text, pos).end()
        return lines
    return []


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, max(pos, 0)) + 1


# --- speakers and turns ------------------------------------------------------


def assign_roles(utterances: Sequence[Utterance], rep_names: Sequence[str]) -> tuple[dict[str, str], str]:
    """Role of every speaker, and the method that decided it (see the module docstring)."""
    if not utterances:
        raise AudioError("line 1: no text in the transcript")
    speakers = _unique(u.speaker for u in utterances)
    people = [s for s in speakers if s.lower() not in ROLE_WORDS]
    reps = {p for p in people if any(_same_person(p, name) for name in rep_names)}
    roles = {s: ROLE_WORDS[s.lower()] for s in speakers if s.lower() in ROLE_WORDS}
    if reps or roles:
        method = "transcript-names" if reps else "transcript-roles"
        roles.update({p: REP if p in reps else PROSPECT for p in people})
    else:
        method = "transcript-first-speaker"
        roles.update({p: REP if p == people[0] else PROSPECT for p in people})
    for role, other in ((REP, PROSPECT), (PROSPECT, REP)):
        if role not in roles.values():
            first = next(u for u in utterances if roles[u.speaker] == other)
            raise AudioError(
                f"line {first.line}: no {role} among the speakers ({', '.join(speakers)}); "
                f"{'name the rep with --rep NAME or a team file' if role == REP else 'a call needs a prospect too'}"
            )
    return roles, method


def _same_person(speaker: str, rep_name: str) -> bool:
    """Case aside and without a trailing "(Company)": same full name, or one is the other's first name."""
    a, b = (re.sub(r"\s*\(.*?\)\s*$", "", n).casefold().split() for n in (speaker, rep_name))
    return bool(a and b) and (a == b or a == b[:1] or b == a[:1])


def to_turns(utterances: Sequence[Utterance], roles: dict[str, str]) -> list[Turn]:
    """Consecutive utterances of one speaker form a turn, with evenly spread word times."""
    runs: list[list[Utterance]] = []
    for u in utterances:
        if runs and runs[-1][-1].speaker == u.speaker:
            runs[-1].append(u)
        else:
            runs.append([u])
    turns = []
    for idx, run in enumerate(runs):
        words = tuple(w for u in run for w in _words(u))
        speaker = run[0].speaker
        turns.append(Turn(
            turn_idx=idx,
            speaker=roles[speaker],
            start_s=run[0].start_s,
            end_s=run[-1].end_s,
            text=" ".join(w.text for w in words),
            words=words,
            name=None if speaker.lower() in ROLE_WORDS else speaker,
        ))
    return turns


def _words(u: Utterance) -> list[Word]:
    """The utterance's words, timed by character position within its span."""
    tokens = u.text.split()
    if u.start_s is None or u.end_s is None:
        return [Word(None, None, t) for t in tokens]
    span, total = u.end_s - u.start_s, len(u.text)
    out, pos = [], 0
    for t in tokens:
        a = u.text.index(t, pos)
        pos = a + len(t)
        out.append(Word(round(u.start_s + span * a / total, 3), round(u.start_s + span * pos / total, 3), t))
    return out


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
