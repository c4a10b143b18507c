"""The worker rows of each collection, with timeouts and phantoms judged after their graces (docs/domain.md).

A grace counts from the right moment, so nothing the orchestrator does in its normal course is flagged:

- ghost (a `running` or `pending` task with no live container): from when a container of it was last
  seen alive; never seen, from its `startedAt` (`createdAt`) for a running task, and a pending task
  gets the spawn window from its `createdAt` ("never started"). A worker stopped for three seconds,
  or one whose `docker compose run` is still pulling, is not a ghost.
- orphan (a running worker whose task is finished, or that no task claims): from the later of the
  task's `completedAt` (else when pixel-tui first saw it finished) and the container's start; with no
  task, from its start. The orchestrator's worker marks its task completed *before* it exits.

The tracker remembers those moments between collections; the executor, which has no such memory,
re-checks the same facts live (`has_live_worker`) and trusts the graces the snapshot already applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pixel_tui.domain.workers import ALIVE_STATES, WorkerRules, urgency
from pixel_tui.ledger import Task, TaskIndex
from pixel_tui.model import GHOST, ORPHAN, Container, Worker
from pixel_tui.settings import WorkerSettings


class WorkerTracker:
    """Builds the worker rows of each collection; remembers when each task's worker was last seen alive."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.rules = WorkerRules(settings)
        self.settings = settings
        self._last_alive: dict[str, datetime] = {}
        self._ended_seen: dict[str, datetime] = {}
        self._first_seen: dict[str, datetime] = {}
        self._ledger_project: str | None = None
        self.problems: tuple[str, ...] = ()
        """What the last `workers` call could not use or decide (bad timeouts, conflicts, mixed projects)."""

    @property
    def scope(self) -> str | None:
        """The Compose project whose workers are ours: configured, else the one the ledger's workers run in."""
        return self.settings.compose_project or self._ledger_project

    def workers(
        self,
        containers: Sequence[Container],
        env_timeouts: Mapping[str, str | float | None],
        tasks: TaskIndex | Sequence[Task] | None,
        now: datetime,
    ) -> tuple[Worker, ...]:
        """Worker rows: one per worker container of ours, plus ghost tasks; phantoms only when tasks is not None."""
        if tasks is not None and not isinstance(tasks, TaskIndex):
            tasks = TaskIndex.of(tasks)
        problems: list[str] = []
        candidates = [container for container in containers if self.rules.is_worker(container)]
        self._learn_scope(candidates, tasks, problems)
        rows: list[Worker] = []
        claimed: set[str] = set()
        ended: dict[str, datetime] = {}
        for container in candidates:
            if not self.rules.in_scope(container, self.scope):
                continue  # another orchestrator's worker on a shared engine: not ours to flag
            row, claims = self._row(container, env_timeouts, tasks, now, problems, ended)
            rows.append(row)
            if container.state in ALIVE_STATES:
                claimed.update(claims)
        for task_id in claimed:
            self._last_alive[task_id] = now
        if tasks is not None:
            rows.extend(self._ghosts(tasks, claimed, now))
        self._ended_seen = ended
        rows.sort(key=urgency)
        self.problems = tuple(problems)
        return tuple(rows)

    def _learn_scope(self, workers: list[Container], tasks: TaskIndex | None, problems: list[str]) -> None:
        projects = {project for container in workers if (project := self.rules.project(container))}
        if self.settings.compose_project or len(projects) < 2:
            return
        if tasks is not None:
            matched = {self.rules.project(c) for c in workers if self.rules.match(c, tasks).task is not None}
            matched.discard(None)
            if len(matched) == 1:
                self._ledger_project = matched.pop()
        shown = ", ".join(sorted(projects)[:4])
        if self._ledger_project is not None:
            problems.append(
                f"workers of {len(projects)} Compose projects share this engine ({shown}): only those of "
                f"{self._ledger_project}, the project the ledger's workers run in, are judged; set "
                "workers.compose_project to say so"
            )
        else:
            problems.append(
                f"workers of {len(projects)} Compose projects share this engine ({shown}): set "
                "workers.compose_project, or every project's workers are judged against this ledger"
            )

    def _row(
        self,
        container: Container,
        env_timeouts: Mapping[str, str | float | None],
        tasks: TaskIndex | None,
        now: datetime,
        problems: list[str],
        ended: dict[str, datetime],
    ) -> tuple[Worker, tuple[str, ...]]:
        match = self.rules.match(container, tasks) if tasks is not None else None
        task = match.task if match else None
        if match is not None and match.conflict:
            problems.append(f"{match.conflict}: shown, never acted on")
        timeout = self.rules.timeout(container, env_timeouts.get(container.id), task, problems)
        age = (now - container.started_at).total_seconds() if container.running and container.started_at else None
        phantom = since = None
        if tasks is not None and container.running and not (match and match.conflict):
            if task is None or task.terminal:
                if task is not None:
                    ended[task.id] = task.completed_at or self._ended_seen.get(task.id, now)
                since = orphan_since(task, container.started_at, ended.get(task.id) if task else None, now)
            if since is not None and (now - since).total_seconds() > self.settings.orphan_grace_s:
                phantom = ORPHAN
        row = Worker(
            task_id=task.id if task else container.labels.get(self.settings.task_label),
            task_status=task.status if task else None,
            container=container.name,
            container_id=container.id,
            state=container.state,
            started_at=container.started_at,
            age_s=age,
            timeout_s=timeout,
            timed_out=self.rules.timed_out(container, timeout, now),
            phantom=phantom,
            phantom_since=since if phantom else None,
            conflict=match.conflict if match else None,
        )
        return row, match.claimants if match else ()

    def _ghosts(self, tasks: TaskIndex, claimed: set[str], now: datetime) -> list[Worker]:
        ghosts = []
        active: set[str] = set()
        for task in tasks.active():
            active.add(task.id)
            if task.id in claimed:
                continue
            since, grace = self.ghost_since(task, now)
            if (now - since).total_seconds() <= grace:
                continue
            began = task.started_at or task.created_at
            ghosts.append(
                Worker(
                    task_id=task.id,
                    task_status=task.status,
                    container=None,
                    container_id=None,
                    state="missing",
                    started_at=began,
                    age_s=(now - (began or since)).total_seconds(),
                    timeout_s=task.timeout_s or self.settings.default_timeout_s,
                    timed_out=False,
                    phantom=GHOST,
                    phantom_since=since,
                )
            )
        # Only what can still matter is remembered: a finished task never becomes a ghost again.
        self._last_alive = {task_id: seen for task_id, seen in self._last_alive.items() if task_id in active}
        self._first_seen = {task_id: seen for task_id, seen in self._first_seen.items() if task_id in active}
        return ghosts

    def ghost_since(self, task: Task, now: datetime) -> tuple[datetime, float]:
        """(the moment a ghost's grace counts from, that grace in seconds) for an active task with no live worker."""
        seen = self._last_alive.get(task.id)
        if seen is not None:
            return seen, self.settings.ghost_grace_s
        first = self._first_seen.setdefault(task.id, now)
        if task.pending:
            return task.created_at or first, self.settings.spawn_window_s
        return task.started_at or task.created_at or first, self.settings.ghost_grace_s


def orphan_since(task: Task | None, started: datetime | None, seen_ended: datetime | None, now: datetime) -> datetime:
    """When an orphan's grace counts from: the later of its task's end (`completedAt`, else when it was first
    seen ended, `seen_ended`) and the container's start; with no task, its start."""
    if task is None:
        return started or now
    ended = task.completed_at or seen_ended or now
    return max(ended, started) if started else ended


def live_worker_of(
    rules: WorkerRules, task_id: str, containers: Sequence[Container], tasks: TaskIndex | None
) -> Container | None:
    """A worker container of task `task_id` that exists and is alive (created, running, restarting, paused)."""
    return next(
        (
            container
            for container in containers
            if container.state in ALIVE_STATES and rules.is_worker(container) and rules.holds(container, task_id, tasks)
        ),
        None,
    )


def last_container(workers: Sequence[Worker], task_id: str | None) -> Worker | None:
    """The worker row of the container that ran `task_id` last (an exited one the engine still has, for a
    ghost), None when the engine has none left."""
    if not task_id:
        return None
    held = [worker for worker in workers if worker.task_id == task_id and worker.container_id]
    return max(held, key=lambda worker: worker.started_at or datetime.min.replace(tzinfo=UTC), default=None)
