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
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.audio.ingest import modified_at
from pipeline.audio.outcomes import parse_outcome
from pipeline.core import textfile
from pipeline.core.errors import AudioError, PitchlabError
from pipeline.core.records import PROSPECT, REP, AudioInfo, Recording, Turn, Word

log = logging.getLogger(__name__)

ROLE_WORDS = {"rep": REP, "prospect": PROSPECT}

_STAMP = r"-?(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"  # a "-" is read, to be refused with its line
TIMING = re.compile(rf"^\s*({_STAMP})\s+-->\s+({_STAMP})")
MAX_TIME_S = 24 * 3600.0  # a later time is a typo or garbage, not a call
ARROW = "-->"  # a line with it is a cue timing: one TIMING does not read is an error, not a dropped cue
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
    try:
        text = textfile.decode(path.read_bytes())
    except OSError as exc:
        raise PitchlabError(f"team file {path} not readable ({exc.strerror or exc})") from exc
    except textfile.NotText as exc:
        raise PitchlabError(f"team file {path} line {exc.line}: {exc}: save it as UTF-8") from exc
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(line for line in lines if line)


def read(recording: Recording, *, rep_names: Sequence[str] = ()) -> Transcript:
    """Parse one transcript file; AudioError("line N: ...") when it cannot be used."""
    try:
        text = textfile.decode(recording.path.read_bytes())
    except FileNotFoundError:
        raise FileNotFoundError(f"{recording.source_file} disappeared before it was read") from None
    except OSError as exc:
        raise AudioError(f"line 1: not readable ({exc.strerror or exc.__class__.__name__})") from exc
    except textfile.NotText as exc:
        raise AudioError(f"line {exc.line}: {exc}: save the transcript as UTF-8") from exc
    suffix = recording.path.suffix.lower()
    rep, outcome = None, None
    if suffix == ".json":
        utterances, rep, outcome = parse_json(text)
    elif suffix == ".srt":
        utterances = parse_srt(text)
    else:
        utterances = parse_vtt(text)
    utterances, moved = in_time_order(utterances)
    if moved:
        log.warning("%s: %d cue(s) start before the cue above them, or before the same speaker's previous cue ends "
                    "(first at line %d): their start is moved up so times never go backwards",
                    recording.source_file, len(moved), moved[0])
    names = [*rep_names, *([rep] if rep else [])]
    roles, method = assign_roles(utterances, names)
    turns = to_turns(utterances, roles)
    ends = [t.end_s for t in turns if t.end_s is not None]
    reps = _unique(t.name for t in turns if t.speaker == REP and t.name)
    info = AudioInfo(recording.call_id, recording.source_file, duration_s=max(ends) if ends else None,
                     recorded_at=modified_at(recording.path))
    return Transcript(info, tuple(turns), method, rep or (", ".join(reps) or None), outcome)


def in_time_order(utterances: Sequence[Utterance]) -> tuple[list[Utterance], list[int]]:
    """The file's order is the order of the conversation, and times never go backwards in it.

    An utterance that starts before the one above it started (overlapping or
    out-of-order cues), or before the same speaker's previous utterance ended,
    is moved to start then (its end no earlier). Crosstalk, a cue starting
    inside the other speaker's cue, is kept as it is. Returns the utterances
    and the lines of those moved.
    """
    out: list[Utterance] = []
    moved: list[int] = []
    last_start: float | None = None
    last_end: dict[str, float] = {}
    for u in utterances:
        if u.start_s is None or u.end_s is None:
            out.append(u)
            continue
        start = max(u.start_s, last_start if last_start is not None else u.start_s, last_end.get(u.speaker, u.start_s))
        if start != u.start_s:
            moved.append(u.line)
            u = Utterance(u.line, u.speaker, start, max(u.end_s, start), u.text)
        out.append(u)
        last_start, last_end[u.speaker] = u.start_s, u.end_s
    return out, moved


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
            if ARROW in line:
                raise AudioError(f"line {i}: cue timing not understood ({_clip(line)}): write "
                                 f"'00:01:02.500 --> 00:01:05.000'")
            continue
        start, end = _seconds(timing.group(1)), _seconds(timing.group(2))
        if start < 0 or end < 0:
            raise AudioError(f"line {i}: negative cue time ({_clip(line)}): times count from the start of the call")
        if max(start, end) > MAX_TIME_S:
            raise AudioError(f"line {i}: cue time over 24 hours ({_clip(line)})")
        if end < start:
            raise AudioError(f"line {i}: cue ends before it starts ({_clip(line)})")
        body = []
        while i < len(lines) and lines[i].strip() and ARROW not in lines[i]:  # a blank line (or a timing) ends it
            body.append((i + 1, lines[i]))
            i += 1
        cues.append((i - len(body), start, end, body))
    if not cues:
        raise AudioError(f"line {len(lines) or 1}: no cues found ({fmt} needs 'start --> end' timing lines)")
    return cues


