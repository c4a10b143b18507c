"""The history file's format: its tables, the migration steps between schema versions, a cycle as a row.

The schema version is the file's `PRAGMA user_version`: 0 for an empty file, `SCHEMA_VERSION` once
`MIGRATIONS` ran. Times are stored as UTC epoch seconds, `actions` as a JSON list, `level` as its
word; `recorded_at` (when the row was written) is what retention by days counts from. `imported_starts`
keeps, per source, the start time of every cycle numbered from an orchestrator's log and its number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pixel_tui.history.model import FIELDS, Cycle
from pixel_tui.model import Level

_COLUMNS = """
    id INTEGER PRIMARY KEY,
    cycle INTEGER NOT NULL CHECK (cycle >= 1),
    source TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    duration_s REAL,
    level TEXT,
    swap_percent REAL, memory_percent REAL, cpu_percent REAL, disk_percent REAL, load_per_core REAL,
    swap_percent_mean REAL, memory_percent_mean REAL, cpu_percent_mean REAL, disk_percent_mean REAL,
    load_per_core_mean REAL,
    containers INTEGER, workers INTEGER, timed_out INTEGER, phantoms INTEGER,
    actions TEXT NOT NULL DEFAULT '[]',
    method TEXT,
    notes TEXT,
    recorded_at REAL NOT NULL,
    UNIQUE (source, cycle)
"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: cycles, own and imported, and the counter own numbers are drawn from
        f"CREATE TABLE cycles ({_COLUMNS})",
        "CREATE INDEX cycles_by_time ON cycles (started_at)",
        "CREATE INDEX cycles_by_recorded ON cycles (recorded_at)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    ),
    (  # 2: the number each cycle of an orchestrator's log got, by its source and start (in milliseconds)
        # Apart from `cycles`, so retention deleting a row never makes a later import number that cycle again.
        "CREATE TABLE imported_starts (source TEXT NOT NULL, started_ms INTEGER NOT NULL, "
        "cycle INTEGER NOT NULL CHECK (cycle >= 1), PRIMARY KEY (source, started_ms), UNIQUE (source, cycle))",
    ),
)
"""Step N takes a file from schema version N to N + 1; append, never edit a released step."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this pixel-tui writes."""

_TIME_FIELDS = ("started_at", "ended_at")


def to_row(cycle: Cycle) -> tuple[Any, ...]:
    """The values of `FIELDS` as the table holds them."""
    return tuple(_column(name, getattr(cycle, name)) for name in FIELDS)


def _column(name: str, value: Any) -> Any:
    if name in _TIME_FIELDS:
        return None if value is None else value.timestamp()
    if name == "actions":
        return json.dumps(list(value), ensure_ascii=False)
    if isinstance(value, Level):
        return value.value
    return value


def from_row(row: Sequence[Any]) -> Cycle:
    """The cycle a row of `FIELDS` holds; a value this version cannot read is taken as unknown."""
    values = dict(zip(FIELDS, row, strict=True))
    for name in _TIME_FIELDS:
        if values[name] is not None:
            values[name] = datetime.fromtimestamp(values[name], UTC)
    try:
        values["level"] = None if values["level"] is None else Level(values["level"])
    except ValueError:
        values["level"] = None
    try:
        actions = json.loads(values["actions"])
        values["actions"] = tuple(str(action) for action in actions) if isinstance(actions, list) else ()
    except (TypeError, ValueError):
        values["actions"] = (str(values["actions"]),)
    return Cycle(**values)
