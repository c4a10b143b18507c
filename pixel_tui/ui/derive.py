"""What the console derives from its data: smoothed container CPU, the sparkline's points and their scale.

Plain Python (no Textual): the screen feeds each new snapshot through these before widgets see it, and reads the
cycle history (`read_history`, blocking) in a worker. One collection is a *sample*; a *cycle* is the history's
record (docs/domain.md, "Cycles and history").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime

from pixel_tui.history.model import Cycle
from pixel_tui.levels import SPARKLINE_METRICS
from pixel_tui.model import Container, Snapshot
from pixel_tui.pipeline import RecordedHistory
from pixel_tui.safe import printable


class CpuSmoother:
    """A moving average of each container's CPU % over the last `window` samples, so a sorted list does not jump."""

    def __init__(self, window: int) -> None:
        self.window = max(1, window)
        self._samples: dict[str, deque[float]] = {}
        self._steady: dict[str, Container] = {}
        """By id: a container whose figure fills its whole window, so that its average is that figure."""

    def smooth(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with each container's cpu_percent replaced by its moving average."""
        if self.window == 1:
            return snapshot
        containers = []
        seen = set()
        steady = self._steady
        for container in snapshot.containers:
            cid = container.id
            seen.add(cid)
            if steady.get(cid) is container:
                # The very object again (the collector keeps an idle container's): its window stays full of its
                # figure. At 1 000 idle containers this is most of them, every collection.
                containers.append(container)
                continue
            steady.pop(cid, None)
            value = container.cpu_percent
            if value is None:
                # Stopped or not measured: forget the history, show what was measured (nothing).
                self._samples.pop(cid, None)
                containers.append(container)
                continue
            samples = self._samples.get(cid)
            if samples is None:
                samples = self._samples[cid] = deque(maxlen=self.window)
            samples.append(value)
            if len(samples) == self.window and samples.count(value) == self.window:
                steady[cid] = container
                containers.append(container)
                continue
            average = sum(samples) / len(samples)
            # An idle container's average is its figure: keep the object (replace() was 7 ms at 1 000).
            containers.append(container if average == value else replace(container, cpu_percent=average))
        for gone in self._samples.keys() - seen:
            del self._samples[gone]
            steady.pop(gone, None)
        if all(new is old for new, old in zip(containers, snapshot.containers, strict=True)):
            return snapshot
        return replace(snapshot, containers=tuple(containers))


METRICS = SPARKLINE_METRICS
"""The sparkline's metrics in the order the key cycles them (the model's table holds them)."""


@dataclass(frozen=True)
class Point:
    """The sparkline's figures at one point: a history cycle's maxima, or one sample (a collection)."""

    number: int | None
    """The cycle's number, or the sample's count in this session; None for a cycle not yet written."""
    at: datetime
    """When the cycle started, or when the sample was taken."""
    swap: float | None
    """Swap used %."""
    memory: float | None
    """Memory used %."""
    cpu: float | None
    """CPU busy %, all cores."""
    load: float | None
    """1-minute load per core."""

    def value(self, metric: str) -> float | None:
        """The figure of `metric` (swap, memory, cpu or load) at this point."""
        return getattr(self, metric)


@dataclass(frozen=True)
class Trend:
    """What the sparkline pane draws: points of one kind, oldest first, and why the history is unavailable."""

    points: tuple[Point, ...] = ()
    """Oldest first."""
    unit: str = "sample"
    """What a point is: "cycle" (from the history) or "sample" (a collection of this session, no history kept)."""
    problem: str | None = None
    """"history unavailable: <why>" when the history could not be read; the points are then what could be."""


class SessionSamples:
    """This session's samples (one per collection), for the sparkline of a console that keeps no history."""

    def __init__(self, limit: int = 720) -> None:
        self._points: deque[Point] = deque(maxlen=limit)
        self._count = 0

    def add(self, snapshot: Snapshot) -> Trend:
        """Record one collection; returns the recent samples, oldest first."""
        self._count += 1
        host = snapshot.host
        figure = {metric.key: metric.read(host) for metric in SPARKLINE_METRICS}  # as the levels read them
        self._points.append(
            Point(self._count, snapshot.taken_at, figure["swap"], figure["memory"], figure["cpu"], figure["load"])
        )
        return Trend(tuple(self._points), "sample")


# --- the recorded history ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One read of the history: the cycles, oldest first, and why the history is unavailable, if it is."""

    cycles: tuple[Cycle, ...]
    problem: str | None


def read_history(history: RecordedHistory, count: int) -> Recorded:
    """The latest `count` cycles and the history's state. Blocking (SQLite): call it off the UI thread.

    The recorder never raises for a store it cannot use (it answers with this session's cycles and says
    why in `status`, or in the store's `status` for a failed read); anything else is reported, not raised.
    """
    try:
        cycles = tuple(history.recent(count))
    except Exception as error:  # noqa: BLE001 - a bug in reading must not take the console down
        return Recorded((), printable(f"history unavailable: {type(error).__name__}: {error}"))
    problem = history.status or history.store.status
    return Recorded(cycles, None if problem is None else printable(problem))


def cycle_points(recorded: Recorded) -> Trend:
    """The sparkline's points of recorded cycles: each cycle's maxima."""
    points = tuple(
        Point(
            number=cycle.cycle,
            at=cycle.started_at,
            swap=cycle.swap_percent,
            memory=cycle.memory_percent,
            cpu=cycle.cpu_percent,
            load=cycle.load_per_core,
        )
        for cycle in recorded.cycles
    )
    return Trend(points, "cycle", recorded.problem)
