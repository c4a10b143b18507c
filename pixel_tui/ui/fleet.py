"""`pixel-tui fleet`: one row per host, read from Prometheus; sort, filter, enter for a host's detail.

Read-only by construction: this app has no executor. What a cell cannot tell (the host is down, its series
went stale, the column's query failed) it says in words; the header says what Prometheus answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import Footer, Input, Static

from pixel_tui.fleet.detail import host_sections
from pixel_tui.fleet.hosts import COLUMNS, Cell, Column, Fleet, Host, cell_text, read_fleet
from pixel_tui.fleet.prom import PromClient
from pixel_tui.safe import printable
from pixel_tui.settings import FleetSettings
from pixel_tui.ui.detail import DetailScreen
from pixel_tui.ui.table import KeyedTable, Row
from pixel_tui.ui.text import Cell as TableCell
from pixel_tui.ui.themes import load_themes, theme_variables

SORTS: tuple[str, ...] = ("level", "host", "timed_out", "phantoms", "scraped")
"""Sort orders, in the order `s` cycles them: the most worrying host first, except by host name."""


def _worry(host: Host) -> float:
    """A host that cannot be seen is the first to look at: down, then unknown, then critical down to ok."""
    level = host.level
    return 5.0 if not host.up else 4.0 if level is None else float(level.rank)


def _count(host: Host, key: str) -> float:
    value = host.cells[key].value
    return -1.0 if value is None else value


_SORT_KEYS: dict[str, Callable[[Host], Any]] = {
    "level": lambda h: (-_worry(h), h.instance),
    "host": lambda h: h.instance,
    "timed_out": lambda h: (-_count(h, "timed_out"), h.instance),
    "phantoms": lambda h: (-_count(h, "phantoms"), h.instance),
    "scraped": lambda h: (-_count(h, "scraped"), h.instance),
}


def _role(column: Column, cell: Cell) -> str:
    if cell.state == "down":
        return "critical"
    if cell.state in ("stale", "error"):
        return "warning"
    value = cell.value or 0.0
    if column.kind == "level":
        level = cell.level
        return "" if level is None or level.rank == 0 else level.value
    if column.kind == "count":
        return "warning" if value > 0 else "muted"
    if column.kind == "lock":
        return "critical" if value >= 2 else ""
    if column.key == "engine":
        return "" if value else "critical"
    if column.key == "autoheal":
        return "" if value else "muted"
    return ""


def host_cells(host: Host) -> tuple[TableCell, ...]:
    """One host as table cells: its instance, then a cell per column."""
    cells = [TableCell(printable(host.instance), "" if host.up else "critical")]
    for column in COLUMNS:
        cell = host.cells[column.key]
        cells.append(TableCell(cell_text(column, cell), _role(column, cell), right=column.kind in ("count", "age")))
    return tuple(cells)


class FleetTable(KeyedTable):
    """The hosts, keyed by instance."""

    COLUMNS = (("host", "HOST", False), *((c.key, c.label.upper(), c.kind in ("count", "age")) for c in COLUMNS))
    fleet: reactive[Fleet | None] = reactive(None, repaint=False)
    sort_by: reactive[str] = reactive("level", repaint=False)
    filter_text: reactive[str] = reactive("", repaint=False)

    def watch_fleet(self) -> None:
        """New reading: update rows in place."""
        self.show_data()

    def watch_sort_by(self) -> None:
        """Another order."""
        self.show_data()

    def watch_filter_text(self) -> None:
        """Another filter."""
        self.show_data()

    def show_data(self) -> None:
        """The hosts that match the filter, in the chosen order."""
        fleet = self.fleet
        if fleet is None or not self.is_mounted:
            return
        words = self.filter_text.casefold().split()
        shown = [h for h in sorted(fleet.hosts, key=_SORT_KEYS[self.sort_by])
                 if all(word in h.instance.casefold() for word in words)]  # fmt: skip
        rows: list[Row] = [(host.instance, host_cells(host)) for host in shown]
        self.sync(rows)
        down = sum(1 for host in fleet.hosts if not host.up)
        title = f"Hosts {len(fleet.hosts)} · {down} down · sort {self.sort_by}"
        if self.filter_text:
            title += f" · filter “{self.filter_text}” {len(shown)}/{len(fleet.hosts)}"
        self.show_title(title)


def status_words(fleet: Fleet | None, url: str, job: str) -> str:
    """The header: where from, how many, when; and every problem Prometheus reported, in its words."""
    if fleet is None:
        return f"fleet · {url} · job {job} · reading…"
    lines = [f"fleet · {url} · job {job} · read {fleet.taken_at:%H:%M:%S} UTC"]
    if fleet.problem:
        lines.append(f"Prometheus: {fleet.problem}")
    elif not fleet.hosts:
        lines.append(f'no host: Prometheus has no `up{{job="{job}"}}` series (is the job scraping pixel-tui export?)')
    for key, error in fleet.errors.items():
        if key != "up":
            lines.append(f"column {key}: {error}")
    lines.extend(f"warning: {warning}" for warning in fleet.warnings)
    return printable("\n".join(lines))


class FleetApp(App[None]):
    """The fleet view."""

    CSS_PATH = "pixel.tcss"
    DEFAULT_CSS = """
    #fleet-status { height: auto; max-height: 6; padding: 0 1; }
    #fleet { height: 1fr; border: round $primary; }
    #fleet-filter { dock: bottom; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit", id="fleet.quit"),
        Binding("s", "sort", "sort", tooltip="Cycle the sort order", id="fleet.sort"),
        Binding("slash", "filter", "filter", tooltip="Show only hosts matching words", id="fleet.filter"),
        Binding("enter", "open", "detail", tooltip="The selected host, read from Prometheus", id="fleet.open"),
        Binding("ctrl+r", "read_now", "refresh", tooltip="Read Prometheus now", id="fleet.refresh"),
    ]
    fleet: reactive[Fleet | None] = reactive(None, repaint=False)

    def __init__(self, client: PromClient, settings: FleetSettings, theme: str = "pixel-dark") -> None:
        super().__init__()
        self.client = client
        self.settings = settings
        self.wanted_theme = theme
        self.readings = 0
        """How many readings have been shown (tests wait on it)."""

    def get_css_variables(self) -> dict[str, str]:
        """Theme variables with the gauge colors the console's stylesheet and tables use (as the console)."""
        self.theme_variables = theme_variables(self.current_theme, self.get_theme_variable_defaults())
        return self.theme_variables

    def compose(self) -> ComposeResult:
        """Header, table, the filter line, footer."""
        yield Static(status_words(None, self.client.url, self.settings.job), id="fleet-status", markup=False)
        yield FleetTable(id="fleet").data_bind(FleetApp.fleet)
        yield Input(placeholder="filter: words in the host · enter keeps · esc clears", id="fleet-filter")
        yield Footer()

    def on_mount(self) -> None:
        """Themes, the first reading, then one every `refresh_s`."""
        for theme in load_themes(None).themes:
            self.register_theme(theme)
        if self.wanted_theme in self.available_themes:
            self.theme = self.wanted_theme
        self.query_one("#fleet-filter", Input).display = False
        self.query_one(FleetTable).focus()
        self.action_read_now()
        self.set_interval(self.settings.refresh_s, self.action_read_now)

    @work(thread=True, exclusive=True, group="read")
    def action_read_now(self) -> None:
        """Read the fleet in a thread (queries wait on the network); show it on the event loop."""
        fleet = read_fleet(self.client, self.settings.job)
        self.call_from_thread(self._show, fleet)

    def _show(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.query_one("#fleet-status", Static).update(status_words(fleet, self.client.url, self.settings.job))
        self.readings += 1

    def action_sort(self) -> None:
        """The next sort order."""
        table = self.query_one(FleetTable)
        table.sort_by = SORTS[(SORTS.index(table.sort_by) + 1) % len(SORTS)]

    def action_filter(self) -> None:
        """Open the filter line."""
        box = self.query_one("#fleet-filter", Input)
        box.display = True
        box.value = self.query_one(FleetTable).filter_text
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        self.query_one(FleetTable).filter_text = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter, back to the table."""
        event.input.display = False
        self.query_one(FleetTable).focus()

    def on_key(self, event: Any) -> None:
        """Escape in the filter line clears it."""
        box = self.query_one("#fleet-filter", Input)
        if event.key == "escape" and box.display:
            box.value = ""
            box.display = False
            self.query_one(FleetTable).focus()
            event.stop()

    def action_open(self) -> None:
        """The selected host's detail, read now."""
        instance = self.query_one(FleetTable).selected_key
        if instance is not None:
            self._open(instance)

    def on_data_table_row_selected(self, event: Any) -> None:
        """Enter on a row (DataTable's own binding) opens it too."""
        self.action_open()

    @work(thread=True, exclusive=True, group="detail")
    def _open(self, instance: str) -> None:
        sections = host_sections(self.client, self.settings.job, instance)
        self.call_from_thread(self.push_screen, DetailScreen(printable(instance), sections, has_logs=False))


def run_fleet(client: PromClient, settings: FleetSettings, theme: str) -> int:
    """Run the fleet view until the operator quits."""
    app = FleetApp(client, settings, theme)
    app.run()
    return app.return_code or 0
