"""Words for the terminal: names shown safely, counts with their noun."""

from __future__ import annotations

import logging
import sys


def printable(text: object) -> str:
    """`text` with control and format characters written as escapes (ESC as \\x1b, a newline as \\n,
    a right-to-left override as \\u202e), so a file name cannot move the cursor, recolour the terminal,
    forge a log line or reorder what follows it. Other characters, accents included, stay as they are."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """"1 call", "2 calls", "0 calls"; `nouns` for irregular plurals."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


class PrintableFormatter(logging.Formatter):
    """Log lines whose message shows control characters escaped (a traceback after it stays multi-line)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


def log_to_stderr(level: int) -> None:
    """The CLI's logging (and a worker process's, like it): `level` and up to stderr, names in log lines
    with control characters escaped."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
