"""The cycle sparkline: the chosen metric over the recent cycles, its current value and its min/max."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from pixel_tui.model import Thresholds
from pixel_tui.ui.derive import METRIC_BY_NAME, CyclePoint, Metric, level_of, scale
from pixel_tui.ui.text import LEVEL_CLASSES, LEVEL_SYMBOL, level_class, level_label


def _figure(value: float | None, metric: Metric, *, unit: bool = True) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.1f}" if metric.unit == "%" else f"{value:.2f}"
    return text + metric.unit if unit else text


def _fit(width: int, *texts: str) -> str:
    """The first of `texts` (longest first) that fits `width` cells, else the last."""
    return next((text for text in texts if not width or len(text) <= width), texts[-1])


class Bars:
    """Textual's sparkline look on a fixed scale: Textual's own scales from the lowest value to the highest, so a
    flat 1.9 % -> 2.0 % filled the height. Values spread over the width; a bar's color goes from the min color
    at the bottom of the scale to the max color at its top."""

    BARS = "▁▂▃▄▅▆▇█"

    def __init__(
        self, data: Sequence[float], size: tuple[int, int], bounds: tuple[float, float], colors: tuple[Color, Color]
    ) -> None:
        self.data = data
        self.width, self.height = max(size[0], 1), max(size[1], 1)
        self.bounds = bounds
        self.colors = colors

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """`height` lines of `width` bar cells."""
        low, high = self.colors
        if not self.data:
            yield from [Segment.line()] * (self.height - 1)
            yield Segment(self.BARS[0] * self.width, Style(color=low.rich_color))
            return
        bottom, top = self.bounds
        span = (top - bottom) or 1.0
        count = len(self.data)
        ratios = [
            min(max((self.data[column * count // self.width] - bottom) / span, 0.0), 1.0)
            for column in range(self.width)
        ]
        styles = [Style(color=low.blend(high, ratio).rich_color) for ratio in ratios]
        steps = len(self.BARS) * self.height - 1
        for row in reversed(range(self.height)):
            floor = row * len(self.BARS)
            for ratio, style in zip(ratios, styles, strict=True):
                step = int(ratio * steps)
                if step < floor:
                    yield Segment(" ")
                else:
                    yield Segment(self.BARS[min(step - floor, len(self.BARS) - 1)], style)
            if row:
                yield Segment.line()


class ScaledSparkline(Sparkline):
    """A Sparkline on a fixed scale (`bounds`) instead of from its lowest value to its highest."""

    bounds: reactive[tuple[float, float]] = reactive((0.0, 100.0))
    """The values at the bottom and at the top of the bars."""

    def render(self) -> Bars:
        """The bars, in the component classes' colors over the background."""
        _, base = self.background_colors
        low = base + self.get_component_styles("sparkline--min-color").color
        high = base + self.get_component_styles("sparkline--max-color").color
        return Bars(self.data or (), (self.size.width, self.size.height), self.bounds, (low, high))


class HistoryPane(Vertical):
    """Title line with the current value and level, the sparkline, and a min/max line."""

    cycles: reactive[tuple[CyclePoint, ...]] = reactive((), repaint=False)
    """Recent cycles, oldest first."""
    metric: reactive[str] = reactive("swap", repaint=False)
    """Which metric is drawn: swap, memory, cpu or load."""

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds
        self.border_title = "Cycles (this session)"

    def compose(self) -> ComposeResult:
        """Title, sparkline, range."""
        yield Label("", id="history-now")
        yield ScaledSparkline([], id="spark")
        yield Label("", id="history-range")

    def on_mount(self) -> None:
        """Show what is bound already."""
        self._update()

    def watch_cycles(self) -> None:
        """One more cycle: redraw the line."""
        self._update()

    def watch_metric(self) -> None:
        """Another metric: redraw the line."""
        self._update()

    def _update(self) -> None:
        if not self.is_mounted:
            return
        metric = METRIC_BY_NAME[self.metric]
        values = [point.value(metric.name) for point in self.cycles]
        measured = [value for value in values if value is not None]
        current = values[-1] if values else None
        level = level_of(metric.name, current, self.thresholds)
        for name in LEVEL_CLASSES:
            self.set_class(name == level_class(level), name)
        figure = _figure(current, metric)
        # The labels are as wide as the pane whatever they say: no layout pass needed.
        self.query_one("#history-now", Label).update(
            _fit(
                self._text_width(),
                f"{metric.label} {figure}  {level_label(level)}",
                f"{metric.label} {figure} {LEVEL_SYMBOL[level]}",
                f"{figure} {LEVEL_SYMBOL[level]}",
            )
            if values
            else metric.label,
            layout=False,
        )
        # Width-many recent cycles: one column per cycle once the session is long enough.
        spark = self.query_one(ScaledSparkline)
        spark.data = measured[-max(spark.size.width, 1) :] if spark.size.width else measured
        spark.bounds = scale(metric, spark.data, self.thresholds)
        if measured:
            recent = measured[-max(spark.size.width, 1) :]
            count = f"{len(recent)} cycle{'s' if len(recent) > 1 else ''}"
            low, high = _figure(min(recent), metric, unit=False), _figure(max(recent), metric, unit=False)
            text = _fit(self._text_width(), f"{count}: min {low} max {high}", f"{count}: {low}–{high}", f"{low}–{high}")
            self.query_one("#history-range", Label).update(text, layout=False)
        else:
            self.query_one("#history-range", Label).update("no cycle yet", layout=False)

    def _text_width(self) -> int:
        """Cells a label line has (0 before the first layout: then any text will do)."""
        return self.content_region.width

    def on_resize(self) -> None:
        """The number of cycles that fit changed."""
        self._update()
