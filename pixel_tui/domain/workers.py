"""Which containers are workers, whose they are, which ledger task each runs, and their timeouts (docs/domain.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pixel_tui.ledger import Task, TaskIndex
from pixel_tui.model import Container, Worker
from pixel_tui.settings import WorkerSettings
from pixel_tui.values import BadValue, parse_seconds

ALIVE_STATES = frozenset({"created", "running", "restarting", "paused"})
"""Container states in which a worker still exists for its task: a spawn starting, running, or coming back."""
COMPOSE_PROJECT = "com.docker.compose.project"
"""The label Compose puts on every container of a project."""

_NAME_HEX = re.compile(r"([0-9a-f]{8})$")


@dataclass(frozen=True)
class Match:
    """The ledger task a worker container runs, or why none can be said to."""

    task: Task | None
    claimants: tuple[str, ...] = ()
    """The ids of every task that claims the container (the one matched, or several when they disagree)."""
    conflict: str | None = None
    """Set when two tasks claim the container: an inconsistency shown as such, never a reason to act."""


class WorkerRules:
    """The configured conventions that make a container a worker, ours, and tie it to a task."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._name = re.compile(settings.name_pattern)

    def is_worker(self, container: Container) -> bool:
        """A worker by label, by Compose one-off run of the worker service, or by its whole name."""
        return self.is_worker_named(container.name, container.labels)

    def is_worker_named(self, name: str, labels: Mapping[str, str]) -> bool:
        """`is_worker` from a name and labels alone (the engine's list has both: no inspect needed)."""
        role = labels.get(self.settings.role_label)
        if role is not None:
            # An explicit role label wins over the name: a `pixel.role=logs` container is never a worker.
            return role == "worker"
        if (
            labels.get("com.docker.compose.service") == self.settings.compose_service
            and labels.get("com.docker.compose.oneoff", "").lower() == "true"
        ):
            return True
        return self._name.fullmatch(name) is not None

    @staticmethod
    def project(container: Container) -> str | None:
        """The Compose project the container belongs to, None when it is not a Compose container."""
        return container.labels.get(COMPOSE_PROJECT) or None

    def in_scope(self, container: Container, scope: str | None) -> bool:
        """Ours: no scope is known, or the container is of that project (or of no Compose project at all)."""
        project = self.project(container)
        return scope is None or project is None or project == scope

    def match(self, container: Container, tasks: TaskIndex) -> Match:
        """The task the container runs: by task label, else by `workerId`, else by the 8 hex of its name.

        A `workerId` binds only when it is at least 12 hex characters and a prefix of the container's id
        (the index keeps no shorter one). Several tasks claiming the container at the level that decides,
        or a label and a `workerId` naming different tasks, is a conflict: no task is chosen.
        """
        by_worker = _distinct(tasks.run_by_container(container.id))
        wanted = container.labels.get(self.settings.task_label)
        if wanted:
            exact = tasks.with_id(wanted)
            found = _distinct(exact or (tasks.with_id_prefix(wanted) if len(wanted) >= 8 else []))
            others = [task for task in by_worker if all(task.id != mine.id for mine in found)]
            return _decide(found + others, container) if found else Match(None)
        if by_worker:
            return _decide(by_worker, container)
        hexes = _NAME_HEX.search(container.name)
        if hexes and self._name.fullmatch(container.name):
            return _decide(_distinct(tasks.with_id_prefix(hexes.group(1))), container)
        return Match(None)

    def match_task(self, container: Container, tasks: TaskIndex) -> Task | None:
        """The one task the container runs, None when none or several claim it."""
        return self.match(container, tasks).task

    def holds(self, container: Container, task_id: str, tasks: TaskIndex | None) -> bool:
        """True when the container is a worker of task `task_id` (matched, or by label or name before the
        task is in the ledger: the lock is taken before the task is written)."""
        if tasks is not None:
            match = self.match(container, tasks)
            if match.claimants:
                return task_id in match.claimants
        wanted = container.labels.get(self.settings.task_label)
        if wanted:
            return wanted == task_id or (len(wanted) >= 8 and task_id.startswith(wanted))
        hexes = _NAME_HEX.search(container.name)
        return bool(hexes and self._name.fullmatch(container.name) and task_id.startswith(hexes.group(1)))

    def timeout(
        self,
        container: Container,
        env_timeout: str | float | None,
        task: Task | None,
        problems: list[str] | None = None,
    ) -> float:
        """The first usable timeout: label, the container's own env timeout plus kill grace, task, default.

        A label or env value that is present but unusable (`inf`, `-5`, `soon`) is skipped, and noted
        in `problems` with the container's name.
        """
        label_name, env_name = self.settings.timeout_label, self.settings.timeout_env
        label = _seconds(container.labels.get(label_name), f"{container.name}: label {label_name}", problems)
        if label is not None:
            return label
        env = _seconds(env_timeout, f"{container.name}: {env_name}", problems)
        if env is not None:
            return env + self.settings.kill_grace_s
        if task is not None and task.timeout_s is not None:
            return task.timeout_s
        return self.settings.default_timeout_s

    def timed_out(self, container: Container, timeout_s: float, now: datetime) -> bool:
        """Running and older than its timeout: it outlived even its own kill switch.

        Never while the container's inspect is not read (`Container.inspected`): its start and its env timeout
        are unknown then, and an unknown timeout is not a passed one.
        """
        if not container.running or container.started_at is None or not container.inspected:
            return False
        return (now - container.started_at).total_seconds() > timeout_s


def _distinct(tasks: list[Task]) -> list[Task]:
    """One entry per task id (a ledger may repeat a record)."""
    seen: dict[str, Task] = {}
    for task in tasks:
        seen.setdefault(task.id, task)
    return list(seen.values())


def _decide(candidates: list[Task], container: Container) -> Match:
    if not candidates:
        return Match(None)
    ids = tuple(task.id for task in candidates)
    if len(candidates) == 1:
        return Match(candidates[0], ids)
    named = ", ".join(task.id[:8] for task in candidates[:3])
    return Match(None, ids, f"{container.name} is claimed by {len(candidates)} tasks ({named})")


def _seconds(value: str | float | None, where: str, problems: list[str] | None) -> float | None:
    try:
        return parse_seconds(value)
    except BadValue as error:
        if problems is not None:
            problems.append(f"worker {where} {error}; ignored")
        return None


def urgency(worker: Worker) -> tuple[int, float]:
    """The worker table's order: overdue, then phantom rows, then running, then the rest; oldest first."""
    rank = 0 if worker.timed_out else 1 if worker.phantom else 2 if worker.state == "running" else 3
    return rank, -(worker.age_s or 0.0)
