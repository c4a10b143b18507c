"""The cycle history in SQLite (`Paths.history_db`): numbered, migrated, bounded, and never fatal to its caller.

- One table of cycles, own and imported, listed by time. An own cycle's number is allocated inside
  the write transaction (`BEGIN IMMEDIATE`) from a counter kept in the file, so two pixel-tui
  processes writing at once never collide (a UNIQUE (source, cycle) constraint would refuse it) and
  the numbering survives restarts and retention. Own numbers are their own sequence from 1: an
  imported orchestrator cycle and a pixel-tui cycle are different units (the orchestrator's cycles
  last minutes to hours, pixel-tui's `history.cycle_s`), so imported numbers never shift own ones.
  The cycles of an orchestrator's log carry no number: they are numbered by source and start time,
  in the same kind of transaction, and the start -> number map outlives retention (`add_by_start`).
- The schema version is the file's `PRAGMA user_version`; `tables.MIGRATIONS` lists the steps from 0
  (an empty file) to `tables.SCHEMA_VERSION`, run in one write transaction. A file from a newer
  pixel-tui is refused, never touched.
- Retention is applied in each write: cycles recorded more than `retention_days` ago (an import
  counts from the day it was imported) and all but the newest `retention_rows`.
- WAL, a busy timeout, and failures as one exception: a store that is locked beyond the timeout,
  read-only, on a full disk or unopenable raises `HistoryUnavailable` ("history unavailable: <why>",
  the reason from `failures.reason`) and sets `status`; nothing else escapes. A corrupt file (not a
  database, malformed) is moved aside as `history.sqlite3.corrupt-<UTC time>` (never overwriting
  anything) and a fresh store is started; `notices` says so once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pixel_tui.history import dbfiles, failures, guard, tables
from pixel_tui.history.model import FIELDS, OWN_SOURCE, Cycle
from pixel_tui.settings import HistorySettings

T = TypeVar("T")

BUSY_TIMEOUT_S = 2.0
"""How long a write waits for another process's transaction before the store is reported locked."""

_OWN_COUNTER = "own_cycle"


