"""A field-by-field check of the schema-1 snapshot document (README, "snapshot --json")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

LEVELS = {"ok", "careful", "warning", "critical"}


def _number(value: Any, *, nullable: bool = False, low: float | None = None, high: float | None = None) -> None:
    if value is None:
        assert nullable, "null where a figure is required"
        return
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    if low is not None:
        assert value >= low, value
    if high is not None:
        assert value <= high, value


def _size(value: Any, nullable: bool = False) -> None:
    if value is None:
        assert nullable
        return
    assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, value


def _time(value: Any, nullable: bool = True) -> None:
    if value is None:
        assert nullable
        return
    assert isinstance(value, str) and value.endswith("Z"), value
    datetime.fromisoformat(value)


def _keys(obj: dict, keys: set[str]) -> None:
    assert set(obj) == keys, f"keys {sorted(obj)} != {sorted(keys)}"


def check_snapshot(doc: dict[str, Any]) -> None:
    """Assert that `doc` is a schema-1 snapshot, every field of the right type and range."""
    _keys(doc, {"schema", "taken_at", "host", "levels", "docker", "containers", "workers", "ledger", "lock", "errors"})
    assert isinstance(doc["errors"], list) and all(isinstance(error, str) for error in doc["errors"])
    assert doc["schema"] == 1
    _time(doc["taken_at"], nullable=False)
    host = doc["host"]
    _keys(host, {"hostname", "cpu_percent", "cores", "load", "load_per_core", "memory", "swap", "disks", "uptime_s"})
    assert isinstance(host["hostname"], str) and host["hostname"]
    _number(host["cpu_percent"], nullable=True, low=0, high=100)
    assert isinstance(host["cores"], int) and host["cores"] >= 1
    assert len(host["load"]) == 3 and all(isinstance(v, float | int) for v in host["load"])
    _number(host["load_per_core"], low=0)
    _keys(host["memory"], {"total", "used", "available", "percent"})
    for key in ("total", "used", "available"):
        _size(host["memory"][key])
    _number(host["memory"]["percent"], low=0, high=100)
    _keys(host["swap"], {"total", "used", "percent"})
    _size(host["swap"]["total"])
    _size(host["swap"]["used"])
    _number(host["swap"]["percent"], low=0, high=100)
    assert host["disks"], "at least the root mount"
    for disk in host["disks"]:
        _keys(disk, {"mount", "total", "used", "percent"})
        assert disk["mount"].startswith("/")
        _size(disk["total"], True)
        _size(disk["used"], True)
        _number(disk["percent"], nullable=True, low=0, high=100)
    _number(host["uptime_s"], low=0)
    _keys(doc["levels"], {"cpu", "memory", "swap", "disk", "load", "workers", "overall"})
    assert set(doc["levels"].values()) <= LEVELS
    order = ["ok", "careful", "warning", "critical"]
    gauges = [doc["levels"][name] for name in ("cpu", "memory", "swap", "disk", "load", "workers")]
    assert doc["levels"]["overall"] == max(gauges, key=order.index), "overall is the worst level, workers included"
    incident = any(w["timed_out"] or w["phantom"] for w in doc["workers"]) or bool(doc["lock"] and doc["lock"]["stale"])
    assert (order.index(doc["levels"]["workers"]) >= order.index("warning")) == incident
    docker = doc["docker"]
    _keys(docker, {"reachable", "error", "host", "version", "context"})
    assert docker["context"] is None or isinstance(docker["context"], str)
    assert isinstance(docker["reachable"], bool) and isinstance(docker["host"], str)
    assert (docker["error"] is None) == docker["reachable"]
    for container in doc["containers"]:
        _keys(
            container,
            {
                "id",
                "name",
                "image",
                "state",
                "health",
                "started_at",
                "uptime_s",
                "restarts",
                "cpu_percent",
                "cpu_estimated",
                "mem_used",
                "mem_limit",
                "mem_percent",
                "labels",
            },
        )
        assert len(container["id"]) == 64 and isinstance(container["name"], str)
        assert container["health"] in (None, "healthy", "unhealthy", "starting")
        _time(container["started_at"])
        _number(container["uptime_s"], nullable=True, low=0)
        assert container["restarts"] is None or container["restarts"] >= 0
        _number(container["cpu_percent"], nullable=True, low=0)
        assert isinstance(container["cpu_estimated"], bool)
        _size(container["mem_used"], True)
        _size(container["mem_limit"], True)
        _number(container["mem_percent"], nullable=True, low=0)
        assert isinstance(container["labels"], dict)
    for worker in doc["workers"]:
        _keys(
            worker,
            {
                "task_id",
                "task_status",
                "container",
                "container_id",
                "state",
                "started_at",
                "age_s",
                "timeout_s",
                "timed_out",
                "phantom",
            },
        )
        assert worker["phantom"] in (None, "ghost", "orphan")
        assert isinstance(worker["timed_out"], bool)
        _number(worker["timeout_s"], low=0)
        _number(worker["age_s"], nullable=True, low=0)
        _time(worker["started_at"])
        if worker["phantom"] == "ghost":
            assert worker["container"] is None and worker["container_id"] is None
    if doc["ledger"] is not None:
        _keys(doc["ledger"], {"path", "readable", "error", "tasks"})
        assert (doc["ledger"]["error"] is None) == doc["ledger"]["readable"]
    if doc["lock"] is not None:
        _keys(doc["lock"], {"path", "task_id", "age_s", "stale", "stale_s"})
