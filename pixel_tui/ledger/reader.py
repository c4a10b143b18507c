"""Reading the orchestrator's task ledger and lock file as they are written (camelCase or snake_case).

Field names, statuses and the document's shape come from `pixel_tui.ledger.format`, which the writer
shares, so what is read and what is written agree (docs/domain.md, "The ledger and the lock").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.ledger.format import (
    COMPLETED_AT,
    CREATED_AT,
    ID,
    LOCK_TASK_ID,
    PENDING,
    RUNNING,
    STARTED_AT,
    STATUS,
    STATUSES,
    TERMINAL_STATUSES,
    TIMEOUT_SECONDS,
    WORKER_ID,
    WORKER_ID_PATTERN,
    LedgerError,
    decode_document,
    first,
)
from pixel_tui.model import LedgerState
from pixel_tui.values import BadValue, parse_seconds, parse_time

T = TypeVar("T")
OTHER_STATUS = "other"
"""What a status the ledger format does not know counts as, in the tasks-by-status figures."""
LOCK_MAX_BYTES = 64 * 1024
"""A lock file holds two fields; anything larger is not one."""
PROBLEMS_SHOWN = 3
"""How many unusable task fields are named one by one before the rest are only counted."""


def _checked(parse: Callable[[Any], T], raw: dict[str, Any], names: tuple[str, ...], problems: list[str]) -> T | None:
    """A field parsed, or None with the reason noted when it is present but unusable."""
    value = first(raw, *names)
    try:
        return parse(value)
    except BadValue as error:
        field_name = next(name for name in names if raw.get(name) is not None)
        problems.append(f"{field_name} {error}; ignored")
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
    problems: tuple[str, ...] = field(default=(), compare=False)
    """Fields present but unusable (a date out of range, an infinite timeout), each ignored."""

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Task:
        """Read a task record, accepting camelCase and snake_case field names; bad fields are noted, not fatal."""
        worker = first(raw, *WORKER_ID)
        status = raw.get(STATUS)
        problems: list[str] = []
        return cls(
            id=str(raw[ID]),
            status=str(status) if status is not None else None,
            created_at=_checked(parse_time, raw, CREATED_AT, problems),
            started_at=_checked(parse_time, raw, STARTED_AT, problems),
            completed_at=_checked(parse_time, raw, COMPLETED_AT, problems),
            worker_id=str(worker) if worker else None,
            timeout_s=_checked(parse_seconds, raw, TIMEOUT_SECONDS, problems),
            raw=raw,
            problems=tuple(problems),
        )

    @property
    def terminal(self) -> bool:
        """True once the task has completed, failed or been aborted."""
        return (self.status or "").lower() in TERMINAL_STATUSES

    @property
    def running(self) -> bool:
        """True while the ledger says a worker runs it."""
        return (self.status or "").lower() == RUNNING

    @property
    def pending(self) -> bool:
        """True between the orchestrator writing the task and its worker marking it running."""
        return (self.status or "").lower() == PENDING

    @property
    def active(self) -> bool:
        """Pending or running: the task has, or should soon have, a worker."""
        return self.running or self.pending


def parse_ledger(data: bytes) -> TaskIndex:
    """The tasks of the ledger's bytes, indexed; raises LedgerError with a reason a person can act on.

    Only the document's shape is checked here; each task's fields are read when a worker rule asks
    for that task (see TaskIndex), so a ledger of 10 000 finished tasks costs one json.loads.
    """
    _, tasks = decode_document(data)
    return TaskIndex(tasks)


class TaskIndex:
    """The ledger's tasks, indexed by what the worker rules look them up by; each Task is built on first use.

    Lookups: by exact id, by id prefix (a task label may hold a prefix, a worker name holds 8 hex), by
    the worker id the task records (a prefix of its container's id), and the tasks said to be running.
    """

    def __init__(self, raws: list[dict[str, Any]], tasks: list[Task] | None = None) -> None:
        self._raws = raws
        self._tasks: list[Task | None] = list(tasks) if tasks is not None else [None] * len(raws)
        self._ids: list[str] = []
        self._by_id: dict[str, list[int]] = {}
        self._by_hex8: dict[str, list[int]] = {}
        self._by_worker: dict[str, list[int]] = {}
        self._running: list[int] = []
        self._active: list[int] = []
        self._statuses: dict[str, int] = dict.fromkeys((*STATUSES, OTHER_STATUS), 0)
        for position, raw in enumerate(raws):
            if tasks is not None:
                task = tasks[position]
                task_id, worker, status = task.id, task.worker_id, task.status
            else:
                task_id = str(raw[ID])
                worker = first(raw, *WORKER_ID)
                status = raw.get(STATUS)
            self._ids.append(task_id)
            self._by_id.setdefault(task_id, []).append(position)
            self._by_hex8.setdefault(task_id[:8], []).append(position)
            if worker and WORKER_ID_PATTERN.fullmatch(str(worker).lower()):
                # Shorter ids (a hostname of two characters) would bind other tasks' containers.
                self._by_worker.setdefault(str(worker)[:12].lower(), []).append(position)
            known = status.lower() if isinstance(status, str) and status.lower() in STATUSES else OTHER_STATUS
            self._statuses[known] += 1
            if isinstance(status, str) and status.lower() in (RUNNING, PENDING):
                self._active.append(position)
                if status.lower() == RUNNING:
                    self._running.append(position)

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> TaskIndex:
        """An index over Task objects already built (tests, a simulated ledger)."""
        built = list(tasks)
        return cls([task.raw for task in built], built)

    def __len__(self) -> int:
        return len(self._raws)

    def by_status(self) -> tuple[tuple[str, int], ...]:
        """How many tasks have each status (every known status, zeros too, then "other")."""
        return tuple(self._statuses.items())

    def __iter__(self) -> Iterator[Task]:
        """Every task, in ledger order (each built now if it was not yet)."""
        return iter(self._all(range(len(self._raws))))

    def _task(self, position: int) -> Task:
        task = self._tasks[position]
        if task is None:
            task = self._tasks[position] = Task.from_raw(self._raws[position])
        return task

    def _all(self, positions: Iterable[int]) -> list[Task]:
        return [self._task(position) for position in positions]

    def with_id(self, task_id: str) -> list[Task]:
        """Tasks whose id is exactly `task_id`."""
        return self._all(self._by_id.get(task_id, ()))

    def one(self, task_id: str) -> Task | None:
        """The task with this id; None when there is none, or several (which to believe is unclear)."""
        found = self.with_id(task_id)
        return found[0] if len(found) == 1 else None

    def with_id_prefix(self, prefix: str) -> list[Task]:
        """Tasks whose id starts with `prefix`."""
        candidates = self._by_hex8.get(prefix[:8], ()) if len(prefix) >= 8 else range(len(self._ids))
        return self._all(position for position in candidates if self._ids[position].startswith(prefix))

    def run_by_container(self, container_id: str) -> list[Task]:
        """Tasks whose recorded worker id (12 to 64 hex: a short or full id) is a prefix of `container_id`."""
        positions = self._by_worker.get(container_id[:12], ())
        return [
            task for task in self._all(positions) if task.worker_id and container_id.startswith(task.worker_id.lower())
        ]

    def running(self) -> list[Task]:
        """Tasks the ledger says are running."""
        return self._all(self._running)

    def active(self) -> list[Task]:
        """Tasks the ledger says are running or pending: each should have a worker, or soon."""
        return self._all(self._active)

    def problems(self) -> tuple[str, ...]:
        """The unusable fields of the tasks read so far, the first few by name and the rest counted."""
        flawed = [task for task in self._tasks if task is not None and task.problems]
        lines = [f"ledger task {task.id}: {'; '.join(task.problems)}" for task in flawed[:PROBLEMS_SHOWN]]
        if len(flawed) > PROBLEMS_SHOWN:
            lines.append(f"ledger: {len(flawed) - PROBLEMS_SHOWN} more tasks with unusable fields (ignored)")
        return tuple(lines)


class LedgerReading(NamedTuple):
    """The ledger as read this cycle: its state, its tasks (None when unreadable) and what was ignored in it."""

    state: LedgerState
    tasks: TaskIndex | None


class LedgerReader:
    """Reads the ledger, parsing it again only when the file changed (inode, size, mtime).

    Only a regular file of at most `max_bytes` is read: a FIFO, a device or a huge file is refused with
    the reason, so a bad path never hangs a collection nor eats the memory.
    """

    def __init__(self, path: str | Path, *, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.path = Path(path).expanduser()
        self.max_bytes = max_bytes
        self._signature: tuple[int, int, int] | None = None
        self._cached: LedgerReading | None = None

    def read(self) -> LedgerReading:
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
            data, opened = read_regular(self.path, self.max_bytes)
        except FileNotFoundError:
            return self._fail("no such file")
        except UnreadableFile as error:
            return self._fail(str(error))
        try:
            tasks = parse_ledger(data)
        except LedgerError as error:
            return self._fail(str(error))
        # The signature of what was read, not of what was stat'ed before: a replace in between is seen next time.
        self._signature = (opened.st_ino, opened.st_size, opened.st_mtime_ns)
        self._cached = LedgerReading(LedgerState(str(self.path), True, None, len(tasks), tasks.by_status()), tasks)
        return self._cached

    def _fail(self, reason: str) -> LedgerReading:
        self._signature = None
        self._cached = None
        return LedgerReading(LedgerState(str(self.path), False, reason, None), None)


@dataclass(frozen=True)
class LockReading:
    """What the lock file holds this cycle."""

    task_id: str | None
    created_at: datetime | None
    error: str | None = None
    mtime_ns: int | None = None
    """The file's modification time as read: with the content, what identifies this lock exactly."""


def read_lock(path: str | Path) -> LockReading:
    """Read the orchestrator's lock file `{"taskId", "createdAt"}`; absent means no lock is held."""
    path = Path(path).expanduser()
    try:
        data, info = read_regular(path, LOCK_MAX_BYTES)
    except FileNotFoundError:
        return LockReading(None, None)
    except UnreadableFile as error:
        return LockReading(None, None, str(error))
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return LockReading(None, None, "not a JSON lock file")
    if not isinstance(document, dict):
        return LockReading(None, None, "not a JSON object")
    task_id = first(document, *LOCK_TASK_ID)
    try:
        created = parse_time(first(document, *CREATED_AT))
    except BadValue as error:
        return LockReading(None, None, f"createdAt {error}")
    if created is None:
        created = datetime.fromtimestamp(info.st_mtime, UTC)
    if isinstance(task_id, bool) or (task_id is not None and not isinstance(task_id, str | int)):
        return LockReading(None, None, "taskId is not a string")
    return LockReading(str(task_id) if task_id is not None else None, created, None, info.st_mtime_ns)
