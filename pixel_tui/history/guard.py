"""What the history store checks before SQLite opens its file, which SQLite itself cannot be told to do.

SQLite opens the database and creates its `-wal`, `-shm` and `-journal` beside it following symlinks
(its NOFOLLOW flag is not reachable from Python's sqlite3). So before each connection the store asks
`prepare`: none of those names is a symlink (pixel-tui never makes one: a planted one would have root
create or overwrite a file of someone else's choosing), and, running as root, every directory on the
way is one only root can write (pixel_tui.trust). A missing directory is created 0700.
"""

from __future__ import annotations

import os
from pathlib import Path

from pixel_tui import trust


def prepare(path: Path) -> None:
    """Raise trust.Untrusted when SQLite must not open `path`; create its directory when missing."""
    trust.make_private_dirs(path.parent)
    if trust.enforcing():
        trust.check_database(path)
        return
    for name in (os.fspath(path), *(os.fspath(path) + suffix for suffix in trust.DATABASE_SIDE_FILES)):
        if os.path.islink(name):
            raise trust.Untrusted(name, "is a symbolic link, and pixel-tui never makes one for its own files")
