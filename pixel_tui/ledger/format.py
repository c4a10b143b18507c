"""The ledger's format: field names in both casings, statuses, the document's shape and its time styles.

The orchestrator writes `{"version": 1, "tasks": [...]}` in camelCase, indented by two spaces, times
as `2026-01-03T09:21:07.123Z`; other orchestrators write a bare list, snake_case, other indents or
other time forms (docs/domain.md, "The ledger and the lock"). The reader accepts them all; the writer
must give each document back in the form it was found, so both take their names from here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

# Field names, the name the orchestrator writes (camelCase) first.
ID = "id"
STATUS = "status"
ERROR = "error"
CREATED_AT = ("createdAt", "created_at")
STARTED_AT = ("startedAt", "started_at")
COMPLETED_AT = ("completedAt", "completed_at")
WORKER_ID = ("workerId", "worker_id", "worker")
TIMEOUT_SECONDS = ("timeoutSeconds", "timeout_seconds", "timeout_s")
EXIT_CODE = ("exitCode", "exit_code")
LOCK_TASK_ID = ("taskId", "task_id")
WORKER_ID_PATTERN = re.compile(r"[0-9a-f]{12,64}")
"""A `workerId` that can bind a container (its 12-hex hostname, or more); a shorter one binds others'."""
TIME_FIELDS = (COMPLETED_AT, STARTED_AT, CREATED_AT)
"""The task fields that hold a moment, the one a finished task gains first."""

# Statuses. Others are kept and shown as they are.
PENDING = "pending"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
ABORTED = "aborted"
STATUSES = (PENDING, RUNNING, COMPLETED, FAILED, ABORTED)
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, ABORTED})

Casing = Literal["camel", "snake"]

_ALIASED = (CREATED_AT, STARTED_AT, COMPLETED_AT, WORKER_ID, TIMEOUT_SECONDS, EXIT_CODE)
_CAMEL_KEYS = frozenset(names[0] for names in _ALIASED)
_SNAKE_KEYS = frozenset(name for names in _ALIASED for name in names[1:]) - {"worker"}  # one word: says nothing
_CAMEL = re.compile(r"[a-z0-9][A-Z]")
_SNAKE = re.compile(r"[a-z0-9]_[a-z]")


class LedgerError(ValueError):
    """A ledger document that cannot be read as a list of tasks."""


def first(raw: dict[str, Any], *names: str) -> Any:
    """The value of the first of `names` that `raw` holds and is not null, else None."""
    for name in names:
        if name in raw and raw[name] is not None:
            return raw[name]
    return None


def tasks_of(document: Any) -> list[Any] | None:
    """The task list of a document: the document itself when it is a list, else its `"tasks"`; None if neither."""
    tasks = document.get("tasks") if isinstance(document, dict) else document
    return tasks if isinstance(tasks, list) else None


def decode_document(data: bytes) -> tuple[Any, list[dict[str, Any]]]:
    """The JSON document in the ledger's bytes and its task records; LedgerError with a reason a person can act on.

    Only the shape is checked: a list of objects that each have an id (a non-empty string or an integer).
    """
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
    except (ValueError, RecursionError) as error:  # an integer of 5000 digits, arrays nested 100 000 deep
        raise LedgerError(f"not usable JSON: {str(error)[:80]}") from None
    return document, checked_tasks(tasks_of(document))


def checked_tasks(tasks: list[Any] | None) -> list[dict[str, Any]]:
    """The task list, once checked to be objects that each have an id; LedgerError saying which one is not."""
    if tasks is None:
        raise LedgerError('unexpected shape: expected a list of tasks or {"tasks": [...]}')
    for index, raw in enumerate(tasks):
        if not isinstance(raw, dict):
            raise LedgerError(f"task #{index + 1} is not an object")
        task_id = raw.get(ID)
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or task_id == "":
            raise LedgerError(f"task #{index + 1} has no id")
    return tasks


