"""The history chart: swap %, memory %, CPU % and load per core over the cycles, drawn with plotext.

A widget that owns its figure, as textual-plotext's `PlotextPlot` does: plotext's module functions (`plot`,
`build`, ...) all draw on one global figure, so each render builds a figure object of its own (plotext's
`_figure_class`, the class behind those functions) at the widget's size and in the theme's colours, and turns its
ANSI output into Rich Text, in a thread (plotext is pure Python and takes a while). Each series has its own marker,
named in the legend line above the chart, so the chart reads without colour (NO_COLOR): swap `#`, memory `o`, CPU
`+`, load `x`. Percentages use the left axis, 0-100; load per core the right
one, from 0 to its critical threshold or the highest load (`Metric.scale`, as the sparkline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plotext._figure import _figure_class as PlotextFigure
from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import RenderResult
from textual.color import Color
from textual.reactive import reactive
from textual.theme import Theme
from textual.widget import Widget

from pixel_tui.history.model import Cycle
from pixel_tui.levels import METRIC
from pixel_tui.model import Thresholds

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Series:
    """One line of the chart: which figure of a cycle, how the legend names it, its marker and colour."""

    metric: str
    """The cycle's figure (`Cycle.figure`): swap, memory, cpu or load."""
    label: str
    """Its name in the legend."""
    marker: str
    """The character its line is drawn with: unique, so the series tell apart without colour."""
    color: str
    """The theme variable its colour comes from."""
    right: bool = False
    """Drawn against the right axis (load per core) instead of the left one (percentages)."""


SERIES: tuple[Series, ...] = (
    Series("swap", "swap %", "#", "primary"),
    Series("memory", "memory %", "o", "secondary"),
    Series("cpu", "CPU %", "+", "accent"),
    Series("load", "load/core (right axis)", "x", "success", right=True),
)
"""The chart's lines, in the legend's order."""

TICK_COLOR = "foreground-muted"
"""The theme variable of the axes' ticks, labels and legend text."""


def _segments(values: Sequence[float | None]) -> list[tuple[list[int], list[float]]]:
    """The runs of measured values as (positions, values): a cycle that did not measure a figure is a gap in its
    line, not a 0."""
    runs: list[tuple[list[int], list[float]]] = []
    for position, value in enumerate(values):
        if value is None:
            continue
        if runs and runs[-1][0][-1] == position - 1:
            runs[-1][0].append(position)
            runs[-1][1].append(value)
        else:
            runs.append(([position], [value]))
    return runs


