"""Flat over hours (issue 14): on a host whose containers come and go and whose figures change every cycle, what
the tables keep of rendered cells stays within fixed bounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from pixel_tui.model import Snapshot
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.table import CELL_CACHE, DATATABLE_CELL_CACHE
from tests.scripted import CRISIS_CYCLE, FIRST_CYCLE, crisis_frames
from tests.ui.helpers import make_app, replay
from tests.ui.test_ui_frame import count_rich_cells

ARC = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)
ROWS = 20
CYCLES = 80


def churning(base: Snapshot, cycle: int) -> Snapshot:
    """`base` with ROWS containers, one replaced by a new one every cycle, every CPU figure new."""
    template = base.containers[0]
    containers = tuple(
        replace(
            template,
            id=f"{cycle - index:012x}" + "0" * 52,
            name=f"app-{cycle - index:05d}",
            cpu_percent=(cycle * 7 + index * 13) % 100 + 0.5,
            restarts=0,
        )
        for index in range(ROWS)
    )
    return replace(base, taken_at=base.taken_at + timedelta(seconds=cycle), containers=containers, events=())


async def test_rendered_cells_kept_stay_bounded_under_churn(monkeypatch: Any) -> None:
    frames = tuple(churning(ARC[-1], cycle) for cycle in range(CYCLES))
    app, _ = make_app(frames, cpu_smoothing=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = pilot.app.screen.query_one(ContainerTable)
        rendered = count_rich_cells(monkeypatch, table)
        await replay(pilot, CYCLES)
        await pilot.pause()
        assert table.row_count == ROWS
        assert rendered() > 4 * DATATABLE_CELL_CACHE  # cells drawn anew, many times more than either cache keeps
        assert len(table._cell_render_cache) <= DATATABLE_CELL_CACHE
        assert len(table._cell_lines) <= CELL_CACHE
