"""The events pane: the latest state changes, newest first, with their time and level."""

from __future__ import annotations

from collections import deque

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from pixel_tui.model import Event, Snapshot
from pixel_tui.ui.text import LEVEL_SYMBOL


class EventsPane(Widget):
    """Keeps the last `limit` events of the snapshots it is given; draws as many as fit."""

    COMPONENT_CLASSES = {
        "events--time",
        "events--ok",
        "events--careful",
        "events--warning",
        "events--critical",
        "events--empty",
    }

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The latest snapshot; its events are added on arrival."""

    def __init__(self, limit: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Events"
        self._events: deque[Event] = deque(maxlen=max(limit, 1))

    @property
    def events(self) -> tuple[Event, ...]:
        """The kept events, newest first."""
        return tuple(self._events)

    def watch_snapshot(self, snapshot: Snapshot | None) -> None:
        """New data: keep its events, newest first."""
        if snapshot is None or not snapshot.events:
            return
        for event in sorted(snapshot.events, key=lambda e: e.at):
            self._events.appendleft(event)
        self.refresh()

    def render(self) -> Content:
        """As many events as the pane is tall."""
        if not self._events:
            return Content.styled("no state change yet", self.get_visual_style("events--empty"))
        time_style = self.get_visual_style("events--time")
        lines = []
        for event in list(self._events)[: max(self.size.height, 1)]:
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
