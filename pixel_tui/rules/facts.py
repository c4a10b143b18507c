"""The targets of a snapshot as a rule sees them: each one's kind, key, name and fields (docs/rules.md, `when`).

A field that does not apply to a target is absent (`timed_out` of a container): the grammar makes every
comparison with it false. `label.<key>` of a container, worker or orphan is its label's value, `''` when
it has no such label. `host.*` fields are on every target; `host.load` is the 1-minute load per core, the
figure its thresholds judge. `health_for_s` needs memory across collections: `HealthClock` keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pixel_tui.model import GHOST, ORPHAN, Container, LockState, Snapshot, Worker
from pixel_tui.rules.when import HOST_METRICS, LABEL

_LABELLED = frozenset({"container", "worker", "orphan"})


class Fields(Mapping[str, Any]):
    """A target's fields; `label.<key>` answers from its labels (`''` when absent) on kinds that have labels."""

    def __init__(self, values: dict[str, Any], labels: Mapping[str, str] | None) -> None:
        self._values = values
        self._labels = labels

    def __getitem__(self, key: str) -> Any:
        if key.startswith(LABEL) and self._labels is not None:
            return self._labels.get(key[len(LABEL) :], "")
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str) and key.startswith(LABEL):
            return self._labels is not None
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class Facts:
    """One target of a snapshot."""

    kind: str
    key: str
    """Stable across collections: `<kind>:<container id or task id>`, `lock:<task>`, `host`."""
    name: str
    fields: Fields
    labels: Mapping[str, str] = field(default_factory=dict)
    subject: Worker | Container | LockState | None = None
    """What it was made from (the host has none): the engine builds its step from it."""


class HealthClock:
    """Since when each container has had its current health, as pixel-tui saw it (`health_for_s`)."""

    def __init__(self) -> None:
        self._since: dict[str, tuple[str, float]] = {}

    def see(self, snapshot: Snapshot, now: float) -> dict[str, float]:
        """Record the containers' health at `now`; the seconds each has had it. Forgets containers gone."""
        seen: dict[str, tuple[str, float]] = {}
        for container in snapshot.containers:
            health = container.health or "none"
            before = self._since.get(container.id)
            seen[container.id] = before if before is not None and before[0] == health else (health, now)
        self._since = seen
        return {cid: now - since for cid, (_, since) in seen.items()}


def host_fields(snapshot: Snapshot, swap_margin_percent: float) -> dict[str, Any]:
    """The `host.*` fields of a snapshot (a figure absent when it was not measured)."""
    host, levels = snapshot.host, snapshot.levels
    figures: dict[str, float | None] = {
        "cpu": host.cpu_percent,
        "memory": host.memory.percent,
        "swap": host.swap.percent,
        "disk": host.disk_percent,
        "load": host.load_per_core,
    }
    values: dict[str, Any] = {"host.level": levels.overall.value}
    for metric in HOST_METRICS:
        if figures[metric] is not None:
            values[f"host.{metric}"] = float(figures[metric] or 0.0)
        values[f"host.{metric}.level"] = levels.of_metric(metric).value
    return values


def swapoff_fits(snapshot: Snapshot, margin_percent: float) -> bool:
    """Available memory exceeds swap used by the margin, in the snapshot's figures (validated again live)."""
    memory = snapshot.host.memory
    return memory.available > snapshot.host.swap.used + memory.total * margin_percent / 100


def targets(
    snapshot: Snapshot, *, swap_margin_percent: float = 0.0, health_for: Mapping[str, float] | None = None
) -> list[Facts]:
    """Every target of `snapshot`: containers, workers (or orphans), ghosts, the lock, the host.

    A worker that several ledger tasks claim (`conflict`) is no target: it is shown, never acted on."""
    common = host_fields(snapshot, swap_margin_percent)
    health_for = health_for or {}
    labels = {container.id: container.labels for container in snapshot.containers}
    found: list[Facts] = []
    for container in snapshot.containers:
        values = {
            **common,
            "kind": "container",
            "name": container.name,
            "state": container.state,
            "health": container.health or "none",
        }
        uptime = container.uptime_at(snapshot.taken_at)
        if uptime is not None:
            values["age_s"] = uptime
        if container.id in health_for:
            values["health_for_s"] = health_for[container.id]
        if container.restarts is not None:
            values["restarts"] = container.restarts
        found.append(
            Facts(
                "container",
                f"container:{container.id}",
                container.name,
                Fields(values, container.labels),
                container.labels,
                container,
            )  # fmt: skip
        )
    for worker in snapshot.workers:
        if worker.conflict:
            continue
        if worker.phantom == GHOST or not worker.container_id:
            name = f"task {(worker.task_id or '?')[:8]}"
            found.append(Facts(GHOST, f"ghost:{worker.task_id}", name, Fields({**common, "kind": GHOST}, None),
                               {}, worker))  # fmt: skip
            continue
        kind = ORPHAN if worker.phantom == ORPHAN else "worker"
        own = labels.get(worker.container_id, {})
        values = {**common, "kind": kind, "name": worker.container or "", "state": worker.state}
        values["timed_out"] = worker.timed_out
        if worker.age_s is not None:
            values["age_s"] = worker.age_s
        name = worker.container or worker.container_id[:12]
        found.append(Facts(kind, f"{kind}:{worker.container_id}", name, Fields(values, own), own, worker))
    lock = snapshot.lock
    if lock is not None and lock.task_id:
        values = {**common, "kind": "lock"}
        if lock.stale and lock.stale_s is not None:
            values["stale_s"] = lock.stale_s
        found.append(Facts("lock", f"lock:{lock.task_id}", f"lock {lock.task_id[:8]}", Fields(values, None), {}, lock))
    values = {**common, "kind": "host", "swapoff_fits": swapoff_fits(snapshot, swap_margin_percent)}
    found.append(Facts("host", "host", snapshot.host.hostname, Fields(values, None)))
    return found
