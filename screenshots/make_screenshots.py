"""Make the SVG screenshots of the console from the scripted crisis arc (no Docker engine): `make screenshots`.

Every picture replays collections 9 to 14 of the arc (docs/domain.md, "The crisis arc") into the real app, built by the
same factory as the CLI, so the same code always gives the same pixels. The history screen's cycles are the
orchestrator's audit log of the crisis (tests/fixtures/orchestrator-audit.jsonl), imported into a temporary store;
the rules screen's rules are the demo's in-memory book (the built-in rules and a proposal with its evidence).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the scripted arc lives with the tests


from pixel_tui.demo.rules_book import demo_rules_book
from pixel_tui.demo.run import build_demo
from pixel_tui.history.importer import import_file
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.history.store import HistoryStore
from pixel_tui.pipeline import Pipeline
from pixel_tui.rules.model import RulesBook
from pixel_tui.settings import Settings, UISettings
from pixel_tui.ui.app import PixelApp, build_app
from pixel_tui.ui.dashboard import DashboardScreen
from pixel_tui.ui.history_screen import HistoryScreen
from pixel_tui.ui.plot import CycleChart
from pixel_tui.ui.rules_screen import RulesScreen
from pixel_tui.ui.themes import builtin_themes
from tests.scripted import CRISIS_CYCLE, FIRST_CYCLE, crisis_source

HERE = Path(__file__).resolve().parent
FRAMES = CRISIS_CYCLE - FIRST_CYCLE + 1
AUDIT_LOG = HERE.parent / "tests" / "fixtures" / "orchestrator-audit.jsonl"
"""The orchestrator's audit log around the crisis: cycles 13-18 once imported with `--first-cycle 13` (it has no
numbers of its own)."""

Step = Callable[[Pilot], Awaitable[None]]


async def replay(app: PixelApp, frames: int = FRAMES) -> DashboardScreen:
    """Wait for the collector's first snapshot, then step through the rest of the script."""
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    for _ in range(200):
        if screen.received:
            break
        await asyncio.sleep(0.01)
    while screen.received < frames:
        await screen.collect_once(forced=True)
    return screen


def imported_history(directory: Path) -> HistoryRecorder:
    """A recorder over a store in `directory` holding the audit log's cycles; its clock never moves, so the replayed
    collections close no cycle of their own."""
    store = HistoryStore(directory / "history.sqlite3")
    import_file(AUDIT_LOG, store, first_cycle=13, cores=16)  # numbered as the report counts; a 16-core host
    store.close()
    return HistoryRecorder(store.path, clock=lambda: 0.0)


