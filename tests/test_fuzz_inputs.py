"""A seeded, bounded fuzz over the transcript parsers (VTT, SRT, JSON) and the outcomes CSV (issue 14).

Random bytes, truncated and bit-flipped copies of valid files, huge fields, odd encodings
(UTF-16 with and without a byte-order mark, a UTF-8 mark, cp1252) and deep nesting. Every
file is either parsed or refused with a one-line reason (never another exception), and in a
batch every file ends as a call or an `ingest_errors` row while the good files beside them
are stored. Same seed, same files: a failure here reproduces.
"""

from __future__ import annotations

import random
import shutil

import pytest

from conftest import ROOT, FakeModels, ScriptTranscriber
from pipeline.analyze import analyze
from pipeline.audio import ingest, outcomes, transcripts
from pipeline.core.errors import AudioError, PitchlabError
from pipeline.core.records import Recording
from pipeline.core.settings import Settings
from pipeline.storage import db

EXAMPLES = ROOT / "tests" / "data" / "transcripts"
SEED = 14
VALID = {name: (EXAMPLES / name).read_bytes()
         for name in ("notes.json", "short_call.srt", "teams_voice.vtt", "zoom_three.vtt")}
CSV = "file,outcome,rep\nnotes.json,won,Dana\nshort_call.srt,lost,Renée\n\"a, b.vtt\",,Sam\n".encode()


