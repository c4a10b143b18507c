"""The history screen (`h`): the chart of the recent cycles, the recovery line and the cycle table.

What the operator's report holds ("Cycle | Swap | Method | Timeline | Status", "92.5% -> 0% (100% recovery)"),
from the history store: own and imported cycles in time order, oldest first, so the table reads down as the chart
reads right and its newest cycle, at the bottom, is where the cursor starts. The store is read off the UI thread
when the screen opens. Imported text (sources, methods, actions) passes through `printable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from textual import work
from textual.app import ComposeResult
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Label

from pixel_tui import format as fmt
from pixel_tui.history.model import Cycle, recovery_line
from pixel_tui.history.output import method_and_actions
from pixel_tui.levels import METRIC, figure_levels
from pixel_tui.model import Level, Thresholds
from pixel_tui.safe import printable
from pixel_tui.threads import in_daemon_thread
from pixel_tui.ui.derive import RecordedHistory, read_history
from pixel_tui.ui.detail import CLOSE
from pixel_tui.ui.footer import KeyFooter
from pixel_tui.ui.plot import CycleChart
from pixel_tui.ui.table import KeyedTable, Row
from pixel_tui.ui.text import Cell, clip, level_label

SCREEN_CYCLES = 500
"""The latest cycles the screen reads: the chart, the table and the recovery line cover these."""
_TIME = "%Y-%m-%d %H:%M"


def _figure_cell(cycle: Cycle, key: str, levels: Mapping[str, Level]) -> Cell:
    """A cycle's figure (a percentage, or a load per core), in the color of the level it reached."""
    value = cycle.figure(key)
    if value is None:
        return Cell("-", "muted", right=True)
    level = levels[key]
    text = fmt.percent(value) if METRIC[key].unit == "%" else f"{value:.2f}"
    return Cell(text, "" if level is Level.OK else level.value, right=True)


def cells(cycle: Cycle, thresholds: Thresholds) -> tuple[Cell, ...]:
    """One cycle as table cells: the columns of `pixel-tui history`, the duration before the method and actions."""
    level = cycle.level
    figures = ("swap", "memory", "disk", "load")
    levels = figure_levels({key: cycle.figure(key) for key in figures}, thresholds)
    return (
        Cell("?" if cycle.cycle is None else str(cycle.cycle), right=True),
        Cell(cycle.started_at.strftime(_TIME), "muted"),
        *(_figure_cell(cycle, key, levels) for key in figures),
        Cell("-", "muted") if level is None else Cell(level_label(level), "" if level is Level.OK else level.value),
        Cell(fmt.duration(cycle.duration_s), right=True),
        Cell(printable(method_and_actions(cycle))),
        Cell(printable(cycle.source), "muted"),
    )


def row_key(cycle: Cycle) -> str:
    """Unique per cycle: an imported and an own cycle may share a number, and an unwritten one has none."""
    return f"{cycle.source}\x00{cycle.cycle}\x00{cycle.started_at.isoformat()}"


class CycleTable(KeyedTable):
    """The cycles, oldest first: number, start, figures, level, duration, method and actions, source."""

    COLUMNS = (
        ("cycle", "CYCLE", True),
        ("time", "TIME (UTC)", False),
        ("swap", "SWAP", True),
        ("memory", "MEM", True),
        ("disk", "DISK", True),
        ("load", "LOAD", True),
        ("level", "LEVEL", False),
        ("duration", "DURATION", True),
        ("actions", "METHOD/ACTIONS", False),
        ("source", "SOURCE", False),
    )
    # The free text gives up room and comes after the figures, so that 80 columns show every figure whole and
    # the start of the method; the rest, and the source, are a sideways scroll away (`pixel-tui history` puts the
    # duration after the method: a printed line is as long as it needs).
    FIT = (("actions", 16, clip),)

    cycles: reactive[tuple[Cycle, ...]] = reactive((), repaint=False)
    """The cycles shown, oldest first."""

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds

    def watch_cycles(self) -> None:
        """New cycles: update the rows, the cursor on the newest."""
        self.show_data()
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def show_data(self) -> None:
        """One row per cycle, in time order."""
        if not self.is_mounted:
            return
        rows: list[Row] = [(row_key(cycle), cells(cycle, self.thresholds)) for cycle in self.cycles]
        self.sync(rows)


def title(cycles: tuple[Cycle, ...]) -> str:
    """`History · 6 cycles, 2025-06-12 13:40 to 2025-06-12 19:52 UTC`."""
    count = f"{len(cycles)} cycle{'' if len(cycles) == 1 else 's'}"
    if not cycles:
        return "History"
    first, last = cycles[0].started_at.strftime(_TIME), cycles[-1].started_at.strftime(_TIME)
    return f"History · {count}, {first} to {last} UTC" if len(cycles) > 1 else f"History · {count}, {first} UTC"


class HistoryScreen(Screen[None]):
    """The chart, the recovery line and the table of the latest cycles; esc or q goes back."""

    BINDINGS = [CLOSE]

    cycles: reactive[tuple[Cycle, ...]] = reactive((), repaint=False)
    """The cycles read from the history, oldest first."""

    def __init__(self, history: RecordedHistory | None, thresholds: Thresholds, metric: str = "swap") -> None:
        super().__init__()
        self.history = history
        """Where the cycles are read from; None when this console keeps no history."""
        self.thresholds = thresholds
        self.metric = metric
        """The metric of the recovery line (the dashboard's sparkline metric)."""
        self.loaded = False
        """True once the history was read (tests wait on it)."""

    def compose(self) -> ComposeResult:
        """Title, note, chart, recovery line, table, footer."""
        cls = HistoryScreen
        yield Label("History", id="history-title", markup=False)
        yield Label("", id="history-note", markup=False)
        yield CycleChart(self.thresholds, id="chart").data_bind(cls.cycles)
        yield Label("", id="recovery", markup=False)
        yield CycleTable(self.thresholds, id="cycle-table").data_bind(cls.cycles)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Read the history, or say it is not kept."""
        self.query_one(CycleTable).focus()
        if self.history is None:
            self._show_note("history is not kept in this console: it runs on scripted data, not a host's collection")
            self.loaded = True
        else:
            self._show_note("reading the history…")
            self._load(self.history)

    @work(group="history-screen", exclusive=True, exit_on_error=False)
    async def _load(self, history: RecordedHistory) -> None:
        recorded = await in_daemon_thread(partial(read_history, history, SCREEN_CYCLES), name="pixel-history")
        cycles = recorded.cycles
        self.cycles = cycles
        self.query_one("#history-title", Label).update(Content(title(cycles)))
        recovery = recovery_line(cycles, self.metric) if cycles else None
        self.query_one("#recovery", Label).update(Content(printable(recovery or "")))
        if recorded.problem is not None:
            self._show_note(recorded.problem)
        elif not cycles:
            self._show_note("no cycle recorded yet: one closes after each history.cycle_s of collection")
        else:
            self._show_note(None)
        self.loaded = True

    def _show_note(self, text: str | None) -> None:
        note = self.query_one("#history-note", Label)
        note.display = text is not None
        note.update(Content(text or ""))
        for part in ("#chart", "#recovery", "#cycle-table"):
            self.query_one(part).display = bool(self.cycles)
