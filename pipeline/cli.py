"""`pitchlab`: thin commands over the pipeline's keyword-only functions."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from contextlib import closing
from pathlib import Path

from pipeline import descriptors_cli
from pipeline.core.errors import DatabaseBusy, PitchlabError
from pipeline.core.files import private_umask
from pipeline.core.settings import Settings, split_names
from pipeline.core.terminal import log_to_stderr, plural, printable

log = logging.getLogger("pipeline")


def _count(text: str) -> int:
    """argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not 0 or more seconds")
    return value


def version() -> str:
    """The installed package's version (pyproject.toml's, from the package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pitchlab")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed: run make setup)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pitchlab",
        description="Learn which ways of describing your product go with interested leads, "
        "from your recorded sales calls, on your own machine.",
        epilog="Start with: pitchlab analyze --inbox data/inbox (then pitchlab leaderboard, pitchlab report). "
        "`pitchlab COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"pitchlab {version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step (to stderr)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "analyze",
        help="transcribe and analyze new recordings and transcripts in an inbox folder, then print the leaderboard",
        description="Analyze every recording or transcript (.vtt/.srt/.json) in INBOX not already in the database (matched by "
        "content hash), store the results in the DuckDB file, re-cluster the phrases and print the "
        "descriptor leaderboard.",
    )
    _add_pipeline_args(p)
    p.add_argument("--top", type=_count, default=3, help="wordings shown under each descriptor of the leaderboard (default 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"],
                   help="where recordings are transcribed and analyzed: local (default) or ray, a Ray cluster "
                   "(needs the ray extra; env PITCHLAB_ENGINE)")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="with --engine ray: the cluster to join, e.g. HEAD:6379 (env RAY_ADDRESS; default: "
                   "start a Ray cluster on this machine)")
    p.add_argument("--ray-workers", type=int, metavar="N",
                   help="with --engine ray: worker actors, each with its own models (default: the cluster's CPUs)")

    w = sub.add_parser(
        "watch",
        help="analyze recordings as they are dropped into the inbox (runs until Ctrl-C)",
        description="Analyze what is in INBOX (subfolders too), then each new recording once it has stopped "
        "changing. Outcomes are re-read when outcomes.csv or a sidecar changes; clusters refresh once the "
        "inbox is quiet. The database is held only while writing. Ctrl-C or SIGTERM stops after the current file.",
    )
    _add_pipeline_args(w)
    w.add_argument("--settle", type=_seconds, default=3.0,
                   help="seconds a file must stay unchanged before it is read (default 3)")

    st = sub.add_parser("status", help="counts of processed, pending and failed recordings, and the last errors",
                        description="Show how many recordings are analyzed, waiting or failed, and the last errors.")
    st.add_argument("--inbox", type=Path, help="inbox folder (default data/inbox, env PITCHLAB_INBOX)")
    st.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")

    rt = sub.add_parser("retry", help="try failed recordings again (all, or the files named)",
                        description="Forget recorded failures so the next analyze or watch tries those files "
                        "again (a running watcher picks them up within 30 s).")
    rt.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    rt.add_argument("files", nargs="*", help="paths relative to the inbox, as `pitchlab status` shows them")

    fg = sub.add_parser(
        "forget", help="remove calls and everything derived from them (by call id, file, or age)",
        description="Remove each call named (CALL_ID, a unique prefix of 8+ hex digits, a recording FILE, or a "
        "stored source_file) or recorded more than AGE ago, and everything derived from it: turns, phrases, "
        "embeddings, reactions, terms, error rows, its share of the clusters. Only the recording's sha256 is kept "
        "(table `forgotten`), so analyze and watch skip it if it is dropped again. The database file is then "
        "rewritten so the deleted rows are gone from disk too.")
    fg.add_argument("targets", nargs="*", metavar="CALL_ID|FILE", help="calls to forget")
    fg.add_argument("--older-than", metavar="AGE",
                    help="forget every call recorded more than AGE ago (e.g. 90d or 12w; by the recording file's "
                    "date, else the date it was analyzed)")
    fg.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    fg.add_argument("--inbox", type=Path, help="where the recordings are (default data/inbox, env PITCHLAB_INBOX)")
    fg.add_argument("--delete-recording", action="store_true",
                    help="also delete the recording (every copy in the inbox, and its outcome sidecar)")

    rc = sub.add_parser(
        "recluster", help="fit the descriptor clusters again over every pitch phrase, keeping matching ids",
        description="Cluster every pitch phrase from scratch. A new cluster whose centroid is close to an old "
        "one (cosine >= 0.8) keeps the old id; replaced clusters are kept in cluster_history.")
    rc.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    descriptors_cli.add_file_option(rc)

    lb = sub.add_parser("leaderboard", help="print the descriptor leaderboard from a database",
                        description="Print descriptors (the benefits you test) ranked by interested-lead rate, "
                        "each with its wordings under it, then what to test next.")
    lb.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    lb.add_argument("--top", type=_count, default=3, help="wordings shown under each descriptor (default 3)")
    lb.add_argument("--labels-only", action="store_true",
                    help="count only the outcomes you gave, not those inferred from the calls")

    rp = sub.add_parser("report", help="write an HTML report with charts (one self-contained file)",
                        description="Write one HTML file (inline SVG, opens without a network): a forest plot of "
                        "descriptor clusters against the baseline, each cluster's examples with links to the "
                        "recording at that time, what to test next, per-rep habits and data quality.")
    rp.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    rp.add_argument("--out", type=Path, default=Path("data/report.html"), help="HTML file to write (default data/report.html)")
    rp.add_argument("--inbox", type=Path, help="where the recordings are, for the links "
                    "(default data/inbox, env PITCHLAB_INBOX)")
    rp.add_argument("--labels-only", action="store_true",
                    help="count only the outcomes you gave, not those inferred from the calls")

    rs = sub.add_parser("reps", help="enroll reps' voices so calls say which speaker is the rep, and who",
                        description="Enrolled reps' voice prints: in a mono call the voice that matches one is the "
                        "rep and the call's rep is that name; in a stereo call without a channel mapping the "
                        "matching channel is the rep's. Give --db before or after the subcommand.")
    rs.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    rsub = rs.add_subparsers(dest="reps_command", metavar="SUBCOMMAND")
    en = rsub.add_parser("enroll", help="store a rep's voice print from recordings of the rep talking alone",
                         description="Store (or replace) NAME's voice print: the mean voice print of the speech "
                         "in the samples (at least 3 s of speech; 20 s or more is better).")
    en.add_argument("name", metavar="NAME")
    en.add_argument("samples", nargs="+", type=Path, metavar="SAMPLE", help="audio files of the rep alone")
    en.add_argument("--channel", choices=["left", "right"],
                    help="stereo samples: the rep's channel (e.g. a call recorded with the rep on the left)")
    rsub.add_parser("list", help="the enrolled reps")
    rm = rsub.add_parser("remove", help="forget a rep's voice print")
    rm.add_argument("name", metavar="NAME")
    for p in rsub.choices.values():
        p.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="DuckDB file (as above)")
    descriptors_cli.add_parser(sub)
    return parser


def _add_pipeline_args(parser: argparse.ArgumentParser) -> None:
    """The options analyze and watch share."""
    from pipeline.core.settings import STEREO_PRESETS

    parser.add_argument("--inbox", type=Path,
                        help="folder of recordings and transcripts (default data/inbox, env PITCHLAB_INBOX)")
    parser.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    parser.add_argument("--outcomes", type=Path, help="CSV with columns file,outcome[,rep]; may appear later "
                        "when watching (env PITCHLAB_OUTCOMES)")
    parser.add_argument("--model", help="Whisper model: tiny.en (default, bundled), base (bundled), "
                        "a faster-whisper model name, or a local model folder (env PITCHLAB_MODEL)")
    parser.add_argument("--beam-size", type=_count, metavar="N",
                        help="Whisper beam size (default 1, greedy; 5 is Whisper's usual: about 2.3x slower, "
                        "slightly fewer errors; env PITCHLAB_BEAM)")
    parser.add_argument("--threads", type=_count, metavar="N",
                        help="CPU threads Whisper uses (default 2; env PITCHLAB_THREADS)")
    parser.add_argument("--workers", type=_count, metavar="N",
                        help="worker processes analyzing recordings at once, each with its own models and --threads "
                        "threads (default 1: all in this process; env PITCHLAB_WORKERS)")
    parser.add_argument("--rep-channel", choices=["left", "right"],
                        help="stereo recordings: the rep's channel (env PITCHLAB_REP_CHANNEL; default: detected "
                        "per call; a sidecar's \"rep_channel\" wins)")
    parser.add_argument("--stereo-preset", choices=sorted(STEREO_PRESETS),
                        help="stereo recordings: the rep's channel as your recording source puts it "
                        "(env PITCHLAB_STEREO_PRESET)")
    parser.add_argument("--vocabulary", type=Path, metavar="FILE",
                        help="product and company names, one a line, given to Whisper as hotwords "
                        "(env PITCHLAB_VOCABULARY)")
    parser.add_argument("--rep", action="append", metavar="NAME",
                        help="transcripts: a rep's name as it appears there (repeatable, or comma-separated; "
                        "env PITCHLAB_REPS)")
    parser.add_argument("--team", type=Path, help="transcripts: file of the team's rep names, one a line "
                        "(env PITCHLAB_TEAM)")
    parser.add_argument("--redact", action="store_true", default=None,
                        help="replace names, phone numbers, e-mails, card numbers and street addresses in transcripts "
                        "with <PERSON>, <PHONE>, ... before anything is stored (reps' names and --vocabulary stay; "
                        "needs the privacy extra; env PITCHLAB_REDACT=1)")
    parser.add_argument("--no-rehear", dest="rehear", action="store_false", default=None,
                        help="telephone-band calls: score each reply to a pitch on Whisper's words instead of hearing "
                        "it again with Moonshine base (env PITCHLAB_REHEAR=0)")
    descriptors_cli.add_file_option(parser)


def _pipeline_settings(args: argparse.Namespace, *, progress: bool) -> Settings:
    return Settings.from_env(
        inbox=args.inbox, db=args.db, outcomes=args.outcomes, model=args.model, beam_size=args.beam_size,
        cpu_threads=args.threads, rep_channel=args.rep_channel, stereo_preset=args.stereo_preset, vocabulary=args.vocabulary,
        progress=progress, team=args.team, redact=args.redact, rehear=args.rehear, descriptors=args.descriptors,
        rep_names=split_names(",".join(args.rep)) if args.rep else None,
        engine=getattr(args, "engine", None), ray_address=getattr(args, "ray_address", None),
        ray_workers=getattr(args, "ray_workers", None), workers=args.workers,
    )


def _leaderboard_text(con, *, top: int, include_inferred: bool) -> str:
    from pipeline.analysis.board import board, format_board, next_tests
    from pipeline.analysis.stats import baseline_rate

    b = board(con, include_inferred=include_inferred)
    tips = next_tests(b, baseline_rate(con, include_inferred=include_inferred)) if b.descriptors else ()
    return format_board(b, wordings_each=top, next_tests=tips)


def cmd_analyze(args: argparse.Namespace) -> int:
    from pipeline.analyze import analyze
    from pipeline.storage.db import opened

    settings = _pipeline_settings(args, progress=not args.no_progress)
    summary = analyze(settings)
    print(f"{plural(summary.found, 'recording')} in {printable(settings.inbox)}: {summary.processed} analyzed "
          f"({_what_was_analyzed(summary)} in {summary.wall_s:.0f} s), {summary.skipped_known} already known, "
          f"{len(summary.failed) + summary.skipped_failed} failed")
    if summary.skipped_forgotten:
        print(f"  {plural(len(summary.skipped_forgotten), 'recording')} forgotten (skipped):")
    for file in summary.skipped_forgotten:
        print(f"  skipped: {printable(file)} was forgotten (pitchlab forget); remove it from the inbox")
    for file, reason in summary.failed:
        print(f"  failed: {printable(file)}: {printable(reason)}")
    print(f"outcomes applied to {plural(summary.outcomes_applied, 'call')}; {summary.clustering}")
    print()
    with opened(settings.db, read_only=True) as con:
        print(_leaderboard_text(con, top=args.top, include_inferred=True))
    print(f"\nquery it: .venv/bin/duckdb -readonly {printable(settings.db)}")
    return 0


def _what_was_analyzed(summary) -> str:
    """"22.4 min of audio", "3 transcripts", "45 s of audio and 1 transcript", or "nothing new"."""
    parts = []
    if summary.processed > summary.transcripts:
        s = summary.audio_s
        parts.append(f"{s / 60:.1f} min of audio" if s >= 60 else f"{s:.0f} s of audio")
    if summary.transcripts:
        parts.append(plural(summary.transcripts, "transcript"))
    return " and ".join(parts) or "nothing new"


def _connect_waiting(path: Path, *, read_only: bool = False, wait_s: float = 30.0):
    """The database; when another process holds it, say so and wait up to `wait_s` seconds."""
    from pipeline.storage.db import connect

    try:
        return connect(path, read_only=read_only)
    except DatabaseBusy:
        print(f"pitchlab: {printable(path)} is in use by another process; waiting up to {wait_s:.0f} s for it",
              file=sys.stderr, flush=True)
        return connect(path, read_only=read_only, wait_s=wait_s)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    settings = Settings.paths_from_env(db=args.db)
    with closing(_connect_waiting(settings.db, read_only=True, wait_s=10)) as con:
        print(_leaderboard_text(con, top=args.top, include_inferred=not args.labels_only))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.reporting.report import write_report

    settings = Settings.paths_from_env(db=args.db, inbox=args.inbox)
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: run `pitchlab analyze` first, or name one with --db")
    try:
        report = write_report(db=settings.db, out=args.out, inbox=settings.inbox, include_inferred=not args.labels_only)
    except OSError as exc:
        raise PitchlabError(f"cannot write {args.out} ({exc.strerror or exc}): choose another --out") from None
    print(f"wrote {args.out}: {len(report.clusters)} clusters, {report.quality.calls} calls; open it in a browser")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from pipeline.watch import WatchTiming, stop_on_signals, watch

    logging.getLogger("pipeline").setLevel(logging.INFO)  # a foreground service says what it does
    settings = _pipeline_settings(args, progress=False)
    summary = watch(settings, stop=stop_on_signals(), timing=WatchTiming(settle_s=args.settle))
    print(f"stopped: {plural(summary.processed, 'call')} analyzed, {plural(summary.failed, 'recording')} failed")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.status import format_status, inbox_status

    print(format_status(inbox_status(Settings.paths_from_env(inbox=args.inbox, db=args.db))))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from pipeline.storage.store import clear_errors, failed_files

    settings = Settings.paths_from_env(db=args.db)
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: nothing has failed there (name the database with --db)")
    with closing(_connect_waiting(settings.db)) as con:  # a running watcher holds it only briefly
        failed = failed_files(con)
        named = list(dict.fromkeys(args.files))
        unknown = [f for f in named if f not in failed]
        if named and len(unknown) == len(named):
            raise PitchlabError(f"no recorded failure matches {', '.join(map(printable, unknown))}: "
                                "`pitchlab status` lists the failed files by their path in the inbox")
        if not failed:
            print("no failures recorded: nothing to retry")
            return 0
        retried = [f for f in named if f in failed] or sorted(failed)
        clear_errors(con, retried)
    print(f"{plural(len(retried), 'failed recording')} will be tried again by the next analyze or watch")
    for name in unknown:
        print(f"  no recorded failure matches {printable(name)}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from pipeline import forget
    from pipeline.storage.db import connect

    settings = Settings.paths_from_env(db=args.db, inbox=args.inbox)
    age = forget.parse_age(args.older_than) if args.older_than is not None else None
    if not args.targets and age is None:
        raise PitchlabError("say what to forget: pitchlab forget CALL_ID|FILE ... or pitchlab forget --older-than 90d")
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: name one with --db")
    con = connect(settings.db, wait_s=30)
    try:
        ids = forget.resolve(con, args.targets) if args.targets else []
        if age is not None:
            ids += forget.older_than(con, age)
        if not ids:
            print(f"no calls recorded more than {args.older_than} ago: nothing forgotten")
            return 0
        done = forget.forget(con, ids)
        forget.rewrite(con, settings.db)
    finally:
        con.close()
    rows = sum(done.rows.values())
    print(f"forgot {plural(len(done.files), 'call')} ({', '.join(done.files) or 'none stored'}): {rows} rows from "
          f"{len(done.rows)} tables; {done.clusters_recomputed} clusters recomputed, {done.clusters_removed} removed; "
          f"{settings.db} rewritten, so the deleted rows are gone from the file")
    copies = forget.inbox_copies(settings.inbox, done.call_ids)
    for path in [Path(t) for t in args.targets if Path(t).is_file()]:
        if path not in copies:
            copies.append(path)
    if args.delete_recording:
        for path in forget.delete_recordings(copies):
            print(f"deleted {path}")
    else:
        for path in copies:
            print(f"{path} is still there: analyze and watch skip it (only its sha256 is kept); "
                  "--delete-recording removes it")
    if done.call_ids:
        print("a report written before (pitchlab report) may still quote these calls: write it again")
    return 0


def cmd_recluster(args: argparse.Namespace) -> int:
    from pipeline.analysis.cluster import refit
    from pipeline.analysis.descriptors import read_csv, sync_file
    from pipeline.analysis.themes import namer_for

    named = args.descriptors or (Path(os.environ["PITCHLAB_DESCRIPTORS"]) if os.environ.get("PITCHLAB_DESCRIPTORS") else None)
    settings = Settings.paths_from_env(db=args.db, descriptors=named)
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: run `pitchlab analyze` first")
    if settings.descriptors:
        if not settings.descriptors.is_file():
            raise PitchlabError(f"descriptors file {settings.descriptors} not found: write `descriptor,example` rows there")
        read_csv(settings.descriptors)  # a bad file is an error before any work
    with closing(_connect_waiting(settings.db)) as con:
        print(refit(con, keep_ids=True, namer=namer_for()))
        if settings.descriptors:
            print(sync_file(con, settings.descriptors, descriptors_cli.make_embedder()))
    return 0


def cmd_reps(args: argparse.Namespace) -> int:
    from pipeline.voices import reps

    settings = Settings.paths_from_env(db=args.db)
    if args.reps_command is None:
        raise PitchlabError("say what to do: pitchlab reps enroll NAME sample.wav | pitchlab reps list | "
                            "pitchlab reps remove NAME")
    if args.reps_command == "enroll":
        from pipeline.voices.voice import ResemblyzerEncoder

        for path in args.samples:  # before loading the encoder or touching the database
            if not path.is_file():
                raise PitchlabError(f"voice sample {path} not found: give an audio file of the rep speaking")
        encoder = ResemblyzerEncoder()
        with closing(_connect_waiting(settings.db)) as con:
            rep = reps.enroll(con, args.name, args.samples, encoder=encoder, channel=args.channel)
        print(f"enrolled {printable(rep.name)}: {rep.seconds:.1f} s of speech from {plural(len(rep.samples), 'sample')}")
        return 0
    if args.reps_command == "list":
        if not settings.db.exists():
            raise PitchlabError(f"no database at {settings.db}: enroll a rep first (pitchlab reps enroll NAME sample.wav)")
        with closing(_connect_waiting(settings.db, read_only=True, wait_s=10)) as con:
            rows = reps.listed(con)
        if not rows:
            print("no reps enrolled: pitchlab reps enroll NAME sample.wav")
        for name, samples, seconds, at in rows:
            print(f"{printable(name)}\t{seconds:.1f} s of speech\t{printable(', '.join(samples))}\t"
                  f"enrolled {at:%Y-%m-%d %H:%M}")
        return 0
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: nothing is enrolled there")
    with closing(_connect_waiting(settings.db)) as con:
        reps.remove(con, args.name)
    print(f"removed {printable(args.name)}")
    return 0


COMMANDS = {"analyze": cmd_analyze, "watch": cmd_watch, "status": cmd_status, "retry": cmd_retry,
            "recluster": cmd_recluster, "forget": cmd_forget, "leaderboard": cmd_leaderboard, "report": cmd_report,
            "reps": cmd_reps, "descriptors": descriptors_cli.cmd_descriptors}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    log_to_stderr(logging.INFO if args.verbose else logging.WARNING)
    try:
        with private_umask():  # the database's log and anything else made on the way: the user's only
            return COMMANDS[args.command](args)
    except PitchlabError as exc:
        print(f"pitchlab: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pitchlab: interrupted; finished calls are saved, run again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
