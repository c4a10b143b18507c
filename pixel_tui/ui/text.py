"""How the console writes things: levels as words and symbols, compact figures, and table cells in theme colors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from textual.color import Color

from pixel_tui import format as fmt
from pixel_tui.model import Level

LEVEL_WORD: Mapping[Level, str] = {
    Level.OK: "ok",
    Level.CAREFUL: "careful",
    Level.WARNING: "WARNING",
    Level.CRITICAL: "CRITICAL",
}
"""Each level as a word; the severe ones in capitals so they stand out without color."""

LEVEL_SYMBOL: Mapping[Level, str] = {Level.OK: "✓", Level.CAREFUL: "~", Level.WARNING: "▲", Level.CRITICAL: "✖"}
"""Each level as a symbol, read before the word."""

LEVEL_CLASSES: tuple[str, ...] = tuple(f"-{level.value}" for level in Level)
"""The CSS classes a widget carries for its level (`-ok`, `-careful`, `-warning`, `-critical`)."""


def level_label(level: Level) -> str:
    """'✖ CRITICAL', '✓ ok': the level by symbol and word, so it reads without color."""
    return f"{LEVEL_SYMBOL[level]} {LEVEL_WORD[level]}"


def level_class(level: Level) -> str:
    """The CSS class of a level."""
    return f"-{level.value}"


def short_size(value: int | float | None) -> str:
    """Bytes in at most four characters and a unit: 1.6G, 410M, 16G; '-' when unknown."""
    if value is None:
        return "-"
    number = float(value)
    for unit in ("B", "K", "M", "G", "T"):
        if abs(number) < 1000 or unit == "T":
            if unit == "B":
                return f"{number:.0f}B"
            return f"{number:.1f}{unit}" if abs(number) < 10 else f"{number:.0f}{unit}"
        number /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def short_duration(seconds: float | None) -> str:
    """Like format.duration, without a zero second unit: 46m, 2m05s, 6d03h; '-' when unknown."""
    text = fmt.duration(seconds)
    return text[:-3] if text.endswith("m00s") else text


EXACT_FOR_S = 120.0
"""Durations that grow by themselves (uptime, a worker's age, overdue) are shown to the second for their first
two minutes, then to the minute (`docker ps` counts minutes after one): a container that just restarted or a
worker that just started reads as such, and a table of older ones is not redrawn every second. Those ticking
cells were most of what the console wrote to the terminal (10 KB/s at 100 young containers): over SSH, that
is bandwidth and flicker for nothing an operator reads."""


def ticking(seconds: float | None, exact_below: float = EXACT_FOR_S) -> str:
    """A duration that changes every second, to the second below `exact_below`, else to the minute (cut, not
    rounded: it never shows more than has passed): 1m59s, 2m, 46m, 2h07m; '-' when unknown."""
    return short_duration(ticked(seconds, exact_below))


def ticked(seconds: float | None, exact_below: float = EXACT_FOR_S) -> float | None:
    """The duration `ticking` shows: cut to the minute from `exact_below` on. Equal values show the same text, so
    a row can be kept from one collection to the next without formatting it again."""
    if seconds is not None and abs(seconds) >= exact_below:
        seconds -= math.fmod(seconds, 60)  # toward zero, whatever the sign
    return seconds


def uptime(seconds: float | None) -> str:
    """A container's uptime: to the second for its first two minutes, then to the minute (see EXACT_FOR_S)."""
    return ticking(seconds)


def clip(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis when it is longer."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def clip_middle(text: str, width: int) -> str:
    """`text` cut to `width` cells in its middle, keeping what follows the last separator when it fits: a worker
    keeps its task's hex ('pixel…3f2a9c1d')."""
    if len(text) <= width:
        return text
    if width < 2:
        return clip(text, width)
    cut = max(text.rfind(separator) for separator in "-_./:")
    tail = text[cut + 1 :] if cut >= 0 and 0 < len(text) - cut - 1 <= width - 2 else text[len(text) - width // 2 :]
    return text[: width - 1 - len(tail)] + "…" + tail


SHORT_TAIL = 8
"""The longest last part of a name that `clip_name` keeps: a worker's task hex, a replica's number."""


def clip_name(text: str, width: int) -> str:
    """A name cut to `width` cells: in its middle when its last part is short (an id, a replica's number:
    'pixel-w…3f2a9c1d', 'pixel-tui-dashb…1'), else at its end ('pixel-orchestra…')."""
    cut = max(text.rfind(separator) for separator in "-_./:")
    if cut >= 0 and len(text) - cut - 1 <= SHORT_TAIL:
        return clip_middle(text, width)
    return clip(text, width)


def percent(value: float | None) -> str:
    """'23.4' (the column says %), '-' when unmeasured."""
    return "-" if value is None else f"{value:.1f}"


class Cell(NamedTuple):
    """One table cell as data: its text, a color role and its alignment; compared to skip unchanged cells."""

    text: str
    role: str = ""
    right: bool = False


ROLES = ("ok", "careful", "warning", "critical", "muted", "")
"""Color roles a cell may take: the four levels, muted, or the default."""


@dataclass(frozen=True)
class Palette:
    """Rich styles for the color roles, resolved from the current theme's variables (tables need concrete colors)."""

    styles: Mapping[str, Style]

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        """The palette of a theme, from `App.theme_variables`."""
        background = Color.parse(variables.get("background", "black"))

        def solid(name: str, fallback: str) -> Style:
            try:
                color = Color.parse(variables.get(name, fallback))
            except Exception:  # noqa: BLE001 - a variable that is not a color falls back
                color = Color.parse(fallback)
            return Style(color=(background + color).rich_color)

        return cls(
            {
                "ok": solid("gauge-ok", "green"),
                "careful": solid("gauge-careful", "yellow"),
                "warning": solid("gauge-warning", "orange") + Style(bold=True),
                "critical": solid("gauge-critical", "red") + Style(bold=True),
                "muted": solid("foreground-muted", "grey"),
                "": Style(),
            }
        )

    def render(self, cell: Cell) -> CellText:
        """The cell ready for a table, with a leading space (the tables draw their own one-cell gutter)."""
        return CellText(" " + cell.text, self.styles.get(cell.role, _PLAIN), right=cell.right)


_PLAIN = Style()


class CellText:
    """One line of styled text, padded to its column: what Rich's Text does for a cell, at a fraction of the cost.

    A table repaints every visible cell whenever one changes; with a hundred live rows that is most of the
    console's CPU, and most of that went into Text's wrapping and justification machinery.
    """

    __slots__ = ("plain", "style", "right", "_width")

    def __init__(self, plain: str, style: Style, *, right: bool = False) -> None:
        self.plain = plain
        """The text."""
        self.style = style
        """Its style."""
        self.right = right
        """Right-aligned (figures) or left."""
        self._width = cell_len(plain)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The text cropped or padded to the width offered."""
        width = options.max_width
        text = self.plain if self._width <= width else set_cell_size(self.plain, width)
        pad = " " * max(width - self._width, 0)
        yield Segment(pad + text if self.right else text + pad, self.style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """As wide as the text."""
        return Measurement(self._width, self._width)
