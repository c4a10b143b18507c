"""The orchestrator's task ledger: its format, reading it, and writing it back safely (docs/domain.md).

One package so that what is read and what is written agree on field names, casing, shape and
layout; remediation writes through `LedgerWriter` and never reaches into collection.
"""

from __future__ import annotations

from pixel_tui.ledger.format import STATUSES, TERMINAL_STATUSES, LedgerError
from pixel_tui.ledger.reader import (
    LedgerReader,
    LedgerReading,
    LockReading,
    Task,
    TaskIndex,
    parse_ledger,
    read_lock,
)
from pixel_tui.ledger.writer import LedgerWriter, RefusedChange, WriteResult, mark_change

__all__ = [
    "STATUSES",
    "TERMINAL_STATUSES",
    "LedgerError",
    "LedgerReader",
    "LedgerReading",
    "LedgerWriter",
    "LockReading",
    "RefusedChange",
    "Task",
    "TaskIndex",
    "WriteResult",
    "mark_change",
    "parse_ledger",
    "read_lock",
]
