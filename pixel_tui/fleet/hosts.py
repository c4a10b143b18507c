"""One row per host of the fleet, read from Prometheus: one PromQL query per column, joined on `instance`.

Each cell says what it is: a value, the host is down (`up == 0`), the series is absent though the host is
up (stale: the exporter stopped exporting it), or the column's query failed (with Prometheus' words).
Never "no data" shown as a zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from pixel_tui.fleet.prom import PromClient, PromError, Result
from pixel_tui.levels import METRIC, Metric
from pixel_tui.model import Level, utcnow

LEVELS = (Level.OK, Level.CAREFUL, Level.WARNING, Level.CRITICAL)


@dataclass(frozen=True)
class Column:
    """A column of the fleet table: what it shows and the query (with `{job}`) that reads it for all hosts."""

    key: str
    label: str
    promql: str
    kind: str
    """How a value reads: level (0-3), count, lock (0 free, 1 held, 2 stale), flag (0/1), age (seconds)."""


def _level_column(metric: Metric) -> Column:
    """The column of a host metric's level, as the exporter exports it (`resource` is the metric's key)."""
    promql = 'pixel_tui_level{{job="{job}",resource="' + metric.key + '"}}'  # `{job}` is filled per query
    return Column(metric.key, metric.label.lower(), promql, "level")


COLUMNS: tuple[Column, ...] = (
    Column("overall", "level", 'pixel_tui_level{{job="{job}",resource="overall"}}', "level"),
    *(_level_column(METRIC[key]) for key in ("swap", "memory", "load")),
    Column("timed_out", "timed out", 'pixel_tui_workers{{job="{job}",state="timed_out"}}', "count"),
    Column(
        "phantoms", "phantoms", 'sum by (instance) (pixel_tui_workers{{job="{job}",state=~"ghost|orphan"}})', "count"
    ),  # fmt: skip
    Column(
        "lock", "lock", 'pixel_tui_lock_held{{job="{job}"}} + on(instance) pixel_tui_lock_stale{{job="{job}"}}', "lock"
    ),  # fmt: skip
    Column("autoheal", "autoheal", 'pixel_tui_autoheal_enabled{{job="{job}"}}', "flag"),
    Column("engine", "engine", 'pixel_tui_engine_up{{job="{job}"}}', "flag"),
    Column("scraped", "scraped", 'time() - timestamp(up{{job="{job}"}})', "age"),
)
"""The fleet table's columns, in order."""
UP = 'up{{job="{job}"}}'


@dataclass(frozen=True)
class Cell:
    """One host's value in one column, or why there is none."""

    value: float | None
    state: str = "ok"
    """ok, down (the host's exporter does not answer), absent (no series though the host is up: not exported,
    as the lock without a lock file, or gone stale), error (the column's query failed)."""

    @property
    def level(self) -> Level | None:
        """The value as a level, for a level column's value."""
        if self.value is None or not 0 <= self.value <= 3:
            return None
        return LEVELS[int(self.value)]


@dataclass(frozen=True)
class Host:
    """One row: the `instance`, whether Prometheus reaches its exporter, and its cells by column key."""

    instance: str
    up: bool
    cells: Mapping[str, Cell]

    @property
    def level(self) -> Level | None:
        """Its overall level, None when unknown (down, stale or an error)."""
        return self.cells["overall"].level


@dataclass(frozen=True)
class Fleet:
    """One reading of the fleet: hosts sorted by instance, each column's error, the API's warnings."""

    taken_at: datetime
    hosts: tuple[Host, ...]
    errors: Mapping[str, str] = field(default_factory=dict)
    """Column key (or "up") -> why its query failed, in Prometheus' words."""
    warnings: tuple[str, ...] = ()

    @property
    def problem(self) -> str | None:
        """Why nothing could be read at all (Prometheus unreachable, the `up` query failed), or None."""
        return self.errors.get("up")


def read_fleet(client: PromClient, job: str) -> Fleet:
    """Every column for every host of `job`, the queries run side by side."""
    queries = {"up": UP.format(job=job)} | {column.key: column.promql.format(job=job) for column in COLUMNS}
    results: dict[str, Result] = {}
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(client.query, promql) for key, promql in queries.items()}
        for key, future in futures.items():
            try:
                results[key] = future.result()
            except PromError as error:
                errors[key] = str(error)
    warnings = tuple(dict.fromkeys(w for result in results.values() for w in result.warnings))
    if "up" not in results:
        return Fleet(utcnow(), (), errors, warnings)
    hosts = []
    for instance, up in sorted(results["up"].by().items()):
        cells = {}
        for column in COLUMNS:
            if column.key in errors:
                cells[column.key] = Cell(None, "error")
            elif column.key == "scraped":  # known while down too: how long since the last good scrape
                cells[column.key] = _cell(results[column.key].by(), instance, up=True)
            else:
                cells[column.key] = _cell(results[column.key].by(), instance, up=up == 1)
        hosts.append(Host(instance, up == 1, cells))
    return Fleet(utcnow(), tuple(hosts), errors, warnings)


def _cell(values: Mapping[str, float], instance: str, *, up: bool) -> Cell:
    if not up:
        return Cell(None, "down")
    if instance not in values:
        return Cell(None, "absent")
    return Cell(values[instance])


def cell_text(column: Column, cell: Cell) -> str:
    """A cell in words: the value as its column reads it, or down / stale / error."""
    if cell.value is None:
        return cell.state
    value = cell.value
    if column.kind == "level":
        level = cell.level
        return str(level) if level is not None else f"{value:g}?"
    if column.kind == "count":
        return f"{value:.0f}"
    if column.kind == "lock":
        return {0: "free", 1: "held", 2: "STALE"}.get(int(value), f"{value:g}?")
    if column.kind == "flag":
        on, off = ("on", "off") if column.key == "autoheal" else ("up", "DOWN")
        return on if value else off
    if column.kind == "age":
        return f"{value:.0f}s ago" if value < 120 else f"{value / 60:.0f}m ago"
    return f"{value:g}"


def as_json(fleet: Fleet) -> dict[str, object]:
    """The reading as a JSON document (`pixel-tui fleet --json`)."""
    return {
        "taken_at": fleet.taken_at.isoformat().replace("+00:00", "Z"),
        "hosts": [
            {
                "instance": host.instance,
                "up": host.up,
                "cells": {key: {"value": cell.value, "state": cell.state} for key, cell in host.cells.items()},
            }
            for host in fleet.hosts
        ],
        "errors": dict(fleet.errors),
        "warnings": list(fleet.warnings),
    }
