"""Every command and SQL example in README.md and docs/ runs, against a demo-like database, so they cannot drift.

The database holds the 28 demo calls (data/demo_truth.json: every turn the generator wrote, with its
times), analyzed as transcripts with the test fakes (a real `make demo` takes minutes), each stored
under its recording's name (`call_01.wav`) as the demo database has it.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, FakeModels, ScriptTranscriber
from pipeline import cli
from pipeline.analyze import analyze
from pipeline.core.settings import Settings

README = (ROOT / "README.md").read_text()
DOCS = {p.name: p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}
ALL_DOCS = [README, *DOCS.values()]
CONFIGURATION = DOCS["configuration.md"]  # every command's synopsis and the environment table


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("demo_like")
    inbox = root / "inbox"
    inbox.mkdir()
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())
    names = {}
    for call in truth["calls"]:
        stem = Path(call["file"]).stem
        names[f"{stem}.json"] = call["file"]
        body = {"rep": call["rep"], "turns": [{"speaker": t["speaker"], "text": t["text"], "start": t["start_s"],
                                                "end": t["end_s"]} for t in call["turns"]]}
        if call["outcome_in_csv"]:
            body["outcome"] = call["outcome"]
        (inbox / f"{stem}.json").write_text(json.dumps(body))
    settings = Settings(inbox=inbox, db=root / "demo.duckdb", progress=False)
    assert analyze(settings, models=FakeModels(ScriptTranscriber([[]]))).processed == 28
    with duckdb.connect(str(settings.db)) as con:
        for transcript, recording in names.items():
            con.execute("UPDATE calls SET source_file = ? WHERE source_file = ?", [recording, transcript])
    return settings.db, inbox


def fenced(doc: str) -> list[tuple[str, str]]:
    """(language, text) of each fenced code block."""
    blocks, lang, lines = [], None, []
    for line in doc.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, lines = line[3:].strip(), []
            else:
                blocks.append((lang, "\n".join(lines)))
                lang = None
        elif lang is not None:
            lines.append(line)
    return blocks


def prose(doc: str) -> str:
    """The document without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", doc, flags=re.S | re.M)


def sql_statements(doc: str) -> list[str]:
    blocks = [text for lang, text in fenced(doc) if lang == "sql"]
    return [s.strip() for b in blocks for s in b.split(";") if re.sub(r"--[^\n]*", "", s).strip()]


def sql_examples() -> list[str]:
    """Every SQL statement of README.md and docs/*.md, each once, the README's first."""
    return list(dict.fromkeys(s for doc in ALL_DOCS for s in sql_statements(doc)))


def test_the_readme_and_the_sql_page_have_their_sql_examples():
    assert len(sql_statements(README)) == 1
    assert len(sql_statements(DOCS["sql.md"])) == 4 and len(sql_statements(DOCS["descriptors.md"])) == 3
    assert len(sql_examples()) >= 8


@pytest.mark.parametrize("sql", sql_examples(), ids=lambda s: re.sub(r"\W+", "_", s.split("\n")[-1])[:40])
def test_each_sql_example_returns_rows_on_the_demo(demo_like, sql):
    path, _ = demo_like
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, sql


def documented_commands() -> list[str]:
    """Each `pitchlab ...` command line written in the docs: code-block lines and inline code."""
    found = []
    for doc in ALL_DOCS:
        for lang, block in fenced(doc):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():  # continued lines joined
                if lang in ("sh", "") and "pitchlab " in line:
                    found.append(line.split("pitchlab ", 1)[1])
        for inline in re.findall(r"`((?:[A-Z_]+=\S+ )*(?:\.venv/bin/)?pitchlab [^`\n]*)`", prose(doc)):
            found.append(inline.split("pitchlab ", 1)[1])
    return [re.split(r"\s+#", c)[0].strip() for c in found]


def subparser(words: list[str]):
    parser, rest = cli._parser(), list(words)
    while rest and not rest[0].startswith("-"):
        choices = next((a.choices for a in parser._actions if getattr(a, "choices", None) and
                        isinstance(a.choices, dict)), None)
        if not choices or rest[0] not in choices:
            break
        parser = choices[rest.pop(0)]
    return parser


def test_every_documented_flag_exists_on_its_command():
    commands = documented_commands()
    assert len(commands) > 20
    for command in commands:
        words = [w for w in re.split(r"[\s\[\]|]+", command) if w]
        if words[0] in ("-v", "--verbose"):
            words = words[1:]
        if words[0].startswith("-"):  # a top-level option (--help, --version): the program's own parser has it
            assert words[0] in {o for a in cli._parser()._actions for o in a.option_strings}, command
            continue
        if words[0] == "COMMAND" or words[0] not in cli.COMMANDS:
            assert words[0] == "COMMAND", command
            continue
        parser = subparser(words)
        options = {o for a in parser._actions for o in a.option_strings}
        for flag in (w for w in words if w.startswith("--")):
            assert flag in options, f"{command}: {flag} is not an option of `pitchlab {' '.join(words[:2])}`"


