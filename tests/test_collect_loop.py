"""The one loop (pixel_tui.pipeline): never overlaps itself, never blocks the event loop, stretches when slow."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from pixel_tui.collect import Collector
from pixel_tui.pipeline import Pipeline
from pixel_tui.settings import Settings


async def test_slow_cycles_stretch_the_period_and_leave_the_loop_free():
    collector = Collector(Settings(docker_host="unix:///nonexistent/pixel.sock"))
    real_collect = collector.collect
    running = 0
    overlap = 0
    starts: list[float] = []

    def slow_collect():
        nonlocal running, overlap
        running += 1
        overlap = max(overlap, running)
        starts.append(time.monotonic())
        time.sleep(0.3)  # a slow engine: longer than the 0.1 s interval
        try:
            return real_collect()
        finally:
            running -= 1

    collector.collect = slow_collect
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    received = []
    try:
        await Pipeline(collector).run(lambda step, forced: received.append(step.snapshot), interval=0.1, count=4)
    finally:
        beat.cancel()
        collector.close()
    assert len(received) == 4 and all(not snap.docker.reachable for snap in received)
    assert overlap == 1, "cycles never overlap"
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 0.3 for gap in gaps), gaps  # the period stretched to the cycle's length
    assert ticks > 60, f"the event loop ran only {ticks} heartbeats in 1.2 s: it was blocked"


def test_without_an_engine_the_lock_is_read_but_not_called_stale(tmp_path):
    lock = tmp_path / "worker.lock"
    lock.write_text('{"taskId": "3f2a9c1d-aaaa", "createdAt": "2026-01-03T09:00:00Z"}')
    ledger = tmp_path / "ledger.json"
    ledger.write_text(
        '{"version": 1, "tasks": [{"id": "3f2a9c1d-aaaa", "status": "running", "startedAt": "2026-01-03T09:00:00Z"}]}'
    )
    settings = Settings(docker_host="unix:///nonexistent/pixel.sock")
    settings = replace(settings, workers=replace(settings.workers, lock_file=str(lock), ledger=str(ledger)))
    collector = Collector(settings)
    try:
        snapshot = collector.collect()
    finally:
        collector.close()
    assert snapshot.lock.task_id == "3f2a9c1d-aaaa" and snapshot.lock.stale is False
    assert snapshot.ledger.readable and snapshot.workers == ()  # no ghost claimed without a container list
