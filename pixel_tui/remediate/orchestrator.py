"""The orchestrator's files as remediation sees them: the ledger (read fresh, write safely) and the lock file.

`OrchestratorFiles` is the backend the executor writes through; the demo has a simulated one. The
real one reads with `pixel_tui.ledger`'s reader and writes with its `LedgerWriter` (advisory lock,
unknown fields and key order kept, replace-check-retry); the lock file is only ever removed when it
still names the task that was stale, by a rename that can be undone.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pixel_tui.ledger import LedgerReader, LedgerWriter, TaskIndex, read_lock
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
        """Mark a running task aborted (`completedAt`, `error`); Refused when it is not running any more."""
        ...

    def lock_holder(self) -> str | None:
        """The task id the lock file names now, None when there is no lock."""
        ...

    def clear_lock(self, task_id: str) -> None:
        """Remove the lock file if it still names `task_id`; Refused otherwise."""
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
        """Through LedgerWriter: only this task changes, and only if it is still running."""
        if self.ledger is None:
            raise Refused("no ledger is configured")
        result = LedgerWriter(self.ledger, max_bytes=self._max_bytes).abort_task(task_id, reason, now=now)
        if result.failed:
            raise OSError(result.reason or "the ledger could not be written")
        if not result.ok:
            raise Refused(result.reason or f"task {task_id[:8]} was not changed")

    def lock_holder(self) -> str | None:
        """The lock's taskId now."""
        if self.lock_file is None:
            return None
        reading = read_lock(self.lock_file)
        if reading.error:
            raise Refused(f"the lock file cannot be read now: {reading.error}")
        return reading.task_id

    def clear_lock(self, task_id: str) -> None:
        """Rename the lock aside, check what was renamed, and put it back if it was not the stale one."""
        if self.lock_file is None:
            raise Refused("no lock file is configured")
        aside = self.lock_file.with_name(f".{self.lock_file.name}.pixel-tui-clearing-{os.getpid()}")
        try:
            os.rename(self.lock_file, aside)
        except FileNotFoundError:
            raise Refused("the lock file is gone already") from None
        held = read_lock(aside).task_id
        if held == task_id:
            aside.unlink()
            return
        # The orchestrator took the lock again between our read and the rename: give it back untouched,
        # unless it already made a newer one (then that newer one stays and this one is history).
        with contextlib.suppress(FileExistsError):
            os.link(aside, self.lock_file)
        aside.unlink()
        raise Refused(f"the lock is held by task {(held or '?')[:8]} now, not by the stale {task_id[:8]}")
