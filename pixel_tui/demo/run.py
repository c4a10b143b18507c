"""`pixel-tui demo`: the real console (same app, widgets, executor, bindings) on the simulated world.

The demo's history goes to a store of its own in a fresh temporary directory, seeded with the arc's
build-up (cycles 9-13) so the sparkline tells the story from the start; its audit log sits beside it.
Nothing of the demo touches this machine's engine, files or history.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pixel_tui.collect import Collector
from pixel_tui.demo.backends import SimEngineOps, SimFiles, SimHost
from pixel_tui.demo.rules_book import MemoryRulesBook, demo_rules_book
from pixel_tui.demo.source import DEMO_ENGINE, LEDGER_PATH, LOCK_PATH, demo_collector
from pixel_tui.demo.world import World
from pixel_tui.history.model import Cycle
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.levels import METRIC, Thresholds
from pixel_tui.paths import Paths
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.settings import HistorySettings, Settings, WorkerSettings

BUILD_UP = {9: 41.0, 10: 55.3, 11: 68.9, 12: 79.4, 13: 88.0}
"""Swap % of the cycles before the crisis, as the history shows them at the demo's start."""
CYCLE_S = 12.0
"""Seconds a demo cycle lasts at speed 1."""


@dataclass
class Demo:
    """The world and the parts the console runs on."""

    world: World
    settings: Settings
    collector: Collector
    executor: Executor
    history: HistoryRecorder
    workdir: Path
    rules: MemoryRulesBook
    """The rules screen's book: the built-in rules with figures, and one proposal with its evidence."""


def demo_settings(settings: Settings, speed: float) -> Settings:
    """The user's look and keys, the demo's host: its ledger and lock, a 1 s interval, cycles of 12 s / speed."""
    cycle_s = CYCLE_S / speed
    return replace(
        settings,
        docker_host=DEMO_ENGINE,
        interval=min(settings.interval, 1.0),
        # The graces a real host counts in minutes, at the demo's pace: a stale lock is cleared (autoheal on)
        # a cycle after the stuck worker that held it is gone, so the arc ends with every level ok.
        workers=replace(WorkerSettings(), ledger=LEDGER_PATH, lock_file=LOCK_PATH, lock_grace_s=cycle_s),
        history=replace(HistorySettings(), cycle_s=cycle_s),
    )


def build_demo(
    settings: Settings,
    workdir: Path,
    *,
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Demo:
    """The world, its collector, an executor on it (read-only if the settings say so), and its own history.

    `clock` paces the cycles, `wall` is the time shown; tests and screenshots give fixed ones.
    """
    settings = demo_settings(settings, speed)
    world = World(cycle_s=settings.history.cycle_s, clock=clock, wall=wall)
    history = HistoryRecorder(workdir / "history.sqlite3", settings.history, clock=clock)
    _seed(history, settings.history.cycle_s, wall(), settings.thresholds)
    backends = Backends(SimEngineOps(world), SimFiles(world), SimHost(world), AuditLog(workdir / "audit.jsonl"))
    executor = Executor(settings, backends, read_only=settings.read_only, clock=wall)
    rules = demo_rules_book(read_only=settings.read_only, wall=wall)
    return Demo(world, settings, demo_collector(world, settings), executor, history, workdir, rules)


def _seed(history: HistoryRecorder, cycle_s: float, now: datetime, thresholds: Thresholds) -> None:
    """Cycles 9-13 of the arc, so the history starts with the build-up to the crisis, each at the level its swap
    reaches."""
    store = history.store
    store.continue_after(min(BUILD_UP) - 1)
    start = now - timedelta(seconds=cycle_s * len(BUILD_UP))
    for offset, (number, swap) in enumerate(sorted(BUILD_UP.items())):
        began = start + timedelta(seconds=cycle_s * offset)
        level = METRIC["swap"].level(swap, thresholds)  # the arc is told by its swap
        store.add_own(
            Cycle(
                None,
                "pixel-tui",
                began,
                began + timedelta(seconds=cycle_s),
                cycle_s,
                level,
                swap_percent=swap,
                memory_percent=84.0 + offset,
                disk_percent=67.7,
                load_per_core=0.6,
                containers=10,
                workers=3,
                timed_out=1 if number >= 12 else 0,
                phantoms=2,
            )  # fmt: skip
        )


def run_demo(settings: Settings, paths: Paths, *, speed: float) -> int:
    """Run the console on the demo until the operator quits (`paths`: the user's themes)."""
    from pixel_tui.ui.app import run_console
    from pixel_tui.wiring import wire_console

    with tempfile.TemporaryDirectory(prefix="pixel-tui-demo-") as folder:
        demo = build_demo(settings, Path(folder), speed=speed)
        try:
            wired = wire_console(demo.settings, demo.collector, paths=paths, executor=demo.executor,
                                 history=demo.history, rules=demo.rules)  # fmt: skip
            return run_console(wired)
        finally:
            demo.history.close()
