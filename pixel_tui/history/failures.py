"""Why the history store failed, in words a person can act on: SQLite's result codes and the file system's state.

The store (store.py) raises `HistoryUnavailable(reason(...))` for any failure it cannot heal; the reason
names the file and what to do about it (locked by another process, read-only, full, corrupt...).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from pixel_tui.safe import printable
from pixel_tui.trust import Untrusted

READ_ONLY_FS = "read-only file system"
"""How a reason begins when the store's file system is mounted read-only (a read may then still work)."""
# SQLite's primary result codes (the low byte of sqlite_errorcode).
BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB, PERM = 5, 6, 8, 10, 11, 13, 14, 26, 3


def primary(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of `error`, None when it carries none."""
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_corrupt(error: sqlite3.Error) -> bool:
    """The file is not a database, or a malformed one: the store moves it aside and starts afresh."""
    return primary(error) in (CORRUPT, NOTADB)


def is_busy(error: sqlite3.Error) -> bool:
    """Another connection holds the lock."""
    return primary(error) in (BUSY, LOCKED)


def reason(error: sqlite3.Error | OSError, path: Path, busy_timeout_s: float) -> str:
    """Why the store at `path` failed with `error`, in words a person can act on."""
    where = shown(path)
    if isinstance(error, Untrusted):
        return f"refused: {error}"
    if isinstance(error, OSError):
        where = shown(error.filename or path.parent)
        if error.errno == errno.EROFS:
            return f"{READ_ONLY_FS}: cannot write {where}"
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"the disk is full: cannot write {where}"
        return f"cannot use {where}: {error.strerror or error}"
    code = primary(error)
    if code in (BUSY, LOCKED):
        return f"the store is locked by another process (still busy after {busy_timeout_s:g} s): {where}"
    if code in (CORRUPT, NOTADB):
        return f"the store is corrupt ({error}): {where}"
    if code not in (READONLY, IOERR, FULL, CANTOPEN, PERM):
        return f"{error}: {where}"
    filesystem = filesystem_problem(path)
    if filesystem is not None:
        return f"{filesystem}: cannot write {where}"
    if code == READONLY:
        return f"read-only: cannot write {where}"
    if code == FULL:
        return f"the disk is full: cannot write {where}"
    return f"cannot {'open' if code == CANTOPEN else 'write'} {where} ({error})"


def filesystem_problem(path: Path) -> str | None:
    """`read-only file system` or `no space left on the device` where the store lives, or None."""
    directory = path.parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    try:
        info = os.statvfs(directory)
    except OSError:
        return None
    if info.f_flag & os.ST_RDONLY:
        return READ_ONLY_FS
    if info.f_bavail == 0 or info.f_favail == 0:
        return "the disk is full"
    return None


def shown(path: str | Path | bytes) -> str:
    """A path as it may be printed: decoded, control characters made visible."""
    return printable(os.fsdecode(path))
