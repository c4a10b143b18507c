"""The host metrics as data, and the levels they reach: one table that every view and exporter reads.

glances and bottom describe each metric once (key, label, unit, thresholds, how to read it) and judge it
apart from its raw value; so does pixel-tui. The collector judges a snapshot once (`Levels.of`, stored on
`Snapshot.levels`); the gauges, `watch --plain`, `snapshot` (text and JSON), the history and the exporter
read those levels and never compare a figure with a threshold themselves. What is not a snapshot's host
(a container's smoothed figures, a history cycle's maxima, a live reading before a host step) is judged
here too, by `ContainerLevels.of`, `figure_levels` and `Metric.level`. A new gauge is one `Metric` here,
one `Thresholds` field and one `Levels` field, and the views that show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixel_tui.model import Container, Host


class Level(StrEnum):
    """Severity of a gauge; ordered, so the worst of several is `max(levels, key=Level.rank)`."""

    OK = "ok"
    CAREFUL = "careful"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ok up to 3 for critical."""
        return _LEVEL_ORDER.index(self)

    @classmethod
    def worst(cls, levels: list[Level] | tuple[Level, ...]) -> Level:
        """The most severe of `levels` (ok when there are none)."""
        return max(levels, key=lambda level: level.rank, default=cls.OK)


_LEVEL_ORDER = (Level.OK, Level.CAREFUL, Level.WARNING, Level.CRITICAL)


@dataclass(frozen=True)
class Thresholds:
    """The (careful, warning, critical) limits of each gauge; a value at or above a limit reaches it.

    One field per `Metric`, named by its key: the `[thresholds]` section of the config."""

    cpu: tuple[float, float, float] = (50.0, 70.0, 90.0)
    """CPU %, all cores."""
    memory: tuple[float, float, float] = (70.0, 80.0, 90.0)
    """Memory used %."""
    swap: tuple[float, float, float] = (10.0, 50.0, 80.0)
    """Swap used %."""
    disk: tuple[float, float, float] = (70.0, 75.0, 85.0)
    """Disk used %, per mount; the disk level is the worst mount."""
    load: tuple[float, float, float] = (1.0, 1.5, 2.0)
    """1-minute load average divided by the number of cores."""


def level_for(value: float | None, limits: tuple[float, float, float]) -> Level:
    """The level a value reaches against (careful, warning, critical) limits; ok when unmeasured."""
    if value is None:
        return Level.OK
    careful, warning, critical = limits
    if value >= critical:
        return Level.CRITICAL
    if value >= warning:
        return Level.WARNING
    if value >= careful:
        return Level.CAREFUL
    return Level.OK


@dataclass(frozen=True)
class Metric:
    """One host metric: what it is called, its unit, its thresholds and how a snapshot's host gives it."""

    key: str
    """Its one name: the `[thresholds]` key, the JSON `levels` key, the exporter's `resource`, the history's
    figure and `ui.history_metric`."""
    label: str
    """How a pane titles it (`CPU`, `load/core`); lower-cased in plain text."""
    short: str
    """The gauge's label (`MEM`); lower-cased, the key of `watch --plain`'s status line (`mem=`)."""
    unit: str
    """Unit after the figure: `%`, or nothing for a load per core."""
    read: Callable[[Host], float | None]
    """The figure its level is judged on; None when it was not measured."""
    ceiling: float | None = 100.0
    """Top of its scale (which starts at 0); None when the figure has no natural top (then the critical
    threshold, or the highest value shown)."""
    digits: int = 1
    """Decimals a person is shown."""

    def limits(self, thresholds: Thresholds) -> tuple[float, float, float]:
        """Its (careful, warning, critical) thresholds."""
        limits: tuple[float, float, float] = getattr(thresholds, self.key)
        return limits

    def level(self, value: float | None, thresholds: Thresholds) -> Level:
        """The level `value` of this metric reaches; ok when unmeasured."""
        return level_for(value, self.limits(thresholds))

    def scale(self, values: Sequence[float], thresholds: Thresholds) -> tuple[float, float]:
        """The (bottom, top) of its axis: 0 to 100 for a percentage, so that 1.9 % -> 2.0 % stays a flat line
        at the bottom instead of filling the height; for load per core, 0 to its critical threshold or the
        highest value, whichever is larger (an idle host draws low, an overloaded one still fits)."""
        if self.ceiling is not None:
            return 0.0, self.ceiling
        return 0.0, max([self.limits(thresholds)[2], *values]) or 1.0

    def fraction(self, value: float | None, thresholds: Thresholds) -> float | None:
        """How full a bar of it is, 0 to 1 of its scale (without values: a load bar is full at critical)."""
        if value is None:
            return None
        top = self.scale((), thresholds)[1]
        return max(0.0, min(value / top, 1.0))


