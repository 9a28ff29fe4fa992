"""`pitchlab`: thin commands over the pipeline's keyword-only functions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__, descriptors_cli
from .errors import PitchlabError
from .settings import Settings, split_names

log = logging.getLogger("pipeline")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pitchlab",
        description="Learn which ways of describing your product go with interested leads, "
        "from your recorded sales calls, on your own machine.",
        epilog="Start with: pitchlab analyze --inbox data/inbox (then pitchlab leaderboard, pitchlab report). "
        "`pitchlab COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"pitchlab {__version__}")
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
    p.add_argument("--top", type=int, default=3, help="wordings shown under each descriptor of the leaderboard")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    w = sub.add_parser(
        "watch",
        help="analyze recordings as they are dropped into the inbox (runs until Ctrl-C)",
        description="Analyze what is in INBOX (subfolders too), then each new recording once it has stopped "
        "changing. Outcomes are re-read when outcomes.csv or a sidecar changes; clusters refresh once the "
        "inbox is quiet. The database is held only while writing. Ctrl-C or SIGTERM stops after the current file.",
    )
    _add_pipeline_args(w)
    w.add_argument("--settle", type=float, default=3.0,
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
    lb.add_argument("--top", type=int, default=3, help="wordings shown under each descriptor")
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
    from .speakers import STEREO_PRESETS

    parser.add_argument("--inbox", type=Path,
                        help="folder of recordings and transcripts (default data/inbox, env PITCHLAB_INBOX)")
    parser.add_argument("--db", type=Path, help="DuckDB file (default data/calls.duckdb, env PITCHLAB_DB)")
    parser.add_argument("--outcomes", type=Path, help="CSV with columns file,outcome[,rep]; may appear later "
                        "when watching (env PITCHLAB_OUTCOMES)")
    parser.add_argument("--model", help="Whisper model: tiny.en (default, bundled), base (bundled), "
                        "a faster-whisper model name, or a local model folder (env PITCHLAB_MODEL)")
    parser.add_argument("--beam-size", type=int, metavar="N",
                        help="Whisper beam size (default 1, greedy; 5 is Whisper's usual: about 2.3x slower, "
                        "slightly fewer errors; env PITCHLAB_BEAM)")
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
    descriptors_cli.add_file_option(parser)


def _pipeline_settings(args: argparse.Namespace, *, progress: bool) -> Settings:
    return Settings.from_env(
        inbox=args.inbox, db=args.db, outcomes=args.outcomes, model=args.model, beam_size=args.beam_size,
        rep_channel=args.rep_channel, stereo_preset=args.stereo_preset, vocabulary=args.vocabulary,
        progress=progress, team=args.team, descriptors=args.descriptors,
        rep_names=split_names(",".join(args.rep)) if args.rep else None,
    )


def _leaderboard_text(con, *, top: int, include_inferred: bool) -> str:
    from .board import board, format_board, next_tests
    from .stats import baseline_rate

    b = board(con, include_inferred=include_inferred)
    tips = next_tests(b, baseline_rate(con, include_inferred=include_inferred)) if b.descriptors else ()
    return format_board(b, wordings_each=top, next_tests=tips)


def cmd_analyze(args: argparse.Namespace) -> int:
    from .analyze import analyze
    from .db import opened

    settings = _pipeline_settings(args, progress=not args.no_progress)
    summary = analyze(settings)
    print(
        f"{summary.found} recordings in {settings.inbox}: {summary.processed} analyzed "
        f"({summary.audio_s / 60:.1f} min of audio in {summary.wall_s:.0f} s), "
        f"{summary.skipped_known} already known, {len(summary.failed) + summary.skipped_failed} failed"
    )
    for file, reason in summary.failed:
        print(f"  failed: {file}: {reason}")
    print(f"outcomes applied to {summary.outcomes_applied} calls; {summary.clustering}")
    print()
    with opened(settings.db, read_only=True) as con:
        print(_leaderboard_text(con, top=args.top, include_inferred=True))
    print(f"\nquery it: .venv/bin/duckdb -readonly {settings.db}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .db import opened

    settings = Settings.from_env(db=args.db)
    with opened(settings.db, read_only=True, wait_s=10) as con:
        print(_leaderboard_text(con, top=args.top, include_inferred=not args.labels_only))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    settings = Settings.from_env(db=args.db, inbox=args.inbox)
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: run `pitchlab analyze` first, or name one with --db")
    try:
        report = write_report(db=settings.db, out=args.out, inbox=settings.inbox, include_inferred=not args.labels_only)
    except OSError as exc:
        raise PitchlabError(f"cannot write {args.out} ({exc.strerror or exc}): choose another --out") from None
    print(f"wrote {args.out}: {len(report.clusters)} clusters, {report.quality.calls} calls; open it in a browser")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from .watch import WatchTiming, stop_on_signals, watch

    logging.getLogger("pipeline").setLevel(logging.INFO)  # a foreground service says what it does
    settings = _pipeline_settings(args, progress=False)
    summary = watch(settings, stop=stop_on_signals(), timing=WatchTiming(settle_s=args.settle))
    print(f"stopped: {summary.processed} calls analyzed, {summary.failed} recordings failed")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .status import format_status, inbox_status

    print(format_status(inbox_status(Settings.from_env(inbox=args.inbox, db=args.db))))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from .db import opened
    from .store import clear_errors

    settings = Settings.from_env(db=args.db)
    with opened(settings.db, wait_s=30) as con:  # a running watcher holds it only briefly
        cleared = clear_errors(con, args.files or None)
    print(f"{cleared} failures forgotten; the next analyze or watch tries those files again")
    return 0


def cmd_recluster(args: argparse.Namespace) -> int:
    from .cluster import refit
    from .db import opened
    from .descriptors import read_csv, sync_file
    from .themes import namer_for

    settings = Settings.from_env(db=args.db, descriptors=args.descriptors)
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: run `pitchlab analyze` first")
    if settings.descriptors:
        read_csv(settings.descriptors)  # a bad file is an error before any work
    with opened(settings.db, wait_s=30) as con:
        print(refit(con, keep_ids=True, namer=namer_for()))
        if settings.descriptors:
            print(sync_file(con, settings.descriptors, descriptors_cli.make_embedder()))
    return 0


def cmd_reps(args: argparse.Namespace) -> int:
    from . import reps
    from .db import opened

    settings = Settings.from_env(db=args.db)
    if args.reps_command is None:
        raise PitchlabError("say what to do: pitchlab reps enroll NAME sample.wav | pitchlab reps list | "
                            "pitchlab reps remove NAME")
    if args.reps_command == "enroll":
        from .voice import ResemblyzerEncoder

        for path in args.samples:  # before loading the encoder or touching the database
            if not path.is_file():
                raise PitchlabError(f"voice sample {path} not found: give an audio file of the rep speaking")
        encoder = ResemblyzerEncoder()
        with opened(settings.db, wait_s=30) as con:
            rep = reps.enroll(con, args.name, args.samples, encoder=encoder, channel=args.channel)
        print(f"enrolled {rep.name}: {rep.seconds:.1f} s of speech from {len(rep.samples)} sample(s)")
        return 0
    if args.reps_command == "list":
        if not settings.db.exists():
            raise PitchlabError(f"no database at {settings.db}: enroll a rep first (pitchlab reps enroll NAME sample.wav)")
        with opened(settings.db, read_only=True, wait_s=10) as con:
            rows = reps.listed(con)
        if not rows:
            print("no reps enrolled: pitchlab reps enroll NAME sample.wav")
        for name, samples, seconds, at in rows:
            print(f"{name}\t{seconds:.1f} s of speech\t{', '.join(samples)}\tenrolled {at:%Y-%m-%d %H:%M}")
        return 0
    if not settings.db.exists():
        raise PitchlabError(f"no database at {settings.db}: nothing is enrolled there")
    with opened(settings.db, wait_s=30) as con:
        reps.remove(con, args.name)
    print(f"removed {args.name}")
    return 0


COMMANDS = {"analyze": cmd_analyze, "watch": cmd_watch, "status": cmd_status, "retry": cmd_retry,
            "recluster": cmd_recluster, "leaderboard": cmd_leaderboard, "report": cmd_report,
            "reps": cmd_reps, "descriptors": descriptors_cli.cmd_descriptors}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return COMMANDS[args.command](args)
    except PitchlabError as exc:
        print(f"pitchlab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pitchlab: interrupted; finished calls are saved, run again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
