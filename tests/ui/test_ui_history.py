"""The console reads the cycle history: the sparkline shows the stored cycles, `h` opens the history screen.

The history is a real store in a temporary directory, filled by importing the orchestrator's audit log of the
crisis (tests/fixtures/orchestrator-audit.jsonl, numbered from 13: cycles 13-18) or by the recorder itself.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.text import Text
from textual.geometry import Region
from textual.widgets import Label

from pixel_tui.history.model import Cycle
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.model import Level, Thresholds
from pixel_tui.ui.dashboard import DashboardScreen
from pixel_tui.ui.history import HistoryPane
from pixel_tui.ui.history_screen import CycleTable
from pixel_tui.ui.plot import SERIES, CycleChart, _segments, build_chart, legend
from tests.scripted import crisis_frames
from tests.ui.helpers import cell, make_app, open_history, recorded_history, replay, until

RECOVERY = "swap 92.5% -> 0% (100% recovery) over cycles 14-18"
"""The operator's report's line, from the imported audit log."""


def _label(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Label).content)  # type: ignore[attr-defined]


async def test_the_sparkline_shows_the_stored_cycles_at_start() -> None:
    app, _ = make_app(history=recorded_history())
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.screen.query_one(HistoryPane)
        await until(pilot, lambda: pane.trend.points)  # read at mount, before any collection is needed
        assert pane.trend.unit == "cycle" and pane.trend.problem is None
        assert [point.number for point in pane.trend.points] == [13, 14, 15, 16, 17, 18]
        await pilot.pause()
        assert _label(pane, "#history-now") == "cycle 18 swap 0.0%  ✓ ok"
        assert _label(pane, "#history-range") == "6 cycles: min 0.0 max 92.5"


async def test_the_sparkline_reads_the_store_again_when_a_cycle_closes(tmp_path: Path) -> None:
    now = [0.0]
    history = HistoryRecorder(tmp_path / "history.sqlite3", clock=lambda: now[0])
    app, _ = make_app(history=history)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        pane = screen.query_one(HistoryPane)
        await pilot.pause()
        assert pane.trend.unit == "cycle" and not pane.trend.points
        assert _label(pane, "#history-range") == "no cycle yet"
        reads = screen._history_read
        await screen.collect_once(forced=True)  # within the cycle: nothing closed, nothing read again
        assert screen._history_read == reads and history.closed == 0
        now[0] = 60.0
        await screen.collect_once(forced=True)  # a minute after the first sample: cycle 1 closes
        assert history.closed == 1
        await until(pilot, lambda: pane.trend.points)
        assert [point.number for point in pane.trend.points] == [1]
        await pilot.pause()
        assert _label(pane, "#history-now").startswith("cycle 1 swap ")


async def test_the_pane_says_when_the_history_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")  # written by a newer pixel-tui: refused, never touched
    app, _ = make_app(history=HistoryRecorder(path, clock=lambda: 0.0))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.screen.query_one(HistoryPane)
        await until(pilot, lambda: pane.trend.problem)
        assert pane.trend.problem.startswith("history unavailable: ")
        assert "newer pixel-tui" in pane.trend.problem
        await pilot.pause()
        assert _label(pane, "#history-range").startswith("history unavailable: ")


async def test_without_a_history_the_sparkline_counts_samples() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 3)
        pane = screen.query_one(HistoryPane)
        assert pane.trend.unit == "sample" and len(pane.trend.points) == 3
        assert _label(pane, "#history-range").startswith("3 samples: ")
        assert not _label(pane, "#history-now").startswith("cycle")


async def test_h_opens_the_history_screen_with_the_cycle_table_and_the_recovery_line() -> None:
    app, _ = make_app(history=recorded_history())
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        screen = await open_history(pilot)
        table = screen.query_one(CycleTable)
        keys = table.row_keys
        assert [cell(table, key, "cycle") for key in keys] == ["13", "14", "15", "16", "17", "18"]
        crisis = keys[1]
        assert cell(table, crisis, "swap") == "92.5%" and cell(table, crisis, "level") == "✖ CRITICAL"
        assert cell(table, crisis, "actions").startswith("tool getVPSMetrics; tool g")  # then cut to the column
        assert cell(table, crisis, "duration") == "6m40s"
        assert cell(table, crisis, "source") == "orchestrator-audit.jsonl"
        assert table.cursor_row == len(keys) - 1  # newest at the bottom, under the cursor
        assert _label(screen, "#recovery") == RECOVERY
        assert _label(screen, "#history-title") == "History · 6 cycles, 2025-06-12 13:40 to 2025-06-12 19:52 UTC"
        assert not screen.query_one("#history-note").display
        await pilot.press("q")  # closes the screen, does not quit
        assert isinstance(app.screen, DashboardScreen) and app.is_running
        await open_history(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_the_history_screen_says_when_no_history_is_kept() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot, 1)
        screen = await open_history(pilot)
        assert _label(screen, "#history-note").startswith("history is not kept in this console")
        assert not screen.query_one(CycleChart).display and not screen.query_one(CycleTable).display


async def test_the_history_screen_reads_an_empty_store() -> None:
    app, _ = make_app(history=recorded_history(imported=False))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        assert _label(screen, "#history-note").startswith("no cycle recorded yet")
        assert _label(screen, "#recovery") == ""


async def test_the_recovery_line_follows_the_sparkline_metric() -> None:
    app, _ = make_app(history=recorded_history())
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        await pilot.press("g")  # memory
        screen = await open_history(pilot)
        assert _label(screen, "#recovery") == "memory 91.2% -> 53% (41.9% recovery) over cycles 13-18"


async def test_the_chart_tells_its_series_apart_without_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(history=recorded_history())
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        chart = screen.query_one(CycleChart)
        lines = [strip.text for strip in chart.render_lines(Region(0, 0, *chart.outer_size))]
    markers = [series.marker for series in SERIES]
    assert len(set(markers)) == len(markers)
    for series in SERIES:
        assert f"{series.marker} {series.label}" in lines[0]  # the legend names each marker
    body = "\n".join(lines[1:])
    for series in SERIES:  # the orchestrator's log has no CPU figure: that series is a gap, not a line at 0
        assert (series.marker in body) is (series.metric != "cpu"), series.metric
    assert "load/core (right axis)" in lines[0] and "├2.0" in body  # load per core against its own axis


def test_the_chart_draws_at_its_size_with_gaps_for_what_was_not_measured() -> None:
    start = datetime(2025, 6, 12, 14, tzinfo=UTC)
    cycles = [
        Cycle(n, "pixel-tui", start + timedelta(minutes=n), None, 60.0, Level.OK, swap, 50.0, 10.0, 60.0, 0.5)
        for n, swap in ((1, 10.0), (2, None), (3, 30.0))
    ]
    lines = Text.from_ansi(build_chart(cycles, (60, 12), Thresholds())).plain.splitlines()
    assert len(lines) == 12 and max(len(line) for line in lines) == 60
    assert _segments([cycle.swap_percent for cycle in cycles]) == [([0], [10.0]), ([2], [30.0])]
    assert legend().plain == "# swap %  o memory %  + CPU %  x load/core (right axis)"


def test_the_recorder_counts_the_cycles_it_closed(tmp_path: Path) -> None:
    now = [0.0]
    recorder = HistoryRecorder(tmp_path / "history.sqlite3", clock=lambda: now[0])
    first, second = crisis_frames(9, 10)
    recorder.record(first)
    assert recorder.closed == 0
    now[0] = 60.0
    closed = recorder.record(second)
    assert closed is not None and closed.cycle == 1 and recorder.closed == 1
    assert [cycle.cycle for cycle in recorder.recent(5)] == [1]
    recorder.close()
    assert recorder.closed == 2  # the open cycle, written at close
