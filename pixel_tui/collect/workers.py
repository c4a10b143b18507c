"""Which containers are workers, which ledger task each runs, their timeouts and phantoms (docs/domain.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from pixel_tui.ledger import Task, TaskIndex
from pixel_tui.model import GHOST, ORPHAN, Container, Worker
from pixel_tui.settings import WorkerSettings
from pixel_tui.values import BadValue, parse_seconds

_NAME_HEX = re.compile(r"([0-9a-f]{8})$")


class WorkerRules:
    """The configured conventions that make a container a worker and tie it to a task."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._name = re.compile(settings.name_pattern)

    def is_worker(self, container: Container) -> bool:
        """A worker by label, by Compose one-off run of the worker service, or by its whole name."""
        labels = container.labels
        role = labels.get(self.settings.role_label)
        if role is not None:
            # An explicit role label wins over the name: a `pixel.role=logs` container is never a worker.
            return role == "worker"
        if (
            labels.get("com.docker.compose.service") == self.settings.compose_service
            and labels.get("com.docker.compose.oneoff", "").lower() == "true"
        ):
            return True
        return self._name.fullmatch(container.name) is not None

    def match_task(self, container: Container, tasks: TaskIndex) -> Task | None:
        """The ledger task the container runs: by task label, by workerId prefix, by the name's 8 hex."""
        wanted = container.labels.get(self.settings.task_label)
        if wanted:
            return _best(tasks.with_id(wanted) or tasks.with_id_prefix(wanted))
        by_worker = tasks.run_by_container(container.id)
        if by_worker:
            return _best(by_worker)
        found = _NAME_HEX.search(container.name)
        if found and self._name.fullmatch(container.name):
            return _best(tasks.with_id_prefix(found.group(1)))
        return None

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


def _best(tasks: list[Task]) -> Task | None:
    """Of several candidate tasks, a running one, else the most recently started."""
    if not tasks:
        return None
    running = [task for task in tasks if task.running]
    pool = running or tasks
    return max(pool, key=_started)


def _started(task: Task) -> float:
    moment = task.started_at or task.created_at
    return moment.timestamp() if moment else 0.0


def _seconds(value: str | float | None, where: str, problems: list[str] | None) -> float | None:
    try:
        return parse_seconds(value)
    except BadValue as error:
        if problems is not None:
            problems.append(f"worker {where} {error}; ignored")
        return None


class WorkerTracker:
    """Builds the worker rows of each cycle; remembers when a running task was first seen without a worker."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.rules = WorkerRules(settings)
        self._missing_since: dict[str, datetime] = {}
        self.problems: tuple[str, ...] = ()
        """Unusable timeouts met by the last `workers` call, each ignored (the next source applied)."""

    def workers(
        self,
        containers: Sequence[Container],
        env_timeouts: Mapping[str, str | float | None],
        tasks: TaskIndex | Sequence[Task] | None,
        now: datetime,
    ) -> tuple[Worker, ...]:
        """Worker rows: one per worker container, plus ghost tasks; phantoms only when tasks is not None."""
        if tasks is not None and not isinstance(tasks, TaskIndex):
            tasks = TaskIndex.of(tasks)
        rows: list[Worker] = []
        problems: list[str] = []
        matched: set[str] = set()
        for container in containers:
            if not self.rules.is_worker(container):
                continue
            task = self.rules.match_task(container, tasks) if tasks else None
            if task is not None and container.running:
                matched.add(task.id)
            timeout = self.rules.timeout(container, env_timeouts.get(container.id), task, problems)
            age = (now - container.started_at).total_seconds() if container.running and container.started_at else None
            phantom = None
            if tasks is not None and container.running and (task is None or task.terminal):
                phantom = ORPHAN
            rows.append(
                Worker(
                    task_id=task.id if task else container.labels.get(self.rules.settings.task_label),
                    task_status=task.status if task else None,
                    container=container.name,
                    container_id=container.id,
                    state=container.state,
                    started_at=container.started_at,
                    age_s=age,
                    timeout_s=timeout,
                    timed_out=container.running and age is not None and age > timeout,
                    phantom=phantom,
                )
            )
        if tasks is not None:
            rows.extend(self._ghosts(tasks, matched, now))
        rows.sort(key=_urgency)
        self.problems = tuple(problems)
        return tuple(rows)

    def _ghosts(self, tasks: TaskIndex, matched: set[str], now: datetime) -> list[Worker]:
        ghosts = []
        still_missing: dict[str, datetime] = {}
        for task in tasks.running():
            if task.id in matched:
                continue
            since = task.started_at or task.created_at or self._missing_since.get(task.id, now)
            still_missing[task.id] = self._missing_since.get(task.id, now)
            held = (now - since).total_seconds()
            if held <= self.rules.settings.ghost_grace_s:
                continue
            timeout = task.timeout_s or self.rules.settings.default_timeout_s
            ghosts.append(
                Worker(
                    task_id=task.id,
                    task_status=task.status,
                    container=None,
                    container_id=None,
                    state="missing",
                    started_at=task.started_at or task.created_at,
                    age_s=held,
                    timeout_s=timeout,
                    timed_out=False,
                    phantom=GHOST,
                )
            )
        self._missing_since = still_missing
        return ghosts


def _urgency(worker: Worker) -> tuple[int, float]:
    """Overdue and phantom rows first, then the oldest."""
    rank = 0 if worker.timed_out else 1 if worker.phantom else 2 if worker.state == "running" else 3
    return rank, -(worker.age_s or 0.0)
