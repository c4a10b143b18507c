"""Samples into cycles: `CycleAggregator` reduces the snapshots of `history.cycle_s` seconds to one `Cycle`.

The rules (docs/domain.md, "Cycles and history"):

- A cycle starts with a sample. The first sample taken `cycle_s` or more after that start closes it
  and starts the next cycle, so cycles tile the time of collection: the closed cycle ends where the
  next begins, and its figures are those of the samples before the boundary.
- A gap (no sample for longer than `cycle_s`: the console was paused, the machine slept) closes the
  open cycle at its last sample; nothing is invented for the time nobody looked. The sample after the
  gap starts a new cycle. The default clock counts time asleep (CLOCK_BOOTTIME), so a suspend is a gap.
- Actions reported with `add_action` belong to the cycle open when they are reported; one reported
  after a cycle's last sample, across a gap, belongs to the next cycle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pixel_tui.history.model import OWN_SOURCE, Cycle
from pixel_tui.levels import HOST_METRICS
from pixel_tui.model import Level, Snapshot


def boot_clock() -> float:
    """Seconds on a clock that never goes back and keeps counting while the machine sleeps."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # not Linux
        return time.monotonic()


class _Figure:
    """The running maximum and mean of one metric over the samples that measured it."""

    __slots__ = ("count", "high", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.high: float | None = None

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.count += 1
        self.total += value
        self.high = value if self.high is None else max(self.high, value)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class _Count:
    """The most of something seen at once, over the samples that could see it."""

    __slots__ = ("high",)

    def __init__(self) -> None:
        self.high: int | None = None

    def add(self, value: int) -> None:
        self.high = value if self.high is None else max(self.high, value)


@dataclass
class _Open:
    """The cycle being aggregated."""

    started_at: datetime
    started: float
    last_at: datetime
    last: float
    samples: int = 0
    level: Level = Level.OK
    swap: _Figure = field(default_factory=_Figure)
    memory: _Figure = field(default_factory=_Figure)
    cpu: _Figure = field(default_factory=_Figure)
    disk: _Figure = field(default_factory=_Figure)
    load: _Figure = field(default_factory=_Figure)
    containers: _Count = field(default_factory=_Count)
    workers: _Count = field(default_factory=_Count)
    timed_out: _Count = field(default_factory=_Count)
    phantoms: _Count = field(default_factory=_Count)

    def add(self, snapshot: Snapshot, now: float) -> None:
        host = snapshot.host
        self.samples += 1
        self.last, self.last_at = now, snapshot.taken_at
        self.level = Level.worst((self.level, snapshot.levels.overall))
        for metric in HOST_METRICS:  # each figure as its level was judged on (no swap: 0 %)
            figure: _Figure = getattr(self, metric.key)
            figure.add(metric.read(host))
        if snapshot.docker.reachable:  # an engine that did not answer counted nothing: not zero containers
            self.containers.add(snapshot.running_containers)
            self.workers.add(sum(1 for worker in snapshot.workers if worker.container_id))
            self.timed_out.add(len(snapshot.timed_out))
            self.phantoms.add(len(snapshot.phantoms))

    def close(self, ended_at: datetime, ended: float, actions: tuple[str, ...]) -> Cycle:
        return Cycle(
            cycle=None,
            source=OWN_SOURCE,
            started_at=self.started_at,
            ended_at=ended_at,
            duration_s=max(ended - self.started, 0.0),
            level=self.level,
            swap_percent=self.swap.high,
            memory_percent=self.memory.high,
            cpu_percent=self.cpu.high,
            disk_percent=self.disk.high,
            load_per_core=self.load.high,
            swap_percent_mean=self.swap.mean,
            memory_percent_mean=self.memory.mean,
            cpu_percent_mean=self.cpu.mean,
            disk_percent_mean=self.disk.mean,
            load_per_core_mean=self.load.mean,
            containers=self.containers.high,
            workers=self.workers.high,
            timed_out=self.timed_out.high,
            phantoms=self.phantoms.high,
            actions=actions,
        )


class CycleAggregator:
    """Fed one snapshot per collection; returns a `Cycle` (not yet numbered) each time one closes.

    Thread-safe: the remediation layer may report actions from another thread while samples arrive.
    """

    def __init__(self, cycle_s: float = 60.0, clock: Callable[[], float] = boot_clock) -> None:
        if not cycle_s > 0:
            raise ValueError(f"cycle_s must be greater than 0, got {cycle_s!r}")
        self.cycle_s = cycle_s
        """Seconds of collection per cycle (`history.cycle_s`)."""
        self._clock = clock
        self._open: _Open | None = None
        self._actions: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def add(self, snapshot: Snapshot) -> Cycle | None:
        """Aggregate one sample; the cycle this sample closed, or None."""
        now = self._clock()
        with self._lock:
            closed = None
            current = self._open
            if current is not None:
                if now - current.last > self.cycle_s:  # a gap: end at the last sample, invent nothing
                    closed = current.close(current.last_at, current.last, self._take_actions(until=current.last))
                    current = None
                elif now - current.started >= self.cycle_s:
                    closed = current.close(snapshot.taken_at, now, self._take_actions(until=None))
                    current = None
            if current is None:
                current = self._open = _Open(snapshot.taken_at, now, snapshot.taken_at, now)
            current.add(snapshot, now)
            return closed

    def add_action(self, text: str) -> None:
        """Record an action taken now (`worker.kill pixel-worker-3f2a9c1d ok`) in the open cycle."""
        now = self._clock()
        with self._lock:
            self._actions.append((now, text))

    def flush(self) -> Cycle | None:
        """Close the open cycle at its last sample (the console is quitting); None when none is open."""
        with self._lock:
            current, self._open = self._open, None
            if current is None:
                return None
            return current.close(current.last_at, current.last, self._take_actions(until=None))

    @property
    def samples(self) -> int:
        """How many samples the open cycle holds so far."""
        with self._lock:
            return 0 if self._open is None else self._open.samples

    def _take_actions(self, *, until: float | None) -> tuple[str, ...]:
        """The actions up to `until` (all when None), removed from the waiting list."""
        taken = [text for at, text in self._actions if until is None or at <= until]
        self._actions = [] if until is None else [(at, text) for at, text in self._actions if at > until]
        return tuple(taken)
