"""The cycle sparkline: the chosen metric over the recent cycles, its current value and its min/max."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from pixel_tui.model import Thresholds
from pixel_tui.ui.derive import METRIC_BY_NAME, CyclePoint, Metric, level_of
from pixel_tui.ui.text import LEVEL_CLASSES, level_class, level_label


def _figure(value: float | None, metric: Metric, *, unit: bool = True) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.1f}" if metric.unit == "%" else f"{value:.2f}"
    return text + metric.unit if unit else text


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
        yield Sparkline([], id="spark")
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
        now = f"{metric.label} {_figure(current, metric)}"
        # The labels are as wide as the pane whatever they say: no layout pass needed.
        self.query_one("#history-now", Label).update(
            f"{now}  {level_label(level)}" if values else metric.label, layout=False
        )
        # Width-many recent cycles: one column per cycle once the session is long enough.
        spark = self.query_one(Sparkline)
        spark.data = measured[-max(spark.size.width, 1) :] if spark.size.width else measured
        if measured:
            recent = measured[-max(spark.size.width, 1) :]
            count = f"{len(recent)} cycle{'s' if len(recent) > 1 else ''}"
            low, high = _figure(min(recent), metric, unit=False), _figure(max(recent), metric, unit=False)
            self.query_one("#history-range", Label).update(f"{count}: min {low} max {high}", layout=False)
        else:
            self.query_one("#history-range", Label).update("no cycle yet", layout=False)

    def on_resize(self) -> None:
        """The number of cycles that fit changed."""
        self._update()
