"""Pilot tests of the dashboard on the scripted crisis arc: panes, sorting, filtering, cursor, pause, staleness."""

from __future__ import annotations

import time
from dataclasses import replace
from statistics import mean

from textual.geometry import Region

from pixel_tui.model import DockerState, Snapshot
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.events import EventsPane
from pixel_tui.ui.gauges import Gauge
from pixel_tui.ui.history import HistoryPane
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import (
    CRISIS_CYCLE,
    FIRST_CYCLE,
    GHOST_TASK,
    LAST_CYCLE,
    LOG_TAILER,
    STUCK_WORKER,
    ScriptedSource,
    container_id,
    crisis_frames,
)
from tests.ui.helpers import cell, dashboard, label_text, make_app, record_notifications, replay, until


async def test_panes_show_the_crisis_values() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        assert label_text(app, "#overall") == "✖ CRITICAL"
        assert label_text(app, "#host") == "pixel-vps-01"
        assert "unix:///var/run/docker.sock" in label_text(app, "#engine")
        assert label_text(app, "#updated") == "updated 14:14:00Z"  # 120 columns: worded
        swap = app.screen.query_one("#gauge-swap", Gauge).render().plain
        assert "92.5%" in swap and "✖ CRITICAL" in swap and "3.7G/4.0G" in swap
        memory = app.screen.query_one("#gauge-memory", Gauge).render().plain
        assert "53.0%" in memory and "✓ ok" in memory
        assert "67.7%" in app.screen.query_one("#gauge-disk-0", Gauge).render().plain
        load = app.screen.query_one("#gauge-load", Gauge).render().plain
        assert "0.16/c" in load and "0.64 0.62 0.61" in load

        containers = app.screen.query_one(ContainerTable)
        assert containers.row_count == 12
        db = container_id("pixel-db")
        assert cell(containers, db, "health") == "healthy"
        assert cell(containers, container_id("pixel-grafana"), "health") == "unhealthy"
        assert cell(containers, db, "limit") == "4.0G"
        assert "10/12 running" in str(containers.border_title)

        workers = app.screen.query_one(WorkerTable)
        keys = workers.row_keys
        assert keys[0] == container_id(STUCK_WORKER)  # overdue first
        assert cell(workers, keys[0], "flags") == "TIMEOUT"
        assert cell(workers, keys[0], "left") == "over 2m"
        ghost = f"task:{GHOST_TASK}"
        assert cell(workers, ghost, "container") == "(no container)"
        assert cell(workers, ghost, "flags") == "PHANTOM ghost"
        assert keys.index(ghost) < keys.index(container_id("pixel-worker-c81d20f4"))  # phantoms before the rest
        assert container_id(LOG_TAILER) not in keys  # a log tailer named like a worker is not one
        assert "1 overdue" in str(workers.border_title) and "2 phantoms" in str(workers.border_title)

        events = app.screen.query_one(EventsPane)
        messages = [event.message for event in events.events]
        assert messages[0] == "host level warning -> critical"  # newest first
        assert "worker pixel-worker-3f2a9c1d timed out" in messages
        history = app.screen.query_one(HistoryPane)
        assert len(history.trend.points) == CRISIS_CYCLE - FIRST_CYCLE + 1 and history.trend.unit == "sample"
        assert str(history.query_one("#history-now").content).startswith("swap 92.5%")


async def test_sort_keys_cycle_and_reverse() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot)
        table = app.screen.query_one(ContainerTable)
        names = [c.name for c in sorted(screen.snapshot.containers, key=lambda c: c.name)]
        assert table.row_keys == [container_id(name) for name in names]
        await pilot.press("greater_than_sign")
        assert screen.sort_by == "cpu"
        cpu = [next(c for c in screen.snapshot.containers if c.id == key).cpu_percent for key in table.row_keys]
        measured = [value for value in cpu if value is not None]
        assert measured == sorted(measured, reverse=True) and cpu[-1] is None
        assert "sort cpu▼" in str(table.border_title)
        await pilot.press("greater_than_sign")
        assert screen.sort_by == "memory"
        assert table.row_keys[0] == container_id("pixel-db")
        await pilot.press("greater_than_sign")
        assert screen.sort_by == "state"
        assert table.row_keys[0] == container_id("pixel-grafana")  # unhealthy first
        await pilot.press("less_than_sign")
        assert table.row_keys[-1] == container_id("pixel-grafana")
        await pilot.press("greater_than_sign")
        assert screen.sort_by == "name" and not screen.sort_reverse


