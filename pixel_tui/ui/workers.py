"""The workers table: task, container, state, age, timeout, time left or overdue, TIMEOUT and PHANTOM flags."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.reactive import reactive

from pixel_tui import format as fmt
from pixel_tui.domain.workers import urgency
from pixel_tui.model import Container, Snapshot, Worker
from pixel_tui.ui.containers import state_text
from pixel_tui.ui.keys import WORKER_BINDINGS, ReadOnlyGuard, RemediationRequested
from pixel_tui.ui.table import CellCache, KeyedTable, Row
from pixel_tui.ui.text import Cell, clip_middle, short_duration, ticked, ticking


def flags(worker: Worker) -> str:
    """'TIMEOUT', 'PHANTOM ghost', 'PHANTOM orphan', both, or '': the words `snapshot` prints too."""
    return " ".join(fmt.worker_flags(worker))


CAREFUL_LEFT_S = 300.0
"""Time left under which the countdown turns careful, and is shown to the second."""


def left(worker: Worker) -> Cell:
    """Time left before the timeout (to the second in its last five minutes), or how long overdue."""
    remaining = worker.remaining_s
    if remaining is None or worker.state not in ("running", "missing"):
        return Cell("-", "muted", right=True)
    if remaining < 0:
        return Cell(f"over {ticking(-remaining)}", "critical", right=True)
    careful = remaining < CAREFUL_LEFT_S
    return Cell(ticking(remaining, exact_below=CAREFUL_LEFT_S), "careful" if careful else "", right=True)


def cells(worker: Worker, stopped: Container | None = None) -> tuple[Cell, ...]:
    """One worker (or ghost task) as table cells; `stopped` is its container when it has stopped (its exit code)."""
    marks = flags(worker)
    flag_role = "critical" if worker.timed_out else "warning" if worker.phantom else ""
    state_role = "warning" if worker.state == "missing" else "" if worker.state == "running" else "muted"
    state = worker.state
    if stopped is not None and worker.state == stopped.state:
        state = state_text(stopped)
        state_role = "warning" if stopped.oom_killed else "careful" if stopped.exit_code else state_role
    return (
        # Whole: the table cuts the name, in its middle, only when it lacks room.
        Cell(worker.container or "(no container)", "" if worker.container else "muted"),
        Cell(worker.task_id[:8] if worker.task_id else "-", "" if worker.task_id else "muted"),
        Cell(state, state_role),
        Cell(ticking(worker.age_s), right=True),
        Cell(short_duration(worker.timeout_s), "muted", right=True),
        left(worker),
        Cell(marks or "-", flag_role if marks else "muted"),
        Cell(worker.task_status or "-", "muted"),
    )


def shown(worker: Worker, stopped: Container | None = None) -> tuple[object, ...]:
    """Everything `cells` reads of a worker (and of its stopped container), durations as shown: equal values give
    equal cells."""
    w = worker
    remaining = w.remaining_s
    left_shown = (
        None if remaining is None else ticked(-remaining) if remaining < 0 else ticked(remaining, CAREFUL_LEFT_S)
    )
    return (w.container, w.task_id, w.state, ticked(w.age_s), w.timeout_s, left_shown, w.timed_out, w.phantom,
            w.conflict, w.task_status, stopped and (stopped.state, stopped.exit_code, stopped.oom_killed))  # fmt: skip


def title(snapshot: Snapshot) -> str:
    """Counts, and what the ledger and lock say."""
    parts = [f"Workers {snapshot.running_workers} running"]
    if snapshot.timed_out:
        parts.append(f"{len(snapshot.timed_out)} overdue")
    if snapshot.phantoms:
        parts.append(f"{len(snapshot.phantoms)} phantom{'s' if len(snapshot.phantoms) > 1 else ''}")
    ledger = snapshot.ledger
    if ledger is None:
        parts.append("no ledger: phantoms not checked")
    elif not ledger.readable:
        parts.append(f"ledger unreadable: {ledger.error}")
    else:
        parts.append(f"ledger {ledger.tasks} tasks")
    lock = snapshot.lock
    if lock is not None and lock.task_id:
        stale = f" STALE {short_duration(lock.stale_s)}" if lock.stale and lock.stale_s is not None else ""
        parts.append(f"lock {lock.task_id[:8]}{stale or (' STALE' if lock.stale else '')}")
    return " · ".join(parts)


class WorkerTable(ReadOnlyGuard, KeyedTable):
    """Worker containers and ghost tasks, keyed by container id (or task id for a ghost); overdue first."""

    BINDINGS: ClassVar[list[BindingType]] = list(WORKER_BINDINGS)

    COLUMNS = (
        ("container", "CONTAINER", False),
        ("task", "TASK", False),
        ("state", "STATE", False),
        ("age", "AGE", True),
        ("timeout", "TIMEOUT", True),
        ("left", "LEFT", True),
        ("flags", "FLAGS", False),
        ("ledger", "LEDGER", False),
    )
    FIT = (("container", len("(no container)"), clip_middle),)  # cut in the middle: the task column repeats its hex

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The snapshot whose workers are shown."""
    _problems: frozenset[str] | set[str] = frozenset()
    """The keys of the rows that were problems (timed out, phantom, conflict) at the last refresh."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._built = CellCache()
        """By row key: 250 workers' cells built anew each collection were a third of the event loop's work."""

    def watch_snapshot(self) -> None:
        """New data: update the rows in place."""
        self.show_data()

    def show_data(self) -> None:
        """Rows for the workers and ghost tasks, overdue and phantoms first."""
        snapshot = self.snapshot
        if snapshot is None or not self.is_mounted:
            return
        ordered = sorted(snapshot.workers, key=urgency)
        built = self._built
        stopped = {c.id: c for c in snapshot.containers if c.exit_code is not None or c.oom_killed}
        rows: list[Row] = []
        for w in ordered:
            end = stopped.get(w.container_id or "")
            rows.append((w.key, built.cells_of(w.key, shown(w, end), lambda w=w, end=end: cells(w, end))))  # type: ignore[misc]
        if len(built) > len(rows):
            built.keep_only({key for key, _ in rows})
        self.sync(rows)
        self.show_title(title(snapshot))
        problems = {worker.key for worker in ordered if worker.timed_out or worker.phantom or worker.conflict}
        new = problems - self._problems
        self._problems = problems
        if new:  # a new timed-out, phantom or conflicting row: scrolled into view, wherever the cursor is
            # After the refresh: the new row's place exists only once the table has laid out its rows.
            self.call_after_refresh(self._reveal, min(i for i, worker in enumerate(ordered) if worker.key in new))

    def _reveal(self, index: int) -> None:
        """Scroll so that row `index` shows (the cursor stays where the operator left it)."""
        if index < self.row_count:
            region = self._get_row_region(index)
            self.scroll_to_region(region, animate=False, spacing=self._get_fixed_offset(), force=True)

    def action_remediate(self, action_id: str) -> None:
        """Ask the screen to run a worker action on the selected row."""
        self.post_message(RemediationRequested(action_id, self.selected_key))
