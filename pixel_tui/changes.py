"""State changes between two consecutive snapshots: what the events pane tells the operator."""

from __future__ import annotations

from pixel_tui.model import Event, Level, Snapshot


def diff_events(previous: Snapshot | None, current: Snapshot) -> tuple[Event, ...]:
    """The state changes between two consecutive snapshots, oldest concern first."""
    at = current.taken_at
    events: list[Event] = []
    events.extend(_problem_events(previous, current))
    if previous is None:
        if not current.docker.reachable:
            events.append(
                Event(
                    at,
                    "engine-lost",
                    current.docker.host,
                    f"engine unreachable: {current.docker.error}",
                    Level.CRITICAL,
                )
            )
        return tuple(events)
    if previous.docker.reachable and not current.docker.reachable:
        events.append(
            Event(at, "engine-lost", current.docker.host, f"engine unreachable: {current.docker.error}", Level.CRITICAL)
        )
    elif not previous.docker.reachable and current.docker.reachable:
        events.append(Event(at, "engine-back", current.docker.host, "engine reachable again", Level.OK))
    if current.docker.reachable and previous.docker.reachable:
        events.extend(_container_events(previous, current))
    events.extend(_worker_events(previous, current))
    if previous.levels.overall != current.levels.overall:
        events.append(
            Event(
                at,
                "level",
                "host",
                f"host level {previous.levels.overall.value} -> {current.levels.overall.value}",
                current.levels.overall,
            )
        )
    return tuple(events)


def _problem_events(previous: Snapshot | None, current: Snapshot) -> list[Event]:
    """Something could not be read or was ignored (a bad timeout, an unreadable ledger): told once, when new.

    The engine's own loss has an event of its own.
    """
    known = set(previous.errors) if previous is not None else set()
    return [
        Event(current.taken_at, "problem", "collector", error, Level.CAREFUL)
        for error in current.errors
        if error not in known and not error.startswith("docker: ")
    ]


def _container_events(previous: Snapshot, current: Snapshot) -> list[Event]:
    at = current.taken_at
    before = {container.id: container for container in previous.containers}
    events: list[Event] = []
    for container in current.containers:
        old = before.pop(container.id, None)
        if old is container:  # the collector's very row again: nothing of it changed
            continue
        if old is None:
            events.append(Event(at, "container-new", container.name, f"{container.name} created ({container.state})"))
            continue
        if old.running and not container.running:
            events.append(
                Event(at, "container-died", container.name, f"{container.name} {container.state}", Level.WARNING)
            )
        elif not old.running and container.running:
            events.append(Event(at, "container-started", container.name, f"{container.name} started"))
        elif (old.restarts is not None and (container.restarts or 0) > old.restarts) or (
            # A count or start first read now (an inspect the console held back) is no restart.
            old.started_at and container.started_at and container.started_at > old.started_at
        ):
            events.append(
                Event(at, "container-restarted", container.name, f"{container.name} restarted", Level.CAREFUL)
            )
        if container.health != old.health and container.health in ("unhealthy", "healthy") and old.health is not None:
            level = Level.WARNING if container.health == "unhealthy" else Level.OK
            events.append(Event(at, "container-health", container.name, f"{container.name} {container.health}", level))
    for gone in before.values():
        events.append(Event(at, "container-removed", gone.name, f"{gone.name} removed"))
    return events


def _worker_events(previous: Snapshot, current: Snapshot) -> list[Event]:
    at = current.taken_at
    before = {worker.key: worker for worker in previous.workers}
    events: list[Event] = []
    for worker in current.workers:
        old = before.get(worker.key)
        label = worker.container or f"task {worker.task_id}"
        if worker.timed_out and not (old and old.timed_out):
            events.append(Event(at, "worker-timeout", label, f"worker {label} timed out", Level.WARNING))
        if worker.phantom and not (old and old.phantom == worker.phantom):
            events.append(Event(at, "phantom", label, f"{worker.phantom} phantom: {label}", Level.WARNING))
    current_phantoms = {worker.key for worker in current.workers if worker.phantom}
    for key, old in before.items():
        if old.phantom and key not in current_phantoms:
            label = old.container or f"task {old.task_id}"
            events.append(Event(at, "phantom-cleared", label, f"phantom cleared: {label}"))
    return events
