"""What a frame costs when little changed: cells whose text is the same are not updated, and only rows that changed
and are in view are drawn again (issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from textual.widgets import DataTable

from pixel_tui.model import Snapshot
from pixel_tui.ui import workers as worker_cells
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.table import KeyedTable
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import CRISIS_CYCLE, FIRST_CYCLE, container_id, crisis_frames
from tests.ui.helpers import CRISIS_FRAMES, make_app, replay

ARC = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)


def later(frame: Snapshot, seconds: float, **changes: Any) -> Snapshot:
    """`frame`, `seconds` later: every uptime and age grown by that much, nothing else changed, no events.

    The containers are the very same objects (a container's uptime counts from its start to `taken_at`), as the
    collector gives an idle container from one collection to the next."""
    return replace(
        frame,
        taken_at=frame.taken_at + timedelta(seconds=seconds),
        workers=tuple(replace(w, age_s=None if w.age_s is None else w.age_s + seconds) for w in frame.workers),
        events=(),
        **changes,
    )


class Spy:
    """Records what a table does: update_cell calls, lines rendered, and cells rendered through Rich."""

    def __init__(self, table: KeyedTable) -> None:
        self.updated: list[tuple[str, str]] = []
        self.lines = 0
        update_cell, render_line = table.update_cell, table._render_line

        def spy_update(row_key: str, column: str, value: object, **kwargs: object) -> None:
            self.updated.append((str(row_key), str(column)))
            update_cell(row_key, column, value, **kwargs)  # type: ignore[arg-type]

        def spy_render(*args: Any) -> Any:
            self.lines += 1
            return render_line(*args)

        table.update_cell = spy_update  # type: ignore[method-assign]
        table._render_line = spy_render  # type: ignore[method-assign]

    def reset(self) -> None:
        """Forget what was recorded."""
        self.updated.clear()
        self.lines = 0


def count_rich_cells(monkeypatch: Any, of: KeyedTable) -> Callable[[], int]:
    """Count the cells DataTable renders through Rich for table `of` (the ones no cache answered); returns a
    reader that also starts the count again."""
    count = 0
    render_cell = DataTable._render_cell

    def counting(table: DataTable[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        if table is of and args[0] >= 0:  # a body cell, not the header
            count += 1
        return render_cell(table, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", counting)

    def read() -> int:
        nonlocal count
        seen, count = count, 0
        return seen

    return read


def ticking_workers(frame: Snapshot) -> Snapshot:
    """`frame` with the two kinds of worker cell shown to the second: a worker in the last minutes before its
    timeout (time left), and a ghost task seen a minute ago (age)."""
    workers = tuple(
        replace(w, age_s=w.timeout_s - 200.0)
        if w.container == "pixel-worker-9b04e7aa"
        else replace(w, age_s=60.0)
        if w.phantom == "ghost"
        else w
        for w in frame.workers
    )
    return replace(frame, workers=workers)


async def test_a_cycle_draws_only_the_rows_whose_shown_text_changed(monkeypatch: Any) -> None:
    crisis = ticking_workers(ARC[-1])
    # From 1.1 s to 1.5 s later nothing shown changes (the uptimes and most ages are to the minute; the ghost's age
    # and the last minutes of a countdown to the second); at 2.1 s those two tick, the containers' uptimes do not.
    # (At 1.1 s the ghost's "1m" became "1m01s": a wider column, which repaints the whole table once.)
    frames = (*ARC, later(crisis, 1.1), later(crisis, 1.5), later(crisis, 2.1))
    app, _ = make_app(frames, cpu_smoothing=1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, CRISIS_FRAMES + 1)
        containers, workers = screen.query_one(ContainerTable), screen.query_one(WorkerTable)
        await pilot.pause()
        spies = {"containers": Spy(containers), "workers": Spy(workers)}
        rich_cells = {"containers": count_rich_cells(monkeypatch, containers)}
        rich_cells["workers"] = count_rich_cells(monkeypatch, workers)

        await screen.collect_once(forced=True)  # 1.5 s later
        await pilot.pause(0.05)
        assert screen.snapshot is not None and screen.snapshot.taken_at == frames[-2].taken_at
        assert [spy.updated for spy in spies.values()] == [[], []]
        assert [spy.lines for spy in spies.values()] == [0, 0]
        assert [count() for count in rich_cells.values()] == [0, 0]

        await screen.collect_once(forced=True)  # 2.1 s later
        await pilot.pause(0.05)
        before = {w.key: worker_cells.cells(w) for w in frames[-2].workers}
        after = {w.key: worker_cells.cells(w) for w in frames[-1].workers}
        columns = [key for key, _, _ in WorkerTable.COLUMNS]
        changed = {
            (key, column)
            for key in after
            for column, old, new in zip(columns, before[key], after[key], strict=True)
            if old != new
        }
        assert {column for _, column in changed} == {"age", "left"}  # the ticking columns, and only them
        assert spies["containers"].updated == [] and spies["containers"].lines == 0
        assert sorted(spies["workers"].updated) == sorted(changed)
        rows = {key for key, _ in changed}
        assert len(rows) < workers.row_count  # the exited worker's row did not change
        assert spies["workers"].lines == len(rows)  # each changed row drawn once, the others and the header not
        assert rich_cells["containers"]() == 0
        assert rich_cells["workers"]() == len(changed)  # and in those rows, only the cells that changed


async def test_a_row_out_of_view_costs_no_drawing(monkeypatch: Any) -> None:
    crisis = ARC[-1]
    last, first = container_id("pixel-worker-c81d20f4"), container_id("pixel-api")  # sorted by name: last, first

    def restarted(frame: Snapshot, times: dict[str, int]) -> Snapshot:
        containers = tuple(replace(c, restarts=(c.restarts or 0) + times.get(c.id, 0)) for c in frame.containers)
        return replace(frame, containers=containers)

    frames = (*ARC, restarted(crisis, {last: 1}), restarted(crisis, {last: 2, first: 1}))
    app, _ = make_app(frames, cpu_smoothing=1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay(pilot, CRISIS_FRAMES)
        table = screen.query_one(ContainerTable)
        await pilot.pause()
        shown = table.size.height - table.header_height
        assert table.get_row_index(last) >= shown > table.get_row_index(first)  # out of view, in view
        spy = Spy(table)
        rich_cells = count_rich_cells(monkeypatch, table)

        await screen.collect_once(forced=True)  # the row out of view changes
        await pilot.pause(0.05)
        assert spy.updated == [(last, "restarts")] and spy.lines == 0 and rich_cells() == 0
        spy.reset()

        await screen.collect_once(forced=True)  # both change: only the one in view is drawn
        await pilot.pause(0.05)
        assert sorted(spy.updated) == sorted([(last, "restarts"), (first, "restarts")])
        assert spy.lines == 1 and rich_cells() == 1
        assert table.selected_key == container_id("pixel-api")  # the cursor stayed on its row

        table.scroll_end(animate=False)  # scrolled into view, the row shows what changed while it was out
        await pilot.pause(0.05)
        assert table.get_cell(last, "restarts").plain.strip() == "2"
        assert spy.lines > 0
