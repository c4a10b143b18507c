"""The snapshot as the stable, versioned schema-1 document `snapshot --json` prints (README, field by field)."""

from __future__ import annotations

import json
import math
from typing import Any

from pixel_tui.levels import HOST_METRICS
from pixel_tui.model import Snapshot, iso

SCHEMA_VERSION = 1
"""Bumped by any change that is not backwards compatible."""


def _round(value: float | None, digits: int = 2) -> float | None:
    """Rounded; None for what was not measured, and for a non-finite value, which JSON cannot hold."""
    return None if value is None or not math.isfinite(value) else round(value, digits)


def dumps(document: Any, *, indent: int | None = 2) -> str:
    """JSON text of a document; a non-finite number is a bug, never `Infinity` in the output."""
    return json.dumps(document, indent=indent, allow_nan=False)


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as the schema-1 document `snapshot --json` prints (see README)."""
    host = snapshot.host
    levels = snapshot.levels
    return {
        "schema": SCHEMA_VERSION,
        "taken_at": iso(snapshot.taken_at),
        "host": {
            "hostname": host.hostname,
            "cpu_percent": _round(host.cpu_percent),
            "cores": host.cores,
            "load": [round(value, 2) for value in host.load],
            "load_per_core": round(host.load_per_core, 3),
            "memory": {
                "total": host.memory.total,
                "used": host.memory.used,
                "available": host.memory.available,
                "percent": _round(host.memory.percent),
            },
            "swap": {"total": host.swap.total, "used": host.swap.used, "percent": _round(host.swap.percent)},
            "disks": [
                {"mount": disk.mount, "total": disk.total, "used": disk.used, "percent": _round(disk.percent)}
                for disk in host.disks
            ],
            "uptime_s": round(host.uptime_s, 1),
        },
        "levels": {
            **{metric.key: levels.of_metric(metric.key).value for metric in HOST_METRICS},
            "workers": levels.workers.value,
            "overall": levels.overall.value,
        },
        "docker": {
            "reachable": snapshot.docker.reachable,
            "error": snapshot.docker.error,
            "host": snapshot.docker.host,
            "version": snapshot.docker.version,
            "context": snapshot.docker.context,
        },
        "containers": [
            {
                "id": container.id,
                "name": container.name,
                "image": container.image,
                "state": container.state,
                "health": container.health,
                "started_at": iso(container.started_at),
                "uptime_s": _round(container.uptime_at(snapshot.taken_at), 1),
                "restarts": container.restarts,
                "cpu_percent": _round(container.cpu_percent),
                "cpu_estimated": container.cpu_estimated,
                "mem_used": container.mem_used,
                "mem_limit": container.mem_limit,
                "mem_percent": _round(container.mem_percent),
                "labels": dict(container.labels),
            }
            for container in snapshot.containers
        ],
        "workers": [
            {
                "task_id": worker.task_id,
                "task_status": worker.task_status,
                "container": worker.container,
                "container_id": worker.container_id,
                "state": worker.state,
                "started_at": iso(worker.started_at),
                "age_s": _round(worker.age_s, 1),
                "timeout_s": _round(worker.timeout_s, 1),
                "timed_out": worker.timed_out,
                "phantom": worker.phantom,
            }
            for worker in snapshot.workers
        ],
        "ledger": None
        if snapshot.ledger is None
        else {
            "path": snapshot.ledger.path,
            "readable": snapshot.ledger.readable,
            "error": snapshot.ledger.error,
            "tasks": snapshot.ledger.tasks,
        },
        "lock": None
        if snapshot.lock is None
        else {
            "path": snapshot.lock.path,
            "task_id": snapshot.lock.task_id,
            "age_s": _round(snapshot.lock.age_s, 1),
            "stale": snapshot.lock.stale,
            "stale_s": _round(snapshot.lock.stale_s, 1),
        },
        "errors": list(snapshot.errors),
    }
