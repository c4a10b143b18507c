"""Make the SVG screenshots of the console from the scripted crisis arc (no Docker engine): `make screenshots`.

Every picture replays cycles 9 to 14 of the arc (docs/domain.md, "The crisis arc") into the real app, built by the same
factory as the CLI, so the same code always gives the same pixels.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from pixel_tui.scripted import CRISIS_CYCLE, FIRST_CYCLE, crisis_source
from pixel_tui.settings import Settings, UISettings
from pixel_tui.ui.app import PixelApp, build_app
from pixel_tui.ui.dashboard import DashboardScreen
from pixel_tui.ui.themes import builtin_themes

HERE = Path(__file__).resolve().parent
FRAMES = CRISIS_CYCLE - FIRST_CYCLE + 1

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


async def shoot(name: str, size: tuple[int, int], *, theme: str = "pixel-dark", then: Step | None = None) -> Path:
    """Run the app at `size` on the arc, do `then`, save screenshots/<name>.svg."""
    settings = Settings(interval=3600.0, ui=replace(UISettings(), theme=theme))
    app = build_app(settings, crisis_source(last=CRISIS_CYCLE))
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


async def main() -> int:
    """Every screenshot; prints the files written."""
    made = [
        await shoot("dashboard-160x45", (160, 45)),
        await shoot("dashboard-80x24", (80, 24)),
        await shoot("help", (120, 40), then=open_help),
        await shoot("worker-detail", (120, 40), then=open_worker_detail),
    ]
    for theme in builtin_themes().names:
        made.append(await shoot(f"theme-{theme}", (120, 36), theme=theme))
    for path in made:
        print(path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
