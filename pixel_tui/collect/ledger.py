"""Reading the orchestrator's task ledger and lock file as they are written (camelCase or snake_case)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pixel_tui.model import LedgerState

TERMINAL_STATUSES = frozenset({"completed", "failed", "aborted"})


def parse_time(value: Any) -> datetime | None:
    """A timestamp in any ISO-8601 form (Z, +00:00, with or without fractions) or epoch seconds/ms."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Docker writes nanoseconds (9 fraction digits), which fromisoformat refuses before 3.12.
        moment = _parse_long_fraction(text)
        if moment is None:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _parse_long_fraction(text: str) -> datetime | None:
    head, dot, rest = text.partition(".")
    if not dot:
        return None
    digits = len(rest) - len(rest.lstrip("0123456789"))
    try:
        return datetime.fromisoformat(f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}")
    except ValueError:
        return None


def _first(raw: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in raw and raw[name] is not None:
            return raw[name]
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number > 0 else None
    return None


@dataclass(frozen=True)
class Task:
    """One ledger task, with the fields pixel-tui reads; `raw` keeps the record as written."""

    id: str
    status: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    worker_id: str | None
    timeout_s: float | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Task:
        """Read a task record, accepting camelCase and snake_case field names."""
        worker = _first(raw, "workerId", "worker_id", "worker")
        status = raw.get("status")
        return cls(
            id=str(raw["id"]),
            status=str(status) if status is not None else None,
            created_at=parse_time(_first(raw, "createdAt", "created_at")),
            started_at=parse_time(_first(raw, "startedAt", "started_at")),
            completed_at=parse_time(_first(raw, "completedAt", "completed_at")),
            worker_id=str(worker) if worker else None,
            timeout_s=_seconds(_first(raw, "timeoutSeconds", "timeout_seconds", "timeout_s")),
            raw=raw,
        )

    @property
    def terminal(self) -> bool:
        """True once the task has completed, failed or been aborted."""
        return (self.status or "").lower() in TERMINAL_STATUSES

    @property
    def running(self) -> bool:
        """True while the ledger says a worker runs it."""
        return (self.status or "").lower() == "running"


class LedgerError(ValueError):
    """A ledger document that cannot be read as a list of tasks."""


def parse_ledger(data: bytes) -> list[Task]:
    """Tasks from the ledger's bytes; raises LedgerError with a reason a person can act on."""
    if not data.strip():
        raise LedgerError("empty file (being written?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LedgerError(f"not UTF-8 text (byte {error.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # The decoder stopped at the end, or in a string never closed: the writer was cut off.
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            raise LedgerError(f"truncated JSON (half-written?) at line {error.lineno}") from None
        raise LedgerError(f"not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    tasks = document.get("tasks") if isinstance(document, dict) else document
    if not isinstance(tasks, list):
        raise LedgerError('unexpected shape: expected a list of tasks or {"tasks": [...]}')
    parsed = []
    for index, raw in enumerate(tasks):
        if not isinstance(raw, dict):
            raise LedgerError(f"task #{index + 1} is not an object")
        if not isinstance(raw.get("id"), str | int) or isinstance(raw.get("id"), bool) or raw.get("id") == "":
            raise LedgerError(f"task #{index + 1} has no id")
        parsed.append(Task.from_raw(raw))
    return parsed


class LedgerReader:
    """Reads the ledger, parsing it again only when the file changed (inode, size, mtime)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._signature: tuple[int, int, int] | None = None
        self._cached: tuple[LedgerState, tuple[Task, ...] | None] | None = None

    def read(self) -> tuple[LedgerState, tuple[Task, ...] | None]:
        """The ledger's state and its tasks (None when unreadable: no stale reading is passed on)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._fail("no such file")
        except OSError as error:
            return self._fail(f"cannot read: {error.strerror or error}")
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._cached is not None and signature == self._signature:
            return self._cached
        try:
            data = self.path.read_bytes()
        except IsADirectoryError:
            return self._fail("is a directory")
        except OSError as error:
            return self._fail(f"cannot read: {error.strerror or error}")
        try:
            tasks = tuple(parse_ledger(data))
        except LedgerError as error:
            return self._fail(str(error))
        self._signature = signature
        self._cached = (LedgerState(str(self.path), True, None, len(tasks)), tasks)
        return self._cached

    def _fail(self, reason: str) -> tuple[LedgerState, None]:
        self._signature = None
        self._cached = None
        return LedgerState(str(self.path), False, reason, None), None


@dataclass(frozen=True)
class LockReading:
    """What the lock file holds this cycle."""

    task_id: str | None
    created_at: datetime | None
    error: str | None = None


def read_lock(path: str | Path) -> LockReading:
    """Read the orchestrator's lock file `{"taskId", "createdAt"}`; absent means no lock is held."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return LockReading(None, None)
    except OSError as error:
        return LockReading(None, None, f"cannot read: {error.strerror or error}")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return LockReading(None, None, "not a JSON lock file")
    if not isinstance(document, dict):
        return LockReading(None, None, "not a JSON object")
    task_id = _first(document, "taskId", "task_id")
    created = parse_time(_first(document, "createdAt", "created_at")) or datetime.fromtimestamp(mtime, UTC)
    return LockReading(str(task_id) if task_id is not None else None, created)
