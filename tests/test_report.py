"""The HTML report: what it gathers from a database built with the fakes, what it draws, and how a browser shows it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FakeModels, ScriptTranscriber
from pipeline import cli
from pipeline.analysis.evidence import next_tests
from pipeline.analysis.stats import LeaderRow
from pipeline.analyze import analyze
from pipeline.core.settings import Settings
from pipeline.reporting.report import ClusterReport, Quality, gather, write_report
from pipeline.storage import db

WATCHED = "The dashboard shows exactly which buyers watched your video."
SYNCS = "Every recording syncs straight into Salesforce automatically."
POWERED = "Our platform is powered by modern artificial intelligence."
# (file, rep, outcome, the pitch said, the prospect's reply)
CALLS = [
    ("a1.json", "Dana", "interested", WATCHED, "Nice, how does that work?"),
    ("a2.json", "Dana", "interested", WATCHED, "Show me, how does that work?"),
    ("a3.json", "Dana", "interested", WATCHED, "Nice."),
    ("a4.json", "Sam", "interested", WATCHED, "How does that work?"),
    ("a5.json", "Sam", "not_interested", WATCHED, "Okay."),
    ("b1.json", "Dana", "interested", SYNCS, "Okay."),
    ("b2.json", "Sam", "not_interested", SYNCS, "We already have a tool for that."),
    ("b3.json", "Sam", "interested", SYNCS, "Okay."),
    ("c1.json", "Sam", "not_interested", POWERED, "That is not a priority."),
    ("c2.json", "Sam", "not_interested", POWERED, "We already have a tool for that."),
    ("c3.json", "Dana", "not_interested", POWERED, "Okay."),
    ("c4.json", "Sam", None, POWERED, "Okay."),
]


def write_calls(box: Path) -> None:
    box.mkdir()
    for name, rep, outcome, pitch, reply in CALLS:
        turns = [
            {"speaker": "rep", "text": "Hi, thanks for taking the call today.", "start": 0.0, "end": 2.0},
            {"speaker": "prospect", "text": "Sure, go ahead.", "start": 2.5, "end": 3.5},
            {"speaker": "rep", "text": f"How do you follow up today? {pitch}", "start": 4.0, "end": 9.0},
            {"speaker": "prospect", "text": reply, "start": 9.5, "end": 11.0},
        ]
        body = {"rep": rep, "turns": turns} | ({"outcome": outcome} if outcome else {})
        (box / name).write_text(json.dumps(body))
    (box / "broken.json").write_text('{"turns": [')


@pytest.fixture(scope="module")
def report_db(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report")
    write_calls(root / "inbox")
    settings = Settings(inbox=root / "inbox", db=root / "r.duckdb", progress=False)
    analyze(settings, models=FakeModels(ScriptTranscriber([[]])))
    return settings.db, settings.inbox


def test_gather_reads_clusters_examples_reactions_reps_and_quality(report_db):
    path, _ = report_db
    with db.opened(path, read_only=True) as con:
        report = gather(con)
    assert report.baseline == pytest.approx(6 / 11)  # 11 calls with an outcome, 6 interested; c4 unknown
    assert [(c.row.example, c.row.calls_with_outcome, c.row.interested_calls, c.reactions) for c in report.clusters] == [
        (WATCHED, 5, 4, (("interested", 4), ("neutral", 1), ("objection", 0))),  # best rate first
        (SYNCS, 3, 2, (("interested", 0), ("neutral", 2), ("objection", 1))),
        (POWERED, 3, 0, (("interested", 0), ("neutral", 2), ("objection", 2))),
    ]
    watched = report.clusters[0]
    assert [(e.text, e.source_file, e.reaction) for e in watched.examples] == [  # one per call, three at most
        (WATCHED, "a1.json", "interested"), (WATCHED, "a2.json", "interested"), (WATCHED, "a3.json", "interested")]
    assert 4.0 < watched.examples[0].start_s < 9.0  # inside the rep's turn
    assert report.quality == Quality(calls=12, audio_minutes=0.0, transcripts=12, failed=1, labelled=11, inferred=0,
                                     unknown=1, pitches=12, unclustered=0)
    dana, sam = report.reps
    labels = {c.row.example: c.row.label for c in report.clusters}
    assert (dana.rep, dana.calls, dana.questions_per_call) == ("Dana", 5, 1.0)  # "How do you follow up today?"
    assert dana.descriptors[0] == (labels[WATCHED], 3)
    assert dict(dana.descriptors) == {labels[WATCHED]: 3, labels[SYNCS]: 1, labels[POWERED]: 1}
    # Dana's rep words: 22 in each WATCHED call, 20 (SYNCS), 21 (POWERED); the prospects': 3 a call + 5, 6, 1, 1, 1
    assert dana.talk_ratio == pytest.approx(107 / 136)
    assert (sam.rep, sam.calls, dict(sam.descriptors)) == (
        "Sam", 7, {labels[WATCHED]: 2, labels[SYNCS]: 2, labels[POWERED]: 3})


def row(cid, rate, lo, hi, n, low=False) -> ClusterReport:
    r = LeaderRow(cid, f"c{cid}", "ex", n, n, n, round((rate or 0) * n), rate, None, lo, hi, None, low)
    return ClusterReport(r, (), (("interested", 0), ("neutral", 0), ("objection", 0)))


def test_next_tests_keep_reconsider_and_confirm():
    clusters = (row(1, 0.9, 0.7, 0.97, 20), row(2, 0.7, 0.3, 0.9, 3, True), row(3, 0.1, 0.02, 0.3, 20),
                row(4, 0.4, 0.2, 0.6, 10), row(5, None, None, None, 0, True), row(6, 1.0, 0.6, 1.0, 4, True),
                row(7, 0.0, 0.0, 0.47, 3, True))
    rows = [c.row for c in clusters]
    tips = next_tests(rows, 0.5)
    assert len(tips) == 4
    assert tips[0].startswith("Keep “c1” (cluster 1): 90% interested against 50% overall")
    assert tips[1] == ("Test “c2” (cluster 2) on purpose: 70% interested against 50% overall, but over only 3 calls; "
                       "it needs at least 2 more labelled calls before it counts.")
    assert tips[2].startswith("Reconsider “c3” (cluster 3): 10% interested")
    # few calls: above the baseline all the same is only worth testing; below it, not yet a verdict
    assert tips[3].startswith("Test “c6” (cluster 6) on purpose") and tips[3].endswith("at least 1 more labelled call before it counts.")
    assert next_tests(rows, None) == (
        "No call has an outcome yet: add outcomes (outcomes.csv or sidecars) so wording can be compared.",)
    assert next_tests([row(4, 0.4, 0.2, 0.6, 10).row], 0.5) == (
        "No wording stands out from the others yet: keep recording calls and filling in outcomes.",)
    with_best = next_tests(rows, 0.5, {1: 0.62, 2: 0.2})
    assert with_best[0].startswith("Keep “c1” (cluster 1, P(best) 62%): 90% interested")


def test_report_html_has_a_forest_plot_row_per_cluster_and_links_to_the_recording_time(report_db, tmp_path):
    path, inbox = report_db
    out = tmp_path / "out" / "report.html"
    assert cli.main(["report", "--db", str(path), "--out", str(out), "--inbox", str(inbox)]) == 0
    html = out.read_text()
    with db.opened(path, read_only=True) as con:
        ids = sorted(r[0] for r in con.execute("SELECT cluster_id FROM clusters WHERE cluster_id > 0").fetchall())
    assert sorted(int(i) for i in re.findall(r'<g class="cluster-row" data-cluster="(\d+)">', html)) == ids
    assert html.count('class="interval"') == len(ids) and html.count('class="rate"') == len(ids)
    assert html.count('class="baseline"') == 1
    assert sorted(int(i) for i in re.findall(r'<svg class="reactions" data-cluster="(\d+)"', html)) == ids
    links = re.findall(r'<a href="([^"]+)">', html)
    assert len(links) == 3 + 3 + 3  # three examples per cluster, each a relative link with the time
    assert all(re.fullmatch(r"\.\./[^#]+\.json#t=\d+\.\d", link) for link in links)
    assert (out.parent / links[0].split("#")[0]).resolve() == (inbox / "a1.json").resolve()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert "<script" not in html and "broken.json" not in html


def test_report_without_a_database_says_what_to_do(tmp_path, capsys):
    assert cli.main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == (
        f"pitchlab: no database at {tmp_path / 'none.duckdb'}: run `pitchlab analyze` first, or name one with --db\n")


def test_report_to_an_unwritable_place_says_what_to_do(report_db, tmp_path, capsys):
    path, _ = report_db
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "report.html"  # a folder that is a file
    assert cli.main(["report", "--db", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"pitchlab: cannot write {out} (File exists): choose another --out\n"


def test_empty_database_still_writes_a_page(tmp_path):
    with db.opened(tmp_path / "e.duckdb"):
        pass
    report = write_report(db=tmp_path / "e.duckdb", out=tmp_path / "e.html", inbox=tmp_path)
    html = (tmp_path / "e.html").read_text()
    assert report.clusters == () and "No clusters yet: analyze some calls first." in html
    assert "<svg" not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run does)")
def test_report_renders_in_headless_chromium_with_the_charts_drawn(report_db, tmp_path):
    import numpy as np
    from PIL import Image

    path, inbox = report_db
    out = tmp_path / "report.html"
    report = write_report(db=path, out=out, inbox=inbox)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--hide-scrollbars", "--window-size=1000,900", f"--screenshot={shot}", out.as_uri()],
        check=True, capture_output=True, timeout=60,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (900, 1000)
    # the forest plots' blue intervals and dots (#3e7cb1, used only there: descriptors first, then wordings), and its red dashed baseline (#d64545)
    blue = np.all(np.abs(pixels - [0x3E, 0x7C, 0xB1]) < 12, axis=2)
    red = np.all(np.abs(pixels - [0xD6, 0x45, 0x45]) < 12, axis=2)
    assert sum(1 for c in report.clusters if not c.row.low_support) >= 1
    assert blue.sum() > 200, "no forest-plot intervals drawn"
    assert red.sum() > 20, "no baseline drawn"
    assert pixels.std() > 20, "the page looks blank"
