"""The operator's past on the demo's host: stuck workers killed by hand under swap pressure, in the last two days.

Written by the code that writes them on a real host, so the proposals read what they would read there: each
kill is a real `worker.kill` run by the executor (its validation, its intent and outcome lines, the host
context it carries) on a world of its own at that time, by `PERSON`; and each leaves two own cycles in the
history, the one it happened in (swap critical) and the next (swap back to 2.9 %, so the history can say it
worked). `PAST_KILLS` is one short of `MIN_SUPPORT`: the operator's next kill in the demo is the one that
makes the proposal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from pixel_tui.demo.backends import SimEngineOps, SimFiles, SimHost
from pixel_tui.demo.source import demo_collector
from pixel_tui.demo.world import STUCK_TASK, STUCK_WORKER, World, container_id
from pixel_tui.history.methods import method_of
from pixel_tui.history.model import Cycle
from pixel_tui.history.store import HistoryStore
from pixel_tui.levels import METRIC
from pixel_tui.model import Level
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.settings import Settings

PAST_KILLS = (46.0, 35.0, 23.5, 11.0)
"""Hours before the demo's start at which the operator killed a stuck worker by hand."""
MIN_SUPPORT = 5
"""The demo's `[rules] min_support`: one more kill than the past holds."""
PERSON = "ops@pixel-vps-01"
"""The operator, as the audit log names a person."""
PAST_SWAP = (92.5, 2.9)
"""Swap % of the cycle of each past kill and of the cycle after it."""


def seed_past(settings: Settings, audit: Path, store: HistoryStore, now: datetime) -> int:
    """Write the past kills into `audit` and their cycles into `store` (numbered from 1); the cycles written."""
    cycle_s = settings.history.cycle_s
    written = 0
    for hours in PAST_KILLS:
        at = now - timedelta(hours=hours)
        name = _kill(settings, audit, at)
        previous: Cycle | None = None
        for offset, swap in enumerate(PAST_SWAP):
            began = at - timedelta(seconds=cycle_s / 2) + timedelta(seconds=cycle_s * offset)
            cycle = Cycle(None, "pixel-tui", began, began + timedelta(seconds=cycle_s), cycle_s,
                          METRIC["swap"].level(swap, settings.thresholds), swap_percent=swap,
                          memory_percent=89.0 if offset == 0 else 53.0, disk_percent=67.7, load_per_core=0.6,
                          containers=10, workers=3, timed_out=1 - offset, phantoms=2,
                          actions=(f"worker.kill {name} ok",) if offset == 0 else ())  # fmt: skip
            cycle = replace(cycle, method=method_of(cycle, previous.level if previous else None))
            store.add_own(cycle)
            previous = cycle
            written += 1
    return written


def _kill(settings: Settings, audit: Path, at: datetime) -> str:
    """One stuck worker killed by `PERSON` at `at`, on a world of that moment; the worker's name."""
    world = World(cycle_s=settings.history.cycle_s, clock=lambda: 0.0, wall=lambda: at)
    first = container_id(STUCK_WORKER)  # that moment's stuck worker is another than today's
    world.stop(first)
    world.remove(first)
    world.abort_task(STUCK_TASK, "replaced", at)
    worker = world.hang_worker(f"past-{at:%Y%m%d%H%M}")
    executor = Executor(settings, Backends(SimEngineOps(world), SimFiles(world), SimHost(world), AuditLog(audit)),
                        read_only=False, clock=lambda: at)  # fmt: skip
    snapshot = demo_collector(world, settings).collect()
    assert snapshot.levels.swap is Level.CRITICAL, "the past kills happened under swap pressure"
    plan = executor.plan("worker.kill", snapshot, worker.id)
    (outcome,) = executor.execute(plan, actor=PERSON)
    if not outcome.ok:
        raise RuntimeError(f"the demo's past could not be written: {outcome.sentence()}")
    return worker.name
