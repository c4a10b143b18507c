"""The events pane (the latest state changes, newest first) and the events view, where every event is whole.

The pane cuts each event to one line; it takes the focus (tab) and `enter` or `v` opens the view: every
kept event, wrapped, newest first, with the date, and `/` to show only those matching words.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from pixel_tui.model import Event
from pixel_tui.ui.text import LEVEL_SYMBOL


class EventsPane(Widget, can_focus=True):
    """Draws as many of the recent events (the pipeline's one event log, newest first) as fit.

    Focusable, so that `enter` opens the events view of what it cuts short.
    """

    BINDINGS = [Binding("enter", "screen.show_events", "all events", tooltip="Every event in full", id="events.open")]

    COMPONENT_CLASSES = {
        "events--time",
        "events--ok",
        "events--careful",
        "events--warning",
        "events--critical",
        "events--empty",
    }

    events: reactive[tuple[Event, ...]] = reactive((), repaint=False)
    """The recent events, newest first (bound to the dashboard's, read from the event log)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Events"

    def watch_events(self) -> None:
        """New events: draw them."""
        self.refresh()

    def render(self) -> Content:
        """As many events as the pane is tall."""
        if not self.events:
            return Content.styled("no state change yet", self.get_visual_style("events--empty"))
        time_style = self.get_visual_style("events--time")
        lines = []
        for event in self.events[: max(self.size.height, 1)]:
            level_style = self.get_visual_style(f"events--{event.level.value}")
            lines.append(
                Content.assemble(
                    (event.at.strftime("%H:%M:%S"), time_style),
                    " ",
                    (LEVEL_SYMBOL[event.level], level_style),
                    " ",
                    (event.message, level_style),
                )
            )
        return Content("\n").join(lines)


def event_lines(events: tuple[Event, ...], text: str = "") -> Content:
    """Events as whole text, newest first, one paragraph each (the view wraps them); only those with every
    word of `text` in their kind, subject or message."""
    words = text.casefold().split()
    shown = [e for e in events if all(w in f"{e.kind} {e.target} {e.message}".casefold() for w in words)]
    if not shown:
        return Content("no event matches" if events else "no state change yet")
    lines = [
        Content.assemble(
            (event.at.strftime("%Y-%m-%d %H:%M:%S"), "dim"),
            " ",
            (f"{LEVEL_SYMBOL[event.level]} {event.level.value}", _LEVEL_STYLE[event.level.value]),
            " ",
            (event.kind, "dim"),
            "\n    ",
            event.message,
        )
        for event in shown
    ]
    return Content("\n").join(lines)


_LEVEL_STYLE = {"ok": "$gauge-ok", "careful": "$gauge-careful", "warning": "bold $gauge-warning",
                "critical": "bold $gauge-critical"}  # fmt: skip


class EventsScreen(ModalScreen[None]):
    """Every kept event in full, wrapped, newest first; `/` filters; esc closes (first the filter)."""

    BINDINGS = [
        Binding("escape,q", "close", "close", tooltip="Close this view", id="events.close"),
        Binding("slash", "filter", "filter", tooltip="Show only events with these words", id="events.filter"),
    ]

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        """A framed, scrollable list and a filter line."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"Events · {len(self.events)} kept, newest first"
            dialog.border_subtitle = "/ filter · esc close"
            yield Input(placeholder="filter: words in the event · enter keeps · esc clears", id="events-filter")
            with VerticalScroll(id="detail-body"):
                yield Static(event_lines(self.events), id="events-text")

    def on_mount(self) -> None:
        """The list first; the filter line appears on `/`."""
        self.query_one("#events-filter", Input).display = False
        self.query_one("#detail-body").focus()

    def action_filter(self) -> None:
        """Open the filter line."""
        box = self.query_one("#events-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        self.query_one("#events-text", Static).update(event_lines(self.events, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter, back to the list."""
        self.query_one("#detail-body").focus()

    def action_close(self) -> None:
        """esc clears a filter first, then closes."""
        box = self.query_one("#events-filter", Input)
        if box.display and box.value:
            box.value = ""
            box.display = False
            self.query_one("#detail-body").focus()
            return
        self.dismiss()
