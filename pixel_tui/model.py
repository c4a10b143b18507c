"""The data model: one immutable snapshot per collection cycle, and derived events.

Levels and the metrics they judge live in `pixel_tui.levels`; `Level`, `Levels` and `Thresholds` are named here
too, as the snapshot's parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pixel_tui.levels import Level as Level
from pixel_tui.levels import Levels as Levels
from pixel_tui.levels import Thresholds as Thresholds


@dataclass(frozen=True)
class Memory:
    """Physical memory, in bytes."""

    total: int
    used: int
    available: int
    percent: float


@dataclass(frozen=True)
class Swap:
    """Swap space, in bytes."""

    total: int
    used: int
    percent: float


@dataclass(frozen=True)
class Disk:
    """One configured mount; sizes are None when the mount could not be measured."""

    mount: str
    total: int | None
    used: int | None
    percent: float | None
    error: str | None = None


@dataclass(frozen=True)
class Host:
    """Host-wide figures of one cycle."""

    hostname: str
    cpu_percent: float | None
    cores: int
    load: tuple[float, float, float]
    memory: Memory
    swap: Swap
    disks: tuple[Disk, ...]
    uptime_s: float

    @property
    def load_per_core(self) -> float:
        """1-minute load divided by the number of cores."""
        return self.load[0] / max(self.cores, 1)

    @property
    def disk_percent(self) -> float | None:
        """The fullest measured disk, in %."""
        values = [disk.percent for disk in self.disks if disk.percent is not None]
        return max(values) if values else None


@dataclass(frozen=True)
class DockerState:
    """Whether the engine answered this cycle, and why not."""

    reachable: bool
    host: str
    error: str | None = None
    version: str | None = None
    context: str | None = None
    """The docker context `host` came from (--context, DOCKER_CONTEXT, the CLI's current one); None without."""
    product: str = "docker"
    """Which engine answers at `host`: `docker`, or `podman` (its compat socket); `version` is that engine's."""


@dataclass(frozen=True)
class Container:
    """One container as listed this cycle, with metrics where they could be measured."""

    id: str
    name: str
    image: str
    state: str
    health: str | None
    started_at: datetime | None
    restarts: int | None
    cpu_percent: float | None
    mem_used: int | None
    mem_limit: int | None
    labels: Mapping[str, str] = field(default_factory=dict)
    cpu_estimated: bool = False
    """The CPU % is an estimate: a remote engine's stats lacked its CPU count or its host CPU time, so this
    machine's count or clock stood in, or came from podman (its CPU time over the time between its readings)."""
    exit_code: int | None = None
    """How an exited or dead container ended (the list's "Exited (137) ..."), None while it runs or when unknown."""
    oom_killed: bool = False
    """True when the kernel's OOM killer ended it, as its last inspect said (never asked for only this)."""
    inspected: bool = True
    """False while its inspect is not read yet (the console reads a crowded engine's in turns): its start,
    uptime, restarts, memory limit, env timeout and figures are then unknown (None), not zero."""

    def uptime_at(self, now: datetime) -> float | None:
        """Seconds it has run at `now` (the snapshot's `taken_at`), None unless it runs and its start is known.

        Derived, not a field: a container whose figures did not move is the very same object from one
        collection to the next, so each stage after the collector (the boundary's escaping, the smoother,
        the change events, the table's cells) passes it over by identity (1 000 idle containers a second).
        """
        if self.started_at is None or self.state != "running":
            return None
        return (now - self.started_at).total_seconds()

    @property
    def mem_percent(self) -> float | None:
        """Memory used as a % of the limit (the host's memory when unlimited)."""
        if self.mem_used is None or not self.mem_limit:
            return None
        return 100.0 * self.mem_used / self.mem_limit

    @property
    def running(self) -> bool:
        """True while the container runs (paused and restarting are not running)."""
        return self.state == "running"


GHOST = "ghost"
ORPHAN = "orphan"


@dataclass(frozen=True)
class Worker:
    """A worker container, or a ghost task that should have one (then container is None)."""

    task_id: str | None
    task_status: str | None
    container: str | None
    container_id: str | None
    state: str
    started_at: datetime | None
    age_s: float | None
    timeout_s: float
    timed_out: bool
    phantom: str | None = None
    phantom_since: datetime | None = None
    """The moment the phantom's grace counted from: its container last seen (ghost), its task's end (orphan)."""
    conflict: str | None = None
    """Set when several ledger tasks claim this container: shown, and never acted on."""

    @property
    def key(self) -> str:
        """A stable row key: the container id, else the task id."""
        return self.container_id or f"task:{self.task_id}"

    @property
    def remaining_s(self) -> float | None:
        """Seconds left before the timeout (negative when overdue)."""
        return None if self.age_s is None else self.timeout_s - self.age_s


@dataclass(frozen=True)
class LedgerState:
    """The orchestrator's task ledger as read this cycle."""

    path: str
    readable: bool
    error: str | None = None
    tasks: int | None = None
    by_status: tuple[tuple[str, int], ...] = ()
    """How many tasks have each status, (status, count) in the ledger format's order; statuses it does not
    know count as "other"."""


@dataclass(frozen=True)
class LockState:
    """The orchestrator's single-flight lock file."""

    path: str
    task_id: str | None
    age_s: float | None
    stale: bool
    error: str | None = None
    stale_s: float | None = None
    """How long it has been stale, as far as pixel-tui can tell (None while live)."""
    why: str | None = None
    """Why it is live or stale, in words."""
    created_at: datetime | None = None
    """Its `createdAt` (else the file's mtime): with `mtime_ns`, what identifies this very lock."""
    mtime_ns: int | None = None


@dataclass(frozen=True)
class Event:
    """A state change worth telling the operator about."""

    at: datetime
    kind: str
    target: str
    message: str
    level: Level = Level.OK


@dataclass(frozen=True)
class Snapshot:
    """Everything one collection cycle saw. Immutable: the UI and history only read it."""

    taken_at: datetime
    host: Host
    levels: Levels
    docker: DockerState
    containers: tuple[Container, ...] = ()
    workers: tuple[Worker, ...] = ()
    ledger: LedgerState | None = None
    lock: LockState | None = None
    events: tuple[Event, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def timed_out(self) -> tuple[Worker, ...]:
        """Workers past their timeout."""
        return tuple(worker for worker in self.workers if worker.timed_out)

    @property
    def phantoms(self) -> tuple[Worker, ...]:
        """Ghost and orphan workers."""
        return tuple(worker for worker in self.workers if worker.phantom)

    @property
    def running_containers(self) -> int:
        """How many containers are running."""
        return sum(1 for container in self.containers if container.running)

    @property
    def running_workers(self) -> int:
        """How many worker containers are running: the one count of workers the console, `watch --plain` and
        `snapshot` give (ghost tasks are counted with the phantoms, exited workers not at all)."""
        return sum(1 for worker in self.workers if worker.container_id and worker.state == "running")


def workers_level(workers: tuple[Worker, ...], lock: LockState | None) -> Level:
    """Warning while a worker is timed out, a phantom exists or the lock is stale; ok otherwise."""
    incident = any(worker.timed_out or worker.phantom for worker in workers) or (lock is not None and lock.stale)
    return Level.WARNING if incident else Level.OK


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class HealthCheck:
    """A container's health check as the engine last judged it (`State.Health` of an inspect)."""

    status: str
    """healthy, unhealthy, starting or none."""
    failing_streak: int = 0
    """Checks failed in a row."""
    output: tuple[str, ...] = ()
    """The last check's output, line by line: the container's own text."""
    exit_code: int | None = None
    """The last check's exit code (0 passed, 1 failed)."""
    ended_at: datetime | None = None
    """When the last check ended."""


@dataclass(frozen=True)
class ContainerDetail:
    """What the detail view shows of one container; secret-looking env values are already masked."""

    id: str
    name: str
    image: str
    state: str
    command: str
    created: datetime | None
    labels: Mapping[str, str]
    ports: tuple[str, ...]
    mounts: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    restart_policy: str | None = None
    restart_retries: int | None = None
    """The policy's MaximumRetryCount (on-failure); None or 0 when it has none."""
    restart_count: int | None = None
    """How many times the engine restarted it."""
    started_at: datetime | None = None
    """Its last start; None when it never started."""
    finished_at: datetime | None = None
    """When it last stopped; None when it never did (docker says 0001-01-01)."""
    exit_code: int | None = None
    """Its last exit code; None while it has never exited."""
    oom_killed: bool = False
    """True when the kernel's OOM killer ended it."""
    health: HealthCheck | None = None
    """Its health check, None when it has none."""


_SECRET_HINTS = ("PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "DSN", "COOKIE", "SESSION")
MASK = "********"


def mask_env(name: str, value: str) -> str:
    """The value to show for an environment variable: masked when its name looks secret."""
    upper = name.upper()
    if any(hint in upper for hint in _SECRET_HINTS):
        return MASK
    if "://" in value and "@" in value.split("://", 1)[1]:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://{MASK}@{rest.rsplit('@', 1)[1]}"
    return value
