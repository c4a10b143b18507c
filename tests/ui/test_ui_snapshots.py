"""Snapshot tests (pytest-textual-snapshot): the dashboard at 40x12, 80x24 and 160x45, the high-contrast theme, the
history screen at 80x24 and 160x45, the rules screen at 80x24 and 120x35, and the log view at 80x24 and 120x35.

Deterministic by construction: scripted snapshots with fixed timestamps, no clock on screen, no blinking
cursor, a collector that only steps when told; the history is the imported audit fixture (fixed times) and its
recorder's clock never moves, so no cycle of its own closes. Regenerate with `pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.pilot import Pilot

from pixel_tui.demo.rules_book import demo_rules_book
from pixel_tui.ui.logs import LogScreen
from pixel_tui.ui.rules_screen import RulesScreen
from tests.ui.helpers import make_app, open_history, recorded_history, replay, until


async def _crisis(pilot: Pilot) -> None:
    await replay(pilot)
    await pilot.pause()


def test_dashboard_40x12(snap_compare) -> None:
    """The smallest console: gauges keep their values and levels, the bars and the sparkline shrink."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(40, 12), run_before=_crisis)


def test_dashboard_80x24(snap_compare) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_crisis)


def test_dashboard_160x45(snap_compare) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(160, 45), run_before=_crisis)


def test_dashboard_high_contrast_read_only(snap_compare) -> None:
    app, _ = make_app(theme="pixel-contrast", read_only=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_crisis)


async def _history(pilot: Pilot) -> None:
    await replay(pilot, 1)
    await open_history(pilot)


def test_history_screen_80x24(snap_compare) -> None:
    """The crisis arc's cycles 13-18: chart, recovery line, table (sideways past the method column)."""
    app, _ = make_app(history=recorded_history())
    assert snap_compare(app, terminal_size=(80, 24), run_before=_history)


def test_history_screen_160x45(snap_compare) -> None:
    app, _ = make_app(history=recorded_history())
    assert snap_compare(app, terminal_size=(160, 45), run_before=_history)


WALL = datetime(2025, 6, 12, 14, 14, tzinfo=UTC)
"""The demo book's clock: its proposal's time is fixed."""


async def _rules(pilot: Pilot) -> None:
    await replay(pilot, 1)
    await pilot.press("R")
    screen = pilot.app.screen
    assert isinstance(screen, RulesScreen)
    await until(pilot, lambda: screen.loaded)
    await pilot.pause()


def test_rules_screen_120x35(snap_compare) -> None:
    """The demo's rules: the proposal first with its evidence, the built-ins with their figures, one in shadow."""
    app, _ = make_app(rules=demo_rules_book(wall=lambda: WALL))
    assert snap_compare(app, terminal_size=(120, 35), run_before=_rules)


def test_rules_screen_80x24(snap_compare) -> None:
    app, _ = make_app(rules=demo_rules_book(wall=lambda: WALL))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_rules)


async def _worker_log(pilot: Pilot) -> None:
    """The stuck worker's log (its 27 canned lines), timestamps shown, `push` searched for."""
    screen = await replay(pilot)
    await pilot.press("tab", "l")  # the workers table; its first row is the overdue worker
    await until(pilot, lambda: isinstance(pilot.app.screen, LogScreen) and len(pilot.app.screen.buffer.lines) == 27)
    await pilot.press("t", "slash", *"push", "enter", "f")
    await pilot.pause()
    assert pilot.app.screen is not screen


def test_log_screen_80x24(snap_compare) -> None:
    """The followed log: timestamps, a search match highlighted and jumped to, the status line."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_worker_log)


def test_log_screen_120x35(snap_compare) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(120, 35), run_before=_worker_log)
