"""The history record: one `Cycle`, own or imported, and its JSON form (docs/domain.md, "Cycles and history")."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from pixel_tui.model import Level, iso

OWN_SOURCE = "pixel-tui"
"""The `source` of the cycles pixel-tui aggregates itself; an imported cycle carries its file's name."""

METRICS = ("swap", "memory", "cpu", "disk", "load")
"""The figures a cycle keeps the maximum (and, for own cycles, the mean) of."""


@dataclass(frozen=True)
class Cycle:
    """One history record: a span of collection (or of an imported log) reduced to its worst and mean figures.

    Percentages are 0-100 and loads per core; a figure that was not measured is None, never 0. An own
    cycle is numbered by the store when it is written (`cycle` is None until then); an imported one
    keeps the number its file gave it.
    """

    cycle: int | None
    """The cycle's number: own cycles count from 1 across restarts; imported ones keep their file's."""
    source: str
    """`pixel-tui` for own cycles, the imported file's name otherwise."""
    started_at: datetime
    """The first sample (own) or the cycle's start in the imported log."""
    ended_at: datetime | None
    """The sample that closed the cycle; None when an imported record does not say."""
    duration_s: float | None
    """Seconds the cycle spans; None when unknown."""
    level: Level | None
    """The worst level seen in the cycle; None when nothing was measured."""
    swap_percent: float | None = None
    """Swap used %, the cycle's maximum."""
    memory_percent: float | None = None
    """Memory used %, the cycle's maximum."""
    cpu_percent: float | None = None
    """CPU busy %, all cores, the cycle's maximum."""
    disk_percent: float | None = None
    """The fullest measured mount %, the cycle's maximum."""
    load_per_core: float | None = None
    """1-minute load per core, the cycle's maximum."""
    swap_percent_mean: float | None = None
    """Mean swap % over the cycle's samples (own cycles only)."""
    memory_percent_mean: float | None = None
    """Mean memory % over the cycle's samples (own cycles only)."""
    cpu_percent_mean: float | None = None
    """Mean CPU % over the samples that measured it (own cycles only)."""
    disk_percent_mean: float | None = None
    """Mean disk % over the samples that measured it (own cycles only)."""
    load_per_core_mean: float | None = None
    """Mean load per core over the cycle's samples (own cycles only)."""
    containers: int | None = None
    """The most containers running at once in the cycle."""
    workers: int | None = None
    """The most worker containers seen at once (imported: the workers the cycle's events name)."""
    timed_out: int | None = None
    """The most timed-out workers seen at once."""
    phantoms: int | None = None
    """The most phantom workers (ghosts and orphans) seen at once; None when the source cannot tell."""
    actions: tuple[str, ...] = ()
    """What was done in the cycle, one short line each, e.g. `worker.kill pixel-worker-3f2a9c1d ok`."""
    method: str | None = None
    """How the cycle was handled, in the operator's words (`Crisis`, `Miracle`, ...), when a source says."""
    notes: str | None = None
    """Free text."""

    @property
    def own(self) -> bool:
        """True for a cycle pixel-tui aggregated itself."""
        return self.source == OWN_SOURCE

    def figure(self, metric: str) -> float | None:
        """The cycle's maximum of `metric` (swap, memory, cpu, disk or load)."""
        return getattr(self, _MAX_FIELD[metric])


_MAX_FIELD = {
    "swap": "swap_percent",
    "memory": "memory_percent",
    "cpu": "cpu_percent",
    "disk": "disk_percent",
    "load": "load_per_core",
}

FIELDS = tuple(field.name for field in fields(Cycle))
"""The field names of `history --json` and the CSV header, in order."""


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def to_json(cycle: Cycle) -> dict[str, Any]:
    """The cycle as `history --json` prints it: exactly FIELDS, times ISO-8601 UTC with Z, nulls kept."""
    document: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(cycle, name)
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, Level):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, float):
            value = _rounded(value, 3 if name.startswith("load") else 1 if name == "duration_s" else 2)
        document[name] = value
    return document


def recovery_line(cycles: list[Cycle] | tuple[Cycle, ...], metric: str = "swap") -> str | None:
    """The operator's summary of a recovery, from the worst cycle to the latest.

    `swap 92.5% -> 0% (100% recovery) over cycles 14-18`: the recovery is relative, (worst - latest) /
    worst. `cycles` are in time order, as the store lists them. None when no cycle measured `metric`.
    """
    if metric not in _MAX_FIELD:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
    measured = [cycle for cycle in cycles if cycle.figure(metric) is not None]
    if not measured:
        return None
    worst = max(measured, key=lambda cycle: cycle.figure(metric) or 0.0)  # the first of equals: where it peaked
    latest = measured[-1]
    high, now = worst.figure(metric) or 0.0, latest.figure(metric) or 0.0
    unit, digits = ("", 2) if metric == "load" else ("%", 1)
    head = f"{metric} {_figure(high, digits)}{unit} -> {_figure(now, digits)}{unit}"
    recovery = "nothing to recover from" if high <= 0 else f"{_figure(100.0 * (high - now) / high, 1)}% recovery"
    return f"{head} ({recovery}) over {_span(worst, latest)}"


def _figure(value: float, digits: int) -> str:
    """92.5 -> '92.5', 0.0 -> '0', 96.8648 -> '96.9': the report's way of writing figures."""
    return f"{round(value, digits):g}"


def _span(first: Cycle, last: Cycle) -> str:
    if first is last:
        return f"cycle {_number(first)}"
    if first.source == last.source:
        return f"cycles {_number(first)}-{_number(last)}"
    return f"cycle {_number(first)} ({first.source}) to cycle {_number(last)} ({last.source})"


def _number(cycle: Cycle) -> str:
    return "?" if cycle.cycle is None else str(cycle.cycle)
