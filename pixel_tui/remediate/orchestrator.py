"""The orchestrator's files as remediation sees them: the ledger (read fresh, write safely) and the lock file.

`OrchestratorFiles` is the backend the executor writes through; the demo has a simulated one. The
real one reads with `pixel_tui.ledger`'s reader and writes with its `LedgerWriter` (advisory lock,
unknown fields and key order kept, replace-check-retry); the lock file is only ever removed when it
is still exactly the lock that was judged stale (holder, `createdAt`, mtime), by a rename that can be undone.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pixel_tui.ledger import LedgerReader, LedgerWriter, LockReading, TaskIndex, read_lock
from pixel_tui.ledger.format import PENDING, RUNNING
from pixel_tui.remediate.model import Refused


class OrchestratorFiles(Protocol):
    """The ledger and the lock, for validation (fresh reads) and for the changes remediation makes."""

    @property
    def has_ledger(self) -> bool:
        """True when a ledger is configured."""
        ...

    def tasks(self) -> TaskIndex:
        """The ledger's tasks now; Refused (saying why) when it cannot be read."""
        ...

    def abort(self, task_id: str, reason: str, now: datetime) -> None:
        """Mark a pending or running task aborted (`completedAt`, `error`); Refused when it is neither any more."""
        ...

    def lock(self) -> LockReading:
        """The lock file now (all None when there is none); Refused when it cannot be read."""
        ...

    def clear_lock(self, seen: LockReading) -> None:
        """Remove the lock file if it is still exactly `seen` (content and mtime); Refused otherwise."""
        ...


class RealFiles:
    """The configured ledger and lock file on disk."""

    def __init__(self, ledger: str | None, lock_file: str | None, *, max_bytes: int) -> None:
        self.ledger = Path(ledger).expanduser() if ledger else None
        self.lock_file = Path(lock_file).expanduser() if lock_file else None
        self._max_bytes = max_bytes

    @property
    def has_ledger(self) -> bool:
        """True when a ledger is configured."""
        return self.ledger is not None

    def tasks(self) -> TaskIndex:
        """A fresh reading of the ledger (not the collector's cached one)."""
        if self.ledger is None:
            raise Refused("no ledger is configured")
        reading = LedgerReader(self.ledger, max_bytes=self._max_bytes).read()
        if reading.tasks is None:
            raise Refused(f"the ledger cannot be read now: {reading.state.error}")
        return reading.tasks

    def abort(self, task_id: str, reason: str, now: datetime) -> None:
        """Through LedgerWriter: only this task changes, and only if it is still pending or running."""
        if self.ledger is None:
            raise Refused("no ledger is configured")
        writer = LedgerWriter(self.ledger, max_bytes=self._max_bytes)
        result = writer.abort_task(task_id, reason, expect_statuses=(PENDING, RUNNING), now=now)
        if result.failed:
            raise OSError(result.reason or "the ledger could not be written")
        if not result.ok:
            raise Refused(result.reason or f"task {task_id[:8]} was not changed")

    def lock(self) -> LockReading:
        """The lock file as it is now."""
        if self.lock_file is None:
            return LockReading(None, None)
        reading = read_lock(self.lock_file)
        if reading.error:
            raise Refused(f"the lock file cannot be read now: {reading.error}")
        return reading

    def clear_lock(self, seen: LockReading) -> None:
        """Rename the lock aside, check that what was renamed is `seen`, and put it back if it is not."""
        if self.lock_file is None:
            raise Refused("no lock file is configured")
        aside = self.lock_file.with_name(f".{self.lock_file.name}.pixel-tui-clearing-{os.getpid()}")
        try:
            os.rename(self.lock_file, aside)
        except FileNotFoundError:
            raise Refused("the lock file is gone already") from None
        held = read_lock(aside)
        if _same_lock(held, seen):
            aside.unlink()
            return
        # The orchestrator took the lock again between our read and the rename: give it back untouched,
        # unless it already made a newer one (then that newer one stays and this one is history).
        with contextlib.suppress(FileExistsError):
            os.link(aside, self.lock_file)
        aside.unlink()
        raise Refused(
            f"the lock changed since it was judged stale (now held by task {(held.task_id or '?')[:8]}): left alone"
        )


def _same_lock(now: LockReading, seen: LockReading) -> bool:
    """The same lock: same holder, same `createdAt`, and (where both are known) the same mtime."""
    if now.task_id != seen.task_id or now.created_at != seen.created_at:
        return False
    return now.mtime_ns is None or seen.mtime_ns is None or now.mtime_ns == seen.mtime_ns
