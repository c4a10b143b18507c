"""Test fixture: a scripted snapshot source, and the crisis arc of docs/domain.md as fixed snapshots.

Tests and screenshots run the real console on these: no Docker engine, no clock, same pixels every run.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pixel_tui.changes import diff_events
from pixel_tui.demo.world import (
    DONE_TASK,
    DONE_WORKER,
    GHOST_TASK,
    HOSTNAME,
    LOG_TAILER,
    ORPHAN_TASK,
    ORPHAN_WORKER,
    STUCK_TASK,
    STUCK_WORKER,
    UNHEALTHY,
    container_id,
)
from pixel_tui.model import (
    GHOST,
    ORPHAN,
    Container,
    ContainerDetail,
    Disk,
    DockerState,
    HealthCheck,
    Host,
    LedgerState,
    Levels,
    LockState,
    Memory,
    Snapshot,
    Swap,
    Thresholds,
    Worker,
    mask_env,
    workers_level,
)

GiB = 1024**3
MiB = 1024**2


class ScriptedSource:
    """A SnapshotSource that replays `snapshots` in order, then repeats the last; detail and logs are canned."""

    def __init__(
        self,
        snapshots: Sequence[Snapshot],
        *,
        details: Mapping[str, ContainerDetail] | None = None,
        logs: Mapping[str, str] | None = None,
    ) -> None:
        if not snapshots:
            raise ValueError("a scripted source needs at least one snapshot")
        self._snapshots = tuple(snapshots)
        self._details = dict(details) if details is not None else _default_details(self._snapshots)
        self._logs = dict(logs or {})
        self._lock = threading.Lock()
        self._gone: set[str] = set()
        self.calls = 0
        """How many times collect() was called."""
        self.streams: dict[str, list[QueueLogStream]] = {}
        """The followed logs opened, by container id."""
        self.closed = False
        """True once close() was called."""

    def collect(self) -> Snapshot:
        """The next scripted snapshot (the last one again once the script is over)."""
        with self._lock:
            index = min(self.calls, len(self._snapshots) - 1)
            self.calls += 1
            return self._snapshots[index]

    def detail(self, container_id: str) -> ContainerDetail:
        """The canned detail of a container; LookupError when it is unknown or was removed."""
        with self._lock:
            if container_id in self._gone or container_id not in self._details:
                raise LookupError(f"container {container_id[:12]} no longer exists")
            return self._details[container_id]

    def logs(self, container_id: str, tail: int = 200) -> str:
        """The canned log of a container, its last `tail` lines; LookupError when it is unknown or removed."""
        with self._lock:
            if container_id in self._gone or container_id not in self._details:
                raise LookupError(f"container {container_id[:12]} no longer exists")
            text = self._logs.get(container_id, "")
        lines = text.splitlines()
        return "\n".join(lines[-tail:]) if tail > 0 else ""

    def follow_logs(self, container_id: str, tail: int) -> QueueLogStream:
        """The canned log's last `tail` lines, then whatever `push` sends; LookupError when unknown or removed."""
        stream = QueueLogStream(self.logs(container_id, tail).splitlines())
        with self._lock:
            self.streams.setdefault(container_id, []).append(stream)
        return stream

    def push(self, container_id: str, lines: Iterable[str]) -> None:
        """New lines for every stream open on the container."""
        with self._lock:
            streams = list(self.streams.get(container_id, ()))
        for stream in streams:
            stream.put(lines)

    def remove(self, container_id: str) -> None:
        """Make a container vanish for detail() and logs(), as if removed behind the console's back."""
        with self._lock:
            self._gone.add(container_id)

    def close(self) -> None:
        """Nothing to release; remembers it was called."""
        self.closed = True


