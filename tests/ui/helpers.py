"""Building the console on scripted snapshots, and driving it, for the UI tests."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from pixel_tui.history.importer import import_file
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.history.store import HistoryStore
from pixel_tui.model import Snapshot
from pixel_tui.paths import Paths
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.rules.model import RulesBook
from pixel_tui.settings import Settings, UISettings
from pixel_tui.ui.app import PixelApp, build_app
from pixel_tui.ui.dashboard import DashboardScreen
from pixel_tui.ui.derive import RecordedHistory
from pixel_tui.ui.history_screen import HistoryScreen
from pixel_tui.ui.plot import CycleChart
from tests.remediation import StandInHost
from tests.scripted import CRISIS_CYCLE, FIRST_CYCLE, ScriptedSource, crisis_details, crisis_frames, crisis_logs

CRISIS_FRAMES = CRISIS_CYCLE - FIRST_CYCLE + 1
"""Frames from the first cycle of the arc to the crisis (cycle 14)."""
AUDIT_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "orchestrator-audit.jsonl"
"""The orchestrator's audit log around the crisis: cycles 13-18 once imported with `--first-cycle 13` (it has no
numbers of its own)."""


def recorded_history(directory: Path | None = None, *, imported: bool = True) -> HistoryRecorder:
    """A recorder over a fresh store in `directory` (a new temporary one by default), holding the audit fixture's
    cycles 13-18 when `imported`. Its clock never moves, so scripted collections close no cycle of their own."""
    directory = Path(tempfile.mkdtemp(prefix="pixel-ui-history-")) if directory is None else directory
    path = directory / "history.sqlite3"
    if imported:
        store = HistoryStore(path)
        import_file(AUDIT_FIXTURE, store, first_cycle=13, cores=16)  # numbered as the report counts; a 16-core host
        store.close()
    return HistoryRecorder(path, clock=lambda: 0.0)


def make_app(
    frames: Sequence[Snapshot] | None = None,
    *,
    read_only: bool = False,
    interval: float = 3600.0,
    paths: Paths | None = None,
    source: ScriptedSource | None = None,
    executor: Executor | None | bool = True,
    history: RecordedHistory | None = None,
    rules: RulesBook | None = None,
    **ui: object,
) -> tuple[PixelApp, ScriptedSource]:
    """The app as the CLI builds it, on a scripted source (the crisis arc up to cycle 14 by default).

    `executor=True` gives it a stand-in one (no engine: container steps are refused, saying so; a host
    that is not this machine; an audit log in a temporary directory), False or None none at all. `history` is the
    cycle history the console records into and reads (`recorded_history`); None keeps none, as on scripted data.
    `rules` is the book the rules screen reads and changes (None: none).
    """
    if source is None:
        frames = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE) if frames is None else frames
        source = ScriptedSource(frames, details=crisis_details(), logs=crisis_logs())
    keys = ui.pop("keys", {})
    settings = Settings(interval=interval, ui=replace(UISettings(), **ui), keys=dict(keys), read_only=read_only)  # type: ignore[arg-type]
    if executor is True:
        executor = stand_in_executor(settings)
    app = build_app(settings, source, paths=paths, executor=executor or None, history=history, rules=rules)
    return app, source


def stand_in_executor(settings: Settings) -> Executor:
    """An executor with no engine, a stand-in host and an audit log under a fresh temporary directory."""
    audit = AuditLog(Path(tempfile.mkdtemp(prefix="pixel-ui-audit-")) / "audit.jsonl")
    backends = Backends(None, RealFiles(None, None, max_bytes=1 << 20), StandInHost(), audit)
    return Executor(settings, backends, read_only=settings.read_only)


def dashboard(app: PixelApp) -> DashboardScreen:
    """The dashboard screen (the base of the stack)."""
    screen = app.screen_stack[0]
    assert isinstance(screen, DashboardScreen)
    return screen


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.01)


async def replay(pilot: Pilot, frames: int = CRISIS_FRAMES) -> DashboardScreen:
    """Wait for the collector's first snapshot, then step until `frames` snapshots were applied."""
    screen = dashboard(pilot.app)  # type: ignore[arg-type]
    await until(pilot, lambda: screen.received >= 1)
    for _ in range(frames * 3):
        if screen.received >= frames:
            break
        await screen.collect_once(forced=True)
    assert screen.received >= frames, "the script has fewer distinct snapshots than asked for"
    await pilot.pause()
    return screen


async def open_history(pilot: Pilot) -> HistoryScreen:
    """Press `h` on the dashboard and wait until the history was read and its chart drawn."""
    await pilot.press("h")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await until(pilot, lambda: screen.loaded)
    chart = screen.query_one(CycleChart)
    await until(pilot, lambda: not screen.cycles or chart.drawn)
    await pilot.pause()
    return screen


def record_notifications(app: PixelApp) -> list[str]:
    """Collect every notification's message from now on (the app still shows them)."""
    messages: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: object) -> None:
        messages.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    return messages


def label_text(app: PixelApp, selector: str) -> str:
    """The text of a Label or Static on the dashboard."""
    from textual.widgets import Static

    return str(dashboard(app).query_one(selector, Static).content)


def cell(table: object, row_key: str, column: str) -> str:
    """The text of one table cell, without the table's one-space gutter."""
    return table.get_cell(row_key, column).plain.strip()  # type: ignore[attr-defined]
