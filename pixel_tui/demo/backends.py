"""The executor's backends on the demo world: the same plans, validation and audit as on a real host."""

from __future__ import annotations

import json
from datetime import datetime

from pixel_tui.demo.world import SWAP_TOTAL, TOTAL_MEMORY, World
from pixel_tui.ledger import LockReading, TaskIndex, parse_ledger
from pixel_tui.remediate.engine_ops import LiveContainer
from pixel_tui.remediate.host import MemoryFigures
from pixel_tui.remediate.model import Refused
from pixel_tui.values import parse_time_or_none


class SimEngineOps:
    """EngineOps on the world's containers."""

    def __init__(self, world: World) -> None:
        self.world = world

    def inspect(self, container_id: str) -> LiveContainer | None:
        """The container now, None when gone."""
        sim = self.world.container(container_id)
        if sim is None:
            return None
        return LiveContainer(sim.id, sim.name, sim.state, sim.health, sim.started_at, sim.restarts,
                             dict(sim.labels), sim.env, sim.image)  # fmt: skip

    def containers(self) -> list[LiveContainer]:
        """Every container, as a list request gives them."""
        sims, _, _ = self.world.snapshot_parts()
        return [LiveContainer(s.id, s.name, s.state, None, None, None, dict(s.labels), (), s.image) for s in sims]

    def stop(self, container_id: str, grace_s: float) -> None:
        """The container exits at once (a simulation need not wait the grace)."""
        self.world.stop(container_id)

    def start(self, container_id: str) -> None:
        """Start it."""
        self.world.start(container_id)

    def restart(self, container_id: str, grace_s: float) -> None:
        """Restart it."""
        self.world.restart(container_id)

    def remove(self, container_id: str) -> None:
        """Remove it."""
        self.world.remove(container_id)

    def prune_images(self) -> str:
        """What a prune of dangling images says on such a host."""
        return "dangling images: 7 deleted (images and their layers), 412.0 MiB reclaimed"

    def prune_build_cache(self) -> str:
        """What a build-cache prune says."""
        return "build cache: 96.0 MiB reclaimed"

    def prune_preview(self) -> str:
        """What such a host would free."""
        return "would free about 508.0 MiB: 3 dangling images (412.0 MiB), 5 unused build cache entries (96.0 MiB)"


class SimFiles:
    """OrchestratorFiles on the world's ledger and lock."""

    def __init__(self, world: World) -> None:
        self.world = world

    @property
    def has_ledger(self) -> bool:
        """The demo host has its ledger."""
        return True

    def tasks(self) -> TaskIndex:
        """A fresh read, by the real parser."""
        _, tasks, _ = self.world.snapshot_parts()
        return parse_ledger(json.dumps({"version": 1, "tasks": tasks}).encode())

    def abort(self, task_id: str, reason: str, now: datetime) -> None:
        """Abort a pending or running task; Refused otherwise."""
        refusal = self.world.abort_task(task_id, reason, now)
        if refusal is not None:
            raise Refused(refusal)

    def lock(self) -> LockReading:
        """The lock as the real reader would see it (the demo's lock has no mtime)."""
        _, _, lock = self.world.snapshot_parts()
        if lock is None:
            return LockReading(None, None)
        return LockReading(lock.get("taskId"), parse_time_or_none(lock.get("createdAt")))

    def clear_lock(self, seen: LockReading) -> None:
        """Remove the lock if it still names the task it named."""
        refusal = self.world.clear_lock(str(seen.task_id))
        if refusal is not None:
            raise Refused(refusal)


class SimHost:
    """HostSystem on the world: root, its memory and swap, its swap traffic."""

    def __init__(self, world: World) -> None:
        self.world = world

    def is_root(self) -> bool:
        """The demo runs as root on its host."""
        return True

    def memory(self) -> MemoryFigures:
        """Memory and swap now."""
        used = self.world.memory_used()
        swap_used = int(SWAP_TOTAL * self.world.swap_percent() / 100)
        return MemoryFigures(TOTAL_MEMORY, TOTAL_MEMORY - used, SWAP_TOTAL, SWAP_TOTAL - swap_used)

    def swap_traffic(self, seconds: float) -> float:
        """No waiting in a simulation: the traffic of now."""
        return self.world.swap_traffic()

    def drop_caches(self) -> None:
        """Drop the simulated page cache."""
        self.world.drop_caches()

    def cycle_swap(self) -> None:
        """Bring swapped pages back."""
        self.world.cycle_swap()
