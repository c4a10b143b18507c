"""The orchestrator's task ledger: its format and reading it (docs/domain.md).

One package so that what is read and what is written agree on field names, casing, shape and
layout; remediation writes here and never reaches into collection.
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

__all__ = [
    "STATUSES",
    "TERMINAL_STATUSES",
    "LedgerError",
    "LedgerReader",
    "LedgerReading",
    "LockReading",
    "Task",
    "TaskIndex",
    "parse_ledger",
    "read_lock",
]
