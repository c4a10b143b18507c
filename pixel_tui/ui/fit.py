"""How a table's columns share its width: measured once per changed row, cut only when the width lacks room."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from rich.cells import cell_len

from pixel_tui.ui.text import Cell

Row = tuple[str, tuple[Cell, ...]]
"""A row as data: its key and its cells."""
Fit = tuple[str, int, Callable[[str, int], str]]
"""(column key, narrowest width, how to cut its text)."""


class ColumnFit:
    """The widths a table's rows need, and their cells cut to the room a narrower table leaves.

    Rows are measured again only when their cells changed in value, and cut again only when their cells or the
    room changed: on a quiet host with 1 000 rows, a collection measures and cuts almost nothing.
    """

    def __init__(self) -> None:
        self._measured: dict[str, tuple[tuple[Cell, ...], tuple[int, ...]]] = {}
        self._counts: list[Counter[int]] = []
        """Per column, how many rows need each width: the widest is found among a few widths, not 1 000 rows."""
        self._cut: dict[str, tuple[tuple[Cell, ...], dict[int, int], tuple[Cell, ...]]] = {}

    def natural(self, rows: Sequence[Row], keys: Sequence[str], headers: tuple[int, ...]) -> dict[str, int]:
        """Each column's width to show it whole: its widest cell or header, with the cells' one-space gutter."""
        measured = self._measured
        if len(self._counts) != len(keys):
            self._counts = [Counter() for _ in keys]
            measured.clear()
        for key, cells in rows:
            known = measured.get(key)
            if known is None or (known[0] is not cells and known[0] != cells):
                widths = tuple(cell_len(cell.text) + 1 for cell in cells)
                if known is None or known[1] != widths:
                    self._count(known[1] if known else None, widths)
                measured[key] = (cells, widths)
        if len(measured) > len(rows):
            present = {key for key, _ in rows}
            for key in [key for key in measured if key not in present]:
                self._count(measured.pop(key)[1], None)
        return {
            key: max(header, max(counts, default=0))
            for key, header, counts in zip(keys, headers, self._counts, strict=True)
        }

    def _count(self, old: tuple[int, ...] | None, new: tuple[int, ...] | None) -> None:
        """A row's widths went from `old` to `new` (None: it was not there, or is gone)."""
        for index, counts in enumerate(self._counts):
            if old is not None:
                width = old[index]
                if counts[width] == 1:
                    del counts[width]
                else:
                    counts[width] -= 1
            if new is not None:
                counts[new[index]] += 1

    @staticmethod
    def limits(natural: dict[str, int], fits: Sequence[Fit], keys: Sequence[str], excess: int) -> dict[int, int]:
        """Column index -> the text width a fitted column is cut to, so that `excess` cells are given up: each
        fitted column in turn, down to its narrowest, until none is left to give."""
        limits: dict[int, int] = {}
        for column, narrowest, _ in fits:
            if excess <= 0:
                break
            give = min(excess, natural[column] - 1 - narrowest)
            if give > 0:
                limits[keys.index(column)] = natural[column] - 1 - give
                excess -= give
        return limits

    def cut(self, rows: Sequence[Row], limits: dict[int, int], cuts: dict[int, Callable[[str, int], str]]) -> list[Row]:
        """`rows` with the cells of the limited columns cut; a row cut as before is the same object as before."""
        done_rows = self._cut
        fitted: list[Row] = []
        for key, cells in rows:
            done = done_rows.get(key)
            if done is not None and (done[0] is cells or done[0] == cells) and done[1] == limits:
                fitted.append((key, done[2]))  # the same object: sync sees nothing changed
                continue
            cut_cells = list(cells)
            for index, room in limits.items():
                short = cuts[index](cells[index].text, room)
                if short != cells[index].text:
                    cut_cells[index] = cells[index]._replace(text=short)
            shown = cells if cut_cells == list(cells) else tuple(cut_cells)
            done_rows[key] = (cells, limits, shown)
            fitted.append((key, shown))
        if len(done_rows) > len(rows):
            present = {key for key, _ in rows}
            self._cut = {key: done for key, done in done_rows.items() if key in present}
        return fitted
