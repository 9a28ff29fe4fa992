"""`pitchlab status` and the report's failure count: a failure counts while its file is still in the inbox."""

from __future__ import annotations

from pipeline.audio.ingest import sha256_of
from pipeline.core.records import Recording
from pipeline.core.settings import Settings
from pipeline.reporting.report import gather
from pipeline.status import format_status, inbox_status
from pipeline.storage import db, store


def test_a_deleted_failed_file_is_no_longer_counted(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    kept, gone = inbox / "zero.wav", inbox / "gone.wav"
    kept.write_bytes(b"")
    gone.write_bytes(b"RIFF")
    settings = Settings(inbox=inbox, db=tmp_path / "c.duckdb")
    with db.opened(settings.db) as con:
        for path, reason in ((kept, "empty file (0 bytes)"), (gone, "truncated: no audio frames")):
            store.record_error(con, Recording(path, path.name, sha256_of(path), path.stat().st_size), reason)
    assert inbox_status(settings).failed == 2
    gone.unlink()
    status = inbox_status(settings)
    assert (status.processed, status.pending, status.failed) == (0, 0, 1)
    assert [(file, reason) for _when, file, reason in status.last_errors] == [("zero.wav", "empty file (0 bytes)")]
    assert format_status(status).splitlines()[0] == "0 processed, 0 pending, 1 failed"
    with db.opened(settings.db, read_only=True) as con:
        assert gather(con, inbox=inbox).quality.failed == 1
        assert gather(con).quality.failed == 2  # without the inbox every failure counts
