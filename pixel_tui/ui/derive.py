"""What the console derives from the stream of snapshots: smoothed container CPU and this session's cycles.

Plain Python (no Textual): the screen feeds each new snapshot through these before widgets see it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pixel_tui.model import Level, Snapshot, Thresholds, level_for


class CpuSmoother:
    """A moving average of each container's CPU % over the last `window` cycles, so a sorted list does not jump."""

    def __init__(self, window: int) -> None:
        self.window = max(1, window)
        self._samples: dict[str, deque[float]] = {}

    def smooth(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with each container's cpu_percent replaced by its moving average."""
        if self.window == 1:
            return snapshot
        containers = []
        seen = set()
        for container in snapshot.containers:
            seen.add(container.id)
            samples = self._samples.get(container.id)
            if container.cpu_percent is None:
                # Stopped or not measured: forget the history, show what was measured (nothing).
                self._samples.pop(container.id, None)
                containers.append(container)
                continue
            if samples is None:
                samples = self._samples[container.id] = deque(maxlen=self.window)
            samples.append(container.cpu_percent)
            containers.append(replace(container, cpu_percent=sum(samples) / len(samples)))
        for gone in set(self._samples) - seen:
            del self._samples[gone]
        return replace(snapshot, containers=tuple(containers))


@dataclass(frozen=True)
class Metric:
    """A host metric the cycle sparkline can show."""

    name: str
    """Its key in the config (`ui.history_metric`)."""
    label: str
    """How the pane titles it."""
    unit: str
    """Unit after the figure."""
    limits: Callable[[Thresholds], tuple[float, float, float]]
    """Its (careful, warning, critical) thresholds."""
    ceiling: float | None = 100.0
    """Top of the sparkline's scale (which starts at 0); None when the figure has no natural top."""


METRICS: tuple[Metric, ...] = (
    Metric("swap", "swap", "%", lambda t: t.swap),
    Metric("memory", "memory", "%", lambda t: t.memory),
    Metric("cpu", "CPU", "%", lambda t: t.cpu),
    Metric("load", "load/core", "", lambda t: t.load, ceiling=None),
)
"""The metrics in the order the key cycles them."""

METRIC_BY_NAME = {metric.name: metric for metric in METRICS}


@dataclass(frozen=True)
class CyclePoint:
    """One cycle's figures as the sparkline needs them."""

    cycle: int
    at: datetime
    swap: float | None
    memory: float | None
    cpu: float | None
    load: float | None

    def value(self, metric: str) -> float | None:
        """The figure of `metric` (swap, memory, cpu or load) in this cycle."""
        return getattr(self, metric)


def scale(metric: Metric, values: Sequence[float], thresholds: Thresholds) -> tuple[float, float]:
    """The sparkline's (bottom, top): 0 to 100 for a percentage, so that 1.9 % -> 2.0 % stays a flat line at the
    bottom instead of filling the height; for load per core, 0 to its critical threshold or the highest value,
    whichever is larger (an idle host draws low, an overloaded one still fits)."""
    if metric.ceiling is not None:
        return 0.0, metric.ceiling
    return 0.0, max([metric.limits(thresholds)[2], *values]) or 1.0


def level_of(metric: str, value: float | None, thresholds: Thresholds) -> Level:
    """The level `value` reaches for `metric`."""
    return level_for(value, METRIC_BY_NAME[metric].limits(thresholds))


class SessionCycles:
    """The cycles (= collections) of this session, until the history store provides real cycles."""

    def __init__(self, limit: int = 720) -> None:
        self._points: deque[CyclePoint] = deque(maxlen=limit)
        self._count = 0

    def add(self, snapshot: Snapshot) -> tuple[CyclePoint, ...]:
        """Record one collection; returns the recent cycles, oldest first."""
        self._count += 1
        host = snapshot.host
        self._points.append(
            CyclePoint(
                cycle=self._count,
                at=snapshot.taken_at,
                swap=host.swap.percent if host.swap.total else 0.0,
                memory=host.memory.percent,
                cpu=host.cpu_percent,
                load=host.load_per_core,
            )
        )
        return tuple(self._points)
