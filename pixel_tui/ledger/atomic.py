"""Replacing a file that another process replaces too: a lock among ourselves, and an exchange that says
what it displaced (the mechanics under `pixel_tui.ledger.writer`, whose docstring states the protocol).

Linux's `renameat2(RENAME_EXCHANGE)` swaps two names atomically: the new file takes the path and
the old one comes back under the temporary name, so the writer learns exactly which version its
write displaced, and can put a version it should not have displaced back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RENAME_EXCHANGE = 2
NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP})
"""What renameat2 answers where there is no exchange: an old kernel, a filesystem without it."""
PUT_BACK_LIMIT = 8


class LockRefused(Exception):
    """The lock could not be taken (held too long by another pixel-tui, or not a regular file); says why."""


class PutBackFailed(OSError):
    """Another writer kept replacing the file while a version it wrote was being put back."""


def signature(info: os.stat_result) -> tuple[int, int, int, int]:
    """What identifies one version of a file: device, inode (exact while the file is held open), size, mtime."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def holds(dir_fd: int, name: str, seen: os.stat_result) -> bool:
    """True when `name` still names the file whose stat is `seen`."""
    try:
        return signature(os.stat(name, dir_fd=dir_fd, follow_symlinks=False)) == signature(seen)
    except FileNotFoundError:
        return False


@functools.cache
def renameat2() -> Any:
    """libc's renameat2, or None where there is none (not Linux, an old C library)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(dir_fd: int, first: str, second: str) -> None:
    """Atomically swap two names (relative to `dir_fd`, or AT_FDCWD=-100 for paths); OSError(ENOSYS) without
    renameat2."""
    function = renameat2()
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if function(dir_fd, os.fsencode(first), dir_fd, os.fsencode(second), RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def put_back(dir_fd: int, name: str, temp: str, *, expected: int, at_temp: int) -> None:
    """After an exchange displaced a version it should not have: exchange again until `name` holds the
    newest foreign version, then unlink what came back.

    `expected` is the inode just put at `name`, `at_temp` the one that came back. After each exchange
    the temporary name holds what `name` held: if that is `expected`, nothing slipped in and we are
    done; otherwise another rename landed between the two exchanges, its newer version is now at the
    temporary name, and we exchange once more.
    """
    for _ in range(PUT_BACK_LIMIT):
        exchange(dir_fd, temp, name)
        back = os.stat(temp, dir_fd=dir_fd, follow_symlinks=False).st_ino
        if back == expected:
            os.unlink(temp, dir_fd=dir_fd)
            return
        expected, at_temp = at_temp, back
    raise PutBackFailed(errno.EAGAIN, f"another writer kept replacing the file; a version it wrote is left at {temp}")


def discard(dir_fd: int, name: str) -> None:
    """Unlink `name` if it is there (a temporary file given up)."""
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


@contextlib.contextmanager
def locked(path: Path, timeout_s: float) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing, never removed), waiting at most `timeout_s`.

    OSError when it cannot be opened; LockRefused when it is not a regular file or stays held.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LockRefused(f"the lock file {path} is not a regular file")
        deadline = time.monotonic() + timeout_s
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockRefused(f"another pixel-tui has held the lock {path} for {timeout_s:g} s") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def clean_stale(dir_fd: int, prefix: str, suffix: str, older_than_s: float) -> None:
    """Remove the regular files `prefix...suffix` older than `older_than_s` (temporary files left by a crash)."""
    now = time.time()
    for entry in os.listdir(dir_fd):
        if not (entry.startswith(prefix) and entry.endswith(suffix)):
            continue
        with contextlib.suppress(OSError):
            info = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than_s:
                os.unlink(entry, dir_fd=dir_fd)