def test_every_option_of_every_command_is_in_the_synopsis():
    synopsis = CONFIGURATION[CONFIGURATION.index("## Synopsis"):
                             CONFIGURATION.index("On a terminal, one progress bar")]
    parser = cli._parser()
    commands = next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    for name, sub in commands.items():
        lines = [line for line in synopsis.splitlines() if f"pitchlab {name} " in line or f"pitchlab {name}\n" in line]
        assert lines, f"pitchlab {name} has no synopsis"
        if name in ("reps", "descriptors"):
            continue  # their subcommands each have a line; their flags are checked above
        start = synopsis.index(f"pitchlab {name} ")
        text = synopsis[start:synopsis.find(".venv/bin/pitchlab", start + 1)]
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"pitchlab {name} {option} is missing from the synopsis in docs/configuration.md"


def env_of_flags() -> dict[str, str]:
    """flag -> environment variable, as each command's --help states it ("env PITCHLAB_X")."""
    parser = cli._parser()
    out = {}
    commands = next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    for sub in commands.values():
        for action in sub._actions:
            found = re.search(r"env (PITCHLAB_\w+)", action.help or "")
            if found and action.option_strings:
                out[action.option_strings[-1]] = found.group(1)
    return out


def test_the_env_table_matches_the_help():
    table = dict(re.findall(r"^\| `(--[\w-]+)` \| `(PITCHLAB_\w+)`", CONFIGURATION, re.M))
    assert table == env_of_flags()
    code = (ROOT / "pipeline" / "core" / "settings.py").read_text()
    read = set(re.findall(r'"(PITCHLAB_\w+)"', code))
    assert read == set(table.values()) | {"PITCHLAB_MODELS_DIR"}  # the one without a flag
    assert "`PITCHLAB_MODELS_DIR`" in CONFIGURATION


def test_the_make_targets_run_what_the_docs_say():
    documented = [found for doc in ALL_DOCS for found in re.findall(r"^make (\w+) +# = (.*)$", doc, re.M)]
    assert {target for target, _ in documented} >= {"watch", "status", "report"}
    for target, command in documented:
        # --no-print-directory: under `make test` this is a sub-make, which would print "Entering directory
        # '/path/pitchlab'" (a clone named pitchlab made that line look like a command)
        done = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", target], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        ran = [line.split() for line in done.stdout.splitlines() if line.split()[:1] == [".venv/bin/pitchlab"]]
        optional = re.findall(r"\[([^\]]+)\]", command)
        required = re.sub(r"\s*\[[^\]]+\]", "", command).split()
        assert ran == [required], target  # data/team.txt is not in the checkout: the optional part is left out
        makefile = (ROOT / "Makefile").read_text()
        for part in optional:
            flag, value = part.split()
            assert f"$(if $(wildcard {value}),{flag} {value},)" in makefile


def concrete(command: str, db: Path, inbox: Path, out: Path) -> list[str] | None:
    """A documented command made runnable on the demo-like database; None when it has placeholders or runs on."""
    words = shlex.split(re.sub(r"\s*\[[^\]]*\]", "", command))
    if not words or words[0] in ("watch", "analyze", "retry", "reps", "recluster", "COMMAND") or words[0] == "-v":
        return None
    if any(w.isupper() and w not in ("COMMAND",) for w in words):
        return None
    if words == ["forget"]:  # the command named in prose ("`pitchlab forget` recomputes ..."), not a call of it
        return None
    try:  # a command named in prose without its arguments (`pitchlab descriptors assign`) is not a call of it
        cli._parser().parse_args(words)
    except SystemExit:
        return None
    swap = {"data/demo.duckdb": str(db), "data/calls.duckdb": str(db), "data/inbox": str(inbox),
            "data/demo": str(inbox), "data/report.html": str(out), "/tmp/r.html": str(out)}
    words = [swap.get(w, w) for w in words]
    defaults = {"--db": str(db), "--inbox": str(inbox), "--out": str(out)}  # never the checkout's data/
    options = {o for a in subparser(words)._actions for o in a.option_strings}
    return words + [x for flag, value in defaults.items() if flag in options and flag not in words
                    for x in (flag, value)]


def test_every_runnable_documented_command_runs_on_the_demo(demo_like, tmp_path, capsys, monkeypatch):
    db, inbox = demo_like
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `descriptors review` without a terminal: no answers
    ran = set()
    for command in documented_commands():
        argv = concrete(command, db, inbox, tmp_path / "report.html")
        if argv is None or tuple(argv) in ran:
            continue
        ran.add(tuple(argv))
        assert cli.main(argv) == 0, command
    capsys.readouterr()
    assert {a[0] for a in ran} >= {"leaderboard", "report", "status"}


def test_the_duckdb_shell_line_opens_the_demo(demo_like):
    db, _ = demo_like
    line = re.search(r"^\.venv/bin/duckdb -readonly data/demo\.duckdb$", README, re.M)
    assert line, "README's shell line changed"
    shell = ROOT / ".venv" / "bin" / "duckdb"
    if not shell.exists():
        pytest.skip("the DuckDB shell is installed by `make setup` (the duckdb-cli package)")
    done = subprocess.run([str(shell), "-readonly", str(db), "-c", sql_examples()[0]], capture_output=True, text=True)
    assert done.returncode == 0 and "descriptor" not in done.stderr and done.stdout.strip(), done.stderr
