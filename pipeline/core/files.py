"""Files Pitchlab creates hold people's words: new ones are private to the user (0600, folders 0700).

A file or folder that already exists keeps its mode: the user chose it.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FILE_MODE = 0o600
FOLDER_MODE = 0o700


@contextmanager
def private_umask() -> Iterator[None]:
    """While it lasts, whatever this process creates (DuckDB's write-ahead log and spill folder too, which
    Pitchlab does not open itself) is readable by the user only; the umask is restored after."""
    old = os.umask(0o077)
    os.umask(old | 0o077)
    try:
        yield
    finally:
        os.umask(old)


def make_folders(folder: Path) -> None:
    """`folder` and any missing parents, each new one 0700 (`mkdir -p` would leave parents at the umask's mode)."""
    missing = []
    for f in (folder, *folder.parents):
        if f.exists():
            if not f.is_dir():  # as `mkdir -p` says it
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(f))
            break
        missing.append(f)
    for f in reversed(missing):
        try:
            f.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(f, FOLDER_MODE)  # mkdir's mode is masked by the umask; never wider than asked


def write_private_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path`: a new file is created 0600, an existing one keeps its mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') bytes to the disk, so a power loss cannot undo them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