def mutants(valid: bytes, rng: random.Random, suffix: str) -> list[bytes]:
    """Hostile variants of one valid file."""
    text = valid.decode("utf-8")
    out = [
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))),  # random bytes
        b"",
        b"\xef\xbb\xbf" + valid,  # UTF-8 with a byte-order mark
        text.encode("utf-16"),  # UTF-16 with its mark
        text.encode("utf-16-le"),  # ... and without
        text.replace("Dana", "Renée").encode("cp1252"),  # Excel's "ANSI"
        valid.replace(b"\n", b"\r\n"),
        valid.replace(b"\n", b"\r"),
        valid.replace(b" ", b"\x00", 3),
        valid.replace(b"e", b"e" * 200_000, 1),  # a huge field
        b"  \n\t" + valid,  # leading whitespace
    ]
    for _ in range(6):  # truncated at random points
        out.append(valid[: rng.randrange(len(valid))])
    for _ in range(6):  # a few bytes changed
        b = bytearray(valid)
        for _ in range(rng.randrange(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    for _ in range(4):  # a few lines swapped or repeated
        lines = valid.split(b"\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])
        out.append(b"\n".join(lines))
    if suffix == ".json":
        depth = rng.choice([50, 1_000, 100_000])
        out += [
            b"[" * depth + b"]" * depth,
            b'{"turns": [' + b"{\"a\": " * depth + b"1" + b"}" * depth + b"]}",
            valid.replace(b'"text"', b'"start": NaN, "end": Infinity, "text"'),
            valid.replace(b'"text"', b'"start": -50, "end": -1, "text"'),
            valid.replace(b'"text"', b'"start": 1e999, "end": 1e999, "text"'),
            valid.replace(b'"rep": "Dana"', b'"rep": {"name": ["Dana"]}'),
            valid.replace(b'"speaker": "rep"', b'"speaker": "\\ud800\\n\\u0000"'),
            valid.replace(b'"speaker": "rep"', b'"speaker": "line\\none"').replace(b'"prospect"', b'"x' + b"y" * 999 + b'"'),
            valid.replace(b'"turns"', b'"turns": [], "turns"'),  # a repeated key
            b'{"turns": [' + b'{"speaker": "x", "text": "y"},' * 500 + b'{"speaker": "z", "text": "w"}]}',
        ]
    else:
        out += [
            valid.replace(b"00:00:0", b"-00:00:0", 1),  # a negative time
            valid.replace(b"-->", b"->", 1),
            valid.replace(b"-->", b"--> -->", 1),
            valid.replace(b".", b":", 3),
            valid.replace(b"00:00:", b"99999999999999999999999999999999:00:", 2),
            b"WEBVTT\n\n" + b"00:00:01.000 --> 00:00:02.000\n<v A>hi</v>\n\n<v B>yo</v>\n\n" * 300,
            b"WEBVTT\n" + b"<v " * 20_000,
        ]
    return out


def fuzz_files() -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    files = []
    for name, valid in VALID.items():
        stem, suffix = name.rsplit(".", 1)
        files += [(f"{stem}_{i:03d}.{suffix}", data) for i, data in enumerate(mutants(valid, rng, "." + suffix))]
    return files


def test_every_transcript_mutant_is_parsed_or_refused_in_one_line(tmp_path):
    parsed = refused = 0
    for name, data in fuzz_files():
        path = tmp_path / name
        path.write_bytes(data)
        try:
            t = transcripts.read(Recording(path, name, "0" * 64, len(data)), rep_names=("Dana",))
        except AudioError as exc:
            refused += 1
            assert "\n" not in str(exc) and len(str(exc)) < 400, (name, str(exc)[:500])
            assert str(exc).startswith("line "), (name, str(exc))
            continue
        parsed += 1
        starts = [turn.start_s for turn in t.turns if turn.start_s is not None]
        assert starts == sorted(starts), name  # times never go backwards
        times = [x for turn in t.turns for w in turn.words for x in (w.start_s, w.end_s) if x is not None]
        assert all(0 <= x < 1e12 for x in times), name
        assert t.info.duration_s is None or 0 <= t.info.duration_s < 1e12, name
    assert parsed >= 20 and refused >= 50, (parsed, refused)  # both sides exercised


def test_a_batch_of_mutants_stores_every_good_file_and_one_row_per_bad_one(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    files = dict(fuzz_files())
    for name, data in files.items():
        (box / name).write_bytes(data)
    for name in VALID:
        shutil.copy(EXAMPLES / name, box / f"good_{name}")
    recordings = ingest.find_recordings(box)
    distinct = {r.call_id for r in recordings}
    settings = Settings(inbox=box, db=tmp_path / "t.duckdb", rep_names=("Dana",), progress=False, chunk_calls=64)
    summary = analyze(settings, models=FakeModels(ScriptTranscriber([[]])))
    with db.opened(settings.db, read_only=True) as con:
        calls = {f for f, in con.execute("SELECT source_file FROM calls").fetchall()}
        errors = dict(con.execute("SELECT source_file, reason FROM ingest_errors").fetchall())
    assert {f"good_{name}" for name in VALID} <= calls
    assert summary.processed == len(calls) and len(summary.failed) == len(errors)
    assert len(calls) + len(errors) == len(distinct)  # every distinct file is a call or an error, none lost
    assert all("\n" not in reason for reason in errors.values())
    assert not any(reason.startswith("could not be") for reason in errors.values()), errors  # no defect met


def csv_mutants(rng: random.Random) -> list[bytes]:
    text = CSV.decode()
    out = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))), b"", b"\n\n", b"file,outcome\n",
           b"\xef\xbb\xbf" + CSV, text.encode("utf-16"), text.encode("utf-16-le"), text.encode("cp1252"),
           CSV.replace(b"\n", b"\r\n"), CSV.replace(b"\n", b"\r"), CSV.replace(b",", b";"),
           CSV.replace(b"Dana", b"D" * 200_000), CSV.replace(b"Dana", b'"' + b"D" * 200_000),
           CSV + b"x.wav,won,Dana,extra,more\n", CSV + b'"open quote,won\n', CSV.replace(b"won", b"w\x00n"),
           CSV + b"notes.json,lost,Dana\n", CSV + b"notes.json,won,\n", b"file,outcome\n" + b"a.wav,won\n" * 20_000]
    for _ in range(12):
        out.append(CSV[: rng.randrange(len(CSV))])
    for _ in range(12):
        b = bytearray(CSV)
        for _ in range(rng.randrange(1, 5)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    return out


def test_every_outcomes_csv_mutant_is_read_or_one_line_naming_where(tmp_path):
    for name in ("notes.json", "short_call.srt"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    recordings = ingest.find_recordings(tmp_path)
    path = tmp_path / "o.csv"
    read = refused = 0
    for i, data in enumerate(csv_mutants(random.Random(SEED))):
        path.write_bytes(data)
        warnings: list[str] = []
        try:
            rows = outcomes.load_csv(path, warn=warnings.append)
        except PitchlabError as exc:
            refused += 1
            message = str(exc)
            assert "\n" not in message and len(message) < 400 and message.startswith(str(path)), (i, message[:500])
            continue
        read += 1
        labels = outcomes.resolve(recordings, rows, warn=warnings.append)
        assert all(o.outcome in (None, "interested", "not_interested") for o in labels.values())
        assert all("\n" not in w for w in warnings), warnings
    assert read >= 5 and refused >= 10, (read, refused)


@pytest.mark.parametrize("data", [b"[" * 100_000, b"\xff\xfe{", b'{"outcome": "won", "rep": 7}', b"{" * 50,
                                  b'{"rep_channel": "' + b"x" * 100_000 + b'"}', b"\xe9"])
def test_a_hostile_sidecar_is_one_line_naming_it(tmp_path, data):
    shutil.copy(EXAMPLES / "short_call.srt", tmp_path / "short_call.srt")
    (tmp_path / "short_call.srt.json").write_bytes(data)
    with pytest.raises(PitchlabError) as err:
        outcomes.resolve(ingest.find_recordings(tmp_path), {})
    message = str(err.value)
    assert message.startswith(str(tmp_path / "short_call.srt.json")) and "\n" not in message and len(message) < 400
