"""Reading files that someone else writes (the ledger, the lock, config and theme files) without hanging.

A path may name a FIFO (a read blocks until a writer comes), a device (`/dev/zero` never ends), a
directory, or a file far larger than any real one. `read_regular` opens without blocking, accepts only
regular files, and reads at most a cap, so a bad path costs one refusal with a reason, never a hung
collection or a MemoryError.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path


class UnreadableFile(OSError):
    """The file cannot be read as a regular file within the cap; the message says why, for a person."""


def read_regular(path: str | Path, limit: int, *, follow: bool = True) -> tuple[bytes, os.stat_result]:
    """The whole content of the regular file at `path` and its stat, or UnreadableFile saying why.

    FileNotFoundError passes through unchanged, so callers can tell "absent" from "unusable".
    `follow=False`: a symlink at `path` is refused (pixel-tui's own files, never symlinks).
    """
    with held_regular(path, limit, follow=follow) as read:
        return read


@contextlib.contextmanager
def held_regular(path: str | Path, limit: int, *, follow: bool = True) -> Iterator[tuple[bytes, os.stat_result]]:
    """`read_regular`, with the file kept open until the block ends.

    While it is open its inode cannot be freed and given to another file, so comparing the inode
    read with the one a path holds later says exactly whether the path still names that file (the
    ledger writer's check).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP and not follow:
            raise UnreadableFile("is a symbolic link, and pixel-tui never makes one for its own files") from None
        raise UnreadableFile(f"cannot open: {error.strerror or error}") from None
    try:
        yield _read_open(fd, limit)
    finally:
        os.close(fd)


def _read_open(fd: int, limit: int) -> tuple[bytes, os.stat_result]:
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise UnreadableFile(f"too large: {info.st_size} bytes, the limit is {limit}")
        chunks = []
        left = limit + 1  # one byte more than allowed tells a file that grew past the cap
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnreadableFile(f"too large: over {limit} bytes")
        return data, info
    except UnreadableFile:
        raise
    except OSError as error:
        raise UnreadableFile(f"cannot read: {error.strerror or error}") from None


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"
