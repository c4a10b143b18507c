"""Whether a path pixel-tui takes orders from or writes records to can be trusted (OpenSSH's StrictModes).

Root obeys its config and writes its audit log and history as root: if another user can write one of
the directories on the way to them, that user can plant a config (`heal` then removes what they say)
or a symlink (root then appends to, or creates, a file of their choosing). `check` walks a path from
`/` down, component by component as the kernel resolves it, and `Untrusted` names the first step that
fails and why:

- every directory, file and symlink on the way is owned by root or by the user running pixel-tui;
- none is writable by group or others, except a sticky directory (`/tmp`), where nobody may rename
  or remove another's entry (and an entry in it is trusted only if owned right, above); a group with
  no member but the owner (Debian's user private groups with umask 002) counts as the owner;
- a symlink is followed, and what it points to checked the same way, only when it is owned right in a
  directory only the right people can write: then only they could have made it. pixel-tui's own files
  (the audit log and the history database with its `-wal`, `-shm` and `-journal`) are never symlinks:
  `check(..., own=True)` refuses one, and they are opened with O_NOFOLLOW (the audit log) or looked at
  before SQLite connects (which follows symlinks and offers no way not to).

Running as root (euid 0) a failed check is a refusal: the CLI exits 3 with the path and the reason,
before anything is read or written. Any other user gets the same words as a warning and pixel-tui goes
on: their pixel-tui reaches only what they can, and a shared or group-writable directory is their own
choice (desktops, CI runners), where refusing would stop work and the warning is what helps. The
symlink refusal for the audit log and history holds for everyone, since pixel-tui never makes one.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pixel_tui.paths import Paths
from pixel_tui.safe import printable

MAX_SYMLINKS = 40
"""Symlinks followed on one path before it is refused (Linux's own limit)."""
DATABASE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database, each opened following symlinks."""


class Untrusted(OSError):
    """A path that may not be used: `path` is the step that failed, `reason` why, for a person."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = os.fsdecode(path)
        self.reason = reason
        super().__init__(f"{printable(self.path)}: {reason}")

    def __str__(self) -> str:
        return f"{printable(self.path)}: {self.reason}"


def enforcing() -> bool:
    """True when a failed check refuses (running as root) rather than warns."""
    return os.geteuid() == 0


@dataclass(frozen=True)
class Verdict:
    """One path checked: what it is for, the path, and the problem (None: trusted)."""

    name: str
    path: Path
    problem: Untrusted | None


def check(path: str | Path, *, own: bool = False, euid: int | None = None) -> None:
    """Raise Untrusted when `path`, or a step on the way to it, could have been set by another user.

    A part that does not exist yet passes (pixel-tui creates it, under a directory checked here).
    `own`: the last component is pixel-tui's own file and must not be a symlink.
    """
    uid = os.geteuid() if euid is None else euid
    absolute = os.path.abspath(os.fsdecode(path))
    pending = _parts(absolute)
    current = "/"
    _judge(current, os.lstat(current), uid)
    hops = 0
    while pending:
        name = pending.pop(0)
        if name == "..":
            current = os.path.dirname(current)  # the kernel's `..` after a symlink: the real parent, checked
            continue
        step = os.path.join(current, name)
        try:
            info = os.lstat(step)
        except FileNotFoundError:
            return
        except OSError as error:
            raise Untrusted(step, f"cannot be checked: {error.strerror or error}") from None
        _judge(step, info, uid)
        if stat.S_ISLNK(info.st_mode):
            if own and not pending:
                raise Untrusted(step, "is a symbolic link, and pixel-tui never makes one for its own files")
            hops += 1
            if hops > MAX_SYMLINKS:
                raise Untrusted(absolute, f"more than {MAX_SYMLINKS} symbolic links on the way")
            target = os.readlink(step)
            pending[:0] = _parts(target)
            if target.startswith("/"):
                current = "/"
            continue
        if pending and not stat.S_ISDIR(info.st_mode):
            return  # not a directory: opening under it fails on its own, with ENOTDIR
        current = step


def check_read(path: str | Path, info: os.stat_result, *, euid: int | None = None) -> None:
    """After `path` was read (`info`, the stat of what was read): raise Untrusted unless the path still leads,
    through trusted steps, to that very file. A check before the read alone leaves a window: a directory
    absent then (under /tmp, say) could have been made by another user, read from, and removed since."""
    check(path, euid=euid)
    try:
        now = os.stat(path)
    except OSError as error:
        raise Untrusted(path, f"changed while it was read ({error.strerror or error})") from None
    if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
        raise Untrusted(path, "was replaced while it was read")


def check_database(path: str | Path, *, euid: int | None = None) -> None:
    """`check(path, own=True)` for an SQLite file and each of its side files (`-wal`, `-shm`, `-journal`)."""
    check(path, own=True, euid=euid)
    for suffix in DATABASE_SIDE_FILES:
        check(os.fsdecode(path) + suffix, own=True, euid=euid)


def verdicts(named: Iterable[tuple[str, Path, bool]], *, euid: int | None = None) -> list[Verdict]:
    """A verdict for each (name, path, own) given; a database (name `history`) includes its side files."""
    result = []
    for name, path, own in named:
        try:
            if name == "history":
                check_database(path, euid=euid)
            else:
                check(path, own=own, euid=euid)
        except Untrusted as problem:
            result.append(Verdict(name, path, problem))
        else:
            result.append(Verdict(name, path, None))
    return result


def named_paths(paths: Paths, config: Path) -> list[tuple[str, Path, bool]]:
    """The paths pixel-tui reads orders from or writes records to, as (name, path, own) for `verdicts`."""
    return [
        ("config", config, False),
        ("themes", paths.themes_dir, False),
        ("data", paths.data_dir, False),
        ("history", paths.history_db, True),
        ("state", paths.state_dir, False),
        ("audit log", paths.audit_log, True),
        ("log", paths.log_dir, False),
    ]


def make_private_dirs(path: str | Path) -> None:
    """Create `path` and its missing parents with mode 0700 (umask permitting), so none is created shared."""
    missing = []
    directory = Path(path)
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another pixel-tui: checked like any other
            directory.mkdir(mode=0o700)


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _judge(step: str, info: os.stat_result, uid: int) -> None:
    if info.st_uid not in (0, uid):
        raise Untrusted(step, f"is owned by {_user(info.st_uid)}, not by root{'' if uid == 0 else ' or ' + _user(uid)}")
    if stat.S_ISLNK(info.st_mode):
        return  # a symlink's own mode means nothing; who could make it is its directory's question
    sticky = stat.S_ISDIR(info.st_mode) and bool(info.st_mode & stat.S_ISVTX)
    mode = f"mode {stat.S_IMODE(info.st_mode):04o}"
    if info.st_mode & stat.S_IWOTH and not sticky:
        raise Untrusted(step, f"is writable by every user ({mode})")
    if info.st_mode & stat.S_IWGRP and not sticky and not _private_group(info.st_gid, info.st_uid):
        raise Untrusted(step, f"is writable by group {_group(info.st_gid)} ({mode})")


def _private_group(gid: int, owner: int) -> bool:
    """True when nobody but `owner` belongs to group `gid` (a user private group)."""
    try:
        group = grp.getgrgid(gid)
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        return False
    if any(member != name for member in group.gr_mem):
        return False
    return all(entry.pw_uid == owner for entry in pwd.getpwall() if entry.pw_gid == gid)


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _group(gid: int) -> str:
    try:
        return f"{grp.getgrgid(gid).gr_name} (gid {gid})"
    except KeyError:
        return f"gid {gid}"
