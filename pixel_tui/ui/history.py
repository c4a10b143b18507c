"""The sparkline pane: the chosen metric over the recent history cycles (or this session's samples when no history
is kept), the latest value with its level, and the min/max."""

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

from pixel_tui.levels import METRIC, Metric
from pixel_tui.model import Level, Thresholds
from pixel_tui.ui.derive import Trend
from pixel_tui.ui.text import LEVEL_CLASSES, LEVEL_SYMBOL, level_class, level_label


def _figure(value: float | None, metric: Metric, *, unit: bool = True) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.{metric.digits}f}"
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
    """The latest figure with its level (and its cycle's number), the sparkline, and a min/max line.

    It draws the recorded cycles when the console keeps a history, else this session's samples, and says which.
    """

    trend: reactive[Trend] = reactive(Trend(), repaint=False)
    """The points to draw, oldest first: recorded cycles, or this session's samples when no history is kept."""
    metric: reactive[str] = reactive("swap", repaint=False)
    """Which metric is drawn: swap, memory, cpu or load."""

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds

    def compose(self) -> ComposeResult:
        """Title, sparkline, range."""
        yield Label("", id="history-now", markup=False)
        yield ScaledSparkline([], id="spark")
        yield Label("", id="history-range", markup=False)

    def on_mount(self) -> None:
        """Show what is bound already."""
        self._update()

    def watch_trend(self) -> None:
        """New points: redraw the line."""
        self._update()

    def watch_metric(self) -> None:
        """Another metric: redraw the line."""
        self._update()

    def _update(self) -> None:
        if not self.is_mounted:
            return
        metric = METRIC[self.metric]
        trend = self.trend
        values = [point.value(metric.key) for point in trend.points]
        measured = [value for value in values if value is not None]
        current = values[-1] if values else None
        level = metric.level(current, self.thresholds)
        for name in LEVEL_CLASSES:
            self.set_class(name == level_class(level), name)
        # The labels are as wide as the pane whatever they say: no layout pass needed.
        self.query_one("#history-now", Label).update(self._now_text(trend, metric, current, level), layout=False)
        # Width-many recent points: one column each once there are enough.
        spark = self.query_one(ScaledSparkline)
        spark.data = measured[-max(spark.size.width, 1) :] if spark.size.width else measured
        spark.bounds = metric.scale(spark.data, self.thresholds)
        self.query_one("#history-range", Label).update(self._range_text(trend, metric, spark.data), layout=False)

    def _now_text(self, trend: Trend, metric: Metric, current: float | None, level: Level) -> str:
        """`#14 swap 92.5%  ✖ CRITICAL`: the latest point's figure and level, and its cycle's number."""
        if not trend.points:
            return metric.label
        figure = _figure(current, metric)
        number = trend.points[-1].number
        texts = [
            f"{metric.label} {figure}  {level_label(level)}",
            f"{metric.label} {figure} {LEVEL_SYMBOL[level]}",
            f"{figure} {LEVEL_SYMBOL[level]}",
        ]
        if trend.unit == "cycle" and number is not None:
            texts = [f"cycle {number} {texts[0]}", f"#{number} {texts[0]}", f"#{number} {texts[1]}", *texts[1:]]
        return _fit(self._text_width(), *texts)

    def _range_text(self, trend: Trend, metric: Metric, shown: Sequence[float]) -> str:
        """`6 cycles: min 41.0 max 92.5` over the points drawn; why the history is unavailable, when it is."""
        if trend.problem is not None:
            return trend.problem
        if not shown:
            return f"no {trend.unit} yet"
        count = f"{len(shown)} {trend.unit}{'s' if len(shown) > 1 else ''}"
        low, high = _figure(min(shown), metric, unit=False), _figure(max(shown), metric, unit=False)
        return _fit(self._text_width(), f"{count}: min {low} max {high}", f"{count}: {low}–{high}", f"{low}–{high}")

    def _text_width(self) -> int:
        """Cells a label line has (0 before the first layout: then any text will do)."""
        return self.content_region.width

    def on_resize(self) -> None:
        """The number of points that fit changed."""
        self._update()
