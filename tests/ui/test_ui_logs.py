"""Pilot tests of the followed log view: lines arriving, search and jump, filter, wrap, timestamps, save, bounds,
escaping, the end of the stream, a ghost's last container, and no thread left behind."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from pixel_tui.collect import Collector
from pixel_tui.model import Worker
from pixel_tui.paths import Paths
from pixel_tui.settings import Settings
from pixel_tui.ui.app import build_app
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.logs import LogScreen
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import CRISIS_CYCLE, DONE_WORKER, FIRST_CYCLE, GHOST_TASK, UNHEALTHY, container_id, crisis_frames
from tests.ui.helpers import dashboard, make_app, record_notifications, replay, until

SIZES = [(80, 24), (120, 35)]
GRAFANA = container_id(UNHEALTHY)


def stamped(index: int, text: str) -> str:
    """A line as Docker sends it with timestamps."""
    return f"2026-12-06T08:{index // 60 % 60:02d}:{index % 60:02d}.123456789Z {text}"


async def open_log(pilot: Pilot, key: str = GRAFANA, lines: int = 6) -> LogScreen:
    """Select a container on the dashboard, press `l`, and wait until its first `lines` lines are in."""
    await replay(pilot, 1)
    table = pilot.app.screen.query_one(ContainerTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.press("l")
    await until(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
    screen = pilot.app.screen
    assert isinstance(screen, LogScreen)
    await until(pilot, lambda: screen.opened and len(screen.buffer.lines) >= lines, timeout=10)
    return screen


def row_text(screen: LogScreen, y: int) -> str:
    """What row `y` of the view shows."""
    return screen.view.render_line(y).text.rstrip()


def visible(screen: LogScreen) -> list[str]:
    """Every row of the view."""
    return [row_text(screen, y) for y in range(screen.view.scrollable_content_region.height)]


@pytest.mark.parametrize("size", SIZES)
async def test_new_lines_arrive_and_the_view_follows_them(size: tuple[int, int]) -> None:
    app, source = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_log(pilot)
        status = screen.query_one("#log-status")
        assert "health check failed" in row_text(screen, 0)
        assert str(status.render()) == "following · 6 lines"
        height = screen.view.scrollable_content_region.height
        for batch in range(3):
            source.push(GRAFANA, [stamped(batch * 20 + i, f"arrived {batch * 20 + i}") for i in range(20)])
            await until(pilot, lambda b=batch: len(screen.buffer.lines) == 6 + 20 * (b + 1))  # type: ignore[misc]
        await pilot.pause()
        assert visible(screen)[-1] == "arrived 59", "the newest line is at the bottom"
        assert screen.view.scroll_y == screen.view.max_scroll_y > 0 and height < 66
        await pilot.press("f")  # paused: new lines are kept, the view stays
        top = screen.view.scroll_y
        source.push(GRAFANA, [stamped(100, "while paused")])
        await until(pilot, lambda: len(screen.buffer.lines) == 67)
        assert screen.view.scroll_y == top and str(status.render()) == "paused · 67 lines"
        await pilot.press("f")
        await pilot.pause()
        assert visible(screen)[-1] == "while paused"


async def test_search_highlights_and_jumps_then_esc_clears_it_then_closes() -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_log(pilot)
        source.push(GRAFANA, [stamped(i, f"line {i}" + (" needle" if i in (10, 50, 90) else "")) for i in range(100)])
        await until(pilot, lambda: len(screen.buffer.lines) == 106)
        await pilot.press("home")  # back to the top: following pauses
        await pilot.press("slash", *"NEEDLE", "enter")
        view, status = screen.view, screen.query_one("#log-status")
        assert view.current == 16 and screen.matches == [16, 56, 96]  # 6 canned lines come first
        assert str(status.render()).endswith("search: NEEDLE (1 of 3)")
        assert any(row.endswith("line 10 needle") for row in visible(screen)), "jumped into view"
        row = next(y for y, text in enumerate(visible(screen)) if text.endswith("line 10 needle"))
        strip = view.render_line(row)
        marked = [segment for segment in strip if segment.text == "needle"]
        assert marked and marked[0].style and marked[0].style.bgcolor is not None, "the match is highlighted"
        await pilot.press("n")
        assert view.current == 56 and "(2 of 3)" in str(status.render())
        await pilot.press("n", "n")
        assert view.current == 16, "round to the first"
        await pilot.press("N")
        assert view.current == 96, "and back round to the last"
        await pilot.press("escape")  # the search first
        assert view.search == "" and view.current is None and app.screen is screen
        await pilot.press("escape")  # then the view
        assert not isinstance(app.screen, LogScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_the_filter_hides_other_lines_and_counts(size: tuple[int, int]) -> None:
    app, source = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_log(pilot)
        source.push(GRAFANA, [stamped(i, f"level={'error' if i % 4 == 0 else 'info'} n={i}") for i in range(40)])
        await until(pilot, lambda: len(screen.buffer.lines) == 46)
        await pilot.press("vertical_line", *"error", "enter")
        status = screen.query_one("#log-status")
        assert len(screen.buffer.shown) == 16  # 10 pushed, 6 canned ("level=error")
        assert str(status.render()) == "following · 46 lines · filter: error (16 of 46 lines)"
        assert all("error" in row for row in visible(screen) if row)
        source.push(GRAFANA, [stamped(50, "level=info late"), stamped(51, "level=error late")])
        await until(pilot, lambda: len(screen.buffer.lines) == 48)
        await pilot.pause()
        assert "filter: error (17 of 48 lines)" in str(status.render())
        assert [row for row in visible(screen) if row][-1] == "level=error late"
        await pilot.press("ctrl+f", *"ERROR LATE", "enter")  # ctrl+f too; the text kept is selected; case ignored
        assert len(screen.buffer.shown) == 1
        await pilot.press("escape")  # the filter goes, every line is back
        assert len(screen.buffer.shown) == 48 and "filter" not in str(status.render())


@pytest.mark.parametrize("size", SIZES)
async def test_wrap_and_timestamps_change_the_view_not_the_lines(size: tuple[int, int]) -> None:
    app, source = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_log(pilot)
        long = "x" * 300 + " end"
        source.push(GRAFANA, [stamped(1, long)])
        await until(pilot, lambda: len(screen.buffer.lines) == 7)
        await pilot.pause()
        view = screen.view
        width = view.scrollable_content_region.width
        assert view.virtual_size.height == 7 and view.virtual_size.width == len(long)
        assert visible(screen)[6] == "x" * width, "cut at the edge"
        await pilot.press("w")
        await pilot.pause()
        rows = -(-len(long) // width)
        assert view.virtual_size.height == 6 + rows and view.virtual_size.width == width
        assert [row for row in visible(screen) if row][-1].endswith(" end"), "wrapped, the end is in view"
        await pilot.press("t")
        await pilot.pause()
        assert row_text(screen, 0).startswith("2025-06-12T14:10:00Z ")  # the canned log's own stamps
        assert view.virtual_size.height == sum(-(-(25 + line.cells) // width) for line in screen.buffer.lines)
        await pilot.press("t", "w")
        await pilot.pause()
        assert row_text(screen, 0).startswith("level=error") and view.virtual_size.height == 7
        assert len(source.streams[GRAFANA]) == 1, "toggles never reconnect"


async def test_save_writes_the_lines_shown_and_never_overwrites(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "state")
    app, source = make_app(paths=paths)
    async with app.run_test(size=(120, 35)) as pilot:
        messages = record_notifications(app)
        screen = await open_log(pilot)
        source.push(GRAFANA, [stamped(7, "\x1b[31mred\x1b[0m \x1b]0;title\x07")])
        await until(pilot, lambda: len(screen.buffer.lines) == 7)
        await pilot.press("s")
        await until(pilot, lambda: messages)
        folder = tmp_path / "data" / "logs"
        (first,) = folder.iterdir()
        assert messages == [f"saved 7 lines to {first}"] and first.name.startswith(f"{UNHEALTHY}-")
        text = first.read_text()
        assert text.splitlines()[0].startswith('2025-06-12T14:10:00Z level=error msg="health check failed"')
        assert text.splitlines()[-1] == "2026-12-06T08:00:07.123456789Z \x1b[31mred\x1b[0m \\x1b]0;title\\x07"
        await pilot.press("vertical_line", *"red", "enter", "s")
        await until(pilot, lambda: len(messages) == 2)
        second = sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns)[-1]
        assert second != first and first.read_text() == text, "the first file is untouched"
        assert messages[1] == f"saved 1 lines to {second}" and len(second.read_text().splitlines()) == 1


async def test_the_view_keeps_a_bounded_number_of_lines_in_few_batches() -> None:
    app, source = make_app()
    arrived: list[int] = []

    def hook(message: object) -> None:
        if isinstance(message, LogScreen.LinesArrived):
            arrived.append(1)

    async with app.run_test(size=(120, 35), message_hook=hook) as pilot:
        screen = await open_log(pilot)
        arrived.clear()
        source.push(GRAFANA, [stamped(i, f"flood {i}") for i in range(25_000)])
        await until(pilot, lambda: screen.buffer.received == 25_006, timeout=20)
        await pilot.pause()
        lines = screen.buffer.lines
        assert len(lines) == 10_000 and lines[-1].plain == "flood 24999" and lines[0].plain == "flood 15000"
        assert "10 000 lines (the 15 006 oldest dropped)" in str(screen.query_one("#log-status").render())
        assert len(arrived) < 2_500, "one wake-up per batch, not per line"
        assert visible(screen)[-1] == "flood 24999"


async def test_escape_sequences_in_a_log_are_shown_never_obeyed() -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_log(pilot)
        source.push(GRAFANA, [stamped(1, "\x1b]0;pwned\x07\x1b[31mRED\x1b[0m [bold]not markup[/] \x1b[2J\r\u202eevil")])
        await until(pilot, lambda: len(screen.buffer.lines) == 7)
        await pilot.pause()
        strip = screen.view.render_line(6)
        assert strip.text.rstrip() == r"\x1b]0;pwned\x07RED [bold]not markup[/] \x1b[2J\r\u202eevil"
        red = next(segment for segment in strip if segment.text == "RED")
        assert red.style is not None and red.style.color is not None, "the log's own colour is rendered"
        assert all("\x1b" not in segment.text and "\x07" not in segment.text for segment in strip)


def reading_threads() -> list[str]:
    """Threads running the log view's reader (`LogScreen._follow`), by name."""
    frames = sys._current_frames()
    found = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or -1)
        while frame is not None:
            if frame.f_code.co_name == "_follow" and frame.f_code.co_filename.endswith("logs.py"):
                found.append(thread.name)
                break
            frame = frame.f_back
    return found


