"""One record's fields as the importer reads them, and the plain form's reader (docs/domain.md, "Importing cycles").

Every field is checked before it is used: numbers finite and in range (a percentage 0-100, from a
JSON number or numeric text such as `"92.5"`), times ISO-8601 from 2000 to 2200, cycle numbers whole
from 1, text as text. A field that fails makes its line a `BadLine`, reported and skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pixel_tui.history.model import Cycle
from pixel_tui.levels import figure_levels
from pixel_tui.model import Level, Thresholds
from pixel_tui.values import BadValue, parse_time

STATUS_LEVELS = {
    "ok": Level.OK,
    "healthy": Level.OK,
    "normal": Level.OK,
    "careful": Level.CAREFUL,
    "warning": Level.WARNING,
    "degraded": Level.WARNING,
    "critical": Level.CRITICAL,
}
"""The orchestrator's status words (and pixel-tui's level words) as levels; others are passed over."""


class BadLine(ValueError):
    """This line cannot be used; the message says why."""


@dataclass(frozen=True)
class Skipped:
    """A line that was not imported, and why."""

    line: int
    reason: str


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def read_number(record: dict[str, Any], key: str, *, high: float | None = None) -> float | None:
    """A finite number from 0 (to `high`) from a JSON number or numeric text (`"92.5"`, `"92.5%"`)."""
    value = record.get(key)
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().removesuffix("%"))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise BadLine(f"{key}: {_shown(value)} is not a number")
    if number < 0 or (high is not None and number > high):
        span = f"0 to {high:g}" if high is not None else "0 or more"
        raise BadLine(f"{key}: {_shown(value)} is out of range ({span})")
    return number


def read_percent(record: dict[str, Any], key: str) -> float | None:
    """A percentage, 0 to 100."""
    return read_number(record, key, high=100.0)


def read_count(record: dict[str, Any], key: str) -> int | None:
    """A whole number from 0."""
    value = read_number(record, key)
    if value is None:
        return None
    if value != int(value):
        raise BadLine(f"{key}: {_shown(record[key])} is not a whole number")
    return int(value)


def read_cycle_number(record: dict[str, Any], key: str = "cycle") -> int | None:
    """A cycle number: a whole number from 1, or its text (`"14"`, `"#14"`)."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**53:
        raise BadLine(f"{key}: {_shown(value)} is not a cycle number (a whole number from 1)")
    return value


def read_time(record: dict[str, Any], key: str) -> datetime:
    """A required time, ISO-8601 (or epoch seconds), in UTC."""
    if record.get(key) is None:
        raise BadLine(f"no {key}")
    try:
        moment = parse_time(record[key])
    except BadValue as error:
        raise BadLine(f"{key}: {error}") from None
    assert moment is not None
    return moment


def read_text(record: dict[str, Any], key: str) -> str | None:
    """Text (a number is taken as its text); None when absent or empty."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadLine(f"{key}: {_shown(value)} is not text")
    return str(value)


def read_status(record: dict[str, Any], key: str) -> Level | None:
    """The level a status word stands for (`STATUS_LEVELS`); None when absent or not one of them."""
    text = read_text(record, key)
    return None if text is None else STATUS_LEVELS.get(text.strip().lower())


def cycle_level(figures: dict[str, float | None], thresholds: Thresholds, *others: Level | None) -> Level | None:
    """The worst of the levels the figures (by metric key) reach and the levels a source states; None when nothing
    says."""
    levels = [*figure_levels(figures, thresholds).values(), *(level for level in others if level is not None)]
    return Level.worst(levels) if levels else None


class PlainReader:
    """The plain form: one cycle per record; a record without `cycle` takes the number after the one before."""

    def __init__(self, source: str, thresholds: Thresholds) -> None:
        self.source = source
        self.thresholds = thresholds
        self.cycles: list[Cycle] = []
        self._seen: dict[int, int] = {}
        self._last = 0

    def feed(self, line: int, record: dict[str, Any]) -> None:
        """Read the record of `line` into a cycle, or raise BadLine saying why it cannot be used."""
        if "type" in record:
            raise BadLine("an audit-log event in a file of cycle records")
        number = read_cycle_number(record)
        number = self._last + 1 if number is None else number
        if number in self._seen:
            raise BadLine(f"cycle {number} already appears on line {self._seen[number]}")
        started = read_time(record, "time")
        duration = read_number(record, "duration_s", high=366 * 86400.0)
        load = read_number(record, "load_per_core") if "load_per_core" in record else read_number(record, "load")
        cores = read_count(record, "cores")
        if load is not None and cores:
            load /= cores
        figures = {
            "swap": read_percent(record, "swap_percent"),
            "memory": read_percent(record, "memory_percent"),
            "cpu": read_percent(record, "cpu_percent"),
            "disk": read_percent(record, "disk_percent"),
            "load": load,
        }
        actions = record.get("actions") or []
        if not isinstance(actions, list) or not all(isinstance(action, str) for action in actions):
            raise BadLine(f"actions: {_shown(actions)} is not a list of text")
        self.cycles.append(
            Cycle(
                cycle=number,
                source=self.source,
                started_at=started,
                ended_at=None if duration is None else started + timedelta(seconds=duration),
                duration_s=duration,
                level=cycle_level(
                    figures, self.thresholds, read_status(record, "level"), read_status(record, "status")
                ),
                swap_percent=figures["swap"],
                memory_percent=figures["memory"],
                cpu_percent=figures["cpu"],
                disk_percent=figures["disk"],
                load_per_core=figures["load"],
                containers=read_count(record, "containers"),
                workers=read_count(record, "workers"),
                timed_out=read_count(record, "timed_out"),
                phantoms=read_count(record, "phantoms"),
                actions=tuple(actions),
                method=read_text(record, "method"),
                notes=read_text(record, "notes"),
            )
        )
        self._seen[number] = line
        self._last = number

    def finish(self) -> list[Skipped]:
        """The end of the file: nothing is left open in this form."""
        return []
