"""A DataTable that is updated in place by row key, so refreshes never move the cursor or the scroll."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.content import Content
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.theme import Theme
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from pixel_tui.ui.fit import ColumnFit, Fit, Row
from pixel_tui.ui.text import Cell, CellText, Palette


class CellCache:
    """A row's cells kept while what they show is unchanged: `cells_of(key, shown, build)` returns the very
    tuple built last time when `shown` (everything the cells read, durations as shown) is equal, so the
    table skips the row. At 1 000 containers and 250 workers, building every row's cells each collection
    was most of the event loop's work, and on a quiet host few rows change."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[object, tuple[Cell, ...]]] = {}

    def cells_of(self, key: str, shown: object, build: Callable[[], tuple[Cell, ...]]) -> tuple[Cell, ...]:
        """The cells of row `key`: kept when `shown` equals what they were built from, else `build()`."""
        built = self._built.get(key)
        if built is not None and built[0] == shown:
            return built[1]
        made = build()
        self._built[key] = (shown, made)
        return made

    def keep_only(self, keys: set[str] | frozenset[str]) -> None:
        """Forget the rows no longer shown (called when the cache holds more rows than there are)."""
        self._built = {key: built for key, built in self._built.items() if key in keys}

    def __len__(self) -> int:
        return len(self._built)


CELL_CACHE = 4096
"""Rendered cells kept: every visible cell, with and without the cursor, many times over."""
DATATABLE_CELL_CACHE = 256
"""DataTable's own cell cache, behind ours: it keys on a counter every update bumps, so it almost never answers,
and at its default 10 000 entries it held every rendered cell ever missed, long after ours let them go: the
console grew by tens of MB over the first half hour on a churning host (issue 14, flat over hours)."""


