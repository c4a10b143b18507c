"""The data model: one immutable snapshot per collection cycle, levels, and derived events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1


class Level(StrEnum):
    """Severity of a gauge; ordered, so the worst of several is `max(levels, key=Level.rank)`."""

    OK = "ok"
    CAREFUL = "careful"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ok up to 3 for critical."""
        return _LEVEL_ORDER.index(self)

    @classmethod
    def worst(cls, levels: list[Level] | tuple[Level, ...]) -> Level:
        """The most severe of `levels` (ok when there are none)."""
        return max(levels, key=lambda level: level.rank, default=cls.OK)


_LEVEL_ORDER = (Level.OK, Level.CAREFUL, Level.WARNING, Level.CRITICAL)


@dataclass(frozen=True)
class Thresholds:
    """The (careful, warning, critical) limits of each gauge; a value at or above a limit reaches it."""

    cpu: tuple[float, float, float] = (50.0, 70.0, 90.0)
    """CPU %, all cores."""
    memory: tuple[float, float, float] = (70.0, 80.0, 90.0)
    """Memory used %."""
    swap: tuple[float, float, float] = (10.0, 50.0, 80.0)
    """Swap used %."""
    disk: tuple[float, float, float] = (70.0, 75.0, 85.0)
    """Disk used %, per mount; the disk level is the worst mount."""
    load: tuple[float, float, float] = (1.0, 1.5, 2.0)
    """1-minute load average divided by the number of cores."""


def level_for(value: float | None, limits: tuple[float, float, float]) -> Level:
    """The level a value reaches against (careful, warning, critical) limits; ok when unmeasured."""
    if value is None:
        return Level.OK
    careful, warning, critical = limits
    if value >= critical:
        return Level.CRITICAL
    if value >= warning:
        return Level.WARNING
    if value >= careful:
        return Level.CAREFUL
    return Level.OK


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
class Levels:
    """The level of each gauge and the worst of them."""

    cpu: Level
    memory: Level
    swap: Level
    disk: Level
    load: Level

    @property
    def overall(self) -> Level:
        """The worst gauge."""
        return Level.worst((self.cpu, self.memory, self.swap, self.disk, self.load))

    @classmethod
    def of(cls, host: Host, thresholds: Thresholds) -> Levels:
        """Levels of `host` against `thresholds`."""
        return cls(
            cpu=level_for(host.cpu_percent, thresholds.cpu),
            memory=level_for(host.memory.percent, thresholds.memory),
            swap=level_for(host.swap.percent if host.swap.total else 0.0, thresholds.swap),
            disk=level_for(host.disk_percent, thresholds.disk),
            load=level_for(host.load_per_core, thresholds.load),
        )


@dataclass(frozen=True)
class DockerState:
    """Whether the engine answered this cycle, and why not."""

    reachable: bool
    host: str
    error: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Container:
    """One container as listed this cycle, with metrics where they could be measured."""

    id: str
    name: str
    image: str
    state: str
    health: str | None
    started_at: datetime | None
    uptime_s: float | None
    restarts: int | None
    cpu_percent: float | None
    mem_used: int | None
    mem_limit: int | None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """The 12-hex id the docker CLI shows."""
        return self.id[:12]

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