class QueueLogStream:
    """A followed log fed by the test: its first lines, then what `put` sends, until `end` or `close`."""

    def __init__(self, first: Iterable[str] = ()) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.put(first)
        self.ended: str | None = None
        """Why the lines ended, once they have."""
        self._why = "closed"

    def put(self, lines: Iterable[str]) -> None:
        """More lines."""
        for line in lines:
            self._queue.put(line)

    def end(self, why: str) -> None:
        """End the log as the engine would (the container exited)."""
        self._why = why
        self._queue.put(None)

    def __iter__(self) -> Iterator[str]:
        """The lines until the end."""
        while (line := self._queue.get()) is not None:
            yield line
        self.ended = self._why

    def close(self) -> None:
        """End at once."""
        self._queue.put(None)


def _default_details(snapshots: Iterable[Snapshot]) -> dict[str, ContainerDetail]:
    details: dict[str, ContainerDetail] = {}
    for snapshot in snapshots:
        for container in snapshot.containers:
            details[container.id] = ContainerDetail(
                id=container.id,
                name=container.name,
                image=container.image,
                state=container.state,
                command="",
                created=container.started_at,
                labels=dict(container.labels),
                ports=(),
                mounts=(),
                env=(),
            )
    return details


# --- the crisis arc -------------------------------------------------------------------------------------

CRISIS_CYCLE = 14
"""The cycle at 92.5 % swap: the frame the screenshots show."""
FIRST_CYCLE, LAST_CYCLE = 9, 18
"""The scripted arc runs from the build-up (cycle 9) to the calm after (cycle 18)."""
CRISIS_START = datetime(2025, 6, 12, 14, 9, 0, tzinfo=UTC)
"""taken_at of the first cycle; one cycle a minute after that."""
DOCKER_HOST = "unix:///var/run/docker.sock"
LEDGER_PATH = "/srv/pixel/data/tasks.json"


# cycle: (swap %, memory %, cpu %, load 1/5/15)
_HOST_ARC: dict[int, tuple[float, float, float, tuple[float, float, float]]] = {
    9: (41.0, 58.2, 22.4, (0.52, 0.58, 0.61)),
    10: (55.3, 57.1, 25.9, (0.55, 0.57, 0.60)),
    11: (68.9, 55.9, 31.2, (0.61, 0.58, 0.60)),
    12: (79.4, 54.6, 28.7, (0.58, 0.59, 0.60)),
    13: (88.0, 53.8, 35.1, (0.66, 0.61, 0.61)),
    14: (92.5, 53.0, 38.6, (0.64, 0.62, 0.61)),
    15: (82.1, 51.2, 30.4, (0.59, 0.61, 0.61)),
    16: (2.9, 44.7, 17.8, (0.41, 0.55, 0.59)),
    17: (0.0, 43.9, 12.2, (0.33, 0.49, 0.56)),
    18: (0.0, 43.5, 11.6, (0.30, 0.44, 0.53)),
}


@dataclass(frozen=True)
class _Spec:
    name: str
    image: str
    started: timedelta | None  # before CRISIS_START; None when not running
    cpu: float
    mem: int
    limit: int
    health: str | None = None
    restarts: int = 0
    labels: Mapping[str, str] | None = None
    state: str = "running"
    exit_code: int | None = None
    oom_killed: bool = False


