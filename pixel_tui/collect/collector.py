"""The collector: one whole, immutable snapshot per call, whatever fails along the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.changes import diff_events
from pixel_tui.collect.engine import DockerEngine
from pixel_tui.collect.fdlimit import FdLimit, raise_soft_limit
from pixel_tui.collect.host import HostSampler
from pixel_tui.domain import LockJudge, WorkerTracker
from pixel_tui.engine.client import request_timeout
from pixel_tui.ledger import LedgerReader, LockReading, TaskIndex, read_lock
from pixel_tui.loglines import LogStream
from pixel_tui.model import Container, ContainerDetail, Event, Levels, LockState, Snapshot, utcnow, workers_level
from pixel_tui.settings import Settings


@dataclass(frozen=True)
class CollectorParts:
    """What a collector reads from: the host, an engine, the ledger and the lock (real, or the demo's)."""

    host: Any
    """Has `sample() -> Host`."""
    engine: Any
    """Has `poll() -> EngineReading`, `detail(id)`, `logs(id, tail)`, `follow_logs(id, tail)`, `close()`."""
    ledger: Any | None
    """Has `read() -> LedgerReading`; None when no ledger is configured."""
    read_lock: Callable[[str], LockReading]
    """Reads the lock file at a path."""
    fd_limit: FdLimit = field(default_factory=lambda: FdLimit(0, None, 0))
    """The file descriptor limit as raised (the real collector's; the demo opens no files)."""


class Collector:
    """Collects host, engine, workers, ledger and lock into a Snapshot; implements SnapshotSource."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        parts: CollectorParts | None = None,
        defer_batch: int | None = None,
    ) -> None:
        """On this host's real parts, or on `parts` (the demo's simulated world gives its own).

        `defer_batch` (the console's): a crowded engine's first collection inspects only its workers and its
        stopped containers, and the others `defer_batch` per collection after (collect/backlog.py).
        """
        self.settings = settings
        self._clock = clock
        self._workers = WorkerTracker(settings.workers)
        if parts is None:
            # Before the engine exists: its budget of held-open cgroup files is sized from this limit.
            fd_limit = raise_soft_limit()
            host = HostSampler(settings.disks)
            engine = DockerEngine(
                settings.docker_host,
                context=settings.context,
                host_memory=host.sample().memory.total,
                timeout_env=settings.workers.timeout_env,
                reconcile_s=settings.reconcile_s,
                request_timeout=request_timeout(settings.interval, settings.docker_host, settings.context),
                cgroup_root=settings.engine.cgroup_root,
                proc_root=settings.engine.proc_root,
                defer_batch=defer_batch,
                urgent=self._workers.rules.is_worker_named,
            )
            ledger = settings.workers.ledger
            reader = LedgerReader(ledger, max_bytes=settings.workers.ledger_max_bytes) if ledger else None
            parts = CollectorParts(host, engine, reader, read_lock, fd_limit)
        self.fd_limit = parts.fd_limit
        """The file descriptor limit as raised at start (and why not, if it could not be)."""
        self._host = parts.host
        self._engine = parts.engine
        self._ledger = parts.ledger
        self._read_lock = parts.read_lock
        self._lock = LockJudge(settings.workers)
        self._previous: Snapshot | None = None

    def collect(self) -> Snapshot:
        """Take one snapshot. Blocking; never raises for an engine, ledger or container problem."""
        host = self._host.sample()
        reading = self._engine.poll()
        now = self._clock()
        errors: list[str] = []
        if self.fd_limit.error:
            errors.append(self.fd_limit.error)
        if not reading.state.reachable:
            errors.append(f"docker: {reading.state.error}")
        errors.extend(reading.errors)
        errors.extend(f"disk {disk.error}" for disk in host.disks if disk.error)
        ledger = self._ledger.read() if self._ledger else None
        ledger_state, tasks = (ledger.state, ledger.tasks) if ledger else (None, None)
        if ledger_state is not None and not ledger_state.readable:
            errors.append(f"ledger {ledger_state.path}: {ledger_state.error}")
        # Phantoms compare the ledger with the containers: both readings must be current.
        phantom_tasks = tasks if reading.state.reachable else None
        workers = self._workers.workers(reading.containers, reading.env_timeouts, phantom_tasks, now)
        errors.extend(self._workers.problems)
        if tasks is not None:
            errors.extend(tasks.problems())  # of the tasks the rules had to read
        ours = [c for c in reading.containers if self._workers.rules.in_scope(c, self._workers.scope)]
        lock = self._lock_state(ours if reading.state.reachable else None, tasks, now)
        snapshot = Snapshot(
            taken_at=now,
            host=host,
            levels=Levels.of(host, self.settings.thresholds, workers=workers_level(workers, lock)),
            docker=reading.state,
            containers=reading.containers,
            workers=workers,
            ledger=ledger_state,
            lock=lock,
            errors=tuple(errors),
        )
        events = _merge(diff_events(self._previous, snapshot), reading.events)
        snapshot = _with_events(snapshot, events)
        self._previous = snapshot
        return snapshot

    def _lock_state(
        self, containers: list[Container] | None, tasks: TaskIndex | None, now: datetime
    ) -> LockState | None:
        """The lock judged against the containers (None: the engine did not answer) and the ledger as read."""
        path = self.settings.workers.lock_file
        if not path:
            return None
        reading = self._read_lock(path)
        return self._lock.judge(path, reading, containers=containers, tasks=tasks, now=now)

    def detail(self, container_id: str) -> ContainerDetail:
        """Inspect one container (LookupError when gone)."""
        return self._engine.detail(container_id)

    def logs(self, container_id: str, tail: int = 200) -> str:
        """A container's last log lines (LookupError when gone)."""
        return self._engine.logs(container_id, tail)

    def follow_logs(self, container_id: str, tail: int) -> LogStream:
        """A container's log, followed (LookupError when gone)."""
        stream: LogStream = self._engine.follow_logs(container_id, tail)
        return stream

    def close(self) -> None:
        """Release the engine's connections and threads."""
        self._engine.close()


def _merge(derived: tuple[Event, ...], engine: tuple[Event, ...]) -> tuple[Event, ...]:
    """Derived changes plus the engine's own events that add something (a death between two cycles)."""
    seen = {(event.kind, event.target) for event in derived}
    extra = tuple(event for event in engine if (event.kind, event.target) not in seen)
    return tuple(sorted(derived + extra, key=lambda event: event.at))


def _with_events(snapshot: Snapshot, events: tuple[Event, ...]) -> Snapshot:
    from dataclasses import replace

    return replace(snapshot, events=events)