async def test_typing_a_filter_narrows_the_containers() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot)
        table = app.screen.query_one(ContainerTable)
        await pilot.press("slash", *"worker 2.3")
        assert screen.filter_text == "worker 2.3"
        assert len(table.row_keys) == 4 and container_id("pixel-db") not in table.row_keys
        assert "filter “worker 2.3” 4/12" in str(table.border_title)
        await pilot.press("enter")
        assert not app.screen.query_one("#filter").display and app.focused is table
        assert len(table.row_keys) == 4  # the filter stays
        await pilot.press("escape")
        assert screen.filter_text == "" and table.row_count == 12


async def test_cursor_and_scroll_stay_put_across_refreshes() -> None:
    app, _ = make_app(crisis_frames(FIRST_CYCLE, LAST_CYCLE))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay(pilot, 2)
        table = app.screen.query_one(ContainerTable)
        await pilot.press(*["down"] * 9)  # pixel-worker-9b04e7aa, below the worker killed at cycle 16
        selected = table.selected_key
        scroll = table.scroll_offset
        calls = {"add": 0, "remove": 0}
        add_row, remove_row = table.add_row, table.remove_row

        def counting_add(*args: object, **kwargs: object) -> object:
            calls["add"] += 1
            return add_row(*args, **kwargs)  # type: ignore[arg-type]

        def counting_remove(*args: object, **kwargs: object) -> None:
            calls["remove"] += 1
            remove_row(*args, **kwargs)  # type: ignore[arg-type]

        table.add_row, table.remove_row = counting_add, counting_remove  # type: ignore[method-assign]
        for _ in range(4):  # cycles 11..14: values change, the same containers
            await screen.collect_once(forced=True)
            await pilot.pause()
            assert table.selected_key == selected
            assert table.scroll_offset == scroll
        assert calls == {"add": 0, "remove": 0}  # updated in place
        await screen.collect_once(forced=True)  # cycle 15
        await screen.collect_once(forced=True)  # cycle 16: the stuck worker is gone
        await pilot.pause()
        assert calls["remove"] == 1 and calls["add"] == 0
        assert table.selected_key == selected


async def test_only_changed_cells_are_updated() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 2)
        table = app.screen.query_one(ContainerTable)
        updated: list[tuple[str, str]] = []
        update_cell = table.update_cell

        def spy(row_key: str, column: str, value: object, **kwargs: object) -> None:
            updated.append((str(row_key), str(column)))
            update_cell(row_key, column, value, **kwargs)  # type: ignore[arg-type]

        table.update_cell = spy  # type: ignore[method-assign]
        await screen.collect_once(forced=True)
        await pilot.pause()
        columns = {column for _, column in updated}
        assert columns <= {"cpu", "mem_pct", "mem", "uptime", "health"}  # names, images, limits never rewritten
        exited = container_id("pixel-backup")
        assert not [row for row, _ in updated if row == exited]


async def test_container_cpu_is_a_moving_average() -> None:
    frames = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)
    app, _ = make_app(frames, cpu_smoothing=3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot)
        api = container_id("pixel-api")
        raw = [next(c for c in frame.containers if c.id == api).cpu_percent for frame in frames[-3:]]
        shown = next(c for c in screen.snapshot.containers if c.id == api).cpu_percent
        assert shown is not None and abs(shown - mean(raw)) < 1e-9
        assert cell(app.screen.query_one(ContainerTable), api, "cpu") == f"{mean(raw):.1f}"


