"""What lets the console keep a row from one collection to the next at 1 000 containers (README "1 000 containers")."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from pixel_tui import safe
from pixel_tui.model import Thresholds
from pixel_tui.safe import Boundary, displayable
from pixel_tui.ui.containers import cells, shown
from pixel_tui.ui.derive import CpuSmoother
from pixel_tui.ui.fit import ColumnFit
from pixel_tui.ui.text import Cell, ticked, ticking
from tests.scripted import CRISIS_CYCLE, container_id, crisis_frame


def test_ticked_is_what_ticking_shows() -> None:
    for seconds in (0.0, 59.4, 61.0, 119.9, 120.0, 150.7, 179.99, 3_725.3, -130.5, None):
        assert ticking(seconds) == ticking(ticked(seconds))
    assert ticked(130.0) == ticked(179.0) == 120.0  # one minute shown: one key
    assert ticked(110.0) != ticked(111.0)  # to the second for the first two minutes


def test_a_container_shown_alike_keeps_its_key_and_cells() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    old = next(c for c in frame.containers if c.id == container_id("pixel-api") and c.started_at)
    assert old.started_at is not None
    thresholds = Thresholds()
    at = old.started_at + timedelta(seconds=3_600 + 5)
    later = at + timedelta(seconds=45)  # the same minute: the same text
    assert shown(old, at) == shown(old, later) and cells(old, thresholds, at) == cells(old, thresholds, later)
    assert shown(replace(old), at) == shown(old, at)  # an equal container, not the same object: kept too
    assert shown(old, at + timedelta(seconds=60)) != shown(old, at)  # the next minute shows
    assert cells(old, thresholds, at + timedelta(seconds=60))[7].text == "1h01m"
    for changed in (
        replace(old, cpu_percent=(old.cpu_percent or 0) + 0.1),
        replace(old, mem_used=(old.mem_used or 0) + 1),
        replace(old, state="exited"),
        replace(old, restarts=(old.restarts or 0) + 1),
    ):
        assert shown(changed, at) != shown(old, at)


def test_an_idle_container_passes_the_smoother_and_displayable_as_the_same_object() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    idle = replace(frame.containers[0], cpu_percent=0.0)
    quiet = replace(frame, containers=(idle,))
    smoother = CpuSmoother(3)
    for _ in range(3):
        assert smoother.smooth(quiet).containers[0] is idle
    assert displayable(idle) is idle
    hostile = replace(idle, name="evil\x1b]0;pwned\x07", labels={"k\x1b": "v"})
    cleaned = displayable(hostile)
    assert cleaned.name == "evil\\x1b]0;pwned\\x07" and cleaned.labels == {"k\\x1b": "v"}
    assert cleaned.cpu_percent == 0.0 and cleaned.started_at == idle.started_at


def test_a_worker_shown_alike_keeps_its_key_and_cells() -> None:
    """250 workers rebuilt every collection were a third of the event loop's work at 1 000 containers: a worker
    keeps its cells while its age and time left read the same, and any change that shows rebuilds them."""
    from pixel_tui.ui import workers
    from pixel_tui.ui.table import CellCache

    frame = crisis_frame(CRISIS_CYCLE)
    worker = next(w for w in frame.workers if w.container)
    old = replace(worker, age_s=600.0 + 5, timeout_s=3_600.0, timed_out=False)
    later = replace(old, age_s=600.0 + 40)  # the same minute of age, the same minute left
    assert workers.shown(old) == workers.shown(later) and workers.cells(old) == workers.cells(later)
    for changed in (
        replace(old, age_s=600.0 + 65),  # a minute more shown
        replace(old, timeout_s=600.0 + 5 + 200),  # under five minutes left: to the second
        replace(old, timed_out=True),
        replace(old, phantom="ghost"),
        replace(old, conflict="tasks a and b"),
        replace(old, state="missing"),
        replace(old, task_status="completed"),
    ):
        assert workers.shown(changed) != workers.shown(old), changed
    cache = CellCache()
    first = cache.cells_of(old.key, workers.shown(old), lambda: workers.cells(old))
    assert cache.cells_of(later.key, workers.shown(later), lambda: workers.cells(later)) is first
    moved = replace(old, age_s=600.0 + 65)
    assert cache.cells_of(moved.key, workers.shown(moved), lambda: workers.cells(moved)) is not first
    cache.keep_only(set())
    assert len(cache) == 0


def test_an_idle_container_that_fills_its_window_is_passed_over_and_a_busy_one_is_averaged_again() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    idle = replace(frame.containers[0], cpu_percent=0.0)
    smoother = CpuSmoother(3)
    quiet = replace(frame, containers=(idle,))
    assert [smoother.smooth(quiet) is quiet for _ in range(4)] == [True] * 4  # the snapshot itself: nothing moved
    busy = replace(idle, cpu_percent=30.0)
    assert smoother.smooth(replace(frame, containers=(busy,))).containers[0].cpu_percent == pytest.approx(10.0)
    assert smoother.smooth(quiet).containers[0].cpu_percent == pytest.approx(10.0)  # 0, 30, 0: not steady
    assert smoother.smooth(quiet).containers[0].cpu_percent == pytest.approx(10.0)  # 30, 0, 0
    assert smoother.smooth(quiet).containers[0] is idle  # 0, 0, 0: its figure again
    smoother.smooth(replace(frame, containers=()))  # gone: forgotten
    assert smoother.smooth(replace(frame, containers=(busy,))).containers[0].cpu_percent == 30.0


def test_the_boundary_walks_a_container_once_while_it_is_the_same_object() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    hostile = replace(frame.containers[0], name="evil\x1b]0;pwned\x07", labels={"k\x1b": "v"})
    quiet = replace(frame.containers[1], cpu_percent=0.0)
    snapshot = replace(frame, containers=(hostile, quiet))
    boundary = Boundary()
    first = boundary(snapshot)
    assert first.containers[0].name == "evil\\x1b]0;pwned\\x07" and first.containers[0].labels == {"k\\x1b": "v"}
    assert first.containers[1] is quiet
    walked: list[object] = []
    original = safe._clean_dataclass
    try:
        safe._HANDLERS[type(hostile)] = lambda value: walked.append(value) or original(value)
        later = boundary(replace(snapshot, taken_at=snapshot.taken_at))
        assert walked == []  # both the very objects of the call before: given what they were cleaned to then
        assert later.containers[0] is first.containers[0] and later.containers[1] is quiet
        moved = replace(hostile, cpu_percent=99.0)  # a new object: walked, and escaped again
        again = boundary(replace(snapshot, containers=(moved, quiet)))
        assert walked == [moved] and again.containers[0].name == "evil\\x1b]0;pwned\\x07"
        boundary(replace(snapshot, containers=(quiet,)))
        boundary(replace(snapshot, containers=(moved, quiet)))  # missing from the call before: walked again
        assert walked == [moved, moved]
    finally:
        safe._HANDLERS.pop(type(hostile), None)
    assert boundary(snapshot) == displayable(snapshot)  # the same result as the stateless walk


def test_column_widths_follow_rows_added_changed_and_removed_as_a_full_measure_would() -> None:
    """The widths are kept as counts per column, updated by the rows that changed: the same as measuring all."""
    rng = random.Random(14)
    fit = ColumnFit()
    keys, headers = ("name", "state", "cpu"), (5, 6, 4)
    table: dict[str, tuple[Cell, ...]] = {}
    for _ in range(400):
        key = f"c{rng.randrange(30)}"
        if rng.random() < 0.25:
            table.pop(key, None)
        else:
            table[key] = tuple(Cell("x" * rng.randrange(12)) for _ in keys)
        rows = list(table.items())
        if rng.random() < 0.2 and rows:  # an equal row rebuilt (another tuple): no change
            moved, cells = rows[0]
            rows[0] = (moved, tuple(Cell(cell.text) for cell in cells))
        widest = {
            key: max([header] + [len(cells[index].text) + 1 for _, cells in rows])
            for index, (key, header) in enumerate(zip(keys, headers, strict=True))
        }
        assert fit.natural(rows, keys, headers) == widest