def new_threads(before: set[threading.Thread]) -> list[str]:
    """Threads started since `before`, but for the event loop's idle executor threads (Textual runs thread
    workers in them; they stay when the work is done)."""
    return [thread.name for thread in set(threading.enumerate()) - before if not thread.name.startswith("asyncio_")]


async def test_the_end_of_the_stream_is_said_and_closing_leaves_no_thread() -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_log(pilot)
        assert reading_threads(), "a thread reads the stream"
        source.streams[GRAFANA][0].end("container exited (exit code 137)")
        await until(pilot, lambda: screen.ended is not None)
        status = str(screen.query_one("#log-status").render())
        assert status == "stream ended (container exited (exit code 137)) · 6 lines"
        assert not reading_threads()
        await pilot.press("escape")
        before = set(threading.enumerate())
        await pilot.press("l")  # again, and closed while it follows
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.opened)
        assert reading_threads()
        await pilot.press("escape")
        await until(pilot, lambda: not reading_threads() and not new_threads(before))
        assert all(stream.ended == "closed" for stream in source.streams[GRAFANA][1:])


async def test_a_ghost_shows_the_log_of_its_last_container_if_the_engine_still_has_it() -> None:
    exited = Worker(GHOST_TASK, "running", DONE_WORKER, container_id(DONE_WORKER), "exited", None, None, 2700, False)
    frames = [replace(frame, workers=(*frame.workers, exited)) for frame in crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)]
    app, source = make_app(frames)
    source._logs[container_id(DONE_WORKER)] = stamped(1, "worker: the last words of the ghost's container")
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        table = app.screen.query_one(WorkerTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(f"task:{GHOST_TASK}"))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and bool(app.screen.buffer.lines))
        screen = app.screen
        assert isinstance(screen, LogScreen) and screen.container_id == container_id(DONE_WORKER)
        assert f"its last container {DONE_WORKER} (exited)" in screen.name_text
        assert screen.buffer.lines[0].plain == "worker: the last words of the ghost's container"


async def test_on_a_real_engine_new_lines_arrive_and_closing_leaves_no_thread(engine) -> None:
    container = engine.run(["sh", "-c", "i=0; while :; do i=$((i+1)); echo beat-$i; sleep 0.2; done"], name="beating")
    settings = Settings(docker_host=engine.url, interval=3600.0)
    app = build_app(settings, Collector(settings))
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_log(pilot, container.id, lines=1)
        seen = len(screen.buffer.lines)
        await until(pilot, lambda: len(screen.buffer.lines) >= seen + 3, timeout=10)
        await pilot.pause()
        newest = screen.buffer.lines[-1].plain
        assert newest.startswith("beat-") and visible(screen)[len(screen.buffer.lines) - 1] == newest
        assert str(screen.query_one("#log-status").render()).startswith("following · ")
        assert reading_threads()
        before = set(threading.enumerate())
        await pilot.press("t")
        await pilot.pause()
        assert row_text(screen, 0).startswith(f"{datetime.now(UTC).year}-"), "the engine's own timestamps"
        await pilot.press("escape")
        await until(pilot, lambda: not reading_threads() and not new_threads(before), timeout=10)
        assert app.screen is dashboard(app)