def _seconds(stamp: str) -> float:
    sign = -1 if stamp.startswith("-") else 1
    seconds = 0.0
    for part in stamp.lstrip("-").replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return sign * round(seconds, 3)


def _clip(line: str, limit: int = 60) -> str:
    """A line quoted in an error: stripped, and cut to `limit` characters."""
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
    except RecursionError as exc:
        raise AudioError("line 1: not usable JSON (nested too deeply)") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise AudioError(f"line 1: not usable JSON ({_clip(str(exc))})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list) or not data["turns"]:
        raise AudioError('line 1: expected an object with a non-empty "turns" list '
                         '(each {"speaker": ..., "text": ..., "start"?: s, "end"?: s})')
    lines = _turn_lines(text)
    out, timed = [], None
    for i, turn in enumerate(data["turns"]):
        line = lines[i] if i < len(lines) else 1
        where = f"line {line}: turn {i + 1}"
        if not isinstance(turn, dict):
            raise AudioError(f"{where} is not an object")
        speaker, said = turn.get("speaker"), turn.get("text")
        if not isinstance(speaker, str) or not speaker.strip():
            raise AudioError(f'{where} has no "speaker" (rep, prospect or a name)')
        if not isinstance(said, str):
            raise AudioError(f'{where} has no "text"')
        if not _is_unicode(speaker + said):
            raise AudioError(f"{where}: text with an unpaired surrogate escape (\\ud800-\\udfff), not Unicode")
        times = [_json_time(turn.get(key), where) for key in ("start", "end")]
        has = [t is not None for t in times]
        if has[0] != has[1] or (timed is not None and has[0] != timed):
            raise AudioError(f"{where}: give start and end on every turn or on none")
        timed = has[0]
        if timed and times[1] < times[0]:
            raise AudioError(f"{where} ends before it starts")
        said = " ".join(said.split())
        if said:
            out.append(Utterance(line, " ".join(speaker.split()), *times, said))
    rep = data.get("rep")
    if rep is not None and not (isinstance(rep, str) and _is_unicode(rep)):
        key = re.search(r'"rep"\s*:', text)
        raise AudioError(f'line {_line_of(text, key.start() if key else 0)}: "rep" must be a name (text)')
    try:
        outcome = parse_outcome(data.get("outcome"), f"line {_line_of(text, text.find(OUTCOME_KEY))}")
    except PitchlabError as exc:
        raise AudioError(str(exc)) from exc
    return out, (rep.strip() or None) if rep else None, outcome


def _json_time(value, where: str) -> float | None:
    """A turn's start or end: None when absent, else seconds from the start of the call (finite, 0 or more)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AudioError(f"{where}: start and end must be seconds (numbers)")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not 0 <= seconds <= MAX_TIME_S:  # also NaN
        raise AudioError(f"{where}: start and end must be seconds from the start of the call "
                         f"(0 to 24 hours), not {_clip(str(value), 20)}")
    return seconds


def _turn_lines(text: str) -> list[int]:
    """Line of each element of the top-level "turns" list (for error messages); [] when not found.

    `text` is valid JSON (json.loads read it) whose top level is an object.
    """
    decoder = json.JSONDecoder()
    ws = re.compile(r"[\s,]*")
    try:
        pos = ws.match(text, text.index("{") + 1).end()  # after the top-level "{", whatever whitespace precedes it
        lines: list[int] = []
        while pos < len(text) and text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = ws.match(text, text.index(":", pos) + 1).end()
            if key != "turns":
                _, pos = decoder.raw_decode(text, pos)
                pos = ws.match(text, pos).end()
                continue
            pos = ws.match(text, pos + 1).end()  # after "["
            lines, line, counted = [], 1, 0  # a repeated key: json.loads keeps the last one, so do we
            while text[pos] != "]":
                line, counted = line + text.count("\n", counted, pos), pos  # counted on: linear in the file
                lines.append(line)
                _, pos = decoder.raw_decode(text, pos)
                pos = ws.match(text, pos).end()
            pos = ws.match(text, pos + 1).end()
        return lines
    except (ValueError, IndexError, RecursionError):  # only line numbers for messages: never worth a failure
        return []


def _is_unicode(text: str) -> bool:
    """False for a str holding a lone surrogate (JSON allows "\\ud800"; it cannot be stored)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


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
                f"line {first.line}: no {role} among the speakers ({_clip(', '.join(speakers), 120)}); "
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
