"""The report's links to recordings: any file name gives a working relative link, and never a scheme."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import FakeModels, ScriptTranscriber
from pipeline import cli
from pipeline.analyze import analyze
from pipeline.core.settings import Settings
from pipeline.reporting.report import Example, audio_link

NASTY = ["javascript:alert(1).json", "call #2?.json", "100% sure.json", "two words.json", "new\nline.json",
         "x;<!--y.json", "data:text,hi.json", "ümlaut & co.json"]
PITCHES = ["The dashboard shows exactly which buyers watched your video.",
           "Every recording syncs straight into Salesforce automatically."]


def resolves_to(report: Path, href: str) -> tuple[Path, str]:
    """Where a browser opening `report` goes for `href`: the file and the fragment."""
    parts = urlsplit(href)
    assert parts.scheme == "" and parts.netloc == "" and parts.query == "", href
    return (report.parent / unquote(parts.path)).resolve(), parts.fragment


@pytest.mark.parametrize("name", NASTY + ["sub dir/a b.mp3", "plain.mp3"])
@pytest.mark.parametrize("where", ["inside", "beside"])
def test_a_link_reaches_the_file_at_its_time_whatever_its_name(tmp_path, name, where):
    inbox = tmp_path / "inbox"
    report = (inbox if where == "inside" else tmp_path / "out") / "report.html"
    href = audio_link(report, inbox, Example("text", name, 12.34, None))
    assert href.startswith("./" if where == "inside" else "../")
    assert resolves_to(report, href) == ((inbox / name).resolve(), "t=12.3")
    assert not any(c in href.split("#")[0] for c in " \n#?;<\"'") and href.count("#") == 1
    assert audio_link(report, inbox, Example("text", name, None, None)) == href.split("#")[0]


def test_the_old_link_was_a_script():
    """What the issue saw: the report in the inbox made `javascript:alert(1).json` a javascript: URL."""
    href = audio_link(Path("/i/report.html"), Path("/i"), Example("t", "javascript:alert(1).json", None, None))
    assert href == "./javascript%3Aalert%281%29.json"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


def test_the_rendered_report_links_every_example_to_its_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, name in enumerate(NASTY):
        turns = [{"speaker": "rep", "text": f"Hi, thanks for call {i}. {PITCHES[i % 2]}", "start": 0.0, "end": 6.0},
                 {"speaker": "prospect", "text": "Nice, how does that work?", "start": 6.5, "end": 8.0}]
        (inbox / name).write_text(json.dumps({"rep": "Dana", "outcome": "interested" if i % 3 else "lost",
                                              "turns": turns}))
    settings = Settings(inbox=inbox, db=tmp_path / "r.duckdb", progress=False)
    assert analyze(settings, models=FakeModels(ScriptTranscriber([[]]))).processed == len(NASTY)
    out = inbox / "report.html"  # the case: the report written into the inbox
    assert cli.main(["report", "--db", str(settings.db), "--out", str(out), "--inbox", str(inbox)]) == 0
    links = Links()
    links.feed(out.read_text())
    assert len(links.hrefs) >= 3  # three examples per cluster, one per call
    reached = set()
    for href in links.hrefs:
        target, fragment = resolves_to(out, href)
        assert href.startswith("./") and target.is_file() and fragment.startswith("t=")
        reached.add(target.name)
    assert reached <= set(NASTY) and len(reached) == len(links.hrefs)