class HistoryUnavailable(Exception):
    """The store cannot be used now; `str()` is the status line, `why` the reason alone."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"history unavailable: {why}")


class HistoryStore:
    """Own and imported cycles in one SQLite file; every method raises HistoryUnavailable or succeeds.

    The connection opens on first use and is reopened after a failure, or when the file was replaced
    or removed behind the store's back. Thread-safe.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        retention_days: float = HistorySettings.retention_days,
        retention_rows: int = HistorySettings.retention_rows,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
        heal: bool = True,
    ) -> None:
        self.path = Path(path)
        """The database file."""
        self.retention_days = retention_days
        self.retention_rows = retention_rows
        self.busy_timeout_s = busy_timeout_s
        self.heal = heal
        """Move a corrupt file aside and start afresh (False: report it; for commands that only read)."""
        self.status: str | None = None
        """`history unavailable: <why>` after a failed operation; None once one succeeds."""
        self.notices: list[str] = []
        """One-time messages for the operator (a corrupt store moved aside); the caller clears the list."""
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._lock = threading.RLock()

    @classmethod
    def for_settings(cls, path: str | Path, settings: HistorySettings, **options: Any) -> HistoryStore:
        """A store with the retention of `settings` (`[history]`)."""
        return cls(path, retention_days=settings.retention_days, retention_rows=settings.retention_rows, **options)

    # --- the operations ---------------------------------------------------------------------------------

    def add_own(self, cycle: Cycle) -> Cycle:
        """Write a closed own cycle under the next own number; returns it numbered."""

        def write(db: sqlite3.Connection) -> Cycle:
            with dbfiles.transaction(db):
                row = db.execute("SELECT value FROM counters WHERE name = ?", (_OWN_COUNTER,)).fetchone()
                top = db.execute("SELECT COALESCE(MAX(cycle), 0) FROM cycles WHERE source = ?", (OWN_SOURCE,))
                number = max(row[0] if row else 0, top.fetchone()[0]) + 1
                numbered = replace(cycle, cycle=number, source=OWN_SOURCE)
                self._insert(db, numbered)
                db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (_OWN_COUNTER, number),
                )
                self._retain(db)
            return numbered

        return self._run(write)

    def continue_after(self, number: int) -> None:
        """Number the next own cycle `number + 1` at least (a store that takes up an arc's numbering: the demo)."""

        def write(db: sqlite3.Connection) -> None:
            with dbfiles.transaction(db):
                db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
                    (_OWN_COUNTER, number),
                )

        self._run(write)

    def add_imported(self, cycles: Sequence[Cycle]) -> tuple[list[Cycle], list[Cycle]]:
        """Write imported cycles in one transaction; (added, already present by source and number)."""

        def write(db: sqlite3.Connection) -> tuple[list[Cycle], list[Cycle]]:
            added: list[Cycle] = []
            present: list[Cycle] = []
            with dbfiles.transaction(db):
                for cycle in cycles:
                    if cycle.cycle is None or cycle.own:
                        raise ValueError("an imported cycle has a number and a source of its own")
                    (added if self._insert(db, cycle, ignore_present=True) else present).append(cycle)
                if added:
                    self._retain(db)
            return added, present

        return self._run(write)

    def add_by_start(self, cycles: Sequence[Cycle], *, first: int = 1) -> tuple[list[Cycle], list[Cycle], int]:
        """Number the cycles of one orchestrator's log by their start and write the new ones, in one transaction.

        A start the source already holds keeps its number: that cycle is present (even when retention has since
        dropped its row, so a re-import never brings it back under a new number). The others are numbered in
        time order after the highest number the source holds, or from `first` when it holds none. Returns
        (added, present, the highest number the source held before). Numbers are drawn inside the write
        transaction, as own ones are: two imports at once never give one cycle two numbers.
        """
        sources = {cycle.source for cycle in cycles}
        if len(sources) > 1 or OWN_SOURCE in sources or any(cycle.cycle is not None for cycle in cycles):
            raise ValueError("cycles numbered by their start are unnumbered and come from one imported source")
        if first < 1:
            raise ValueError(f"the first cycle number must be 1 or more, not {first}")

        def write(db: sqlite3.Connection) -> tuple[list[Cycle], list[Cycle], int]:
            added: list[Cycle] = []
            present: list[Cycle] = []
            with dbfiles.transaction(db):
                if not sources:
                    return added, present, 0
                (source,) = sources
                known = dict(db.execute("SELECT started_ms, cycle FROM imported_starts WHERE source = ?", (source,)))
                rows = db.execute("SELECT COALESCE(MAX(cycle), 0) FROM cycles WHERE source = ?", (source,))
                held = max(max(known.values(), default=0), rows.fetchone()[0])
                number = held or first - 1
                for cycle in sorted(cycles, key=lambda cycle: cycle.started_at):
                    key = round(cycle.started_at.timestamp() * 1000)
                    if key in known:
                        present.append(replace(cycle, cycle=known[key]))
                        continue
                    number += 1
                    known[key] = number
                    db.execute(
                        "INSERT INTO imported_starts (source, started_ms, cycle) VALUES (?, ?, ?)",
                        (source, key, number),
                    )
                    added.append(replace(cycle, cycle=number))
                    self._insert(db, added[-1])
                if added:
                    self._retain(db)
            return added, present, held

        return self._run(write)

    def recent(self, count: int | None = None) -> list[Cycle]:
        """The latest `count` cycles (all when None), own and imported, oldest first."""
        limit = -1 if count is None else max(count, 0)

        def read(db: sqlite3.Connection) -> list[Cycle]:
            rows = db.execute(
                f"SELECT {', '.join(FIELDS)} FROM cycles ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
            return [tables.from_row(row) for row in reversed(rows)]

        return self._run(read, read=True)

    def count(self) -> int:
        """How many cycles the store holds."""
        return self._run(lambda db: db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0], read=True)

    def close(self) -> None:
        """Close the connection; the next operation opens it again."""
        with self._lock:
            self._disconnect()

    # --- connection, failures, healing -----------------------------------------------------------------

    def _run(self, operation: Callable[[sqlite3.Connection], T], *, read: bool = False) -> T:
        with self._lock:
            try:
                try:
                    result = operation(self._connection())
                except sqlite3.DatabaseError as error:
                    if not (self.heal and failures.is_corrupt(error)):
                        raise
                    self._move_aside(str(error))
                    result = operation(self._connection())
            except (sqlite3.Error, OSError, HistoryUnavailable) as error:
                self._disconnect()
                why = (
                    error.why
                    if isinstance(error, HistoryUnavailable)
                    else failures.reason(error, self.path, self.busy_timeout_s)
                )
                if read and why.startswith(failures.READ_ONLY_FS) and self.path.is_file():
                    with contextlib.suppress(sqlite3.Error, HistoryUnavailable):
                        return self._read_as_is(operation)  # a read-only copy can still be listed
                self.status = f"history unavailable: {why}"
                raise HistoryUnavailable(why) from None
            self.status = None
            return result

    def _read_as_is(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read on a store nobody can write here (a read-only mount), as the file holds it."""
        uri = f"file:{urllib.parse.quote(os.fsdecode(self.path))}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout_s, check_same_thread=False)
        try:
            if self._version(db) != tables.SCHEMA_VERSION:
                raise HistoryUnavailable("read-only file system, and the store needs an upgrade it cannot get here")
            return operation(db)
        finally:
            db.close()

    def _connection(self) -> sqlite3.Connection:
        if self._db is not None:
            if self._inode == dbfiles.inode(self.path):
                return self._db
            self._disconnect()  # removed or replaced by someone else: write where the path points now
        guard.prepare(self.path)  # no symlink SQLite would follow; as root, nothing another user could set
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
        try:
            self._inode = dbfiles.inode(self.path)
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            self._version(db)  # a newer pixel-tui's file is refused before anything in it changes
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                dbfiles.retry_busy(lambda: db.execute("PRAGMA journal_mode = WAL"), self.busy_timeout_s)
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
            db.execute("PRAGMA journal_size_limit = 4194304")
            self._migrate(db)
        except BaseException as error:
            if isinstance(error, sqlite3.DatabaseError) and failures.is_corrupt(error):
                self._db = db  # closed once its files are moved aside: closing may checkpoint or delete the WAL
            else:
                db.close()
            raise
        self._db = db
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        if self._version(db) == tables.SCHEMA_VERSION:
            return
        with dbfiles.transaction(db):
            version = self._version(db)  # again, inside the lock: another process may have just migrated
            for step in tables.MIGRATIONS[version:]:
                for statement in step:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {tables.SCHEMA_VERSION}")

    def _version(self, db: sqlite3.Connection) -> int:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > tables.SCHEMA_VERSION:
            raise HistoryUnavailable(
                f"{failures.shown(self.path)} has schema version {version}, and this pixel-tui knows versions up to "
                f"{tables.SCHEMA_VERSION}: it was written by a newer pixel-tui (upgrade, or move the file aside)"
            )
        if version < 0:
            raise HistoryUnavailable(f"{failures.shown(self.path)} has an invalid schema version {version}")
        return version

    def _disconnect(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def _move_aside(self, reason: str) -> None:
        """Rename the corrupt file (and its WAL) to `<name>.corrupt-<UTC time>`, never over an existing file.

        The connection is closed only afterwards: on close SQLite checkpoints or deletes the WAL it
        found, which must happen to the moved files, if at all, never to the evidence under its name.
        """
        try:
            if self._inode is None or dbfiles.inode(self.path) == self._inode:  # else another process did it
                self._move_files(reason)
        finally:
            self._disconnect()
            self._inode = None

    def _move_files(self, reason: str) -> None:
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%SZ")
        base = f"{self.path.name}.corrupt-{stamp}"
        target = self.path.with_name(base)
        for attempt in range(1, 1000):
            if dbfiles.move_exclusive(self.path, target):
                break
            target = self.path.with_name(f"{base}-{attempt}")
        else:  # pragma: no cover - a thousand corrupt stores in one second
            raise HistoryUnavailable(f"the store is corrupt ({reason}) and could not be moved aside")
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists():  # a stale WAL would be replayed into the fresh file
            dbfiles.move_exclusive(wal, target.with_name(target.name + "-wal"))
        with contextlib.suppress(FileNotFoundError):
            self.path.with_name(self.path.name + "-shm").unlink()
        self.notices.append(
            f"history: the store was corrupt ({reason}); it was moved aside to {failures.shown(target)} "
            "and a fresh one was started"
        )

    # --- rows --------------------------------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, cycle: Cycle, *, ignore_present: bool = False) -> bool:
        values = tables.to_row(cycle)
        conflict = " ON CONFLICT (source, cycle) DO NOTHING" if ignore_present else ""
        cursor = db.execute(
            f"INSERT INTO cycles ({', '.join(FIELDS)}, recorded_at) "
            f"VALUES ({', '.join('?' * (len(FIELDS) + 1))}){conflict}",
            (*values, self._clock()),
        )
        return cursor.rowcount == 1

    def _retain(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM cycles WHERE recorded_at < ?", (self._clock() - self.retention_days * 86400.0,))
        db.execute(
            "DELETE FROM cycles WHERE id <= (SELECT id FROM cycles ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.retention_rows,),
        )
