"""The containers table: name, state, health, CPU, memory, uptime, restarts, image; sortable and filterable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import BindingType
from textual.reactive import reactive

from pixel_tui.levels import ContainerLevels
from pixel_tui.model import Container, Level, Snapshot, Thresholds
from pixel_tui.ui.keys import CONTAINER_BINDINGS, ReadOnlyGuard, RemediationRequested
from pixel_tui.ui.table import CellCache, KeyedTable, Row
from pixel_tui.ui.text import Cell, clip, clip_name, percent, short_size, ticked, uptime

SORTS: tuple[str, ...] = ("name", "cpu", "memory", "state")
"""Sort orders, in the order the sort key cycles them."""

_STATE_RANK = {"restarting": 0, "dead": 1, "running": 3, "paused": 4, "created": 5, "exited": 6, "removing": 7}
_STATE_ROLE = {"restarting": "warning", "dead": "critical", "paused": "careful", "exited": "muted", "created": "muted"}
_HEALTH_ROLE = {"healthy": "ok", "unhealthy": "critical", "starting": "careful"}


def _state_rank(container: Container) -> float:
    rank = _STATE_RANK.get(container.state, 8)
    return rank - 1 if container.health == "unhealthy" else rank  # a sick running container before the healthy


_SORT_COLUMN = {"name": "name", "cpu": "cpu", "memory": "mem", "state": "state"}
"""The column whose header carries the sort arrow, by sort order."""

_SORT_KEYS: dict[str, Callable[[Container], Any]] = {
    "name": lambda c: c.name.casefold(),
    "cpu": lambda c: (c.cpu_percent is None, -(c.cpu_percent or 0.0), c.name.casefold()),
    "memory": lambda c: (c.mem_used is None, -(c.mem_used or 0), c.name.casefold()),
    "state": lambda c: (_state_rank(c), c.name.casefold()),
}


def order(containers: tuple[Container, ...], sort: str, reverse: bool) -> list[Container]:
    """Containers in display order: by name ascending, CPU and memory descending, state most worrying first."""
    ordered = sorted(containers, key=_SORT_KEYS[sort])
    return ordered[::-1] if reverse else ordered


def matches(container: Container, text: str) -> bool:
    """True when every word of `text` is in the name, image, state (with its exit code) or health (case-insensitive)."""
    haystack = f"{container.name} {container.image} {state_text(container)} {container.health or ''}".casefold()
    return all(word in haystack for word in text.casefold().split())


def state_text(container: Container) -> str:
    """The state, with how a stopped container ended: 'exited 137 OOM', 'exited 0', 'running'."""
    if container.running:
        return container.state
    words = [container.state]
    if container.exit_code is not None:
        words.append(str(container.exit_code))
    if container.oom_killed:
        words.append("OOM")
    return " ".join(words)


def _state_role(container: Container) -> str:
    if container.oom_killed:
        return "warning"
    if container.exit_code:  # stopped on a failure (a worker killed by its timeout says 124, SIGKILL 137)
        return "careful"
    return _STATE_ROLE.get(container.state, "")


def _level_role(level: Level) -> str:
    return "" if level is Level.OK else level.value


def cells(container: Container, thresholds: Thresholds, now: datetime) -> tuple[Cell, ...]:
    """One container as table cells, its uptime at `now` (the snapshot's time)."""
    running = container.running
    restarts = container.restarts
    levels = ContainerLevels.of(container, thresholds)
    return (
        Cell(container.name, "" if running else "muted"),  # whole: the table cuts it only when it lacks room
        Cell(state_text(container), _state_role(container)),
        Cell(container.health or "-", _HEALTH_ROLE.get(container.health or "", "muted")),
        # "~": an estimate (a remote engine's stats without its CPU count or host CPU time, or podman's).
        Cell(
            ("~" if container.cpu_estimated else "") + percent(container.cpu_percent),
            _level_role(levels.cpu),
            right=True,
        ),
        Cell(percent(container.mem_percent), _level_role(levels.memory), right=True),
        Cell(short_size(container.mem_used), right=True),
        Cell(short_size(container.mem_limit), "muted", right=True),
        Cell(uptime(container.uptime_at(now)), right=True),
        Cell("-" if restarts is None else str(restarts), "careful" if restarts else "", right=True),
        Cell(container.image, "muted"),
    )


def shown(container: Container, now: datetime) -> tuple[object, ...]:
    """What `cells` reads: the container (frozen: equal containers give equal cells, and an idle one is the very
    same object from one collection to the next) and its uptime as shown."""
    return (container, ticked(container.uptime_at(now)))


class ContainerTable(ReadOnlyGuard, KeyedTable):
    """Every container of the snapshot, one row each, keyed by container id."""

    BINDINGS: ClassVar[list[BindingType]] = list(CONTAINER_BINDINGS)

    COLUMNS = (
        ("name", "NAME", False),
        ("state", "STATE", False),
        ("health", "HEALTH", False),
        ("cpu", "CPU%", True),
        ("mem_pct", "MEM%", True),
        ("mem", "MEM", True),
        ("limit", "LIMIT", True),
        ("uptime", "UP", True),
        ("restarts", "RST", True),
        ("image", "IMAGE", False),
    )
    # The image gives up room first; a name keeps its end when it is an id or a number (a worker's task hex).
    FIT = (("image", 6, clip), ("name", 16, clip_name))

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The snapshot shown (its CPU % already smoothed by the screen)."""
    sort_by: reactive[str] = reactive("name", repaint=False)
    """Sort order: name, cpu, memory or state."""
    sort_reverse: reactive[bool] = reactive(False, repaint=False)
    """Reverse the sort order."""
    filter_text: reactive[str] = reactive("", repaint=False)
    """Only containers matching every word of this are shown."""

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds
        self._built = CellCache()
        """By container id: at 1 000 containers, building every row's cells each collection was 22 ms of the
        event loop's ~40."""

    def watch_snapshot(self) -> None:
        """New data: update the rows in place."""
        self.show_data()

    def watch_sort_by(self) -> None:
        """Another sort order: reorder the rows."""
        self.show_data()

    def watch_sort_reverse(self) -> None:
        """The other direction: reorder the rows."""
        self.show_data()

    def watch_filter_text(self) -> None:
        """Another filter: drop or bring back rows."""
        self.show_data()

    def show_data(self) -> None:
        """Rows for the containers that pass the filter, in the chosen order."""
        snapshot = self.snapshot
        if snapshot is None or not self.is_mounted:
            return
        shown = order(snapshot.containers, self.sort_by, self.sort_reverse)
        if self.filter_text:
            shown = [container for container in shown if matches(container, self.filter_text)]
        now = snapshot.taken_at
        rows: list[Row] = [(container.id, self._cells_of(container, now)) for container in shown]
        if len(self._built) > len(snapshot.containers):
            self._built.keep_only({container.id for container in snapshot.containers})
        self.sync(rows)
        self.show_title(self.title_for(snapshot, len(shown)))
        arrow = "▲" if (self.sort_by == "name") != self.sort_reverse else "▼"
        self.mark_sorted(_SORT_COLUMN[self.sort_by], arrow)

    def _cells_of(self, container: Container, now: datetime) -> tuple[Cell, ...]:
        """The container's cells: the same tuple as last time when nothing shown changed."""
        return self._built.cells_of(container.id, shown(container, now), lambda: cells(container, self.thresholds, now))

    def title_for(self, snapshot: Snapshot, shown: int) -> str:
        """Counts, sort order, filter and engine state."""
        total = len(snapshot.containers)
        arrow = "▲" if (self.sort_by == "name") != self.sort_reverse else "▼"
        title = f"Containers {snapshot.running_containers}/{total} running · sort {self.sort_by}{arrow}"
        if self.filter_text:
            title += f" · filter “{self.filter_text}” {shown}/{total}"
        if not snapshot.docker.reachable:
            title += " · engine unreachable"
        return title

    def action_remediate(self, action_id: str) -> None:
        """Ask the screen to run a container action on the selected row."""
        self.post_message(RemediationRequested(action_id, self.selected_key))
