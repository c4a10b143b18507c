"""The SQLite and file-system steps the history store takes: a write transaction, a retry while the database
is busy, a file's identity, and a move that never replaces another file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pixel_tui.history import failures


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE: the write lock is taken first, so what is read inside stays true until COMMIT."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def retry_busy(call: Callable[[], object], timeout_s: float) -> None:
    """Changing the journal mode does not wait on the busy handler; wait here, as for any write."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            call()
            return
        except sqlite3.OperationalError as error:
            if not failures.is_busy(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def inode(path: Path) -> int | None:
    """The file's inode number, None when it cannot be stat()ed (gone, unreadable)."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def move_exclusive(source: Path, target: Path) -> bool:
    """Move `source` to `target` unless `target` exists (False then); a hard link makes that atomic."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (vfat, some network mounts): check, then rename
        if target.exists():
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True