@dataclass(frozen=True)
class LockState:
    """The orchestrator's single-flight lock file."""

    path: str
    task_id: str | None
    age_s: float | None
    stale: bool
    error: str | None = None


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


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as the schema-1 document `snapshot --json` prints (see README)."""
    host = snapshot.host
    levels = snapshot.levels
    return {
        "schema": SCHEMA_VERSION,
        "taken_at": iso(snapshot.taken_at),
        "host": {
            "hostname": host.hostname,
            "cpu_percent": _round(host.cpu_percent),
            "cores": host.cores,
            "load": [round(value, 2) for value in host.load],
            "load_per_core": round(host.load_per_core, 3),
            "memory": {
                "total": host.memory.total,
                "used": host.memory.used,
                "available": host.memory.available,
                "percent": _round(host.memory.percent),
            },
            "swap": {"total": host.swap.total, "used": host.swap.used, "percent": _round(host.swap.percent)},
            "disks": [
                {"mount": disk.mount, "total": disk.total, "used": disk.used, "percent": _round(disk.percent)}
                for disk in host.disks
            ],
            "uptime_s": round(host.uptime_s, 1),
        },
        "levels": {
            "cpu": levels.cpu.value,
            "memory": levels.memory.value,
            "swap": levels.swap.value,
            "disk": levels.disk.value,
            "load": levels.load.value,
            "overall": levels.overall.value,
        },
        "docker": {
            "reachable": snapshot.docker.reachable,
            "error": snapshot.docker.error,
            "host": snapshot.docker.host,
            "version": snapshot.docker.version,
        },
        "containers": [
            {
                "id": container.id,
                "name": container.name,
                "image": container.image,
                "state": container.state,
                "health": container.health,
                "started_at": iso(container.started_at),
                "uptime_s": _round(container.uptime_s, 1),
                "restarts": container.restarts,
                "cpu_percent": _round(container.cpu_percent),
                "mem_used": container.mem_used,
                "mem_limit": container.mem_limit,
                "mem_percent": _round(container.mem_percent),
                "labels": dict(container.labels),
            }
            for container in snapshot.containers
        ],
        "workers": [
            {
                "task_id": worker.task_id,
                "task_status": worker.task_status,
                "container": worker.container,
                "container_id": worker.container_id,
                "state": worker.state,
                "started_at": iso(worker.started_at),
                "age_s": _round(worker.age_s, 1),
                "timeout_s": worker.timeout_s,
                "timed_out": worker.timed_out,
                "phantom": worker.phantom,
            }
            for worker in snapshot.workers
        ],
        "ledger": None
        if snapshot.ledger is None
        else {
            "path": snapshot.ledger.path,
            "readable": snapshot.ledger.readable,
            "error": snapshot.ledger.error,
            "tasks": snapshot.ledger.tasks,
        },
        "lock": None
        if snapshot.lock is None
        else {
            "path": snapshot.lock.path,
            "task_id": snapshot.lock.task_id,
            "age_s": _round(snapshot.lock.age_s, 1),
            "stale": snapshot.lock.stale,
        },
    }


def diff_events(previous: Snapshot | None, current: Snapshot) -> tuple[Event, ...]:
    """The state changes between two consecutive snapshots, oldest concern first."""
    at = current.taken_at
    events: list[Event] = []
    if previous is None:
        if not current.docker.reachable:
            events.append(
                Event(
                    at,
                    "engine-lost",
                    current.docker.host,
                    f"engine unreachable: {current.docker.error}",
                    Level.CRITICAL,
                )
            )
        return tuple(events)
    if previous.docker.reachable and not current.docker.reachable:
        events.append(
            Event(at, "engine-lost", current.docker.host, f"engine unreachable: {current.docker.error}", Level.CRITICAL)
        )
    elif not previous.docker.reachable and current.docker.reachable:
        events.append(Event(at, "engine-back", current.docker.host, "engine reachable again", Level.OK))
    if current.docker.reachable and previous.docker.reachable:
        events.extend(_container_events(previous, current))
    events.extend(_worker_events(previous, current))
    if previous.levels.overall != current.levels.overall:
        events.append(
            Event(
                at,
                "level",
                "host",
                f"host level {previous.levels.overall.value} -> {current.levels.overall.value}",
                current.levels.overall,
            )
        )
    return tuple(events)


def _container_events(previous: Snapshot, current: Snapshot) -> list[Event]:
    at = current.taken_at
    before = {container.id: container for container in previous.containers}
    events: list[Event] = []
    for container in current.containers:
        old = before.pop(container.id, None)
        if old is None:
            events.append(Event(at, "container-new", container.name, f"{container.name} created ({container.state})"))
            continue
        if old.running and not container.running:
            events.append(
                Event(at, "container-died", container.name, f"{container.name} {container.state}", Level.WARNING)
            )
        elif not old.running and container.running:
            events.append(Event(at, "container-started", container.name, f"{container.name} started"))
        elif (container.restarts or 0) > (old.restarts or 0) or (
            old.started_at and container.started_at and container.started_at > old.started_at
        ):
            events.append(
                Event(at, "container-restarted", container.name, f"{container.name} restarted", Level.CAREFUL)
            )
        if container.health != old.health and container.health in ("unhealthy", "healthy") and old.health is not None:
            level = Level.WARNING if container.health == "unhealthy" else Level.OK
            events.append(Event(at, "container-health", container.name, f"{container.name} {container.health}", level))
    for gone in before.values():
        events.append(Event(at, "container-removed", gone.name, f"{gone.name} removed"))
    return events


def _worker_events(previous: Snapshot, current: Snapshot) -> list[Event]:
    at = current.taken_at
    before = {worker.key: worker for worker in previous.workers}
    events: list[Event] = []
    for worker in current.workers:
        old = before.get(worker.key)
        label = worker.container or f"task {worker.task_id}"
        if worker.timed_out and not (old and old.timed_out):
            events.append(Event(at, "worker-timeout", label, f"worker {label} timed out", Level.WARNING))
        if worker.phantom and not (old and old.phantom == worker.phantom):
            events.append(Event(at, "phantom", label, f"{worker.phantom} phantom: {label}", Level.WARNING))
    current_phantoms = {worker.key for worker in current.workers if worker.phantom}
    for key, old in before.items():
        if old.phantom and key not in current_phantoms:
            label = old.container or f"task {old.task_id}"
            events.append(Event(at, "phantom-cleared", label, f"phantom cleared: {label}"))
    return events


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