async def shoot(
    name: str,
    size: tuple[int, int],
    *,
    theme: str = "pixel-dark",
    then: Step | None = None,
    history: HistoryRecorder | None = None,
    rules: RulesBook | None = None,
) -> Path:
    """Run the app at `size` on the arc (with `history` and `rules`, if any), do `then`, save screenshots/<name>.svg."""
    settings = Settings(interval=3600.0, ui=replace(UISettings(), theme=theme))
    app = build_app(settings, crisis_source(last=CRISIS_CYCLE), history=history, rules=rules)
    path = HERE / f"{name}.svg"
    async with app.run_test(size=size) as pilot:
        await replay(app)
        await pilot.pause()
        if then is not None:
            await then(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        path.write_text(app.export_screenshot(title=f"pixel-tui · {name}"), encoding="utf-8")
    return path


async def open_help(pilot: Pilot) -> None:
    """The help screen."""
    await pilot.press("question_mark")
    await pilot.pause()


async def open_worker_detail(pilot: Pilot) -> None:
    """Detail of the stuck worker: focus the workers table, enter on its first row (overdue rows sort first)."""
    await pilot.press("tab")
    await pilot.press("enter")
    for _ in range(100):  # the inspect runs in a thread worker
        await pilot.pause(0.02)
        if type(pilot.app.screen).__name__ == "DetailScreen":
            break
    await pilot.pause()


async def open_worker_log(pilot: Pilot) -> None:
    """The stuck worker's log, followed: timestamps shown, `push` searched for and jumped to."""
    await pilot.press("tab", "l")
    for _ in range(250):  # the stream is read in a thread worker
        await pilot.pause(0.02)
        screen = pilot.app.screen
        if type(screen).__name__ == "LogScreen" and len(screen.buffer.lines) == 27:  # type: ignore[attr-defined]
            break
    await pilot.press("t", "slash", *"push", "enter")
    await pilot.pause()


async def open_history(pilot: Pilot) -> None:
    """The history screen, once the store was read (in a worker) and the chart drawn (in a thread)."""
    await pilot.press("h")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    for _ in range(500):
        await pilot.pause(0.02)
        if screen.loaded and (not screen.cycles or screen.query_one(CycleChart).drawn):
            break
    await pilot.pause()


async def open_rules(pilot: Pilot) -> None:
    """The rules screen, once the book was read (in a worker)."""
    await pilot.press("R")
    screen = pilot.app.screen
    assert isinstance(screen, RulesScreen)
    for _ in range(250):
        await pilot.pause(0.02)
        if screen.loaded:
            break
    await pilot.pause()


WALL = datetime(2025, 6, 12, 14, 14, tzinfo=UTC)
"""The demo's wall clock at its first collection: the crisis of the report."""


async def demo_healed(directory: Path, size: tuple[int, int]) -> Path:
    """The demo after healing: the stuck worker killed and the phantoms resolved during cycle 15, seen at cycle 18.

    The world runs on a clock of its own (each collection a step of it), so the same code gives the same picture.
    """
    moment = [0.0]
    demo = build_demo(Settings(), directory, clock=lambda: moment[0], wall=lambda: WALL + timedelta(seconds=moment[0]))
    pipeline = Pipeline(demo.collector, history=demo.history)
    for cycle in range(14, 19):
        for second in (1.0, 7.0):
            moment[0] = (cycle - 14) * demo.settings.history.cycle_s + second
            pipeline.step()
            if (cycle, second) == (15, 1.0):
                for action in ("workers.reap", "workers.resolve_phantoms"):
                    plan = demo.executor.plan(action, demo.collector.collect())
                    demo.executor.execute(plan, actor="screenshots")
    settings = replace(demo.settings, interval=3600.0)
    app = build_app(settings, demo.collector, executor=demo.executor, history=demo.history)
    path = HERE / f"demo-healed-{size[0]}x{size[1]}.svg"
    try:
        async with app.run_test(size=size) as pilot:
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            for _ in range(500):
                await pilot.pause(0.02)
                if screen.received and screen.trend.unit == "cycle":
                    break
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()
            path.write_text(app.export_screenshot(title="pixel-tui · demo after healing"), encoding="utf-8")
    finally:
        demo.history.close()
    return path


async def main() -> int:
    """Every screenshot; prints the files written."""
    os.environ["TZ"] = "UTC"  # the detail shows times in the local zone: the same pictures wherever they are made
    time.tzset()
    made = [
        await shoot("dashboard-160x45", (160, 45)),
        await shoot("dashboard-80x24", (80, 24)),
        await shoot("help", (120, 40), then=open_help),
        await shoot("worker-detail", (120, 40), then=open_worker_detail),
        await shoot("worker-log", (120, 35), then=open_worker_log),
    ]
    with tempfile.TemporaryDirectory(prefix="pixel-screenshots-") as directory:
        history = imported_history(Path(directory))
        try:
            made.append(await shoot("history-120x36", (120, 36), then=open_history, history=history))
            made.append(await shoot("history-80x24", (80, 24), then=open_history, history=history))
        finally:
            history.close()
    for size in ((120, 35), (80, 24)):
        rules = demo_rules_book(wall=lambda: WALL)  # the demo's rules: the built-ins and a proposal with its evidence
        made.append(await shoot(f"rules-{size[0]}x{size[1]}", size, then=open_rules, rules=rules))
    with tempfile.TemporaryDirectory(prefix="pixel-screenshots-demo-") as directory:
        made.append(await demo_healed(Path(directory), (120, 36)))
    for theme in builtin_themes().names:
        made.append(await shoot(f"theme-{theme}", (120, 36), theme=theme))
    for path in made:
        print(path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
