"""The HTML report: what the database says, gathered into frozen records, written as one self-contained file.

`gather` reads everything the report shows from a database; `report_html.render` draws it
(inline SVG, no scripts, nothing fetched); `write_report` does both.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote

import duckdb

from pipeline.analysis.board import board
from pipeline.analysis.board import next_tests as descriptor_tests
from pipeline.analysis.evidence import cluster_evidence, next_tests
from pipeline.analysis.stats import baseline_rate, leaderboard
from pipeline.reporting.report_data import REACTION_LABELS, Example, ClusterReport, RepReport, Quality, Report

log = logging.getLogger(__name__)


def gather(con: duckdb.DuckDBPyConnection, *, include_inferred: bool = True, examples: int = 3,
           inbox: Path | None = None) -> Report:
    """Everything the report shows, read from an open database; with `inbox`, failures count only while
    the failed file is still there."""
    baseline = baseline_rate(con, include_inferred=include_inferred)
    rows = leaderboard(con, include_inferred=include_inferred)
    p_best = {c: e.p_best for c, e in cluster_evidence(con, include_inferred=include_inferred).items()}
    clusters = tuple(
        ClusterReport(row, _examples(con, row.cluster_id, examples), _reaction_mix(con, row.cluster_id))
        for row in rows
    )
    level = board(con, include_inferred=include_inferred)
    tips = descriptor_tests(level, baseline) if level.descriptors else next_tests(rows, baseline, p_best)
    return Report(baseline, clusters, _reps(con), _quality(con, inbox), tips, include_inferred, level)


def _examples(con, cluster_id: int, limit: int) -> tuple[Example, ...]:
    """The phrases closest to the cluster's centre, at most one per call."""
    rows = con.execute(
        """
        SELECT text, source_file, start_s, reaction FROM (
            SELECT p.text, c.source_file, p.start_s,
                   (SELECT r.label FROM reactions r WHERE r.phrase_id = p.phrase_id LIMIT 1) AS reaction,
                   array_cosine_similarity(p.embedding, k.centroid) AS closeness,
                   row_number() OVER (PARTITION BY p.call_id
                                      ORDER BY array_cosine_similarity(p.embedding, k.centroid) DESC) AS nth
            FROM pitch_phrases p JOIN clusters k USING (cluster_id) JOIN calls c USING (call_id)
            WHERE p.cluster_id = ?
        ) WHERE nth = 1
        ORDER BY closeness DESC, source_file, start_s
        LIMIT ?
        """,
        [cluster_id, limit],
    ).fetchall()
    return tuple(Example(*r) for r in rows)


def _reaction_mix(con, cluster_id: int) -> tuple[tuple[str, int], ...]:
    counts = dict(con.execute(
        "SELECT r.label, count(*) FROM reactions r JOIN pitch_phrases p USING (phrase_id) "
        "WHERE p.cluster_id = ? GROUP BY r.label", [cluster_id]).fetchall())
    return tuple((label, counts.get(label, 0)) for label in REACTION_LABELS)


def _reps(con) -> tuple[RepReport, ...]:
    rows = con.execute(
        """
        WITH t AS (
            SELECT c.call_id, coalesce(c.rep, '(no rep named)') AS rep, t.speaker,
                   len(string_split(trim(t.text), ' ')) AS words,
                   CASE WHEN t.speaker = 'rep' THEN len(t.text) - len(replace(t.text, '?', '')) ELSE 0 END AS questions
            FROM turns t JOIN calls c USING (call_id)
        )
        SELECT rep, count(DISTINCT call_id),
               sum(words) FILTER (speaker = 'rep') / nullif(sum(words), 0),
               sum(questions) / count(DISTINCT call_id)
        FROM t GROUP BY rep ORDER BY rep
        """
    ).fetchall()
    used = con.execute(
        """
        SELECT coalesce(c.rep, '(no rep named)'), k.label, count(*) AS n
        FROM pitch_phrases p JOIN calls c USING (call_id) JOIN clusters k USING (cluster_id)
        WHERE k.cluster_id <> 0
        GROUP BY ALL ORDER BY n DESC, k.label
        """
    ).fetchall()
    return tuple(
        RepReport(rep, calls, ratio, float(questions),
                  tuple((label, n) for r, label, n in used if r == rep))
        for rep, calls, ratio, questions in rows
    )


def _quality(con, inbox: Path | None = None) -> Quality:
    calls, minutes, transcripts, labelled, inferred, unknown = con.execute(
        """
        SELECT count(*), coalesce(sum(duration_s) FILTER (source_kind = 'audio'), 0) / 60,
               count(*) FILTER (source_kind = 'transcript'),
               count(*) FILTER (outcome_source = 'label'), count(*) FILTER (outcome_source = 'inferred'),
               count(*) FILTER (outcome IS NULL)
        FROM calls
        """
    ).fetchone()
    failures = con.execute(
        "SELECT coalesce(file_sha256, source_file), list(DISTINCT source_file) FROM ingest_errors "
        "WHERE file_sha256 IS NULL OR file_sha256 NOT IN (SELECT call_id FROM calls) GROUP BY ALL"
    ).fetchall()
    if inbox is not None and inbox.is_dir():  # a failed file that was deleted no longer counts
        failures = [f for f in failures if any((inbox / name).exists() for name in f[1])]
    failed = len(failures)
    pitches, unclustered = con.execute(
        "SELECT count(*), count(*) FILTER (cluster_id IS NULL OR cluster_id = 0) FROM pitch_phrases WHERE kind = 'pitch'"
    ).fetchone()
    telephone, wideband = con.execute(
        "SELECT count(*) FILTER (band = 'telephone'), count(*) FILTER (band = 'wideband') FROM calls"
    ).fetchone()
    return Quality(calls, float(minutes), transcripts, failed, labelled, inferred, unknown, pitches, unclustered,
                   telephone, wideband)


def audio_link(report_path: Path, inbox: Path, example: Example) -> str:
    """A relative link from the report to the recording, at the phrase's time (a media fragment, `#t=SECONDS`).

    Every path segment is percent-encoded, so `#`, `?`, `%`, spaces, newlines and `;<!--` in a file
    name stay part of the name, and the link always starts with `./` or `../`, so no name
    (`javascript:alert(1).json`) can be read as a scheme.
    """
    target = Path(os.path.relpath(inbox / example.source_file, report_path.parent.resolve()))
    href = "/".join(quote(part, safe="") for part in target.parts)
    if not href.startswith("../"):
        href = "./" + href
    return href if example.start_s is None else f"{href}#t={example.start_s:.1f}"


def write_report(*, db: Path, out: Path, inbox: Path, include_inferred: bool = True) -> Report:
    """Read the database, write the report to `out` (one self-contained HTML file), return what it shows."""
    from pipeline.storage.db import opened
    from pipeline.core.files import make_folders, write_private_text
    from pipeline.reporting.report_html import render

    with opened(db, read_only=True, wait_s=10) as con:
        report = gather(con, include_inferred=include_inferred, inbox=inbox)
    make_folders(out.parent)  # a new folder 0700, a new report 0600: it quotes the calls
    write_private_text(out, render(report, link=lambda ex: audio_link(out.resolve(), inbox.resolve(), ex)))
    log.info("report written to %s", out)
    return report
