"""The collector's parts on the demo world: the same Collector, worker rules, phantoms and levels as on a real host."""

from __future__ import annotations

import json
from datetime import timedelta

from pixel_tui.collect import Collector
from pixel_tui.collect.collector import CollectorParts
from pixel_tui.collect.engine import EngineReading
from pixel_tui.demo.chatter import DemoLogStream
from pixel_tui.demo.world import SWAP_TOTAL, TOTAL_MEMORY, World
from pixel_tui.ledger import LedgerReading, LockReading, parse_ledger
from pixel_tui.model import (
    Container,
    ContainerDetail,
    Disk,
    DockerState,
    HealthCheck,
    Host,
    LedgerState,
    Memory,
    Swap,
    mask_env,
)
from pixel_tui.settings import Settings
from pixel_tui.values import parse_time_or_none

DEMO_ENGINE = "demo://pixel-vps-01"
"""The engine URL the demo's status line shows."""
LEDGER_PATH = "/srv/pixel/data/tasks.json"
LOCK_PATH = "/srv/pixel/data/worker.lock"


class DemoHost:
    """Host figures from the world (HostSampler's interface)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def sample(self) -> Host:
        """Memory and swap from the world; CPU and load follow the arc; the disk at 67.7 % as in the report."""
        used = self.world.memory_used()
        swap = self.world.swap_percent()
        load = self.world.load()
        disk_total = 80 * 1000**3
        return Host(
            hostname=self.world.hostname,
            cpu_percent=min(95.0, 9.0 + 10.0 * load[0]),
            cores=4,
            load=load,
            memory=Memory(TOTAL_MEMORY, used, TOTAL_MEMORY - used, 100.0 * used / TOTAL_MEMORY),
            swap=Swap(SWAP_TOTAL, int(SWAP_TOTAL * swap / 100), swap),
            disks=(Disk("/", disk_total, int(disk_total * 0.677), 67.7),),
            uptime_s=41 * 86400 + 3 * 3600,
        )


class DemoEngine:
    """An engine that lists the world's containers (DockerEngine's interface, the parts the collector uses)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def poll(self) -> EngineReading:
        """The containers as the list and a cached inspect would give them."""
        containers, _, _ = self.world.snapshot_parts()
        rows = []
        env_timeouts: dict[str, str | None] = {}
        for sim in sorted(containers, key=lambda c: c.name):
            running = sim.running
            rows.append(
                Container(
                    id=sim.id,
                    name=sim.name,
                    image=sim.image,
                    state=sim.state,
                    health=sim.health,
                    started_at=sim.started_at,
                    restarts=sim.restarts,
                    cpu_percent=sim.cpu if running else None,
                    mem_used=sim.mem if running else None,
                    mem_limit=sim.limit if running else None,
                    labels=dict(sim.labels),
                    exit_code=None if running else sim.exit_code,
                    oom_killed=not running and sim.oom_killed,
                )
            )
            env_timeouts[sim.id] = next(
                (entry.split("=", 1)[1] for entry in sim.env if entry.startswith("WORKER_TIMEOUT_SECONDS=")), None
            )
        return EngineReading(DockerState(True, DEMO_ENGINE, None, "27.3.1"), tuple(rows), env_timeouts)

    def detail(self, container_id: str) -> ContainerDetail:
        """The detail view of a simulated container."""
        sim = self.world.container(container_id)
        if sim is None:
            raise LookupError(f"container {container_id[:12]} no longer exists")
        env = tuple((name, mask_env(name, value)) for name, _, value in (e.partition("=") for e in sim.env))
        health = None
        if sim.health is not None:
            failing = sim.health == "unhealthy"
            output = sim.health_output or ("ok",)
            checked = self.world.now() - timedelta(seconds=12)
            health = HealthCheck(sim.health, sim.failing_streak, output, 1 if failing else 0, checked)
        return ContainerDetail(
            sim.id, sim.name, sim.image, sim.state, sim.command, sim.started_at, dict(sim.labels), (), (), env,
            restart_policy=sim.restart_policy, restart_count=sim.restarts, started_at=sim.started_at,
            finished_at=sim.finished_at, exit_code=sim.exit_code, oom_killed=sim.oom_killed, health=health,
        )  # fmt: skip

    def logs(self, container_id: str, tail: int = 200) -> str:
        """Its last lines."""
        sim = self.world.container(container_id)
        if sim is None:
            raise LookupError(f"container {container_id[:12]} no longer exists")
        return "\n".join(sim.log[-tail:])

    def follow_logs(self, container_id: str, tail: int) -> DemoLogStream:
        """Its last lines, then new ones as the world goes on."""
        sim = self.world.container(container_id)
        if sim is None:
            raise LookupError(f"container {container_id[:12]} no longer exists")
        return DemoLogStream(self.world, sim, tail)

    def close(self) -> None:
        """Nothing to release."""


class DemoLedger:
    """The world's tasks read as a real ledger file would be (LedgerReader's interface), parsed by the real parser."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._version = -1
        self._reading: LedgerReading | None = None

    def read(self) -> LedgerReading:
        """Parsed again only when the world changed its ledger."""
        if self._reading is None or self.world.ledger_version != self._version:
            version = self.world.ledger_version
            _, tasks, _ = self.world.snapshot_parts()
            index = parse_ledger(json.dumps({"version": 1, "tasks": tasks}).encode())
            self._reading = LedgerReading(LedgerState(LEDGER_PATH, True, None, len(index), index.by_status()), index)
            self._version = version
        return self._reading


def demo_collector(world: World, settings: Settings) -> Collector:
    """The real Collector on the world's parts."""

    def read_lock(path: str) -> LockReading:
        _, _, lock = world.snapshot_parts()
        if lock is None:
            return LockReading(None, None)
        return LockReading(lock["taskId"], parse_time_or_none(lock.get("createdAt")))

    parts = CollectorParts(DemoHost(world), DemoEngine(world), DemoLedger(world), read_lock)
    return Collector(settings, parts=parts, clock=world.now)
