"""The demo's simulated host: containers, ledger tasks, a lock and host figures that replay the swap crisis.

The world emits raw material only (containers as an engine lists them, ledger tasks as the
orchestrator writes them, memory and swap as the kernel would say); pixel-tui's real worker rules, phantom
logic and levels compute the rest. It responds to what is done to it: killing the stuck worker and
resolving the orphan free memory, and once memory pressure is relieved the swap curve falls as in the
operator's report. Left alone it stays critical.

The arc (docs/domain.md, "The crisis arc"): cycle 14 at 92.5 % swap, cycle 15 at 82.1 % (the host's
own partial attempt, still critical). From cycle 16 on, each cycle's swap is decided when the cycle
begins: after a cycle in which memory pressure was relieved (memory below 60 %), 2.9 %, then 0 %;
otherwise critical, creeping back up. Cycles last `cycle_s` seconds of the clock given (`--speed`
divides it).

The world keeps producing stuck workers, as the report's host did: `SPAWN_AFTER` cycles after the last one
is gone, another worker hangs past its timeout, holding memory, and swap is critical again from the next
cycle until it is gone (cycle 17 of the report: the host, having learned, kills it by itself).
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

GiB = 1024**3
MiB = 1024**2
HOSTNAME = "pixel-vps-01"
STUCK_WORKER = "pixel-worker-3f2a9c1d"
ORPHAN_WORKER = "pixel-worker-9b04e7aa"
DONE_WORKER = "pixel-worker-c81d20f4"
LOG_TAILER = "pixel-worker-logs-1"
UNHEALTHY = "pixel-grafana"
STUCK_TASK = "3f2a9c1d-8e4b-4f0a-9c61-2d7b5e0a1f34"
ORPHAN_TASK = "9b04e7aa-5c12-4d6e-8a3f-71c0b9e4d205"
GHOST_TASK = "7c5e19b2-41d3-4c8e-b0a7-95f2e6d3c810"
DONE_TASK = "c81d20f4-0b7e-4a19-9d52-e3f6a8b1c047"
"""The names and task ids of the crisis host (the UI tests' scripted arc uses the same)."""


def container_id(name: str) -> str:
    """The fixed 64-hex id of a container of the crisis host, from its name."""
    return hashlib.sha256(name.encode()).hexdigest()


FIRST_CYCLE = 14
"""The demo opens at the crisis."""
ARC = {14: 92.5, 15: 82.1}
"""Swap % of the cycles the world opens with, whatever is done."""
RECOVERY = (2.9, 0.0)
"""Swap % of the cycles after memory pressure was relieved (then 0 % on)."""
RELAPSE = (84.3, 86.8, 89.2, 91.0, 92.5)
"""Swap % of the cycles while nothing is done (then 92.5 % on)."""
RELIEVED_BELOW = 60.0
"""Memory % under which the host clears its swap by itself: the cascade of the report."""
LOAD = {14: (2.58, 2.49, 2.44), 15: (2.36, 2.44, 2.44), 16: (1.64, 2.2, 2.36), 17: (1.32, 1.96, 2.24)}
"""1/5/15-minute load per cycle while healing (4 cores); 0.64 once calm, as the report ends."""
CALM_LOAD = (0.64, 0.9, 1.4)
TOTAL_MEMORY = 16 * GiB
SWAP_TOTAL = 8 * GiB
OTHER_MEMORY = int(3.22 * GiB)
"""Memory the host uses outside the containers (kernel, page cache it cannot drop, sshd, ...)."""
WORKER_IMAGE = "ghcr.io/pixel/worker:2.3.0"
SPAWN_AFTER = 5
"""Cycles without a stuck worker before the world produces the next one."""
WORKER_LABELS = {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True"}


@dataclass
class SimContainer:
    """One container of the world, as an engine would describe it."""

    name: str
    image: str
    state: str
    started_at: datetime | None
    mem: int
    limit: int
    cpu: float
    health: str | None = None
    restarts: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    env: tuple[str, ...] = ()
    command: str = ""
    log: tuple[str, ...] = ()
    exit_code: int | None = None
    """How it last ended, while stopped."""
    oom_killed: bool = False
    finished_at: datetime | None = None
    health_output: tuple[str, ...] = ()
    """What its last health check printed."""
    failing_streak: int = 0
    restart_policy: str = "unless-stopped"

    @property
    def id(self) -> str:
        """A fixed 64-hex id from the name (the same as the scripted arc's)."""
        return container_id(self.name)

    @property
    def running(self) -> bool:
        """True while it runs."""
        return self.state == "running"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class World:
    """The simulated host, thread-safe: the collector reads it while the executor changes it."""

    def __init__(
        self,
        *,
        cycle_s: float = 12.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cycle_s = cycle_s
        """Seconds of `clock` a cycle lasts."""
        self.hostname = HOSTNAME
        self._clock = clock
        self._wall = wall
        self._start = clock()
        self._lock = threading.RLock()
        now = wall()
        self.containers: dict[str, SimContainer] = {c.id: c for c in _containers(now)}
        self.tasks: list[dict] = _tasks(now, self.containers)
        self.lock: dict | None = {"taskId": STUCK_TASK, "createdAt": _iso(now - timedelta(minutes=48))}
        self.ledger_version = 0
        """Bumped on every ledger change (readers cache by it)."""
        self._swap: dict[int, float] = {}
        self._relieved_in: int | None = None
        self._caches_dropped_until = 0.0
        self._swap_cycled = False
        self._calm_since: int | None = None
        """The cycle from which no stuck worker runs (None while one does)."""
        self._relapsed_in: int | None = None
        """The cycle in which the latest stuck worker appeared (swap is critical after it until relief)."""
        self.stuck: set[str] = {container_id(STUCK_WORKER)}
        """The ids of the stuck workers produced so far, the first one included."""

    # --- time ---------------------------------------------------------------------------------------

    @property
    def cycle(self) -> int:
        """The cycle the world is in now."""
        return FIRST_CYCLE + int((self._clock() - self._start) // self.cycle_s)

    def now(self) -> datetime:
        """The wall clock of the world."""
        return self._wall()

    # --- what the collector reads ------------------------------------------------------------------

    def snapshot_parts(self) -> tuple[list[SimContainer], list[dict], dict | None]:
        """Copies of the containers, the ledger's tasks and the lock, as of now."""
        with self._lock:
            self._note_relief()
            self._maybe_spawn()
            return copy.deepcopy(list(self.containers.values())), copy.deepcopy(self.tasks), copy.deepcopy(self.lock)

    def memory_used(self) -> int:
        """Bytes of memory in use now: the host's own, minus dropped caches, plus every running container."""
        with self._lock:
            other = OTHER_MEMORY - (int(0.6 * GiB) if self._clock() < self._caches_dropped_until else 0)
            return other + sum(c.mem for c in self.containers.values() if c.running)

    def memory_percent(self) -> float:
        """Memory used, % of total."""
        return 100.0 * self.memory_used() / TOTAL_MEMORY

    def swap_percent(self) -> float:
        """Swap used %, decided once per cycle when the cycle begins."""
        with self._lock:
            self._note_relief()
            return 0.0 if self._swap_cycled else self._decide_swap()

    def _decide_swap(self) -> float:
        """The swap % of every cycle up to now, each decided once; the current one's."""
        cycle = self.cycle
        for number in range(FIRST_CYCLE, cycle + 1):
            if number not in self._swap:
                self._swap[number] = self._swap_of(number)
        return self._swap[cycle]

    def _swap_of(self, cycle: int) -> float:
        if cycle in ARC:
            return ARC[cycle]
        if self._relapsed_in is not None and self._relapsed_in < cycle and self._relieved_in is None:
            return RELAPSE[min(cycle - self._relapsed_in - 1, len(RELAPSE) - 1)]
        relieved = self._relieved_in
        if relieved is not None and relieved < cycle:
            step = cycle - max(relieved, FIRST_CYCLE + 1) - 1
            return RECOVERY[min(max(step, 0), len(RECOVERY) - 1)]
        return RELAPSE[min(cycle - 16, len(RELAPSE) - 1)]

    def _note_relief(self) -> None:
        if self._relieved_in is None and self.memory_percent() < RELIEVED_BELOW:
            self._relieved_in = self.cycle

    def _maybe_spawn(self) -> None:
        """Another worker stuck past its timeout, `SPAWN_AFTER` cycles after the last one stopped running."""
        cycle = self.cycle
        if any(c.running for cid, c in self.containers.items() if cid in self.stuck):
            self._calm_since = None
            return
        if self._calm_since is None:
            self._calm_since = cycle
        if cycle - self._calm_since < SPAWN_AFTER:
            return
        self._decide_swap()  # the cycle under way keeps the swap it began with
        self.hang_worker(f"stuck-{len(self.stuck)}")
        self._relieved_in, self._relapsed_in, self._calm_since = None, cycle, None

    def hang_worker(self, seed: str) -> SimContainer:
        """A new worker stuck past its timeout on a running task of its own (`seed` makes its fixed ids)."""
        with self._lock:
            now = self._wall()
            digest = hashlib.sha256(seed.encode()).hexdigest()
            task_id = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
            worker = _stuck_worker(f"pixel-worker-{task_id[:8]}", task_id, now)
            self.containers[worker.id] = worker
            self.stuck.add(worker.id)
            began = now - timedelta(minutes=48)
            self.tasks.append({"id": task_id, "type": "code", "status": "running", "createdAt": _iso(began),
                               "startedAt": _iso(began), "completedAt": None, "workerId": worker.id[:12],
                               "exitCode": None, "error": None})  # fmt: skip
            self.ledger_version += 1
            return copy.deepcopy(worker)

    def swap_traffic(self) -> float:
        """Pages swapped in and out per second: heavy under pressure, a trickle once relieved."""
        return 42.0 if self.memory_percent() >= 80 else 3.0

    def load(self) -> tuple[float, float, float]:
        """Load averages of the cycle."""
        cycle = self.cycle
        if self._relieved_in is None:
            return LOAD[14]
        return LOAD.get(cycle - self._relieved_in + 15, CALM_LOAD) if cycle > self._relieved_in else LOAD[15]

    # --- what remediation does to it ---------------------------------------------------------------

    def container(self, cid: str) -> SimContainer | None:
        """A copy of one container, None when it does not exist."""
        with self._lock:
            found = self.containers.get(cid)
            return copy.deepcopy(found) if found else None

    def stop(self, cid: str) -> None:
        """Stop a container: it exits and frees its memory."""
        with self._lock:
            container = self._get(cid)
            container.state, container.health = "exited", None
            container.exit_code, container.finished_at = 143, self._wall()  # SIGTERM: docker stop
            if cid in self.stuck:
                container.log += ("timeout: sending signal TERM to command 'node' (the kill switch, far too late)",)

    def start(self, cid: str) -> None:
        """Start a stopped container."""
        with self._lock:
            container = self._get(cid)
            container.state, container.started_at = "running", self._wall()
            container.exit_code, container.oom_killed = None, False

    def restart(self, cid: str) -> None:
        """Restart: a fresh start, healthy again."""
        with self._lock:
            container = self._get(cid)
            container.state, container.started_at = "running", self._wall()
            container.restarts += 1
            container.exit_code, container.oom_killed = None, False
            if container.health is not None:
                container.health, container.failing_streak, container.health_output = "healthy", 0, ("ok",)

    def remove(self, cid: str) -> None:
        """Remove a stopped container."""
        with self._lock:
            container = self._get(cid)
            if container.running:
                raise RuntimeError(f"cannot remove {container.name}: it is running (stop it first)")
            del self.containers[cid]

    def abort_task(self, task_id: str, reason: str, now: datetime) -> str | None:
        """Mark a pending or running task aborted as the orchestrator would; why not, in words, when it is neither."""
        with self._lock:
            task = next((task for task in self.tasks if task["id"] == task_id), None)
            if task is None:
                return f"task {task_id[:8]} is not in the ledger"
            if task.get("status") not in ("pending", "running"):
                return f"task {task_id[:8]} is {task.get('status')} now, not pending or running"
            task.update(status="aborted", completedAt=_iso(now), error=reason)
            self.ledger_version += 1
            return None

    def clear_lock(self, task_id: str) -> str | None:
        """Remove the lock if it still names `task_id`; why not otherwise."""
        with self._lock:
            if self.lock is None:
                return "the lock file is gone already"
            if self.lock.get("taskId") != task_id:
                return f"the lock is held by task {str(self.lock.get('taskId'))[:8]} now"
            self.lock = None
            return None

    def drop_caches(self) -> None:
        """The page cache the kernel can drop: back within a couple of cycles."""
        with self._lock:
            self._caches_dropped_until = self._clock() + 2 * self.cycle_s

    def cycle_swap(self) -> None:
        """swapoff/swapon: every swapped page back in memory."""
        with self._lock:
            self._swap_cycled = True

    def _get(self, cid: str) -> SimContainer:
        container = self.containers.get(cid)
        if container is None:
            raise LookupError(f"container {cid[:12]} no longer exists")
        return container


def _containers(now: datetime) -> list[SimContainer]:
    """The crisis host: services, a worker stuck past its timeout, an orphan worker, an unhealthy dashboard."""
    ago = lambda **kw: now - timedelta(**kw)  # noqa: E731 - a short helper reads better inline
    return [
        SimContainer("pixel-orchestrator", "ghcr.io/pixel/orchestrator:1.8.2", "running", ago(days=6, hours=3),
                     512 * MiB, TOTAL_MEMORY, 3.2, "healthy", command="node dist/orchestrator.js"),
        SimContainer("pixel-api", "ghcr.io/pixel/api:1.8.2", "running", ago(days=6, hours=3), 1130 * MiB, 2 * GiB,
                     7.5, "healthy", 1, command="node dist/api.js"),
        SimContainer("pixel-db", "postgres:16-alpine", "running", ago(days=13, hours=7), 2460 * MiB, 4 * GiB, 4.1,
                     "healthy", command="postgres"),
        SimContainer("pixel-redis", "redis:7-alpine", "running", ago(days=13, hours=7), 96 * MiB, 512 * MiB, 0.6,
                     "healthy", command="redis-server"),
        SimContainer("pixel-web", "nginx:1.27-alpine", "running", ago(days=6, hours=3), 24 * MiB, 256 * MiB, 0.2,
                     command="nginx -g 'daemon off;'"),
        SimContainer(UNHEALTHY, "grafana/grafana:11.2.0", "running", ago(hours=2, minutes=14), 310 * MiB, 1 * GiB,
                     1.8, "unhealthy", 3, {"pixel.autoheal": "true"}, command="/run.sh",
                     log=("logger=cleanup t=now level=error msg=\"health check failed: database is locked\"",),
                     health_output=("GET /api/health: 503 Service Unavailable",
                                    '{"database": "failing", "error": "database is locked"}'), failing_streak=7),
        SimContainer("pixel-prometheus", "prom/prometheus:v2.54.1", "running", ago(days=13, hours=7), 780 * MiB,
                     2 * GiB, 2.9, command="/bin/prometheus"),
        _stuck_worker(STUCK_WORKER, STUCK_TASK, now),
        SimContainer(ORPHAN_WORKER, WORKER_IMAGE, "running", ago(minutes=23), int(2.2 * GiB), 4 * GiB, 0.4, None, 0,
                     {**WORKER_LABELS, "pixel.task": ORPHAN_TASK}, (f"TASK_ID={ORPHAN_TASK}",),
                     "timeout 2700 node dist/worker.js",
                     ("worker: task 9b04e7aa done; exit code 0", "(still running)")),
        SimContainer(LOG_TAILER, WORKER_IMAGE, "running", ago(days=6, hours=3), 38 * MiB, 256 * MiB, 0.3, None, 0,
                     {"com.docker.compose.service": "worker-logs", "pixel.role": "logs"}),
        SimContainer("pixel-backup", "restic/restic:0.17.1", "exited", ago(hours=3, minutes=12), 0, 0, 0.0,
                     command="restic backup /data", exit_code=137, oom_killed=True, finished_at=ago(hours=3, minutes=2),
                     log=("scanning /data ...", "Killed"), restart_policy="no"),
        SimContainer(DONE_WORKER, WORKER_IMAGE, "exited", ago(hours=2), 0, 0, 0.0, None, 0, dict(WORKER_LABELS),
                     exit_code=0, finished_at=ago(hours=1, minutes=21), restart_policy="no"),
    ]  # fmt: skip


def _stuck_worker(name: str, task_id: str, now: datetime) -> SimContainer:
    """A worker 48 minutes into a task with a 45-minute timeout, waiting for an answer nobody will type."""
    return SimContainer(name, WORKER_IMAGE, "running", now - timedelta(minutes=48), int(3.6 * GiB), 4 * GiB, 12.4,
                        None, 0, {**WORKER_LABELS, "pixel.task": task_id},
                        (f"TASK_ID={task_id}", "WORKER_TIMEOUT_SECONDS=2700", "OPENAI_API_KEY=sk-demo"),
                        "timeout 2700 node dist/worker.js",
                        (f"worker: task {task_id[:8]} started", "worker: running tests ...",
                         "? Overwrite existing snapshot? (y/N)", "(waiting for input)"))  # fmt: skip


def _tasks(now: datetime, containers: dict[str, SimContainer]) -> list[dict]:
    """The orchestrator's camelCase ledger: the stuck task, the orphan's finished one, a ghost, and history."""
    stuck = container_id(STUCK_WORKER)
    tasks = [
        {"id": f"{n:08x}-1d2e-4f3a-8b4c-5d6e7f809{n:03x}", "type": "code", "status": "completed",
         "createdAt": _iso(now - timedelta(hours=30 - n)), "startedAt": _iso(now - timedelta(hours=30 - n)),
         "completedAt": _iso(now - timedelta(hours=30 - n, minutes=-12)), "workerId": f"{n:012x}", "exitCode": 0,
         "error": None}
        for n in range(1, 25)
    ]  # fmt: skip
    tasks += [
        {"id": DONE_TASK, "type": "code", "status": "completed", "createdAt": _iso(now - timedelta(hours=2)),
         "startedAt": _iso(now - timedelta(hours=2)), "completedAt": _iso(now - timedelta(hours=1, minutes=21)),
         "workerId": container_id(DONE_WORKER)[:12], "exitCode": 0, "error": None},
        {"id": ORPHAN_TASK, "type": "review", "status": "completed", "createdAt": _iso(now - timedelta(minutes=24)),
         "startedAt": _iso(now - timedelta(minutes=23)), "completedAt": _iso(now - timedelta(minutes=9)),
         "workerId": container_id(ORPHAN_WORKER)[:12], "exitCode": 0, "error": None},
        {"id": STUCK_TASK, "type": "code", "status": "running", "createdAt": _iso(now - timedelta(minutes=49)),
         "startedAt": _iso(now - timedelta(minutes=48)), "completedAt": None, "workerId": stuck[:12],
         "exitCode": None, "error": None},
        {"id": GHOST_TASK, "type": "code", "status": "running", "createdAt": _iso(now - timedelta(minutes=31)),
         "startedAt": _iso(now - timedelta(minutes=30)), "completedAt": None, "workerId": None, "exitCode": None,
         "error": None},
    ]  # fmt: skip
    return tasks
