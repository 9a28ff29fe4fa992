"""docs/schema.md must describe exactly what a real database holds; the README must name every command,
fit on a few screens and link only to pages that exist."""

import re
import unicodedata
from pathlib import Path

from conftest import ROOT
from pipeline import cli
from pipeline.storage import db

README = (ROOT / "README.md").read_text()
SCHEMA_DOC = (ROOT / "docs" / "schema.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_schema() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in SCHEMA_DOC.splitlines():
        heading = re.match(r"## (?:view )?`(\w+)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        row = re.match(r"\| `(\w+)` \| ([A-Z0-9\[\]]+) \|", line)
        if row and current is not None:
            current[row.group(1)] = row.group(2)
    return tables


def test_schema_docs_match_the_database(tmp_path):
    with db.opened(tmp_path / "d.duckdb") as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        actual = {t: dict((r[0], r[1]) for r in con.execute(f"DESCRIBE {t}").fetchall()) for t in names}
    assert documented_schema() == actual


def test_readme_points_to_the_schema_page():
    assert "[docs/schema.md](docs/schema.md)" in README


def test_readme_names_the_two_commands_and_every_cli_command():
    assert "make demo" in README and "make test" in README and "make analyze" in README
    for command in cli.COMMANDS:
        assert f"pitchlab {command}" in README


def test_the_readme_fits_on_a_few_screens():
    size = len(README.encode())
    assert size <= 12 * 1024, f"README.md is {size} bytes: move the detail into a docs/ page"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)  # code blocks hold no links
    text = re.sub(r"`[^`\n]*`", "", text)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]


def test_every_relative_link_points_to_an_existing_file_and_heading():
    checked = 0
    for page in PAGES:
        for target in relative_links(page):
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            assert file.exists(), f"{page.relative_to(ROOT)}: link to {target}, which does not exist"
            if anchor and file.suffix == ".md":
                assert anchor in anchors(file), f"{page.relative_to(ROOT)}: {target} names no heading of {path or page.name}"
            checked += 1
    assert checked > 40  # the README's links to every docs page, and the pages' links to each other


def test_the_link_checker_sees_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("See [gone](docs/gone.md), [here](#a-title) and `[not](a-link.md)`.\n\n# A title\n")
    assert relative_links(page) == ["docs/gone.md", "#a-title"]
    assert anchors(page) == {"a-title"} and not (tmp_path / "docs/gone.md").exists()
    assert slug("Why `tiny.en`, greedy") == "why-tinyen-greedy"


def test_every_docs_page_says_what_it_covers():
    for page in PAGES[1:]:
        lines = page.read_text().splitlines()
        assert lines[0].startswith("# ") and lines[1] == "" and lines[2].strip(), page.name


def test_every_make_target_named_in_the_docs_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    named = {t for page in PAGES  # `make X` in inline code, or a code line that starts with it
             for t in re.findall(r"(?:`|^)make ([a-z][\w-]*)", page.read_text(), re.M)}
    assert named >= {"demo", "test", "analyze", "watch", "status", "report", "bench"}
    assert named <= targets, f"not in the Makefile: {sorted(named - targets)}"


def test_every_repository_file_the_docs_name_exists():
    """scripts/, tests/, pipeline/, bench/ and data/demo paths written in the docs (data/inbox, data/outcomes.csv
    and the like are the user's own files, not the checkout's)."""
    pattern = r"\b(?:scripts|tests|pipeline|bench|data/demo)/[\w./-]*\w\.(?:py|json|jsonl|csv|npz|wav|txt)\b"
    named = {p for page in PAGES for p in re.findall(pattern, page.read_text())}
    assert len(named) > 30
    assert not sorted(p for p in named if not (ROOT / p).exists())


def test_the_readme_links_every_docs_page():
    linked = {Path(t.partition("#")[0]).name for t in relative_links(ROOT / "README.md") if t.startswith("docs/")}
    pages = {p.name for p in PAGES[1:]}
    assert pages <= linked, f"docs pages the README does not link: {sorted(pages - linked)}"