_HOST_MEMORY = 16 * GiB
_WORKER_IMAGE = "ghcr.io/pixel/worker:2.3.0"
_WORKER_LABELS = {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True"}
_SPECS = (
    _Spec(
        "pixel-orchestrator",
        "ghcr.io/pixel/orchestrator:1.8.2",
        timedelta(days=6, hours=3),
        3.2,
        512 * MiB,
        _HOST_MEMORY,
        "healthy",
    ),
    _Spec("pixel-api", "ghcr.io/pixel/api:1.8.2", timedelta(days=6, hours=3), 7.5, 1130 * MiB, 2 * GiB, "healthy", 1),
    _Spec("pixel-db", "postgres:16-alpine", timedelta(days=13, hours=7), 4.1, 2460 * MiB, 4 * GiB, "healthy"),
    _Spec("pixel-redis", "redis:7-alpine", timedelta(days=13, hours=7), 0.6, 96 * MiB, 512 * MiB, "healthy"),
    _Spec("pixel-web", "nginx:1.27-alpine", timedelta(days=6, hours=3), 0.2, 24 * MiB, 256 * MiB),
    _Spec(
        "pixel-grafana", "grafana/grafana:11.2.0", timedelta(hours=2, minutes=14), 1.8, 310 * MiB, 1 * GiB, "healthy", 3
    ),
    _Spec("pixel-prometheus", "prom/prometheus:v2.54.1", timedelta(days=13, hours=7), 2.9, 780 * MiB, 2 * GiB),
    _Spec(STUCK_WORKER, _WORKER_IMAGE, timedelta(minutes=43), 12.4, 1640 * MiB, 2 * GiB, labels=_WORKER_LABELS),
    _Spec(ORPHAN_WORKER, _WORKER_IMAGE, timedelta(minutes=18), 0.4, 410 * MiB, 2 * GiB, labels=_WORKER_LABELS),
    _Spec(
        LOG_TAILER,
        _WORKER_IMAGE,
        timedelta(days=6, hours=3),
        0.3,
        38 * MiB,
        256 * MiB,
        labels={"com.docker.compose.service": "worker-logs", "pixel.role": "logs"},
    ),
    _Spec("pixel-backup", "restic/restic:0.17.1", None, 0.0, 0, 0, state="exited", exit_code=137, oom_killed=True),
    _Spec(DONE_WORKER, _WORKER_IMAGE, None, 0.0, 0, 0, labels=_WORKER_LABELS, state="exited", exit_code=0),
)


def _cycle_time(cycle: int) -> datetime:
    return CRISIS_START + timedelta(minutes=cycle - FIRST_CYCLE)


def _wobble(name: str, cycle: int, spread: float) -> float:
    """A fixed pseudo-random factor in [1 - spread, 1 + spread]: values move, reproducibly."""
    digest = hashlib.sha256(f"{name}:{cycle}".encode()).digest()
    return 1.0 + spread * (digest[0] / 127.5 - 1.0)


def _container(spec: _Spec, cycle: int, now: datetime) -> Container:
    state, health, restarts, started = spec.state, spec.health, spec.restarts, None
    if spec.started is not None:
        started = CRISIS_START - spec.started
    if spec.name == UNHEALTHY:
        if 11 <= cycle <= 15:
            health = "unhealthy"
        elif cycle >= 16:  # the operator restarted it
            health, restarts, started = "healthy", spec.restarts + 1, _cycle_time(16) - timedelta(seconds=20)
    running = state == "running"
    cpu = round(spec.cpu * _wobble(spec.name, cycle, 0.35), 2) if running else None
    mem = int(spec.mem * _wobble(spec.name + "m", cycle, 0.04)) if running else None
    return Container(
        id=container_id(spec.name),
        name=spec.name,
        image=spec.image,
        state=state,
        health=health,
        started_at=started,
        restarts=restarts,
        cpu_percent=cpu,
        mem_used=mem,
        mem_limit=spec.limit if running else None,
        labels=dict(spec.labels or {}),
        exit_code=None if running else spec.exit_code,
        oom_killed=not running and spec.oom_killed,
    )


def _host(cycle: int) -> Host:
    swap_pct, mem_pct, cpu, load = _HOST_ARC[cycle]
    swap_total = 4 * GiB
    disk_total = 80 * 1000**3
    used = int(_HOST_MEMORY * mem_pct / 100)
    return Host(
        hostname=HOSTNAME,
        cpu_percent=cpu,
        cores=4,
        load=load,
        memory=Memory(total=_HOST_MEMORY, used=used, available=_HOST_MEMORY - used, percent=mem_pct),
        swap=Swap(total=swap_total, used=int(swap_total * swap_pct / 100), percent=swap_pct),
        disks=(Disk("/", disk_total, int(disk_total * 0.677), 67.7),),
        uptime_s=41 * 86400 + 3 * 3600 + (cycle - FIRST_CYCLE) * 60,
    )


def _workers(cycle: int, now: datetime, containers: Mapping[str, Container]) -> tuple[Worker, ...]:
    rows: list[Worker] = []
    timeout = 2760.0
    stuck = containers.get(STUCK_WORKER)
    if stuck is not None and stuck.started_at is not None:
        age = (now - stuck.started_at).total_seconds()
        rows.append(
            Worker(
                STUCK_TASK, "running", STUCK_WORKER, stuck.id, "running", stuck.started_at, age, timeout, age > timeout
            )
        )
    ghost_started = _cycle_time(11) - timedelta(seconds=30)
    if cycle >= 12:  # past the 60 s grace
        age = (now - ghost_started).total_seconds()
        rows.append(Worker(GHOST_TASK, "running", None, None, "missing", ghost_started, age, timeout, False, GHOST))
    orphan = containers[ORPHAN_WORKER]
    assert orphan.started_at is not None
    age = (now - orphan.started_at).total_seconds()
    status, phantom = ("completed", ORPHAN) if cycle >= 10 else ("running", None)
    rows.append(
        Worker(
            ORPHAN_TASK, status, ORPHAN_WORKER, orphan.id, "running", orphan.started_at, age, timeout, False, phantom
        )
    )
    done = containers[DONE_WORKER]
    rows.append(Worker(DONE_TASK, "completed", DONE_WORKER, done.id, "exited", None, None, timeout, False))
    rows.sort(
        key=lambda w: (0 if w.timed_out else 1 if w.phantom else 2 if w.state == "running" else 3, -(w.age_s or 0.0))
    )
    return tuple(rows)


def crisis_frame(cycle: int, thresholds: Thresholds | None = None) -> Snapshot:
    """The snapshot of one cycle of the arc, without events (see crisis_frames)."""
    if cycle not in _HOST_ARC:
        raise ValueError(f"the crisis arc runs from cycle {FIRST_CYCLE} to {LAST_CYCLE}, not {cycle}")
    now = _cycle_time(cycle)
    host = _host(cycle)
    specs = [spec for spec in _SPECS if not (spec.name == STUCK_WORKER and cycle >= 16)]  # killed at cycle 16
    containers = tuple(_container(spec, cycle, now) for spec in specs)
    by_name = {container.name: container for container in containers}
    workers = _workers(cycle, now, by_name)
    stuck = next((w for w in workers if w.task_id == STUCK_TASK), None)
    lock_age = stuck.age_s if stuck else None
    lock = LockState("/srv/pixel/data/worker.lock", STUCK_TASK if stuck else None, lock_age, stale=False)
    return Snapshot(
        taken_at=now,
        host=host,
        levels=Levels.of(host, thresholds or Thresholds(), workers=workers_level(workers, lock)),
        docker=DockerState(reachable=True, host=DOCKER_HOST, version="27.3.1"),
        containers=containers,
        workers=workers,
        ledger=LedgerState(LEDGER_PATH, readable=True, tasks=214 + cycle),
        lock=lock,
    )


def crisis_frames(first: int = FIRST_CYCLE, last: int = LAST_CYCLE) -> tuple[Snapshot, ...]:
    """Cycles `first`..`last` of the arc, each carrying the events since the cycle before (as the collector does)."""
    frames: list[Snapshot] = []
    previous = crisis_frame(first - 1) if first > FIRST_CYCLE else None
    for cycle in range(first, last + 1):
        frame = crisis_frame(cycle)
        frames.append(replace(frame, events=diff_events(previous, frame)))
        previous = frame
    return tuple(frames)


def crisis_details() -> dict[str, ContainerDetail]:
    """Canned inspect results for the arc's containers, secret-looking values masked as the collector does."""
    details: dict[str, ContainerDetail] = {}
    for spec in _SPECS:
        env = [("TZ", "UTC"), ("LOG_LEVEL", "info")]
        ports: tuple[str, ...] = ()
        mounts: tuple[str, ...] = ()
        command = "/entrypoint.sh"
        if spec.name == "pixel-db":
            env += [
                ("POSTGRES_USER", "pixel"),
                ("POSTGRES_PASSWORD", "hunter2"),
                ("PGDATA", "/var/lib/postgresql/data"),
            ]
            ports, mounts = ("5432/tcp",), ("pixel_db -> /var/lib/postgresql/data",)
            command = "docker-entrypoint.sh postgres"
        elif spec.name == "pixel-api":
            env += [("DATABASE_URL", "postgres://pixel:hunter2@pixel-db:5432/pixel"), ("API_TOKEN", "tok_51f0a9")]
            ports = ("8080/tcp -> 127.0.0.1:8080",)
        elif spec.name == "pixel-web":
            ports, mounts = (
                ("80/tcp -> 0.0.0.0:80", "443/tcp -> 0.0.0.0:443"),
                ("/srv/pixel/www -> /usr/share/nginx/html (ro)",),
            )
            command = "nginx -g daemon off;"
        elif spec.image == _WORKER_IMAGE:
            task = {STUCK_WORKER: STUCK_TASK, ORPHAN_WORKER: ORPHAN_TASK, DONE_WORKER: DONE_TASK}.get(spec.name)
            env += [("WORKER_TIMEOUT_SECONDS", "2700"), ("OPENAI_API_KEY", "sk-live-0000")]
            if task:
                env.append(("TASK_ID", task))
            mounts = ("/srv/pixel/data -> /data",)
            command = "timeout 2700 node dist/worker.js" if task else "tail -F /data/logs/worker.log"
        details[container_id(spec.name)] = ContainerDetail(
            id=container_id(spec.name),
            name=spec.name,
            image=spec.image,
            state=spec.state,
            command=command,
            created=CRISIS_START - (spec.started or timedelta(days=1)),
            labels=dict(spec.labels or {}),
            ports=ports,
            mounts=mounts,
            env=tuple((name, mask_env(name, value)) for name, value in env),
            restart_policy="unless-stopped" if spec.image != _WORKER_IMAGE or spec.name == LOG_TAILER else "no",
            restart_count=spec.restarts,
            started_at=None if spec.started is None else CRISIS_START - spec.started,
            finished_at=None if spec.state == "running" else CRISIS_START - timedelta(hours=1, minutes=21),
            exit_code=spec.exit_code,
            oom_killed=spec.oom_killed,
            health=_health(spec),
        )
    return details


GRAFANA_HEALTH_OUTPUT = (
    "GET /api/health: 503 Service Unavailable",
    "\x1b]0;owned\x07[bold red]database[/] is locked\x1b[2J",
)
"""The unhealthy dashboard's last health check output: what a container prints is its own, escapes and markup too."""


def _health(spec: _Spec) -> HealthCheck | None:
    """A health check for the containers that have one: grafana's failing, with a hostile output."""
    if spec.health is None:
        return None
    checked = CRISIS_START - timedelta(seconds=12)
    if spec.name == UNHEALTHY:
        return HealthCheck("unhealthy", 7, GRAFANA_HEALTH_OUTPUT, 1, checked)
    return HealthCheck("healthy", 0, ("ok",), 0, checked)


def crisis_logs() -> dict[str, str]:
    """Canned log tails: the stuck worker waiting on a prompt, the unhealthy dashboard failing its probe."""
    stuck = "\n".join(
        [
            f"2025-06-12T13:{26 + i // 6:02d}:{(i * 10) % 60:02d}Z worker step {i}: tokens={1200 + 37 * i}"
            for i in range(24)
        ]
        + [
            "2025-06-12T13:30:12Z tool call: git push origin HEAD",
            "2025-06-12T13:30:12Z Username for 'https://github.com': ",
            "2025-06-12T13:30:12Z (waiting for input)",
        ]
    )
    grafana = "\n".join(
        f'2025-06-12T14:{10 + i:02d}:00Z level=error msg="health check failed" err="context deadline exceeded"'
        for i in range(6)
    )
    return {container_id(STUCK_WORKER): stuck, container_id(UNHEALTHY): grafana}


def crisis_source(first: int = FIRST_CYCLE, last: int = LAST_CYCLE) -> ScriptedSource:
    """A ScriptedSource replaying the arc from cycle `first` to `last`, with canned detail and logs."""
    return ScriptedSource(crisis_frames(first, last), details=crisis_details(), logs=crisis_logs())