async def test_pause_stops_collecting_and_drawing_and_space_resumes() -> None:
    app, source = make_app(crisis_frames(FIRST_CYCLE, LAST_CYCLE), interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = dashboard(app)
        await until(pilot, lambda: screen.received >= 2)
        await pilot.press("space")
        assert screen.paused and label_text(app, "#paused") == "PAUSED"
        await pilot.pause(0.1)
        calls = source.calls
        frames = 0
        display = app._display

        def counting(screen_: object, renderable: object) -> None:
            nonlocal frames
            frames += renderable is not None
            display(screen_, renderable)  # type: ignore[arg-type]

        app._display = counting  # type: ignore[method-assign]
        await pilot.pause(0.4)
        assert source.calls == calls  # nothing collected
        assert frames == 0  # nothing redrawn
        await pilot.press("f5")  # one step while paused
        await until(pilot, lambda: source.calls == calls + 1)
        await pilot.press("space")
        await until(pilot, lambda: source.calls >= calls + 3)
        assert not screen.paused and not app.screen.query_one("#paused").display


async def test_a_failing_source_marks_the_data_stale_and_recovers() -> None:
    frames = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)

    class Flaky(ScriptedSource):
        failing = False

        def collect(self) -> Snapshot:
            if self.failing:
                raise ConnectionError("the collector went away")
            return super().collect()

    source = Flaky(frames)
    app, _ = make_app(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        messages = record_notifications(app)
        screen = await replay(pilot, 2)
        source.failing = True
        await screen.collect_once(forced=True)
        await pilot.pause()
        stale = label_text(app, "#stale")
        assert stale.startswith("STALE: collection failing since 14:10:00Z") and "went away" in stale
        assert any("collection failed" in message for message in messages)
        assert label_text(app, "#overall") == "▲ WARNING"  # the last snapshot stays on screen
        source.failing = False
        await screen.collect_once(forced=True)
        await pilot.pause()
        assert not app.screen.query_one("#stale").display


async def test_no_new_data_for_three_intervals_is_stale() -> None:
    app, _ = make_app(interval=2.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        screen._stale_timer.pause()  # the once-a-second check would undo the pretended minute on a slow machine
        screen.check_stale(now=time.monotonic() + 60)
        await pilot.pause()
        assert label_text(app, "#stale") == "STALE: no new data since 14:09:00Z"
        screen.check_stale()
        await pilot.pause()
        assert not app.screen.query_one("#stale").display


async def test_engine_unreachable_is_marked_with_the_reason() -> None:
    frames = crisis_frames(FIRST_CYCLE, FIRST_CYCLE + 1)
    lost = replace(
        frames[-1],
        taken_at=frames[-1].taken_at.replace(minute=frames[-1].taken_at.minute + 1),
        docker=DockerState(False, "unix:///var/run/docker.sock", "connection refused"),
        containers=(),
        workers=(),
    )
    app, _ = make_app((*frames, lost))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 3)
        assert label_text(app, "#engine").startswith("ENGINE UNREACHABLE: connection refused")
        assert label_text(app, "#updated") == "last good 14:10:00Z"
        assert "engine unreachable" in str(app.screen.query_one(ContainerTable).border_title)


async def test_the_metric_key_cycles_the_sparkline() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot)
        now = app.screen.query_one("#history-now")
        for metric, text in (("memory", "memory 53.0%"), ("cpu", "CPU 38.6%"), ("load", "load/core 0.16")):
            await pilot.press("g")
            assert screen.metric == metric
            assert str(now.content).startswith(text)
        await pilot.press("g")
        assert screen.metric == "swap"


async def test_layout_classes_follow_the_terminal_size() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot, 1)
        assert app.screen.has_class("-narrow") and app.screen.has_class("-short")
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert app.screen.has_class("-wide") and app.screen.has_class("-tall")


async def test_levels_read_without_color() -> None:
    app, _ = make_app()
    app.no_color = True
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot)
        swap = app.screen.query_one("#gauge-swap", Gauge).render().plain
        assert "░" in swap and "✖ CRITICAL" in swap


def _swap_at(frame: Snapshot, percent: float) -> Snapshot:
    return replace(frame, host=replace(frame.host, swap=replace(frame.host.swap, percent=percent)))


async def test_the_sparkline_draws_percentages_on_a_0_to_100_scale() -> None:
    first, second, third = crisis_frames(FIRST_CYCLE, FIRST_CYCLE + 2)
    app, _ = make_app((_swap_at(first, 1.9), _swap_at(second, 2.0), _swap_at(third, 2.0)))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 3)
        spark = app.screen.query_one(HistoryPane).query_one("#spark")
        lines = [strip.text for strip in spark.render_lines(Region(0, 0, *spark.size))]
        assert len(lines) == 3 and len(lines[-1]) == spark.size.width
        assert set(lines[-1]) == {"▁"}  # 2 % of the height: the lowest bar, not a full column
        assert set("".join(lines[:-1])) == {" "}


def test_the_sparkline_scale_is_0_to_100_for_percentages_and_from_0_for_load() -> None:
    from pixel_tui.levels import METRIC
    from pixel_tui.model import Thresholds

    thresholds = Thresholds()
    for name in ("swap", "memory", "cpu"):
        assert METRIC[name].scale([1.9, 2.0], thresholds) == (0.0, 100.0)
    load = METRIC["load"]
    assert load.scale([0.16, 0.2], thresholds) == (0.0, thresholds.load[2])  # 2.0 by default
    assert load.scale([0.5, 3.5], thresholds) == (0.0, 3.5)


async def test_the_status_line_names_the_engine_that_answers() -> None:
    """podman's compat socket answers as Docker does: the status line says podman, with podman's version."""
    frames = crisis_frames(FIRST_CYCLE, FIRST_CYCLE + 1)
    podman = replace(frames[-1], docker=DockerState(True, "ssh://root@db1", None, "4.3.1", product="podman"))
    app, _ = make_app((frames[0], podman))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        assert label_text(app, "#engine") == "docker 27.3.1 unix:///var/run/docker.sock"
        await replay(pilot, 2)
        assert label_text(app, "#engine") == "podman 4.3.1 ssh://root@db1"