class KeyedTable(DataTable[CellText]):
    """Rows keyed by id; `sync` changes only the cells that changed, adds new rows, removes stale ones.

    Subclasses declare COLUMNS as (key, label, right-aligned) and call `sync` with the rows they want,
    in the order they want them.
    """

    COLUMNS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    """(column key, header label, right-aligned)."""
    FIT: ClassVar[tuple[Fit, ...]] = ()
    """(column key, narrowest width, how to cut its text), the first to give up room first: the columns that are
    cut, each down to its narrowest before the next is touched, when the table is narrower than its columns
    whole, so that the others stay whole instead of the last being cut at the edge. Every column is whole
    whenever the table is wide enough; empty to leave every column whole and scroll sideways."""
    _holding = False  # class level: DataTable's __init__ already refreshes
    _held = False
    _whole = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # Before DataTable's __init__, whose watchers already clear caches.
        self._cell_lines: LRUCache[tuple[object, ...], list[list[Segment]]] = LRUCache(CELL_CACHE)
        # The cells carry their own one-space gutter: 80 columns hold one more column than with padding 1.
        super().__init__(
            id=id,
            classes=classes,
            cursor_type="row",
            cell_padding=0,
            zebra_stripes=False,
            cursor_foreground_priority="renderable",  # until focused, see on_focus
        )
        self._cell_render_cache = LRUCache(DATATABLE_CELL_CACHE)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._widths: dict[str, int] = {}
        self._palette = Palette({})
        self._shown_title: str | None = None
        self._natural = 0
        self._columns = ColumnFit()

    def on_mount(self) -> None:
        """Create the columns, follow the theme, show what is bound already."""
        self._add_columns()
        self._palette = Palette.from_variables(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.show_data()

    def _add_columns(self) -> None:
        for key, label, right in self.COLUMNS:
            self.add_column(Text(" " + label, justify="right" if right else "left"), key=key)
            self._widths[key] = cell_len(label) + 1

    def mark_sorted(self, column: str | None, arrow: str = "") -> None:
        """Put `arrow` after the header of `column` (the sorted one), and none after the others."""
        changed = False
        for key, label, right in self.COLUMNS:
            wanted = f" {label}{arrow}" if key == column else f" {label}"
            header = self.columns.get(ColumnKey(key))
            if header is not None and header.label.plain != wanted:
                header.label = Text(wanted, justify="right" if right else "left")
                self._require_update_dimensions = True
                self.refresh()
                changed = True
        if changed and self.FIT:
            self.show_data()  # the widths count the headers: the arrow may widen a column

    def show_data(self) -> None:
        """Build the rows from the bound data and `sync` them; subclasses implement it."""

    def on_resize(self) -> None:
        """Another width: the fitted columns take what is left."""
        if self.FIT:
            self.show_data()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """The width that shows every column whole (a table sized `auto` asks for it; the fitted columns
        are cut only when the layout gives less)."""
        return self._natural or super().get_content_width(container, viewport)

    def on_focus(self) -> None:
        """Focused: the cursor row in the cursor's colors, readable on its strong background."""
        self.cursor_foreground_priority = "css"

    def on_blur(self) -> None:
        """Not focused: the dim cursor lets a red TIMEOUT stay red."""
        self.cursor_foreground_priority = "renderable"

    def _theme_changed(self, _theme: Theme) -> None:
        """Cells hold concrete colors: redraw them all in the new theme's."""
        self._palette = Palette.from_variables(self.app.theme_variables)
        columns = [key for key, _, _ in self.COLUMNS]
        with self.app.batch_update():
            for row_key, cells in self._cells.items():
                for column, cell in zip(columns, cells, strict=True):
                    self.update_cell(row_key, column, self._palette.render(cell))

    def show_title(self, title: str) -> None:
        """Set the border title, as plain text (it holds what the operator typed and what the host said)."""
        if title != self._shown_title:  # assigning repaints, even the same text
            self._shown_title = title
            self.border_title = Content(title)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count or not self.columns:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        return self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    @property
    def row_keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def sync(self, rows: Sequence[Row]) -> None:
        """Make the table show `rows`, in that order, touching only what changed; the cursor stays on its row."""
        if not self.columns:
            return
        selected = self.selected_key
        rows = self._fit(rows)
        wanted = dict(rows)
        columns = [key for key, _, _ in self.COLUMNS]
        render = self._palette.render
        self._holding, self._held, self._whole = True, False, False
        try:
            touched = self._apply(rows, wanted, columns, render)
        finally:
            self._holding = False
        if self._held:
            self._repaint(touched)
        if selected is not None and selected in wanted:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index)

    def _fit(self, rows: Sequence[Row]) -> Sequence[Row]:
        """`rows` with the FIT columns' text cut to what the table's width leaves them; every column's width set."""
        if not self.FIT:
            return rows
        keys = [key for key, _, _ in self.COLUMNS]
        headers = tuple(self._header_width(key, label) for key, label, _ in self.COLUMNS)
        natural = self._columns.natural(rows, keys, headers)
        wanted = sum(natural.values()) + self.styles.scrollbar_size_vertical
        if wanted != self._natural:
            self._natural = wanted
            if self.styles.width is not None and self.styles.width.is_auto:
                self.refresh(layout=True)  # a table sized to its content: the layout gives it the new width
        if not self.size.width:
            self._set_widths(natural)
            return rows
        limits = self._columns.limits(natural, self.FIT, keys, wanted - self.size.width)
        self._set_widths({key: limits[i] + 1 if i in limits else natural[key] for i, key in enumerate(keys)})
        if not limits:
            return rows
        return self._columns.cut(rows, limits, {keys.index(column): cut for column, _, cut in self.FIT})

    def _set_widths(self, widths: dict[str, int]) -> None:
        """Give the columns these widths, fixed: they narrow as well as grow, with no new table (DataTable
        only ever widens a column sized to its content), and DataTable measures no cell."""
        changed = False
        for key, width in widths.items():
            column = self.columns.get(ColumnKey(key))
            if column is not None and (column.auto_width or column.width != width):
                column.auto_width, column.width = False, width
                changed = True
        if changed:
            self._require_update_dimensions = True  # the scrollable width, on idle
            self._clear_caches()
            self.refresh()

    def _header_width(self, key: str, label: str) -> int:
        """The header's width: its label, with the sort arrow when it has one."""
        header = self.columns.get(ColumnKey(key))
        return header.label.cell_len if header is not None else cell_len(label) + 1

    def _apply(
        self, rows: Sequence[Row], wanted: dict[str, tuple[Cell, ...]], columns: list[str], render: Any
    ) -> list[str]:
        """Remove, add, update and reorder; returns the keys of the rows whose cells were updated in place."""
        touched: list[str] = []
        with self.app.batch_update():
            for stale in [key for key in self._cells if key not in wanted]:
                self.remove_row(stale)
                del self._cells[stale]
                self._whole = True
            for key, cells in rows:
                old = self._cells.get(key)
                if old is cells:  # the table that built it kept it: nothing shown changed
                    continue
                if old is None:
                    self.add_row(*(render(cell) for cell in cells), key=key)
                    for column, cell in zip(columns, cells, strict=True):
                        self._widths[column] = max(self._widths[column], cell_len(cell.text) + 1)
                    self._whole = True
                elif old != cells:
                    for column, before, after in zip(columns, old, cells, strict=True):
                        if before != after:
                            grows = not self.FIT and self._grows(column, after)  # FIT: _fit sets the widths
                            self._whole |= grows
                            self.update_cell(key, column, render(after), update_width=grows)
                    touched.append(key)
                self._cells[key] = cells
            order = [key for key, _ in rows]
            if self.row_keys != order:
                self._reorder(order, columns[0])
                self._whole = True
        return touched

    def _repaint(self, touched: list[str]) -> None:
        """Repaint what `sync` changed: the whole table when rows came, went, moved or a column grew; else only the
        changed rows that are in view. A row out of view then costs its update_cell and nothing more, and an
        unchanged row in view is not rendered again (the DataTable renders all its visible rows on a whole
        repaint, since any update_cell invalidates its row caches)."""
        if self._whole:
            self.refresh()
            return
        header = self.header_height if self.show_header else 0
        top = self.scroll_offset.y
        width, height = self.size
        lines = []
        for key in touched:
            # Rows are one line high (add_row's default), so a row's line is the header plus its index.
            y = header + self.get_row_index(key) - top
            if header <= y < height:
                lines.append(Region(0, y, width, 1))
        if lines:
            self.refresh(*lines)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Repaint; during `sync`, the many whole-table repaints update_cell asks for become one."""
        if self._holding and not regions and not layout and not recompose:
            self._held = True
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A body cell's lines, cached by the cell's value object itself rather than by DataTable's update count.

        DataTable keys its cell cache on a counter that every update_cell bumps, so one changed cell makes every
        visible cell render again through Rich. Here a cell renders again only when its value was replaced (sync
        gives an unchanged cell the same CellText object) or when anything else the rendering depends on changed:
        position (the row and column go into the segments' meta), width, style, cursor, hover, focus. (Showing
        the cursor or fixing rows or columns makes DataTable clear its caches, and so this one.)
        """
        row_key = self._row_locations.get_key(row_index)  # None for the header (-1)
        column_key = self._column_locations.get_key(column_index)  # None for the row labels (-1)
        if row_key is None or column_key is None:  # DataTable's own cache serves those
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            self._data[row_key][column_key],  # hashed by identity, and kept alive by the key: ids are not reused
            row_index,
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.cursor_foreground_priority,
            self.cursor_background_priority,
        )
        lines = self._cell_lines.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cell_lines.set(key, lines)
        return lines

    def _clear_caches(self) -> None:
        """DataTable drops its render caches (cursor shown or hidden, fixed rows...): drop the cells too."""
        super()._clear_caches()
        self._cell_lines.clear()

    def notify_style_update(self) -> None:
        """New styles (a theme, focus): cells render again in them."""
        self._cell_lines.clear()
        super().notify_style_update()

    def _grows(self, column: str, cell: Cell) -> bool:
        # Columns only grow: asking the DataTable to fit a narrower cell makes it re-measure the whole column,
        # for every such cell, every cycle (quadratic in the rows), and relayout the screen.
        width = cell_len(cell.text) + 1
        if width <= self._widths[column]:
            return False
        self._widths[column] = width
        return True

    def _reorder(self, order: list[str], first_column: str) -> None:
        # DataTable.sort hands the key function cell values, not row keys; the first cell of each row is an
        # object this table created, so its identity names the row.
        rank = {id(self.get_cell(key, first_column)): index for index, key in enumerate(order)}
        self.sort(first_column, key=lambda cell: rank[id(cell)])
