"""`pitchlab status`: processed, pending and failed recordings, and the last errors."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.audio import ingest
from pipeline.core.settings import Settings
from pipeline.core.terminal import printable
from pipeline.storage import db, store


@dataclass(frozen=True)
class InboxStatus:
    processed: int  # calls in the database
    pending: int  # recordings in the inbox that are neither a call nor a failure yet
    failed: int  # distinct recordings (by content) that failed
    last_errors: tuple[tuple[str, str, str], ...]  # (when, file, reason), newest first
    forgotten: int = 0  # recordings in the inbox that `pitchlab forget` removed (skipped, never analyzed again)


def inbox_status(settings: Settings, *, last: int = 5, wait_s: float = 10.0) -> InboxStatus:
    """Counts from the database (read-only) and the inbox; waits up to `wait_s` for a writer.

    A failure counts while its file (by content) is still in the inbox: a failed recording that was
    deleted or replaced is no longer shown. Without the inbox folder every failure counts.
    """
    with db.opened(settings.db, read_only=True, wait_s=wait_s) as con:
        known, failed = store.known_call_ids(con), store.failed_hashes(con)
        gone = store.forgotten_hashes(con)
        rows = con.execute(
            "SELECT strftime(seen_at, '%Y-%m-%d %H:%M:%S'), source_file, reason, file_sha256 FROM ingest_errors "
            "ORDER BY seen_at DESC, source_file"
        ).fetchall()
    failing = failed - known
    pending, forgotten = set(), set()
    if settings.inbox.is_dir():
        present = set()
        for path, _rel in ingest.candidates(settings.inbox):
            try:
                present.add(ingest.sha256_of(path))
            except FileNotFoundError:
                continue
        pending = present - known - failed - gone
        forgotten = present & gone
        failing &= present
    shown = tuple((when, file, reason) for when, file, reason, digest in rows if digest in failing)[:last]
    return InboxStatus(processed=len(known), pending=len(pending), failed=len(failing), last_errors=shown,
                       forgotten=len(forgotten))


def format_status(status: InboxStatus) -> str:
    lines = [f"{status.processed} processed, {status.pending} pending, {status.failed} failed"
             + (f", {status.forgotten} forgotten (still in the inbox, skipped)" if status.forgotten else "")]
    if status.last_errors:
        lines.append("last errors:")
        lines += [f"  {when}  {printable(file)}: {printable(reason)}" for when, file, reason in status.last_errors]
    return "\n".join(lines)