def _tick_positions(count: int, room: int, label: int) -> list[int]:
    """Which of `count` cycles get their number under the x axis, `room` cells wide: all when they fit (`label`
    cells each, spaces included), else evenly spread, the first and the last always."""
    fit = max(room // max(label, 1), 2)
    if count <= fit:
        return list(range(count))
    step = (count - 1) / (fit - 1)
    return sorted({round(index * step) for index in range(fit)})


def _axis_figure(value: float, top: float) -> str:
    return f"{value:.2f}" if top < 1 else f"{value:.1f}" if top < 10 else f"{value:.0f}"


def build_chart(
    cycles: Sequence[Cycle],
    size: tuple[int, int],
    thresholds: Thresholds,
    colors: Mapping[str, RGB] | None = None,
) -> str:
    """The chart of `cycles` (oldest first) as `size` (width, height) cells of text with ANSI colours, without a
    legend (`legend` writes it).

    `colors` maps theme variable names to RGB; without it (or without a name) plotext's terminal defaults apply.
    Pure Python and not fast (a tenth of a second for a hundred cycles): call it off the UI thread.
    """
    colors = colors or {}
    width, height = max(size[0], 10), max(size[1], 5)
    figure = PlotextFigure()
    figure._limit_size(False, False)  # what plotext.limitsize does to its own figure: no cap at its terminal guess
    figure.plotsize(width, height)
    figure.theme("clear")  # no background of its own: the widget's shows through
    if TICK_COLOR in colors:
        figure.ticks_color(colors[TICK_COLOR])
    # The first series is drawn again last: where lines meet (0 % swap beside an idle load) the report's figure
    # stays on top.
    for series in (*SERIES, SERIES[0]):
        for xs, ys in _segments([cycle.figure(series.metric) for cycle in cycles]):
            color = colors.get(series.color, "default")
            figure.plot(xs, ys, marker=series.marker, color=color, yside="right" if series.right else "left")
    loads = [value for cycle in cycles if (value := cycle.figure("load")) is not None]
    bottom, top = METRIC["load"].scale(loads, thresholds)
    figure.ylim(0, 100, yside="left")
    figure.ylim(bottom, top, yside="right")
    rows = 5 if height >= 12 else 3
    left = [100 * index / (rows - 1) for index in range(rows)]
    right = [bottom + (top - bottom) * index / (rows - 1) for index in range(rows)]
    figure.yticks(left, [f"{value:.0f}" for value in left], yside="left")
    figure.yticks(right, [_axis_figure(value, top) for value in right], yside="right")
    if len(cycles) == 1:
        figure.xlim(-1, 1)  # one cycle: a point in the middle, not a range of zero width
    else:
        figure.xlim(0, max(len(cycles) - 1, 1))
    numbers = ["?" if cycle.cycle is None else str(cycle.cycle) for cycle in cycles]
    ticks = _tick_positions(len(cycles), width - 10, max(map(len, numbers)) + 3)
    figure.xticks(ticks, [numbers[index] for index in ticks])
    return figure.build()


def legend(colors: Mapping[str, RGB] | None = None) -> Text:
    """`# swap %  o memory %  + CPU %  x load/core (right axis)`: each series' marker in its colour, then its name."""
    colors = colors or {}
    muted = Style(color=RichColor.from_rgb(*colors[TICK_COLOR])) if TICK_COLOR in colors else Style()
    parts: list[tuple[str, Style] | str] = []
    for series in SERIES:
        color = colors.get(series.color)
        parts += [
            (series.marker, Style(color=RichColor.from_rgb(*color), bold=True) if color else Style(bold=True)),
            (f" {series.label}", muted),
            "  ",
        ]
    return Text.assemble(*parts[:-1], no_wrap=True, overflow="ellipsis")


class CycleChart(Widget):
    """Swap, memory, CPU and load per core over the cycles bound to it, under a legend, at the widget's size and in
    the theme's colours. The chart is drawn in a thread (plotext takes a while) and shown when it is ready."""

    DEFAULT_CSS = """
    CycleChart {
        width: 1fr;
        height: 1fr;
    }
    """

    cycles: reactive[tuple[Cycle, ...]] = reactive((), repaint=False)
    """The cycles to draw, oldest first."""

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds
        self._picture: tuple[tuple[Cycle, ...], tuple[int, int], dict[str, RGB], Text] | None = None

    def on_mount(self) -> None:
        """Follow the theme."""
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def watch_cycles(self) -> None:
        """Other cycles: draw them."""
        self._draw_later()

    def on_resize(self) -> None:
        """Another size: draw again to fit."""
        self._draw_later()

    def _theme_changed(self, _theme: Theme) -> None:
        self._draw_later()

    @property
    def drawn(self) -> bool:
        """True when what is shown is the chart of the bound cycles at the current size and theme."""
        return self._picture is not None and self._picture[:3] == self._wanted()

    def render(self) -> RenderResult:
        """The legend and the latest chart drawn (the next one replaces it when it is ready)."""
        if not self.cycles:
            return ""
        chart = self._picture[3] if self._picture is not None else Text("drawing…")
        return Text("\n").join([legend(self._colors()), chart])

    def _wanted(self) -> tuple[tuple[Cycle, ...], tuple[int, int], dict[str, RGB]]:
        return self.cycles, (self.size.width, max(self.size.height - 1, 0)), self._colors()

    def _draw_later(self) -> None:
        if not self.is_mounted or not self.cycles or not self.size.area or self.drawn:
            return
        self._draw(*self._wanted())

    @work(thread=True, group="chart", exclusive=True, exit_on_error=False)
    def _draw(self, cycles: tuple[Cycle, ...], size: tuple[int, int], colors: dict[str, RGB]) -> None:
        text = Text.from_ansi(build_chart(cycles, size, self.thresholds, colors), no_wrap=True)
        self.app.call_from_thread(self._show, (cycles, size, colors, text))

    def _show(self, picture: tuple[tuple[Cycle, ...], tuple[int, int], dict[str, RGB], Text]) -> None:
        if picture[:3] == self._wanted():  # a drawing overtaken by newer cycles or a resize is dropped
            self._picture = picture
            self.refresh()

    def _colors(self) -> dict[str, RGB]:
        """The series' and ticks' colours from the current theme (the variables the stylesheet sees)."""
        variables = self.app.theme_variables
        background = Color.parse(variables.get("background", "black"))
        colors: dict[str, RGB] = {}
        for name in sorted({series.color for series in SERIES} | {TICK_COLOR}):
            try:
                colors[name] = (background + Color.parse(variables[name])).rgb
            except (KeyError, ValueError):  # a theme without it, or not a colour: plotext's default
                continue
        return colors
