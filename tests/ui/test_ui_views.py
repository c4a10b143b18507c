"""Pilot tests of the detail, log and help views, theme switching and the keymap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Static

from pixel_tui.model import MASK
from pixel_tui.paths import Paths
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.detail import DetailScreen
from pixel_tui.ui.help import HelpScreen
from pixel_tui.ui.keys import KNOWN_IDS, RULE_BINDINGS
from pixel_tui.ui.logs import LogScreen
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import GHOST_TASK, STUCK_WORKER, UNHEALTHY, container_id
from tests.ui.helpers import make_app, record_notifications, replay, until


def _select(table: ContainerTable | WorkerTable, key: str) -> None:
    table.focus()
    table.move_cursor(row=table.get_row_index(key))


def _text(screen: object) -> str:
    return str(screen.query_one("#detail-text", Static).content)  # type: ignore[attr-defined]


async def test_enter_on_a_container_opens_its_detail_with_secrets_masked() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        _select(app.screen.query_one(ContainerTable), container_id("pixel-db"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = _text(app.screen)
        assert "postgres:16-alpine" in text and "5432/tcp" in text and "docker-entrypoint.sh postgres" in text
        assert re.search(rf"POSTGRES_PASSWORD +{re.escape(MASK)}", text) and "hunter2" not in text
        assert "pixel_db -> /var/lib/postgresql/data" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_enter_on_the_stuck_worker_shows_worker_and_container_then_l_its_logs() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        await pilot.press("tab", "enter")  # the workers table; its first row is the overdue worker
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = _text(app.screen)
        assert "overdue by 2m00s" in text and "TIMEOUT" in text and "timeout 2700 node dist/worker.js" in text
        assert re.search(rf"OPENAI_API_KEY +{re.escape(MASK)}", text) and STUCK_WORKER in text
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        lines = app.screen.buffer.lines  # type: ignore[attr-defined]
        await until(pilot, lambda: len(lines) == 27)
        assert lines[-1].plain == "(waiting for input)" and lines[-1].stamp == "2025-06-12T13:30:12Z"
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_a_ghost_task_has_a_detail_but_no_logs() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        messages = record_notifications(app)
        _select(app.screen.query_one(WorkerTable), f"task:{GHOST_TASK}")
        await pilot.press("l")
        await pilot.pause()
        assert messages == ["ghost task 7c5e19b2: the engine has no container of it left, so no log to show"]
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = _text(app.screen)
        assert GHOST_TASK in text and "PHANTOM ghost" in text and "no container runs it" in text
        await pilot.press("l")  # no logs offered for a ghost
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


async def test_l_on_a_container_shows_its_last_lines() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        _select(app.screen.query_one(ContainerTable), container_id(UNHEALTHY))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        lines = app.screen.buffer.lines  # type: ignore[attr-defined]
        await until(pilot, lambda: bool(lines))
        assert "health check failed" in lines[0].plain


async def test_a_container_gone_gives_a_message_not_a_crash() -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        messages = record_notifications(app)
        db = container_id("pixel-db")
        source.remove(db)
        _select(app.screen.query_one(ContainerTable), db)
        await pilot.press("i")
        await until(pilot, lambda: messages)
        await pilot.press("l")
        await until(pilot, lambda: len(messages) == 2)
        assert all(message.startswith("pixel-db is gone: container") for message in messages)
        assert app.screen is app.screen_stack[0] and app.is_running


async def test_help_lists_every_binding_with_its_current_key() -> None:
    app, _ = make_app(keys={"history.metric": "j"})
    async with app.run_test(size=(140, 50)) as pilot:
        await replay(pilot, 1)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).content)
        assert "Sparkline of the next metric" in text and "history.metric" not in text
        await pilot.press("i")  # the ids, to rebind keys in the config
        text = str(app.screen.query_one("#help-text", Static).content)
        for binding_id in (
            KNOWN_IDS - {"help.ids"} - {b.id for b in RULE_BINDINGS}
        ):  # the rules screen's help lists those
            assert binding_id in text
        metric = next(line for line in text.splitlines() if "history.metric" in line)
        assert metric.split()[metric.split().index("history.metric") - 1] == "j"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("size", [(120, 35), (80, 24)])
async def test_help_fits_its_keys_one_line_each(size) -> None:
    """At 120x35 every key is on the screen at once, in two columns; at 80x24, one column that scrolls."""
    from pixel_tui.ui.keys import BINDING_GROUPS, CONSOLE_HELP

    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await replay(pilot, 1)
        await pilot.press("question_mark")
        await pilot.pause()
        body = app.screen.query_one("#help-body")
        lines = str(app.screen.query_one("#help-text", Static).content).splitlines()
        shown = [bindings for title, bindings in BINDING_GROUPS if title in CONSOLE_HELP]
        described = [b.tooltip or b.description for bindings in shown for b in bindings]
        for description in described:  # one line each: its start is on a line of its own
            assert sum(description[:20] in line for line in lines) == 1, description
        if size == (120, 35):
            assert len(lines) <= body.scrollable_content_region.height, "scrolls at 120x35"
            titles = [title for title, _ in BINDING_GROUPS]  # two columns: a group's title beside Navigation
            assert any("Navigation" in line and any(title in line for title in titles) for line in lines)


async def test_ctrl_t_cycles_the_themes_and_the_tables_follow() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        assert app.theme == "pixel-dark"
        table = app.screen.query_one(ContainerTable)
        grafana = container_id(UNHEALTHY)
        dark = table.get_cell(grafana, "health").style
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.theme == "pixel-light"
        assert table.get_cell(grafana, "health").style != dark
        await pilot.press("ctrl+t")
        assert app.theme == "pixel-contrast"
        await pilot.press("ctrl+t")
        assert app.theme == "pixel-dark"


async def test_theme_option_user_themes_and_bad_files(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "state")
    paths.themes_dir.mkdir(parents=True)
    (paths.themes_dir / "mine.toml").write_text('name = "mine"\nprimary = "#336699"\ndark = true\n')
    (paths.themes_dir / "broken.toml").write_text('name = "broken"\nprimary = "not-a-color"\n')
    app, _ = make_app(paths=paths, theme="mine")
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        assert app.theme == "mine"
        assert "mine" in app.theme_names and "broken" not in app.available_themes
        assert app.theme_variables["gauge-critical"]  # derived for a theme that does not set it
        notes = [str(n.message) for n in app._notifications]
        assert any("broken.toml: primary: not a color" in note for note in notes)


async def test_an_unknown_theme_falls_back_with_a_message() -> None:
    app, _ = make_app(theme="no-such-theme")
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        assert app.theme == "pixel-dark"
        assert any("no usable theme named 'no-such-theme'" in str(n.message) for n in app._notifications)


async def test_keys_rebind_from_the_config_and_unknown_ids_only_notify() -> None:
    app, _ = make_app(keys={"history.metric": "j", "dashboard.pause": "ctrl+space,z", "no.such.binding": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        assert any("no.such.binding" in str(n.message) for n in app._notifications)
        await pilot.press("g")
        assert screen.metric == "swap"  # the old key is gone
        await pilot.press("j")
        assert screen.metric == "memory"
        await pilot.press("z")
        assert screen.paused


async def test_the_palette_offers_the_actions_by_name() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Pause or resume the refresh", "Restart the selected container", "Theme"} <= titles


@pytest.mark.parametrize("size", [(120, 35), (80, 24)])
async def test_the_events_pane_takes_the_focus_and_opens_every_event_whole(size) -> None:
    """An action's outcome is cut in the pane; tab reaches the pane and enter shows it in full, filterable."""
    from datetime import UTC, datetime

    from textual.widgets import Input

    from pixel_tui.model import Event, Level
    from pixel_tui.ui.events import EventsPane, EventsScreen

    long = "kill-worker pixel-worker-3f2a9c1d (7ae7d1b75fac): failed: the engine said 409 Conflict: removal in progress"
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await replay(pilot, 1)
        at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
        failed = Event(at, "action-failed", "pixel-worker-3f2a9c1d", long, Level.WARNING)
        removed = Event(at.replace(minute=1), "container-removed", "web", "web removed")
        app.pipeline.note([failed, removed])
        await screen.collect_once(forced=True)
        pane = screen.query_one(EventsPane)
        await until(pilot, lambda: any(e.message == long for e in pane.events))
        for _ in range(4):  # containers -> workers -> events
            if app.focused is pane:
                break
            await pilot.press("tab")
        assert app.focused is pane
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventsScreen))
        text = str(app.screen.query_one("#events-text", Static).content)
        assert long in text  # whole, wrapped by the view, not cut
        assert text.index("web removed") < text.index(long)  # newest first
        await pilot.press("slash")
        app.screen.query_one("#events-filter", Input).value = "409"
        await pilot.pause()
        text = str(app.screen.query_one("#events-text", Static).content)
        assert long in text and "web removed" not in text
        await pilot.press("escape")  # the filter first
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, EventsScreen))
        await pilot.press("v")  # from anywhere on the dashboard
        await until(pilot, lambda: isinstance(app.screen, EventsScreen))


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_a_new_problem_row_scrolls_into_view_in_the_workers_pane(size) -> None:
    """Eight healthy workers, the cursor on the last; a worker times out: its row shows, at 80x24 too."""
    from dataclasses import replace
    from datetime import timedelta

    from pixel_tui.model import Worker
    from tests.scripted import crisis_frame

    base = crisis_frame(9)
    started = base.taken_at - timedelta(minutes=5)
    healthy = tuple(
        Worker(f"{n:08x}-0000-4000-8000-000000000000", "running", f"pixel-worker-{n:08x}", f"{n:064x}", "running",
               started, 300.0 + n, 2760.0, False)
        for n in range(1, 9)
    )  # fmt: skip
    stuck = Worker("0badf00d-0000-4000-8000-000000000000", "running", "pixel-worker-0badf00d", "f" * 64, "running",
                   started - timedelta(hours=1), 3900.0, 2760.0, True)  # fmt: skip
    first = replace(base, workers=healthy, events=())
    second = replace(base, taken_at=base.taken_at + timedelta(seconds=2), workers=(*healthy, stuck), events=())
    app, _ = make_app([first, second])
    async with app.run_test(size=size) as pilot:
        screen = await replay(pilot, 1)
        table = screen.query_one(WorkerTable)
        table.focus()
        table.move_cursor(row=len(healthy) - 1)
        await pilot.pause()
        chosen = table.selected_key
        assert table.scroll_y > 0 or table.row_count * 1 <= table.scrollable_content_region.height
        await replay(pilot, 2)
        assert table.row_keys[0] == "f" * 64
        visible_from = round(table.scroll_y)
        rows_shown = table.scrollable_content_region.height - table.header_height
        assert visible_from <= 0 < visible_from + rows_shown, (visible_from, rows_shown)
        assert table.selected_key == chosen  # the operator's selection is left where it was


async def test_the_sorted_column_is_marked_in_its_header() -> None:
    from pixel_tui.ui.containers import ContainerTable

    app, _ = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await replay(pilot, 1)
        table = screen.query_one(ContainerTable)

        def headers() -> dict[str, str]:
            return {str(key.value): column.label.plain.strip() for key, column in table.columns.items()}

        assert headers()["name"] == "NAME▲" and headers()["cpu"] == "CPU%"
        await pilot.press("greater_than_sign")  # by CPU, busiest first
        await pilot.pause()
        assert headers()["cpu"] == "CPU%▼" and headers()["name"] == "NAME"
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert headers()["cpu"] == "CPU%▲"
