"""The lines of a followed log, drawn one screen row at a time from its bounded buffer (Textual's line API).

Only the rows in view are rendered, so ten thousand kept lines cost what the visible thirty do. A line is the
container's text after `safe.sgr_only`: its SGR colours are rendered through `Text.from_ansi`, every other
control character arrives already escaped, and nothing of it is ever read as markup.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pixel_tui.loglines import LogBuffer, LogLine, find_spans

STAMP_CELLS = 25
"""Cells a shown timestamp takes, its space included (`2026-12-06T08:48:12.123Z `)."""


class LogView(ScrollView, can_focus=True):
    """The shown lines of a LogBuffer, with timestamps or not, wrapped or not, search matches highlighted."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"logview--stamp", "logview--match", "logview--current"}
    DEFAULT_CSS = """
    LogView { background: $surface; }
    LogView > .logview--stamp { color: $foreground-muted; }
    LogView > .logview--match { background: $warning 50%; }
    LogView > .logview--current { background: $primary; color: $background; text-style: bold; }
    """
    following: reactive[bool] = reactive(True)
    """Stay at the end as lines arrive; scrolling back pauses it, `end` resumes it."""
    stamps: reactive[bool] = reactive(False)
    """Show each line's timestamp."""
    wrap: reactive[bool] = reactive(False)
    """Wrap long lines; otherwise they scroll sideways."""
    search: reactive[str] = reactive("")
    """The search: its matches are highlighted."""
    current: reactive[int | None] = reactive(None)
    """Index in the shown lines of the match jumped to."""

    def __init__(self, buffer: LogBuffer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self._offsets: list[int] = []
        """With wrap: the first row of each shown line, then the total rows."""
        self._widest = 0

    def watch_stamps(self) -> None:
        """Measure again."""
        self.lines_changed()

    def watch_wrap(self) -> None:
        """Measure again, back to the left edge."""
        self.scroll_to(x=0, animate=False)
        self.lines_changed()

    def watch_search(self) -> None:
        """Highlight the new matches."""
        self.refresh()

    def watch_current(self) -> None:
        """Show the match jumped to."""
        self.refresh()

    def watch_following(self, following: bool) -> None:
        """Back to the end when following again."""
        if following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self) -> None:
        """Wrapped rows depend on the width."""
        if self.wrap:
            self.lines_changed()

    def lines_changed(self) -> None:
        """The buffer changed (lines added or dropped, another filter): size the view again and redraw it."""
        shown = self.buffer.shown
        extra = STAMP_CELLS if self.stamps else 0
        if self.wrap:
            width = max(1, self.scrollable_content_region.width)
            self._offsets = [0, *accumulate(max(1, -(-(extra + line.cells) // width)) for line in shown)]
            self.virtual_size = Size(width, self._offsets[-1])
        else:
            self._widest = max(self._widest, max((line.cells for line in shown), default=0))
            self.virtual_size = Size(self._widest + extra, len(shown))
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def row_of(self, index: int) -> int:
        """The first row of shown line `index`."""
        if self.wrap and self._offsets:
            return self._offsets[min(index, len(self._offsets) - 1)]
        return index

    def show_line(self, index: int) -> None:
        """Scroll so that shown line `index` is in view, a few rows below the top."""
        self.following = False
        self.scroll_to(y=max(0, self.row_of(index) - 3), animate=False, immediate=True)

    def top_line(self) -> int:
        """Index of the first shown line in view."""
        row = round(self.scroll_y)
        return bisect_right(self._offsets, row) - 1 if self.wrap and self._offsets else row

    def render_line(self, y: int) -> Strip:
        """One row of the view."""
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        shown = self.buffer.shown
        if self.wrap:
            index = bisect_right(self._offsets, row) - 1
            part = row - self._offsets[index] if 0 <= index < len(shown) else 0
        else:
            index, part = row, 0
        if not 0 <= index < len(shown):
            return Strip.blank(width, base)
        strip = self._strip(shown[index], index)
        left = part * width if self.wrap else scroll_x
        strip = strip.crop(left, left + width)
        return strip.extend_cell_length(width, base).apply_style(base)

    def _strip(self, line: LogLine, index: int) -> Strip:
        """A whole line as one strip: its timestamp if shown, its text in its own colours, matches marked."""
        text = Text.from_ansi(line.text, end="")
        if self.search:
            style = self._style("logview--current" if index == self.current else "logview--match")
            for start, end in find_spans(line.plain, self.search):
                text.stylize(style, start, end)
        if self.stamps:
            stamp = (line.short_stamp or "-").ljust(STAMP_CELLS)
            text = Text.assemble((stamp, self._style("logview--stamp")), text)
        return Strip(list(text.render(self.app.console)))

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    # Scrolling back pauses the following; going to the end resumes it.

    def action_scroll_up(self) -> None:
        """Up a line, following paused."""
        self.following = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        """Up a page, following paused."""
        self.following = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        """To the oldest line, following paused."""
        self.following = False
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        """To the newest line, following again."""
        self.following = True
        super().action_scroll_end()

    def _on_mouse_scroll_up(self, event: object) -> None:
        self.following = False
        super()._on_mouse_scroll_up(event)  # type: ignore[arg-type]
