"""Host gauges: CPU, memory, swap, each disk, load; a value, a bar and the level by color, symbol and word."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from pixel_tui import format as fmt
from pixel_tui.levels import HOST_METRICS, METRIC
from pixel_tui.model import Disk, Host, Level, Snapshot, Thresholds
from pixel_tui.ui.text import LEVEL_CLASSES, LEVEL_SYMBOL, clip, level_class, level_label, short_size

LABEL_WIDTH = 5
VALUE_WIDTH = 6
DETAIL_WIDTH = 14
LEVEL_WIDTH = 10
MIN_BAR = 6


@dataclass(frozen=True)
class GaugeReading:
    """What one gauge shows; compared with the last one so an unchanged gauge is not redrawn."""

    key: str
    label: str
    fraction: float | None
    value: str
    detail: str
    level: Level


def readings(snapshot: Snapshot, thresholds: Thresholds) -> tuple[GaugeReading, ...]:
    """The gauges of a snapshot, in the metric table's order, one per configured disk; levels are the snapshot's."""
    host, levels = snapshot.host, snapshot.levels
    gauges = []
    for metric in HOST_METRICS:
        if metric.key == "disk":
            gauges += [_disk(index, disk, levels.of_disk(index), thresholds) for index, disk in enumerate(host.disks)]
            continue
        value, detail = _SHOWN[metric.key](host)
        fraction = metric.fraction(metric.read(host), thresholds)  # no swap: 0, an empty bar beside "none"
        gauges.append(GaugeReading(metric.key, metric.short, fraction, value, detail, levels.of_metric(metric.key)))
    return tuple(gauges)


_SHOWN: dict[str, Callable[[Host], tuple[str, str]]] = {
    "cpu": lambda host: (_pct(host.cpu_percent), f"{host.cores} cores"),
    "memory": lambda host: (
        _pct(host.memory.percent),
        f"{short_size(host.memory.used)}/{short_size(host.memory.total)}",
    ),
    "swap": lambda host: (
        fmt.swap_figure(host.swap.total, host.swap.percent, _pct),
        f"{short_size(host.swap.used)}/{short_size(host.swap.total)}" if host.swap.total else "",
    ),
    "load": lambda host: (f"{host.load_per_core:.2f}/c", " ".join(f"{value:.2f}" for value in host.load)),
}
"""A gauge's value and detail, by metric key (the disks have one gauge per mount)."""


def _disk(index: int, disk: Disk, level: Level | None, thresholds: Thresholds) -> GaugeReading:
    detail = disk.error or f"{short_size(disk.used)}/{short_size(disk.total)}"
    fraction = METRIC["disk"].fraction(disk.percent, thresholds)
    # An unmeasured mount shows n/a and no alarm: `snapshot` calls it unknown, the gauge leaves it ok.
    return GaugeReading(f"disk-{index}", METRIC["disk"].short, fraction, _pct(disk.percent),
                        f"{clip(disk.mount, 6)} {detail}", level or Level.OK)  # fmt: skip


def _pct(percent: float | None) -> str:
    return "n/a" if percent is None else f"{percent:.1f}%"


class Gauge(Widget):
    """One line: label, bar, value, detail (when there is room) and level."""

    COMPONENT_CLASSES = {"gauge--label", "gauge--bar", "gauge--empty", "gauge--detail", "gauge--level"}

    reading: reactive[GaugeReading | None] = reactive(None)
    """What the gauge shows."""

    def watch_reading(self, reading: GaugeReading | None) -> None:
        """Carry the level as a CSS class, so the stylesheet colors it."""
        level = level_class(reading.level) if reading else None
        # One change of classes: set_class per class would restyle the gauge twice when the level moves.
        self.update_classes({name: name == level for name in LEVEL_CLASSES})

    def render(self) -> Content:
        """The line, fitted to the widget's width: the bar gives way first, then the detail, then the level's
        word (its symbol stays); the value always shows."""
        reading = self.reading
        if reading is None:
            return Content("")
        width = self.size.width
        word = level_label(reading.level).ljust(LEVEL_WIDTH)
        # (level text, with the detail, narrowest bar): the first layout that fits the width.
        for level, with_detail, narrowest in (
            (word, True, MIN_BAR),
            (word, False, 1),
            (LEVEL_SYMBOL[reading.level], False, 1),
            (LEVEL_SYMBOL[reading.level], False, 0),
        ):
            detail = " " + clip(reading.detail, DETAIL_WIDTH).ljust(DETAIL_WIDTH) if with_detail else ""
            fixed = LABEL_WIDTH + 1 + VALUE_WIDTH + len(detail) + 1 + len(level)
            bar = width - fixed - 1
            if with_detail and not reading.detail:
                continue
            if bar >= narrowest:
                break
        bar = max(bar, 0)
        filled = 0 if reading.fraction is None else round(reading.fraction * bar)
        # Without color a shaded track still tells filled from empty; with color a solid dim track reads cleaner.
        empty = "░" if self.app.no_color else "█"
        style = self.get_visual_style
        return Content.assemble(
            (reading.label.ljust(LABEL_WIDTH), style("gauge--label")),
            " ",
            ("█" * filled, style("gauge--bar")),
            (empty * (bar - filled), style("gauge--empty")),
            " " if bar else "",
            reading.value.rjust(VALUE_WIDTH),
            (detail, style("gauge--detail")),
            " ",
            (level, style("gauge--level")),
        )


class HostGauges(Vertical):
    """A gauge per host figure; only a gauge whose reading changed redraws."""

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The snapshot whose host is shown."""

    def __init__(self, thresholds: Thresholds, *, disks: int = 1, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds
        self.disks = disks

    def compose(self) -> ComposeResult:
        """One gauge per figure, one per configured disk."""
        for metric in HOST_METRICS:
            keys = [f"disk-{index}" for index in range(self.disks)] if metric.key == "disk" else [metric.key]
            for key in keys:
                yield Gauge(id=_gauge_id(key))

    async def watch_snapshot(self, snapshot: Snapshot | None) -> None:
        """New data: hand each gauge its reading."""
        if snapshot is None:
            return
        shown = readings(snapshot, self.thresholds)
        wanted = [_gauge_id(reading.key) for reading in shown]
        current = [child.id for child in self.children]
        if current != wanted:  # the snapshot has other disks than configured: rebuild once
            await self.remove_children()
            await self.mount_all(Gauge(id=gauge_id) for gauge_id in wanted)
        # The children are the gauges, in reading order: no query (a selector match per gauge, every cycle).
        for gauge, reading in zip(self.children, shown, strict=True):
            assert isinstance(gauge, Gauge)
            gauge.reading = reading


def _gauge_id(key: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in key)
    return f"gauge-{cleaned}"
