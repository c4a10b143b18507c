"""What fits where: 80x24 reads whole (footer keys, workers table, sparkline range), 40x12 keeps the gauges' values."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.gauges import Gauge
from pixel_tui.ui.text import LEVEL_SYMBOL, clip_middle
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import FIRST_CYCLE, LAST_CYCLE, STUCK_WORKER, container_id, crisis_frames
from tests.ui.helpers import cell, make_app, replay


def _shown(widget: Widget) -> str:
    """The first line of `widget` as the screen shows it (cut to its width)."""
    return widget.render_lines(Region(0, 0, widget.size.width, 1))[0].text


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
async def test_the_footer_shows_whole_keys_only(width: int) -> None:
    app, _ = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await replay(pilot, 1)
        for table in (ContainerTable, WorkerTable):
            app.screen.query_one(table).focus()
            await pilot.pause()
            keys = list(app.screen.query(FooterKey))
            palette = next(key for key in keys if key.has_class("-command-palette"))
            shown = [key for key in keys if key is not palette]
            assert shown and shown[0].key_display in ("r", "k")  # the focused table's first
            assert "?" in [key.key_display for key in shown]  # help, which lists the rest, stays
            for key in shown:
                assert key.region.right < palette.region.x, (key.key_display, key.description)
                text = f"{key.key_display} {key.description}"
                assert key.region.width == len(text) and _shown(key) == text


async def test_the_footer_chooses_again_when_the_terminal_narrows() -> None:
    app, _ = make_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await replay(pilot, 1)
        wide = len(app.screen.query(FooterKey))
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        assert len(keys) < wide
        palette = next(key for key in keys if key.has_class("-command-palette"))
        assert all(key.region.right < palette.region.x for key in keys if key is not palette)


async def test_the_workers_table_fits_80_columns() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot)
        table = app.screen.query_one(WorkerTable)
        used = sum(column.get_render_width(table) for column in table.columns.values())
        assert used <= table.size.width - table.styles.scrollbar_size_vertical  # no column falls off
        stuck = container_id(STUCK_WORKER)
        # Cut in the middle: the hex stays (the done worker's state, "exited 0", takes a column more than "running").
        assert cell(table, stuck, "container") == "pixel-…3f2a9c1d"
        assert cell(table, container_id("pixel-worker-9b04e7aa"), "ledger") == "completed"
        await pilot.resize_terminal(160, 45)  # room again: whole names
        await pilot.pause()
        assert cell(table, stuck, "container") == STUCK_WORKER
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert cell(table, stuck, "container") == "pixel-…3f2a9c1d"
        assert sum(column.get_render_width(table) for column in table.columns.values()) == used


def test_a_middle_cut_keeps_what_follows_the_last_separator() -> None:
    assert clip_middle("pixel-worker-3f2a9c1d", 30) == "pixel-worker-3f2a9c1d"
    assert clip_middle("pixel-worker-3f2a9c1d", 14) == "pixel…3f2a9c1d"
    assert clip_middle("pixel-worker-3f2a9c1d", 9) == "pixe…9c1d"  # the hex alone no longer fits
    assert clip_middle("averyveryverylongname", 10) == "aver…gname"
    assert len(clip_middle("x-" * 20, 7)) == 7 and clip_middle("abc", 1) == "…"


async def test_the_sparkline_range_fits_80_columns_after_many_samples() -> None:
    frames = crisis_frames(FIRST_CYCLE, LAST_CYCLE)
    last = frames[-1]
    more = tuple(
        replace(
            last,
            taken_at=last.taken_at + timedelta(minutes=minutes),
            host=replace(last.host, swap=replace(last.host.swap, percent=100.0)),
        )
        for minutes in (1, 2)
    )
    app, _ = make_app((*frames, *more))
    async with app.run_test(size=(80, 24)) as pilot:
        await replay(pilot, len(frames) + len(more))
        for name in ("#history-now", "#history-range"):
            label = app.screen.query_one(name, Label)
            text = str(label.content)
            assert len(text) <= label.size.width and _shown(label).rstrip() == text, text
        assert str(app.screen.query_one("#history-range", Label).content) == "12 samples: 0.0–100.0"


async def test_at_40x12_the_gauges_keep_their_values() -> None:
    app, _ = make_app()
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await replay(pilot)
        snapshot = screen.snapshot
        assert snapshot is not None
        expected = {"cpu": "38.6%", "memory": "53.0%", "swap": "92.5%", "disk-0": "67.7%", "load": "0.16/c"}
        levels = snapshot.levels
        symbols = {
            "cpu": levels.cpu, "memory": levels.memory, "swap": levels.swap, "disk-0": levels.disk, "load": levels.load
        }  # fmt: skip
        for key, value in expected.items():
            gauge = app.screen.query_one(f"#gauge-{key}", Gauge)
            line = _shown(gauge)
            assert value in line and line.rstrip().endswith(LEVEL_SYMBOL[symbols[key]]), line
            assert "█" in line  # some bar is left
