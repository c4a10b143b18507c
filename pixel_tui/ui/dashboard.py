"""The dashboard screen: owns the snapshot, runs the one collector loop, and routes keys to views and actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import ClassVar, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input

from pixel_tui.domain.phantoms import last_container
from pixel_tui.model import ContainerDetail, Event, Snapshot, Worker
from pixel_tui.paths import default_paths
from pixel_tui.pipeline import Control, Step
from pixel_tui.safe import Boundary, displayable
from pixel_tui.threads import in_daemon_thread
from pixel_tui.ui.containers import SORTS, ContainerTable
from pixel_tui.ui.derive import METRICS, CpuSmoother, SessionSamples, Trend, cycle_points, read_history
from pixel_tui.ui.detail import DetailScreen, container_sections, worker_section
from pixel_tui.ui.events import EventsPane, EventsScreen
from pixel_tui.ui.footer import KeyFooter
from pixel_tui.ui.gauges import HostGauges
from pixel_tui.ui.history import HistoryPane
from pixel_tui.ui.keys import DASHBOARD_BINDINGS, READ_ONLY_EXPLAINED, ReadOnlyGuard
from pixel_tui.ui.logs import LogScreen
from pixel_tui.ui.remediation import Remediation, Selected, autoheal_words, tell_learning
from pixel_tui.ui.status import StatusBar, clock
from pixel_tui.ui.workers import WorkerTable
from pixel_tui.wiring import ConsoleContext

T = TypeVar("T")

SPARK_CYCLES = 360
"""Recent cycles the sparkline reads from the history: more than the widest pane has columns."""


class DashboardScreen(ReadOnlyGuard, Remediation):
    """Status line, gauges, sparkline of the history, containers, workers, events, footer."""

    BINDINGS: ClassVar[list[BindingType]] = [*DASHBOARD_BINDINGS, *READ_ONLY_EXPLAINED]

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The latest snapshot (containers' CPU smoothed); every pane is bound to it."""
    events: reactive[tuple[Event, ...]] = reactive((), repaint=False)
    """The recent events of the one event log, newest first (the events pane and view show them)."""
    trend: reactive[Trend] = reactive(Trend(), repaint=False)
    """The sparkline's points: the recorded cycles, or this session's samples when the console keeps no history."""
    last_good: reactive[datetime | None] = reactive(None, repaint=False)
    """taken_at of the last snapshot in which the engine answered."""
    stale: reactive[str | None] = reactive(None, repaint=False)
    """Why the data shown is not current (collection failing or overdue), or None."""
    paused: reactive[bool] = reactive(False, repaint=False)
    """True while the refresh is paused: nothing is collected and nothing redrawn."""
    sort_by: reactive[str] = reactive("name", repaint=False)
    """Container sort order."""
    sort_reverse: reactive[bool] = reactive(False, repaint=False)
    """Reverse the container sort order."""
    filter_text: reactive[str] = reactive("", repaint=False)
    """Container filter."""
    metric: reactive[str] = reactive("swap", repaint=False)
    """Metric of the sparkline."""
    acting: reactive[str | None] = reactive(None, repaint=False)
    """What a running remediation is doing now, None when none runs."""
    autoheal_text: reactive[str | None] = reactive(None, repaint=False)
    """The status line's autoheal part: None when autoheal is unavailable."""
    history_status: reactive[str | None] = reactive(None, repaint=False)
    """None while the cycle history works, else "history unavailable: <why>"."""

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        """The console's parts, as the command that started it wired them."""
        pipeline = self.pipeline = context.pipeline
        self.source = context.source
        settings = self.settings = context.settings
        self.interval = settings.interval
        self.received = 0
        """Snapshots applied so far (tests wait on it)."""
        self.control = Control()
        """Pause and step requests for the pipeline's loop."""
        self._smoother = CpuSmoother(settings.ui.cpu_smoothing)
        self._boundary = Boundary()
        """Escapes the host's text in each snapshot before any widget sees it (an idle container once)."""
        self._samples = SessionSamples()
        self._history_read: tuple[int, str | None] | None = None
        """(cycles closed, history status) at the last read of the history: read again when it differs."""
        self._last_raw: Snapshot | None = None
        self._last_ok: float | None = None
        self._failure: str | None = None
        self._stale_timer: Timer | None = None
        self.set_reactive(DashboardScreen.metric, settings.ui.history_metric)
        if pipeline.history is not None:
            self.set_reactive(DashboardScreen.trend, Trend(unit="cycle"))

    def compose(self) -> ComposeResult:
        """The panes, each bound to the screen's reactives; they only render."""
        thresholds = self.settings.thresholds
        cls = DashboardScreen
        yield StatusBar(read_only=self.context.read_only, id="status").data_bind(
            cls.snapshot, cls.last_good, cls.stale, cls.paused, cls.acting, cls.autoheal_text, cls.history_status
        )
        with Horizontal(id="top"):
            yield HostGauges(thresholds, disks=len(self.settings.disks), id="gauges").data_bind(cls.snapshot)
            yield HistoryPane(thresholds, id="history").data_bind(cls.trend, cls.metric)
        yield ContainerTable(thresholds, id="containers").data_bind(
            cls.snapshot, cls.sort_by, cls.sort_reverse, cls.filter_text
        )
        with Container(id="bottom"):
            yield WorkerTable(id="workers").data_bind(cls.snapshot)
            yield EventsPane(id="events").data_bind(cls.events)
        yield Input(placeholder="filter: words in name, image or state · enter keeps · esc clears", id="filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Focus the containers, start the collector and the staleness check."""
        filter_box = self.query_one("#filter", Input)
        filter_box.display = False
        filter_box.cursor_blink = False  # nothing may be redrawn while idle
        self.query_one(ContainerTable).focus()
        self._stale_timer = self.set_interval(1.0, self.check_stale, name="stale-check")
        self.collector_loop()
        self._check_history()

    # --- the collector -----------------------------------------------------------------------------------

    @work(name="collector", group="collector", exclusive=True)
    async def collector_loop(self) -> None:
        """The pipeline's one loop: a step, then what is left of the interval; paused, it waits."""
        await self.pipeline.run(
            self._deliver, interval=lambda: self.interval, control=self.control, on_error=self._collection_failed
        )

    async def collect_once(self, *, forced: bool = False) -> None:
        """One step off the UI thread, now; applied unless paused meanwhile (or asked for explicitly)."""
        try:
            step = await self.pipeline.step_async()
        except Exception as error:  # noqa: BLE001 - a failing source must never take the console down
            self._collection_failed(error)
            return
        self._deliver(step, forced)

    def _deliver(self, step: Step, forced: bool) -> None:
        if self.paused and not forced:
            return
        self._receive(step.snapshot)
        tell_learning(self.app, step.snapshot.events)
        self.events = step.events
        self.history_status = step.history
        self._check_history()
        if self.context.autoheal is not None:
            self.autoheal_text = autoheal_words(self.context.autoheal.state)

    def _receive(self, snapshot: Snapshot) -> None:
        self._last_ok = time.monotonic()
        if self._failure is not None:
            self._failure = None
            self.notify("collection works again", title="collector")
        if snapshot == self._last_raw:  # nothing new: nothing to redraw
            self.check_stale()
            return
        self._last_raw = snapshot
        # The boundary: past here, no string from the host can carry a control character to the terminal.
        smoothed = self._smoother.smooth(self._boundary(snapshot))
        with self.app.batch_update():
            if snapshot.docker.reachable:
                self.last_good = snapshot.taken_at
            self.snapshot = smoothed
            if self.context.history is None:
                self.trend = self._samples.add(snapshot)
            self.stale = None
        self.received += 1

    def _collection_failed(self, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        if self._failure is None:
            self.notify(f"collection failed: {reason}", title="collector", severity="error", markup=False)
        self._failure = reason
        self.check_stale()

    def check_stale(self, now: float | None = None) -> None:
        """Mark the data stale when collection fails or is overdue (three intervals, at least five seconds)."""
        if self.paused:
            return
        now = time.monotonic() if now is None else now
        since = clock(self.snapshot.taken_at) if self.snapshot else "start"
        overdue = max(3 * self.interval, self.interval + 5)
        running = self.pipeline.busy_since
        if self._failure is not None:
            self.stale = f"collection failing since {since} ({self._failure})"
        elif running is not None and now - running > overdue:
            self.stale = f"no new data since {since}: a collection has not answered for {now - running:.0f}s"
        elif self._last_ok is not None and now - self._last_ok > overdue:
            self.stale = f"no new data since {since}"
        else:
            self.stale = None

    # --- the history -----------------------------------------------------------------------------------

    def _check_history(self) -> None:
        """Read the history again when a cycle closed or its state changed since the last read (cheap: a counter
        and the status the step brought; the read itself runs off the UI thread)."""
        history = self.context.history
        if history is None:
            return
        state = (history.closed, self.history_status)
        if state != self._history_read:
            self._history_read = state
            self._read_history()

    @work(name="history-read", group="history-read", exclusive=True, exit_on_error=False)
    async def _read_history(self) -> None:
        history = self.context.history
        assert history is not None
        recorded = await in_daemon_thread(partial(read_history, history, SPARK_CYCLES), name="pixel-history")
        self.trend = cycle_points(recorded)

    # --- keys --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only rule, and escape only while a filter is set or typed."""
        if action == "clear_filter":
            boxes = self.query("#filter")  # may run before the screen is composed
            return bool(self.filter_text) or (bool(boxes) and boxes.first().display)
        return super().check_action(action, parameters)

    def action_toggle_pause(self) -> None:
        """Pause or resume collecting and redrawing."""
        self.paused = not self.paused
        if self._stale_timer is not None:
            (self._stale_timer.pause if self.paused else self._stale_timer.resume)()
        self.control.pause(self.paused)

    def action_refresh_now(self) -> None:
        """Collect now, even while paused (one step)."""
        self.control.step_now()

    def action_cycle_sort(self) -> None:
        """Next sort order: name, CPU, memory, state."""
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self.sort_reverse = False

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse

    def action_cycle_metric(self) -> None:
        """Next sparkline metric: swap, memory, CPU, load."""
        names = [metric.key for metric in METRICS]
        self.metric = names[(names.index(self.metric) + 1) % len(names)]

    def action_show_history(self) -> None:
        """The history screen: chart, recovery line and cycle table (the recovery of the sparkline's metric)."""
        # Imported when asked for: plotext and the chart take 25 ms to load, which the first frame need not wait for.
        from pixel_tui.ui.history_screen import HistoryScreen

        self.app.push_screen(HistoryScreen(self.context.history, self.settings.thresholds, self.metric))

    def action_show_events(self) -> None:
        """Every kept event in full: what the pane cuts to a line."""
        self.app.push_screen(EventsScreen(self.events))

    def action_filter(self) -> None:
        """Open the filter line."""
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        if event.input.id == "filter":
            self.filter_text = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter, back to the table."""
        if event.input.id == "filter":
            event.input.display = False
            self.query_one(ContainerTable).focus()

    def action_clear_filter(self) -> None:
        """Drop the filter, back to the table."""
        self.filter_text = ""
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_one(ContainerTable).focus()

    # --- detail and logs ---------------------------------------------------------------------------------

    def selection(self) -> Selected | None:
        """The container or worker under the cursor of the focused table (the containers table otherwise)."""
        snapshot = self.snapshot
        if snapshot is None:
            return None
        workers = self.query_one(WorkerTable)
        if self.focused is workers:
            worker = next((w for w in snapshot.workers if w.key == workers.selected_key), None)
            if worker is None:
                return None
            name = worker.container or f"ghost task {(worker.task_id or '?')[:8]}"
            return Selected(name, worker.container_id, worker)
        key = self.query_one(ContainerTable).selected_key
        container = next((c for c in snapshot.containers if c.id == key), None)
        if container is None:
            return None
        worker = next((w for w in snapshot.workers if w.container_id == container.id), None)
        return Selected(container.name, container.id, worker)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its detail."""
        event.stop()
        self.action_inspect()

    def action_inspect(self) -> None:
        """Detail of the selection; inspecting the container runs off the UI thread."""
        target = self.selection()
        if target is None:
            self.notify("nothing selected", severity="warning")
        elif target.container_id is None:
            sections = [worker_section(target.worker, self._data_time())] if target.worker else []
            ghost_log = self._ghost_container(target) is not None
            self.app.push_screen(DetailScreen(target.name, sections, has_logs=ghost_log), partial(self._then, target))
        else:
            self._load_detail(target)

    def action_logs(self) -> None:
        """Follow the log of the selection: a container, a worker's, or the last container a ghost task had."""
        target = self.selection()
        if target is None:
            self.notify("nothing selected", severity="warning")
        else:
            self._open_logs(target)

    def _open_logs(self, target: Selected) -> None:
        if target.container_id is None:
            last = self._ghost_container(target)
            if last is None:
                self.notify(f"{target.name}: the engine has no container of it left, so no log to show",
                            severity="warning", markup=False)  # fmt: skip
                return
            target = Selected(f"{target.name} · its last container {last.container} ({last.state})", last.container_id)
        assert target.container_id is not None
        save_dir = (self.context.paths or default_paths()).saved_logs_dir
        self.app.push_screen(LogScreen(self.source, target.container_id, target.name, save_dir=save_dir))

    def _ghost_container(self, target: Selected) -> Worker | None:
        """The exited container a ghost task last ran in, if the engine still has it."""
        worker, snapshot = target.worker, self.snapshot
        return last_container(snapshot.workers, worker.task_id) if worker and snapshot else None

    def _then(self, target: Selected, result: str | None) -> None:
        """After a detail: its `l` asks for the log."""
        if result == "logs":
            self._open_logs(target)

    def _ask_source(self, target: Selected, doing: str, call: Callable[[str], T]) -> T | None:
        """Call the source from a worker thread; a failure becomes a notification, never an exception."""
        assert target.container_id is not None
        # Names and errors come from the host: shown as they are, never read as markup.
        try:
            return call(target.container_id)
        except LookupError as error:
            self.app.call_from_thread(self.notify, f"{target.name} is gone: {error}", severity="warning", markup=False)
        except Exception as error:  # noqa: BLE001 - reported, never raised into the UI
            message = f"cannot {doing} {target.name}: {error}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
        return None

    def _data_time(self) -> datetime | None:
        """When the data shown was collected: the detail's ages count from it, as the tables' do."""
        return self.snapshot.taken_at if self.snapshot is not None else None

    @work(thread=True, group="inspect", exclusive=True, exit_on_error=False)
    def _load_detail(self, target: Selected) -> None:
        detail = self._ask_source(target, "inspect", self.source.detail)
        if detail is not None:
            self.app.call_from_thread(self._show_detail, target, detail)

    def _show_detail(self, target: Selected, detail: ContainerDetail) -> None:
        detail = displayable(detail)  # labels, env and command come from whoever started the container
        now = self._data_time()
        sections = ([worker_section(target.worker, now)] if target.worker else []) + container_sections(detail, now)
        self.app.push_screen(DetailScreen(target.name, sections, has_logs=True), partial(self._then, target))
