"""The detail of an incident (health check, exit, OOM, times, restarts), exit codes on rows, and names that use the
room they have: at 80x24 and 120x35."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Static

from pixel_tui.model import Snapshot
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.detail import DetailScreen, exit_text, moment
from pixel_tui.ui.table import KeyedTable
from pixel_tui.ui.text import clip_name
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import (
    DONE_WORKER,
    FIRST_CYCLE,
    ORPHAN_WORKER,
    STUCK_WORKER,
    UNHEALTHY,
    container_id,
    crisis_frames,
)
from tests.ui.helpers import make_app, replay, until

SIZES = [(80, 24), (120, 35)]
LONG = {
    STUCK_WORKER: "pixel-tui-worker-1a2b3c4d",
    ORPHAN_WORKER: "pixel-tui-worker-5e6f7a8b",
    DONE_WORKER: "pixel-tui-worker-9c0d1e2f",
}
"""Worker names as long as a real orchestrator's (a project prefix before the worker's task hex)."""
LONG_SERVICE = "pixel-tui-orchestrator-scheduler-1"


async def _shown_row(pilot: Pilot, table: KeyedTable, key: str) -> str:
    """The row of `key` as the terminal shows it (scrolled into view first)."""
    region = table._get_row_region(table.get_row_index(key))
    table.scroll_to_region(region, animate=False, immediate=True, force=True, spacing=table._get_fixed_offset())
    await pilot.pause()
    y = table.styles.gutter.top + region.y - round(table.scroll_offset.y)  # below the table's title
    return table.render_lines(Region(0, y, table.size.width, 1))[0].text


def _detail_text(screen: object) -> str:
    return str(screen.query_one("#detail-text", Static).content)  # type: ignore[attr-defined]


def _long_names(frames: Sequence[Snapshot]) -> tuple[Snapshot, ...]:
    """The arc with its workers, and one service, under long names."""
    names = {**LONG, "pixel-orchestrator": LONG_SERVICE}
    return tuple(
        replace(
            frame,
            containers=tuple(replace(c, name=names.get(c.name, c.name)) for c in frame.containers),
            workers=tuple(
                replace(w, container=names.get(w.container, w.container)) if w.container else w for w in frame.workers
            ),
        )
        for frame in frames
    )


@pytest.mark.parametrize("size", SIZES)
async def test_exited_rows_show_their_exit_code_and_oom(size: tuple[int, int]) -> None:
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await replay(pilot)
        containers = app.screen.query_one(ContainerTable)
        backup = await _shown_row(pilot, containers, container_id("pixel-backup"))
        assert re.search(r"pixel-backup +exited 137 OOM ", backup), backup
        done = await _shown_row(pilot, containers, container_id(DONE_WORKER))
        assert re.search(r" pixel-w\S*c81d20f4 +exited 0 ", done), done  # cut, if at all, in its middle
        running = await _shown_row(pilot, containers, container_id("pixel-db"))
        assert re.search(r"pixel-db +running ", running) and "exited" not in running
        workers = app.screen.query_one(WorkerTable)
        assert " exited 0 " in await _shown_row(pilot, workers, container_id(DONE_WORKER))
        containers.focus()
        await pilot.press("slash", *"oom", "enter")  # the filter finds it by its end
        await until(pilot, lambda: containers.row_keys == [container_id("pixel-backup")])


@pytest.mark.parametrize("size", SIZES)
async def test_the_detail_of_an_unhealthy_container_shows_its_last_check_escaped(size: tuple[int, int]) -> None:
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await replay(pilot)
        table = app.screen.query_one(ContainerTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(container_id(UNHEALTHY)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = _detail_text(app.screen)
        assert re.search(r"\n  status +unhealthy\n  failing streak +7\n", text)
        assert re.search(r"last check +exit code 1, ended (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d, \S+ ago", text)
        assert re.search(r"output +GET /api/health: 503 Service Unavailable\n +\\x1b\]0;owned\\x07", text)
        # The container's markup is its text, shown as it is; no escape sequence reaches the terminal.
        assert "[bold red]database[/] is locked\\x1b[2J" in text and "\x1b" not in text and "\x07" not in text
        assert re.search(r"restart policy +unless-stopped\n  restarts +3\n", text)
        # Ages count from when the data shown was collected (cycle 14 of the arc), in the local zone.
        assert re.search(r"started +(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d, 2h19m ago\n", text)
        assert re.search(r"finished +never\n  exit code +-\n  OOM killed +no\n", text)
        lines = app.screen.query_one("#detail-text", Static).render_lines(Region(0, 0, size[0], 60))
        assert any("[bold red]database[/]" in line.text for line in lines)  # drawn as text, not as bold red


@pytest.mark.parametrize("size", SIZES)
async def test_the_detail_of_an_oom_killed_container_says_how_it_ended(size: tuple[int, int]) -> None:
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await replay(pilot)
        table = app.screen.query_one(ContainerTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(container_id("pixel-backup")))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = _detail_text(app.screen)
        assert re.search(r"state +exited\n", text)
        assert re.search(r"exit code +137: killed by SIGKILL\n  OOM killed +yes", text)
        assert re.search(r"started +never\n  finished +\S.*, \S+ ago\n", text)
        assert "Health" not in text  # it has no health check
        assert re.search(r"restart policy +unless-stopped\n  restarts +0", text)


async def test_at_120_columns_long_names_and_the_ledger_status_are_whole() -> None:
    app, _ = make_app(_long_names(crisis_frames(FIRST_CYCLE, 14)))
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        workers = app.screen.query_one(WorkerTable)
        for cid in (container_id(STUCK_WORKER), container_id(ORPHAN_WORKER), container_id(DONE_WORKER)):
            row = await _shown_row(pilot, workers, cid)
            assert LONG[next(name for name in LONG if container_id(name) == cid)] in row, row
            assert "…" not in row
        orphan = await _shown_row(pilot, workers, container_id(ORPHAN_WORKER))
        assert re.search(r" completed +$", orphan), orphan  # the last column, whole
        assert " exited 0 " in await _shown_row(pilot, workers, container_id(DONE_WORKER))
        used = sum(column.get_render_width(workers) for column in workers.columns.values())
        assert used <= workers.size.width - workers.styles.scrollbar_size_vertical  # nothing falls off the edge
        containers = app.screen.query_one(ContainerTable)
        assert LONG_SERVICE in await _shown_row(pilot, containers, container_id("pixel-orchestrator"))
        assert LONG[STUCK_WORKER] in await _shown_row(pilot, containers, container_id(STUCK_WORKER))
        # The image gave up the room the long name took, cut at its end.
        assert "ghcr.io/pixel/orchestrat" in (await _shown_row(pilot, containers, container_id("pixel-orchestrator")))


async def test_at_80_columns_names_are_cut_only_as_much_as_they_must() -> None:
    app, _ = make_app(_long_names(crisis_frames(FIRST_CYCLE, 14)))
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot)
        workers = app.screen.query_one(WorkerTable)
        used = sum(column.get_render_width(workers) for column in workers.columns.values())
        assert used == workers.size.width - workers.styles.scrollbar_size_vertical  # every column used, none lost
        row = await _shown_row(pilot, workers, container_id(ORPHAN_WORKER))
        assert re.search(r"^ pixel\S*…5e6f7a8b ", row), row  # cut in the middle: the task's hex stays
        assert " completed" in row
        await pilot.resize_terminal(120, 35)  # room again: whole
        await pilot.pause()
        await pilot.pause()
        assert LONG[ORPHAN_WORKER] in await _shown_row(pilot, workers, container_id(ORPHAN_WORKER))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert "…5e6f7a8b" in await _shown_row(pilot, workers, container_id(ORPHAN_WORKER))


def test_a_name_is_cut_in_its_middle_when_it_ends_in_an_id_else_at_its_end() -> None:
    assert clip_name("pixel-worker-3f2a9c1d", 21) == "pixel-worker-3f2a9c1d"
    assert clip_name("pixel-worker-3f2a9c1d", 16) == "pixel-w…3f2a9c1d"
    assert clip_name("pixel-tui-dashboard-grafana-1", 16) == "pixel-tui-dash…1"
    assert clip_name("pixel-orchestrator", 16) == "pixel-orchestra…"
    assert clip_name("averyveryverylongname", 10) == "averyvery…"


def test_a_moment_is_local_time_and_an_age_with_the_date_when_not_today() -> None:
    now = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
    recent = now - timedelta(minutes=5)
    assert moment(recent, now) == f"{recent.astimezone().strftime('%H:%M:%S')}, 5m00s ago"
    old = now - timedelta(days=3, hours=2)
    assert moment(old, now) == f"{old.astimezone().strftime('%Y-%m-%d %H:%M:%S')}, 3d02h ago"
    assert moment(None, now) == "-"
    assert exit_text(137) == "137: killed by SIGKILL" and exit_text(143) == "143: killed by SIGTERM"
    assert exit_text(0) == "0" and exit_text(3) == "3" and exit_text(None) == "-"
