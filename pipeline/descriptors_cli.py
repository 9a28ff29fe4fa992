"""`pitchlab descriptors ...`: declare, list, remove, suggest, review and assign descriptors (thin commands)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.core.errors import PitchlabError
from pipeline.core.settings import Settings

HELP = ("say what to do: pitchlab descriptors add NAME EXAMPLE... | list | remove NAME | suggest | review | "
        "assign CLUSTER DESCRIPTOR")


def make_embedder():
    """MiniLM, the model the phrases were embedded with (tests replace this)."""
    from pipeline.language.embed import MiniLMEmbedder

    return MiniLMEmbedder()


def add_parser(sub) -> None:
    d = sub.add_parser("descriptors", help="the benefits you are testing: declare, review and assign them",
                       description="Descriptors are the benefits you are testing, each with example lines a rep "
                       "would say. Every pitch phrase gets one (or `other`); wording clusters (near-identical "
                       "phrasings) live inside them. Give --db before or after the subcommand.")
    d.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    dsub = d.add_subparsers(dest="descriptors_command", metavar="SUBCOMMAND")
    a = dsub.add_parser("add", help="declare a descriptor (or give an existing one new example lines)",
                        description="Declare NAME with one or more example lines; every stored pitch phrase is "
                        "re-assigned from its stored embedding (no re-transcription).")
    a.add_argument("name", metavar="NAME")
    a.add_argument("examples", nargs="+", metavar="EXAMPLE", help="a line a rep would say for it")
    dsub.add_parser("list", help="the descriptors, with their examples and how many pitch phrases each has")
    r = dsub.add_parser("remove", help="forget a declared descriptor; its phrases are re-assigned")
    r.add_argument("name", metavar="NAME")
    dsub.add_parser("suggest", help="print the suggested descriptors with example lines, as CSV to paste and rename",
                    description="Suggested descriptors: wording clusters that fit no declared descriptor, merged "
                    "into themes. The output is `descriptor,example` CSV: paste it into your descriptors file, "
                    "rename, and give the file with --descriptors.")
    v = dsub.add_parser("review", help="confirm or move each wording cluster's descriptor, one answer each",
                        description="Shows each wording cluster (example lines, calls, its descriptor now and how "
                        "sure) and reads one answer: Enter keeps it (confirmed), a descriptor name moves it there, "
                        "`other` takes it out, s skips, q stops. Without a terminal the answers are read from "
                        "stdin, one a line.")
    v.add_argument("--all", action="store_true", help="also wordings you already confirmed")
    s = dsub.add_parser("assign", help="confirm wording cluster CLUSTER as DESCRIPTOR (or `other`)")
    s.add_argument("cluster", type=int, metavar="CLUSTER")
    s.add_argument("descriptor", metavar="DESCRIPTOR")
    for p in dsub.choices.values():
        p.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="DuckDB file (as above)")


def add_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--descriptors", type=Path, metavar="FILE",
                        help="CSV `descriptor,example` of the benefits you are testing (several rows per "
                        "descriptor; # comments); the declared descriptors become exactly these "
                        "(env PITCHLAB_DESCRIPTORS)")


def cmd_descriptors(args: argparse.Namespace) -> int:
    from pipeline.analysis import descriptors
    from pipeline.storage.db import opened

    settings = Settings.from_env(db=args.db)
    command = args.descriptors_command
    if command is None:
        raise PitchlabError(HELP)
    if command in ("list", "suggest", "review", "assign", "remove") and not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: run `pitchlab analyze` first, or name one with --db")
    if command == "add":
        wanted = descriptors.Declared(args.name.strip(), tuple(e.strip() for e in args.examples))
        if not wanted.name:
            raise PitchlabError("give the descriptor a name")
        embedder = make_embedder()
        with opened(settings.db, wait_s=30) as con:
            changed = descriptors.declare(con, [wanted], embedder)
            phrases = _assigned(con, wanted.name)
        print(f"declared {wanted.name} ({len(wanted.examples)} example line{'s' if len(wanted.examples) > 1 else ''})"
              + (f"; every pitch phrase re-assigned: {phrases} are {wanted.name}" if changed else " (unchanged)"))
        return 0
    if command == "remove":
        with opened(settings.db, wait_s=30) as con:
            descriptors.remove(con, args.name)
        print(f"removed {args.name}; every pitch phrase re-assigned")
        return 0
    if command == "assign":
        with opened(settings.db, wait_s=30) as con:
            print(descriptors.assign_cluster(con, args.cluster, args.descriptor))
        return 0
    if command == "review":
        from pipeline.analysis.review import review

        interactive = sys.stdin.isatty()
        answers = iter(lambda: sys.stdin.readline(), "")
        with opened(settings.db, wait_s=30) as con:
            done, shown = review(con, (a.rstrip("\n") for a in answers), lambda line: print(line, flush=True),
                                 prompt=interactive, include_confirmed=args.all)
        print(f"{done} of {shown} wordings shown assigned")
        return 0
    with opened(settings.db, read_only=True, wait_s=10) as con:
        print(listing(con) if command == "list" else suggestions(con))
    return 0


def _assigned(con, name: str) -> int:
    return con.execute("SELECT count(*) FROM pitch_phrases p JOIN descriptors d USING (descriptor_id) "
                       "WHERE d.name = ?", [name]).fetchone()[0]


def listing(con) -> str:
    rows = con.execute(
        """
        SELECT d.name, d.source, d.examples, count(p.phrase_id), count(DISTINCT p.cluster_id)
        FROM descriptors d LEFT JOIN pitch_phrases p USING (descriptor_id)
        GROUP BY ALL HAVING d.source = 'declared' OR count(p.phrase_id) > 0
        ORDER BY d.source, count(p.phrase_id) DESC, d.name
        """
    ).fetchall()
    if not rows:
        return "no descriptors yet: pitchlab descriptors add NAME \"an example line\" (or --descriptors FILE)"
    other = con.execute("SELECT count(*) FROM pitch_phrases WHERE kind = 'pitch' AND descriptor_method = 'other'"
                        ).fetchone()[0]
    lines = []
    for name, source, examples, phrases, wordings in rows:
        lines.append(f"{name}\t{source}\t{phrases} pitch phrase{'s' if phrases != 1 else ''} in {wordings} "
                     f"wording{'s' if wordings != 1 else ''}")
        lines += [f"    “{e}”" for e in examples]
    lines.append(f"other\t{other} pitch phrases fit no descriptor")
    return "\n".join(lines)


def suggestions(con) -> str:
    """The suggested descriptors that hold phrases, as `descriptor,example` CSV rows."""
    import csv
    import io

    rows = con.execute(
        """
        SELECT d.name, d.examples, count(p.phrase_id) AS phrases, count(DISTINCT p.call_id) AS calls
        FROM descriptors d JOIN pitch_phrases p USING (descriptor_id)
        WHERE d.source = 'suggested' GROUP BY ALL ORDER BY phrases DESC, d.name
        """
    ).fetchall()
    if not rows:
        return "# no suggestions: every wording fits a declared descriptor (or nothing is analyzed yet)"
    out = io.StringIO()
    out.write("# suggested descriptors: paste into your descriptors CSV, rename, keep the lines that fit\n")
    out.write("descriptor,example\n")
    writer = csv.writer(out, lineterminator="\n")
    for name, examples, phrases, calls in rows:
        out.write(f"# {name}: {phrases} pitch phrase{'s' if phrases != 1 else ''} in {calls} call{'s' if calls != 1 else ''}\n")
        for example in examples:
            writer.writerow([name, example])
    return out.getvalue().rstrip("\n")