def _casing_of_keys(keys: Iterable[str]) -> Casing | None:
    camel = snake = 0
    for key in keys:
        if key in _CAMEL_KEYS or _CAMEL.search(key):
            camel += 1
        elif key in _SNAKE_KEYS or _SNAKE.search(key):
            snake += 1
    if camel == snake:
        return None
    return "camel" if camel > snake else "snake"


def casing_of(record: dict[str, Any], records: Iterable[dict[str, Any]] = ()) -> Casing:
    """The casing of a task's field names: its own when they tell, else the document's majority, else camelCase."""
    own = _casing_of_keys(record)
    if own is not None:
        return own
    votes = {"camel": 0, "snake": 0}
    for other in records:
        found = _casing_of_keys(other)
        if found is not None:
            votes[found] += 1
    return "snake" if votes["snake"] > votes["camel"] else "camel"


def field_name(record: dict[str, Any], names: tuple[str, ...], casing: Casing) -> str:
    """The key under which to set a field of `record`: the alias it already has, else the one of its casing."""
    for name in names:
        if name in record:
            return name
    if casing == "snake":
        return next((name for name in names[1:] if "_" in name), names[0])
    return names[0]


def short_id(task_id: str) -> str:
    """A task id as a person reads it in a sentence: the 8 hex of a UUID (as in a worker's name), else the id."""
    if re.fullmatch(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}", task_id):
        return task_id[:8]
    return task_id if len(task_id) <= 40 else task_id[:39] + "…"


_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?")


@dataclass(frozen=True)
class TimeStyle:
    """How a document writes a moment, so a time pixel-tui adds looks like the orchestrator's own."""

    kind: Literal["iso", "epoch_s", "epoch_ms"] = "iso"
    separator: str = "T"
    seconds: bool = True
    fraction_digits: int = 3
    offset: str = "Z"
    """`Z`, an offset as written (`+00:00`, `+0200`, `+02`), or empty for a time without one (read as UTC)."""
    integer: bool = True
    """For epoch times: written as an integer."""

    def render(self, moment: datetime) -> str | int | float:
        """`moment` written in this style."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if self.kind == "epoch_ms":
            milliseconds = moment.timestamp() * 1000
            return round(milliseconds) if self.integer else milliseconds
        if self.kind == "epoch_s":
            return round(moment.timestamp()) if self.integer else moment.timestamp()
        local = moment.astimezone(self._zone())
        text = local.strftime(f"%Y-%m-%d{self.separator}%H:%M" + (":%S" if self.seconds else ""))
        if self.seconds and self.fraction_digits:
            fraction = f"{local.microsecond:06d}".ljust(self.fraction_digits, "0")  # Docker writes 9 digits
            text += "." + fraction[: self.fraction_digits]
        return text + self.offset

    def _zone(self) -> timezone:
        if self.offset in ("", "Z", "z"):
            return UTC
        sign = -1 if self.offset[0] == "-" else 1
        digits = self.offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))


ORCHESTRATOR_TIME = TimeStyle()
"""`2026-01-03T09:21:07.123Z`: JavaScript's toISOString, the orchestrator's own form."""


def time_style_of(value: Any) -> TimeStyle | None:
    """The style of one time value as found in a ledger, or None when it is not a time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        milliseconds = value > 100_000_000_000  # the reader's rule: past 5138 as seconds means milliseconds
        return TimeStyle(kind="epoch_ms" if milliseconds else "epoch_s", integer=isinstance(value, int))
    if not isinstance(value, str):
        return None
    match = _ISO.fullmatch(value.strip())
    if match is None:
        return None
    _, separator, clock, fraction, offset = match.groups()
    return TimeStyle(
        separator=separator,
        seconds=clock.count(":") == 2,
        fraction_digits=len(fraction or ""),
        offset=offset or "",
    )


def document_time_style(record: dict[str, Any], records: Iterable[dict[str, Any]] = ()) -> TimeStyle:
    """The time style to write into `record`: that of its own times, else of the document's, else the orchestrator's."""
    for candidate in (record, *records):
        for names in TIME_FIELDS:
            style = time_style_of(first(candidate, *names))
            if style is not None:
                return style
    return ORCHESTRATOR_TIME
