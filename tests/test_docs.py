"""docs/schema.md must describe exactly what a real database holds; the README must name every command."""

import re

from conftest import ROOT
from pipeline import cli, db

README = (ROOT / "README.md").read_text()
SCHEMA_DOC = (ROOT / "docs" / "schema.md").read_text()


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
