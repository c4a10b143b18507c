"""`pixel-tui demo`: the real console (same app, widgets, executor, bindings) on the simulated world.

The demo's history goes to a store of its own in a fresh temporary directory, seeded with the operator's
past (cycles 1-8: four stuck workers killed by hand under swap pressure, `demo.past`) and the arc's build-up
(cycles 9-13) so the sparkline tells the story from the start; its audit log (holding those four kills) and
its `rules.toml` sit beside it, read by the real rules book and autoheal (`rules.learning`).

Cycle 17 of the report, "host learned our pattern": the built-in kill of timed-out workers is off in the
demo, so the operator's next kill by hand (`k`) is the fifth and makes a proposal; promoted twice on the
rules screen (`R`, `p`), autoheal turns on and kills the next stuck worker the world produces by that rule.
Nothing of the demo touches this machine's engine, files or history.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pixel_tui.autoheal_settings import AutohealSettings
from pixel_tui.collect import Collector
from pixel_tui.demo.backends import SimEngineOps, SimFiles, SimHost
from pixel_tui.demo.past import MIN_SUPPORT, seed_past
from pixel_tui.demo.source import DEMO_ENGINE, LEDGER_PATH, LOCK_PATH, demo_collector
from pixel_tui.demo.world import World
from pixel_tui.history.model import Cycle
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.levels import METRIC, Thresholds
from pixel_tui.paths import Paths
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.rules.book import FileRulesBook
from pixel_tui.rules.command import base_rules
from pixel_tui.rules.config import RulesSettings
from pixel_tui.rules.learning import LearningAutoheal
from pixel_tui.settings import HistorySettings, Settings, WorkerSettings

BUILD_UP = {9: 41.0, 10: 55.3, 11: 68.9, 12: 79.4, 13: 88.0}
"""Swap % of the cycles before the crisis, as the history shows them at the demo's start."""
CYCLE_S = 12.0
"""Seconds a demo cycle lasts at speed 1."""
DISABLED = ("builtin-kill-timed-out", "builtin-cycle-swap")
"""Built-in rules off in the demo: the kill, so the operator's kills become a proposal (a pattern a rule covers is
not proposed); cycling swap, which would hide the swap pressure the learned rule waits for."""
CONFIG = "pixel-tui.toml"
"""The demo's config file name in its directory (never written: `rules.toml` goes beside it)."""


@dataclass
class Demo:
    """The world and the parts the console runs on."""

    world: World
    settings: Settings
    collector: Collector
    executor: Executor
    history: HistoryRecorder
    workdir: Path
    rules: FileRulesBook
    """The rules screen's book, over `rules.toml` in `workdir` and the demo's audit log."""
    autoheal: LearningAutoheal
    """Autoheal on the book's rules, off until a rule of the operator's is enabled; mines the proposals."""


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
        # `--autoheal` runs the built-in policy from the start, the kill included (so nothing is left to propose);
        # without it the kill is off and the operator's own kills become the proposal that heals (cycle 17).
        autoheal=replace(
            AutohealSettings(), enabled=settings.autoheal.enabled, disable=() if settings.autoheal.enabled else DISABLED
        ),
        rules=replace(RulesSettings(), min_support=MIN_SUPPORT),
        source=None,  # the demo's rules are its own: never a rules.toml beside the user's config
    )


def build_demo(
    settings: Settings,
    workdir: Path,
    *,
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    past: bool = False,
) -> Demo:
    """The world, its collector, an executor on it (read-only if the settings say so), and its own history.

    `clock` paces the cycles, `wall` is the time shown; tests and screenshots give fixed ones. `past` seeds the
    operator's earlier kills into the audit log and the history (`demo.past`), as `pixel-tui demo` does: the
    story of cycle 17; without it both start empty but for the build-up.
    """
    settings = demo_settings(settings, speed)
    world = World(cycle_s=settings.history.cycle_s, clock=clock, wall=wall)
    history = HistoryRecorder(workdir / "history.sqlite3", settings.history, clock=clock)
    audit = AuditLog(workdir / "audit.jsonl")
    earlier = seed_past(settings, audit.path, history.store, wall()) if past else 0
    _seed(history, settings.history.cycle_s, wall(), settings.thresholds, earlier)
    backends = Backends(SimEngineOps(world), SimFiles(world), SimHost(world), audit)
    executor = Executor(settings, backends, read_only=settings.read_only, clock=wall)
    base, errors = base_rules(settings)
    config = workdir / CONFIG
    rules = FileRulesBook(workdir / "rules.toml", base=base, base_errors=errors, disabled=settings.autoheal.disable,
                          audit=lambda: audit.read()[0], read_only=settings.read_only, settings=settings.rules,
                          config=config, clock=wall)  # fmt: skip
    autoheal = LearningAutoheal(executor, settings, rules, lambda: history.recent(200), config=config,
                                switch_on=True, clock=clock, wall=lambda: wall().timestamp(),
                                on_demote=rules.shadow)  # fmt: skip
    return Demo(world, settings, demo_collector(world, settings), executor, history, workdir, rules, autoheal)


def _seed(history: HistoryRecorder, cycle_s: float, now: datetime, thresholds: Thresholds, past: int) -> None:
    """Cycles 9-13 of the arc, so the history starts with the build-up to the crisis, each at the level its swap
    reaches (after the `past` cycles of the operator's earlier kills)."""
    store = history.store
    if past >= min(BUILD_UP):
        raise ValueError(f"the demo's past ({past} cycles) runs into the build-up")
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
        demo = build_demo(settings, Path(folder), speed=speed, past=True)
        try:
            wired = wire_console(demo.settings, demo.collector, paths=paths, executor=demo.executor,
                                 history=demo.history, rules=demo.rules, autoheal=demo.autoheal)  # fmt: skip
            return run_console(wired)
        finally:
            demo.history.close()