def _swap(host: Host) -> float:
    # A host without swap is not short of it: 0 %, ok (the views still say "none").
    return host.swap.percent if host.swap.total else 0.0


HOST_METRICS: tuple[Metric, ...] = (
    Metric("cpu", "CPU", "CPU", "%", lambda host: host.cpu_percent),
    Metric("memory", "memory", "MEM", "%", lambda host: host.memory.percent),
    Metric("swap", "swap", "SWAP", "%", _swap),
    Metric("disk", "disk", "DISK", "%", lambda host: host.disk_percent),
    Metric("load", "load/core", "LOAD", "", lambda host: host.load_per_core, ceiling=None, digits=2),
)
"""The host's metrics, in the order every view lists them (the gauges, `snapshot`, the JSON `levels`)."""

METRIC: Mapping[str, Metric] = {metric.key: metric for metric in HOST_METRICS}
"""Each metric by its key."""

SPARKLINE_METRICS: tuple[Metric, ...] = tuple(METRIC[key] for key in ("swap", "memory", "cpu", "load"))
"""The metrics the sparkline can show (`ui.history_metric`), in the order its key cycles them."""


@dataclass(frozen=True)
class Levels:
    """The level of each host metric (one field per `Metric` key), of the workers, and the worst of them."""

    cpu: Level
    memory: Level
    swap: Level
    disk: Level
    """The worst measured mount."""
    load: Level
    workers: Level = Level.OK
    """At least warning while a worker is timed out, a phantom exists or the lock is stale."""
    disks: tuple[Level | None, ...] = ()
    """Each configured mount's level, in the order of `Host.disks`; None where it could not be measured."""

    @property
    def overall(self) -> Level:
        """The worst gauge, the workers included: a stuck worker is an incident even on a calm host."""
        return Level.worst((*(self.of_metric(metric.key) for metric in HOST_METRICS), self.workers))

    @property
    def unmeasured_disks(self) -> bool:
        """True when a configured mount could not be measured (a check cannot call it fine)."""
        return any(level is None for level in self.disks)

    def of_metric(self, key: str) -> Level:
        """The level of the host metric `key` (a `Metric.key`)."""
        level: Level = getattr(self, key)
        return level

    def of_disk(self, index: int) -> Level | None:
        """The level of the `index`-th mount of `Host.disks`; None when it could not be measured."""
        return self.disks[index] if index < len(self.disks) else self.disk

    @classmethod
    def of(cls, host: Host, thresholds: Thresholds, *, workers: Level = Level.OK) -> Levels:
        """The levels of `host` against `thresholds`, the workers' level as `workers_level` gave it: the one
        place a snapshot's figures meet their thresholds."""
        level = {metric.key: metric.level(metric.read(host), thresholds) for metric in HOST_METRICS}
        disk = METRIC["disk"]
        disks = tuple(None if mount.percent is None else disk.level(mount.percent, thresholds) for mount in host.disks)
        return cls(
            cpu=level["cpu"],
            memory=level["memory"],
            swap=level["swap"],
            disk=level["disk"],  # the fullest measured mount's, so the worst of `disks`
            load=level["load"],
            workers=workers,
            disks=disks,
        )


@dataclass(frozen=True)
class ContainerLevels:
    """A container's CPU and memory %, judged against the host's CPU and memory thresholds."""

    cpu: Level
    memory: Level

    @classmethod
    def of(cls, container: Container, thresholds: Thresholds) -> ContainerLevels:
        """The levels of `container`'s figures as given (the console gives its smoothed CPU %)."""
        return cls(
            cpu=METRIC["cpu"].level(container.cpu_percent, thresholds),
            memory=METRIC["memory"].level(container.mem_percent, thresholds),
        )


def figure_levels(figures: Mapping[str, float | None], thresholds: Thresholds) -> dict[str, Level]:
    """The level each measured figure (by `Metric.key`: a history cycle's maxima) reaches; unmeasured ones are
    left out."""
    return {key: METRIC[key].level(value, thresholds) for key, value in figures.items() if value is not None}
