"""The console reads the cycle history: the sparkline shows the stored cycles.

The history is a real store in a temporary directory, filled by importing the orchestrator's audit log of the
crisis (tests/fixtures/orchestrator-audit.jsonl: cycles 13-18) or by the recorder itself.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Label

from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.scripted import crisis_frames
from pixel_tui.ui.history import HistoryPane
from tests.ui.helpers import make_app, recorded_history, replay, until

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
