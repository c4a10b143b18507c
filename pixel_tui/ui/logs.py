"""The log view: a container's log followed off the UI thread, with search, a filter, timestamps, wrap and save.

A thread worker reads the source's stream and leaves each line in an Inbox; the view is woken once per batch
and takes them all, at most DRAIN_S apart, so a container writing thousands of lines a second costs the event
loop a few redraws a second. Closing the view closes the stream, which ends the thread.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Static

from pixel_tui.loglines import KEEP, TAIL, Inbox, LogBuffer, LogLine, LogStream, parse_line, save_lines
from pixel_tui.source import SnapshotSource
from pixel_tui.ui.keys import LOG_BINDINGS
from pixel_tui.ui.logview import LogView

DRAIN_S = 0.05
"""Shortest time between two takes of the arrived lines (20 redraws a second at most)."""


def count(value: int) -> str:
    """A count with a space between thousands (`4 567`)."""
    return f"{value:,}".replace(",", " ")


class LogScreen(ModalScreen[None]):
    """A container's log, followed as it grows, in its own colours and nothing else."""

    BINDINGS: ClassVar[list[BindingType]] = list(LOG_BINDINGS)
    AUTO_FOCUS = "#log"

    class LinesArrived(Message):
        """New lines wait in the inbox (sent once per batch)."""

    class Ended(Message):
        """The stream ended, or could not be opened."""

        def __init__(self, why: str, *, gone: bool = False, failed: bool = False) -> None:
            super().__init__()
            self.why = why
            self.gone = gone
            self.failed = failed

    def __init__(
        self,
        source: SnapshotSource,
        container_id: str,
        name: str,
        *,
        save_dir: Path,
        keep: int = KEEP,
        tail: int = TAIL,
    ) -> None:
        super().__init__()
        self.source = source
        self.container_id = container_id
        self.name_text = name
        """The container's (or ghost task's) name, as the title shows it."""
        self.save_dir = save_dir
        self.tail = tail
        self.buffer = LogBuffer(keep)
        self.ended: str | None = None
        """Why the log ended, once it has."""
        self.opened = False
        """True once the stream is open."""
        self.matches: list[int] = []
        """Indices, in the shown lines, of the search's matches."""
        self._inbox = Inbox(keep)
        self._lock = threading.Lock()
        self._stream: LogStream | None = None
        self._closing = False
        self._last_take = 0.0
        self._take_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """The framed lines, a status line, and the search and filter boxes (hidden until asked for)."""
        with Vertical(id="dialog", classes="log") as dialog:
            dialog.border_title = Content(f"{self.name_text} · log")  # a container name: not markup
            dialog.border_subtitle = "/ search · | filter · f follow · t time · w wrap · s save · esc"
            yield LogView(self.buffer, id="log")
            yield Static(id="log-status")
            yield Input(placeholder="search (enter: next match)", id="log-search", compact=True)
            yield Input(placeholder="filter: only lines containing", id="log-filter", compact=True)

    def on_mount(self) -> None:
        """Start following."""
        for box in self.query(Input):
            box.display = False
        self.watch(self.view, "following", lambda _: self.show_status(), init=False)
        self.show_status()
        self._follow()

    def on_unmount(self) -> None:
        """Closing the view closes the stream: the reading thread ends with it."""
        with self._lock:
            self._closing = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    @property
    def view(self) -> LogView:
        """The lines."""
        return self.query_one(LogView)

    # --- the stream, off the UI thread -----------------------------------------------------------------------

    @work(thread=True, group="log-follow", exit_on_error=False)
    def _follow(self) -> None:
        try:
            stream = self.source.follow_logs(self.container_id, self.tail)
        except LookupError as error:
            self.post_message(self.Ended(str(error), gone=True))
            return
        except Exception as error:  # noqa: BLE001 - shown in the view, never raised into the UI
            self.post_message(self.Ended(str(error) or type(error).__name__, failed=True))
            return
        with self._lock:
            if self._closing:
                stream.close()
                return
            self._stream = stream
        self.post_message(self.LinesArrived())  # opened: the status says so
        for number, raw in enumerate(stream, 1):
            if self._inbox.put(parse_line(number, raw)):
                self.post_message(self.LinesArrived())
        self.post_message(self.Ended(stream.ended or "the log ended"))

    def on_log_screen_lines_arrived(self) -> None:
        """Take the waiting lines now, or a little later when the last take was a moment ago."""
        self.opened = True
        wait = self._last_take + DRAIN_S - time.monotonic()
        if wait <= 0:
            self._take()
        elif self._take_timer is None:
            self._take_timer = self.set_timer(wait, self._take)

    def _take(self) -> None:
        self._take_timer = None
        self._last_take = time.monotonic()
        lines = self._inbox.take()
        if lines:
            self.buffer.add(lines)
            self.view.lines_changed()
            if self.view.search:
                self.matches = self.buffer.matches(self.view.search)
        self.show_status()

    def on_log_screen_ended(self, message: Ended) -> None:
        """Say why the log ended; a container gone before it could be read closes the view, saying so."""
        # Names and errors come from the host: shown as they are, never read as markup.
        if message.gone:
            self.app.notify(f"{self.name_text} is gone: {message.why}", severity="warning", markup=False)
            self.dismiss()
            return
        if message.failed:
            self.notify(f"cannot follow the log of {self.name_text}: {message.why}", severity="error", markup=False)
        self._take()
        self.ended = message.why
        self.show_status()

    # --- what the status line says -----------------------------------------------------------------------------

    def status_text(self) -> str:
        """Following or not, how many lines, the filter and the search."""
        view, buffer = self.view, self.buffer
        if self.ended is not None:
            parts = [f"stream ended ({self.ended})"]
        elif not self.opened:
            parts = ["connecting…"]
        else:
            parts = ["following" if view.following else "paused"]
        kept = len(buffer.lines)
        dropped = buffer.received - kept
        parts.append(f"{count(kept)} lines" + (f" (the {count(dropped)} oldest dropped)" if dropped else ""))
        if buffer.filter:
            parts.append(f"filter: {buffer.filter} ({count(len(buffer.shown))} of {count(kept)} lines)")
        if view.search:
            if not self.matches:
                parts.append(f"search: {view.search} (no match)")
            elif view.current in self.matches:
                parts.append(f"search: {view.search} ({self.matches.index(view.current) + 1} of {len(self.matches)})")
            else:
                parts.append(f"search: {view.search} ({count(len(self.matches))} matches)")
        return " · ".join(parts)

    def show_status(self) -> None:
        """Write the status line (plain text: the filter and search are the operator's, not markup)."""
        self.query_one("#log-status", Static).update(Content(self.status_text()))

    # --- search and filter ------------------------------------------------------------------------------------

    def action_search(self) -> None:
        """Open the search box."""
        self._open_box("#log-search")

    def action_filter(self) -> None:
        """Open the filter box."""
        self._open_box("#log-filter")

    def _open_box(self, selector: str) -> None:
        for box in self.query(Input):
            box.display = False
        box = self.query_one(selector, Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Highlight, or filter, as the operator types."""
        if event.input.id == "log-search":
            self.view.search = event.value
            self.view.current = None
            self.matches = self.buffer.matches(event.value)
        elif event.input.id == "log-filter":
            self.buffer.set_filter(event.value)
            self.view.current = None
            self.view.lines_changed()
            self.matches = self.buffer.matches(self.view.search)
        self.show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: the search jumps to its next match; the filter stays. Back to the lines."""
        event.input.display = False
        self.view.focus()
        if event.input.id == "log-search":
            self.action_next_match()

    def action_next_match(self) -> None:
        """Jump to the next match (after the one jumped to, else from the top of the view), round to the first."""
        self._jump(forward=True)

    def action_previous_match(self) -> None:
        """Jump to the previous match, round to the last."""
        self._jump(forward=False)

    def _jump(self, *, forward: bool) -> None:
        view = self.view
        self.matches = self.buffer.matches(view.search)
        if not self.matches:
            if view.search:
                self.notify("no match", severity="warning")
            self.show_status()
            return
        here = view.current if view.current is not None else view.top_line() - (1 if forward else -1)
        if forward:
            found = next((index for index in self.matches if index > here), self.matches[0])
        else:
            found = next((index for index in reversed(self.matches) if index < here), self.matches[-1])
        view.current = found
        view.show_line(found)
        self.show_status()

    def action_back(self) -> None:
        """Esc: clear the search, else the filter, else close."""
        view = self.view
        search, box = self.query_one("#log-search", Input), self.query_one("#log-filter", Input)
        if view.search or search.display:
            search.value = ""
            search.display = False
            view.search, view.current, self.matches = "", None, []
        elif self.buffer.filter or box.display:
            box.value = ""
            box.display = False
            self.buffer.set_filter("")
            view.lines_changed()
        else:
            self.dismiss()
            return
        view.focus()
        self.show_status()

    # --- toggles and save --------------------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        """Follow new lines, or stay where the view is."""
        self.view.following = not self.view.following

    def action_toggle_stamps(self) -> None:
        """Show or hide the timestamps (kept with every line: nothing is asked again)."""
        self.view.stamps = not self.view.stamps

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or scroll sideways."""
        self.view.wrap = not self.view.wrap

    def action_save(self) -> None:
        """Save the lines shown (after the filter) to a new file; the notification says where."""
        lines = list(self.buffer.shown)
        if not lines:
            self.notify("no lines to save", severity="warning")
            return
        self._save(lines, datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))

    @work(thread=True, group="log-save", exit_on_error=False)
    def _save(self, lines: list[LogLine], moment: str) -> None:
        try:
            path, written = save_lines(lines, self.save_dir, self.name_text, moment)
        except OSError as error:
            self.app.call_from_thread(self.notify, f"cannot save the log: {error}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"saved {count(written)} lines to {path}", markup=False, timeout=10)
