"""The steps on the orchestrator's workers, tasks and lock: checked live by the collector's own rules, then run
to the wanted end state and judged by it (docs/domain.md, "Remediation beside the orchestrator").

The orchestrator acts on the same things at the same time (ORCHESTRATOR.md): its cleanup aborts a
task whose worker is gone, `checkWorkerStatus` completes it, its spawner removes exited workers and
takes the lock before the task or the container exists. So each step re-reads the engine and the
ledger just before it acts and refuses when the rule that made it apply no longer holds; and a step
succeeds when the end state holds afterwards (the container gone, the task finished, the lock gone),
whoever got there first: the outcome then says who did. An abort pixel-tui wrote is watched for a
while, because the orchestrator's whole-ledger write can undo it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pixel_tui import format as fmt
from pixel_tui.domain import WorkerRules, judge_lock
from pixel_tui.domain.phantoms import live_worker_of, orphan_since
from pixel_tui.ledger import Task, TaskIndex
from pixel_tui.model import Container
from pixel_tui.remediate.attempt import Attempt
from pixel_tui.remediate.engine_ops import EngineOps
from pixel_tui.remediate.model import Refused, Step
from pixel_tui.remediate.orchestrator import OrchestratorFiles
from pixel_tui.settings import Settings


@dataclass
class Watched:
    """An abort pixel-tui wrote, watched for being undone by another writer."""

    task_id: str
    written_at: datetime
    until: datetime
    undone: int = 0
    """How many times it was found undone (and re-applied) so far."""


class AbortWatch:
    """The aborts written lately; thread-safe (steps run in parallel)."""

    def __init__(self) -> None:
        self._watched: dict[str, Watched] = {}
        self._lock = threading.Lock()

    def add(self, task_id: str, now: datetime, watch_s: float) -> None:
        """Watch the abort of `task_id` just written (again) until `watch_s` from now."""
        with self._lock:
            old = self._watched.get(task_id)
            self._watched[task_id] = Watched(task_id, now, now + timedelta(seconds=watch_s), old.undone if old else 0)

    def current(self, now: datetime) -> list[Watched]:
        """The aborts still watched at `now` (the older ones are forgotten)."""
        with self._lock:
            self._watched = {key: watched for key, watched in self._watched.items() if watched.until > now}
            return list(self._watched.values())

    def drop(self, task_id: str) -> None:
        """Stop watching one abort."""
        with self._lock:
            self._watched.pop(task_id, None)


def ended_by(task: Task) -> str:
    """Who most likely finished a task pixel-tui did not, from what the orchestrator writes (ORCHESTRATOR.md)."""
    status = (task.status or "").lower()
    error = str(task.raw.get("error") or "")
    if "pixel-tui" in error:
        return "by pixel-tui"
    if status == "aborted":
        return "by the orchestrator's cleanup (its worker was gone)"
    if task.raw.get("exitCode", task.raw.get("exit_code")) == -1:
        return "by the orchestrator's checkWorkerStatus (its container was missing)"
    return "by its worker or the orchestrator"


class WorkerSteps:
    """Validates and runs kill-worker, remove-orphan, abort-ghost and clear-lock against live state (the entries of
    `operations.OPERATIONS` call these).

    Each step is checked against the live state and run: a note for the outcome, Refused when it must not run.
    `intent(*parts)` is called once the checks passed and before the first change: it records the intent
    durably, naming the parts to come, and raises (nothing is changed) when it cannot. Each part then runs in
    `intent.part(...)`, so that a stop of pixel-tui can say which were done."""

    def __init__(self, settings: Settings, engine: EngineOps | None, files: OrchestratorFiles,
                 clock: Callable[[], datetime]) -> None:  # fmt: skip
        self.settings = settings
        self.rules = WorkerRules(settings.workers)
        self.engine = engine
        self.files = files
        self._clock = clock
        self.watch = AbortWatch()

    # -- reading the live state -------------------------------------------------------------------

    def _engine(self) -> EngineOps:
        if self.engine is None:
            raise Refused("no Docker engine is reachable")
        return self.engine

    def _tasks(self) -> TaskIndex | None:
        """The ledger now (None when none is configured); Refused when it is configured but unreadable."""
        return self.files.tasks() if self.files.has_ledger else None

    def _containers(self) -> list[Container]:
        return [live.as_container() for live in self._engine().containers()]

    def _task(self, tasks: TaskIndex | None, task_id: str | None) -> Task | None:
        return tasks.one(task_id) if tasks is not None and task_id else None

    def _ours(self, container: Container, name: str) -> None:
        if not self.rules.is_worker(container):
            raise Refused(f"{name} is not a worker")
        if not self.rules.in_scope(container, self.settings.workers.compose_project):
            project, ours = self.rules.project(container), self.settings.workers.compose_project
            raise Refused(f"{name} is a worker of Compose project {project}, not of {ours}")

    # -- the steps --------------------------------------------------------------------------------

    def kill(self, step: Step, intent: Attempt) -> str | None:
        """Stop and remove a timed-out (or chosen) worker, then end its task; refused when it changed since."""
        assert step.target is not None and step.target.id is not None
        engine, name, now = self._engine(), step.target.short, self._clock()
        tasks = self._tasks()
        task_id = step.expect.get("task_id")
        live = engine.inspect(step.target.id)
        if live is None:
            refuse_namesake(engine, step)
            if task_id and live_worker_of(self.rules, task_id, self._containers(), tasks) is not None:
                raise Refused(f"{name} is gone, but task {task_id[:8]} has another worker now: left alone")
            note = "its container was gone already"
        else:
            container = live.as_container()
            self._ours(container, name)
            match = self.rules.match(container, tasks) if tasks is not None else None
            if match is not None and match.conflict:
                raise Refused(f"{match.conflict}: which task to end is unclear, so nothing is done")
            task = match.task if match is not None else None
            if task is not None and task_id and task.id != task_id:
                raise Refused(f"{name} runs task {task.id[:8]} now, not {str(task_id)[:8]}")
            task_id = task.id if task is not None else task_id
            if step.expect.get("timed_out"):
                timeout = self.rules.timeout(container, live.env_value(self.settings.workers.timeout_env), task)
                if not self.rules.timed_out(container, timeout, now):
                    age = (now - live.started_at).total_seconds() if live.running and live.started_at else None
                    raise Refused(
                        f"{name} is no longer timed out ({live.state}, age {fmt.duration(age)}, timeout "
                        f"{fmt.duration(timeout)}): it restarted, exited or its timeout changed"
                    )
                if task is not None and task.terminal:
                    raise Refused(f"its task {task.id[:8]} is {task.status} now: the worker is finishing")
            intent(*self._stop_parts(name), *_abort_part(task_id, tasks), _gone_part(name))
            self._stop_and_remove(step.target.id, name, intent)
            note = None
        intent(*_abort_part(task_id, tasks), _gone_part(name))
        ended = self._end_task(task_id, f"killed by pixel-tui: {step.why}", tasks_known=tasks is not None,
                               attempt=intent)  # fmt: skip
        self._verify_gone(step.target.id, name, intent)
        return _join(note, ended)

    def remove_orphan(self, step: Step, intent: Attempt) -> str | None:
        """Stop and remove a worker whose task ended, once past the orphan grace."""
        assert step.target is not None and step.target.id is not None
        engine, name, now = self._engine(), step.target.short, self._clock()
        live = engine.inspect(step.target.id)
        if live is None:
            return "it was gone already"
        container = live.as_container()
        self._ours(container, name)
        if not live.running:
            raise Refused(f"{name} is {live.state} now: no longer an orphan (prune removes exited workers)")
        tasks = self._tasks()
        match = self.rules.match(container, tasks) if tasks is not None else None
        if match is not None and match.conflict:
            raise Refused(f"{match.conflict}: not an orphan, an inconsistency for a person")
        task = match.task if match is not None else None
        if task is not None and task.active:
            raise Refused(f"its task {task.id[:8]} is {task.status} again: {name} is not an orphan")
        seen = step.expect.get("phantom_since")  # with no completedAt, when the collector first saw it ended
        since = orphan_since(task, live.started_at, seen if isinstance(seen, datetime) else None, now)
        grace = self.settings.workers.orphan_grace_s
        if (now - since).total_seconds() <= grace:
            raise Refused(f"{name} is finishing: its task ended {fmt.duration((now - since).total_seconds())} ago "
                          f"(orphan grace {fmt.duration(grace)})")  # fmt: skip
        intent(*self._stop_parts(name), _gone_part(name))
        self._stop_and_remove(step.target.id, name, intent)
        self._verify_gone(step.target.id, name, intent)
        return None

    def abort_ghost(self, step: Step, intent: Attempt) -> str | None:
        """Mark aborted a task the ledger says runs or waits while no worker runs it, once past the spawn window."""
        task_id = step.target.id if step.target else None
        tasks = self._tasks()
        if tasks is None:
            raise Refused("no ledger is configured")
        task = self._task(tasks, task_id)
        if task is None:
            return f"task {(task_id or '?')[:8]} is no longer in the ledger"
        if not task.active:
            return f"task {task.id[:8]} was already {task.status}, {ended_by(task)}"
        now = self._clock()
        alive = live_worker_of(self.rules, task.id, self._containers(), tasks)
        if alive is not None:
            raise Refused(f"task {task.id[:8]} has a worker now: {alive.name} ({alive.state})")
        if task.pending and task.created_at is not None:
            waited = (now - task.created_at).total_seconds()
            window = self.settings.workers.spawn_window_s
            if waited <= window:
                raise Refused(f"task {task.id[:8]} is pending for {fmt.duration(waited)} only: its spawn may be "
                              f"starting (spawn window {fmt.duration(window)})")  # fmt: skip
        intent(*_abort_part(task.id, tasks))
        return self._end_task(task.id, "no worker container (resolved by pixel-tui)", tasks_known=True, attempt=intent)

    def clear_lock(self, step: Step, intent: Attempt) -> str | None:
        """Remove the lock file when it is still the one judged stale, and still stale."""
        seen = self.files.lock()
        if seen.task_id is None:
            return "the lock file was gone already"
        expected = step.expect
        if (seen.task_id, seen.created_at) != (expected.get("task_id"), expected.get("created_at")) or (
            expected.get("mtime_ns") is not None and seen.mtime_ns != expected.get("mtime_ns")
        ):
            raise Refused(f"the lock changed since it was judged stale (now held by task {seen.task_id[:8]}): "
                          "left alone")  # fmt: skip
        try:
            tasks = self._tasks()
        except Refused:
            tasks = None  # an unreadable ledger: only a lock past the spawn window can be called stale
        path = str(step.target.id if step.target else "")
        state = judge_lock(path, seen, rules=self.rules, containers=self._containers(), tasks=tasks, now=self._clock())
        if not state.stale:
            raise Refused(f"the lock is live: {state.why}")
        clear = f"remove the lock file of task {seen.task_id[:8]}"
        intent(clear)
        with intent.part(clear):
            self.files.clear_lock(seen)
        return None

    # -- acting -----------------------------------------------------------------------------------

    def _stop_parts(self, name: str) -> tuple[str, str]:
        grace = fmt.duration(self.settings.remediate.stop_grace_s)
        return f"stop {name} (SIGTERM, SIGKILL after {grace})", f"remove {name}"

    def _stop_and_remove(self, container_id: str, name: str, attempt: Attempt) -> None:
        """Stop (TERM, KILL after the grace) and remove; a container that vanished meanwhile is what was wanted."""
        engine = self._engine()
        stop, remove = self._stop_parts(name)
        try:
            with attempt.part(stop):
                engine.stop(container_id, self.settings.remediate.stop_grace_s)
        except LookupError:
            return
        with attempt.part(remove), contextlib.suppress(LookupError):  # the spawner removes exited workers: gone is gone
            engine.remove(container_id)

    def _verify_gone(self, container_id: str, name: str, attempt: Attempt) -> None:
        with attempt.part(_gone_part(name)):
            left = self._engine().inspect(container_id)
        if left is not None:
            raise RuntimeError(f"{name} is still there ({left.state}) after it was stopped and removed")

    def _end_task(self, task_id: str | None, reason: str, *, tasks_known: bool, attempt: Attempt) -> str | None:
        """Abort the task if it is still pending or running; then it must be finished, whoever finished it."""
        if task_id is None or not tasks_known:
            return None
        with attempt.part(_abort_text(task_id)):
            return self._abort(task_id, reason)

    def _abort(self, task_id: str, reason: str) -> str | None:
        now = self._clock()
        problem: str | None = None
        try:
            self.files.abort(task_id, reason, now)
        except Refused:
            aborted = False  # not pending or running any more: the read below says what it is
        except OSError as error:
            aborted, problem = False, str(error)
        else:
            aborted = True
        task = self._task(self._tasks(), task_id)
        if task is None:
            return f"task {task_id[:8]} is not in the ledger"
        if task.active:
            why = f": {problem}" if problem else ""
            raise RuntimeError(f"the worker is gone, but its task {task_id[:8]} is still {task.status}{why}")
        if aborted:
            self.watch.add(task_id, now, self.settings.remediate.abort_watch_s)
            return None
        return f"task {task_id[:8]} was already {task.status}, {ended_by(task)}"


def refuse_namesake(engine: EngineOps, step: Step) -> None:
    """A new container under the target's name is not the one the operator saw: never act on it."""
    assert step.target is not None
    namesake = next((c for c in engine.containers() if c.name == step.target.name), None)
    if namesake is not None:
        raise Refused(
            f"{step.target.short} is gone; a new container {namesake.name} ({namesake.id[:12]}) "
            "has its name: not acting on a container you did not see"
        )


def _abort_text(task_id: str) -> str:
    return f"mark task {task_id[:8]} aborted"


def _abort_part(task_id: str | None, tasks: TaskIndex | None) -> tuple[str, ...]:
    """The ledger part of a step, when there is a task and a ledger to mark it in."""
    return (_abort_text(task_id),) if task_id and tasks is not None else ()


def _gone_part(name: str) -> str:
    return f"check that {name} is gone"


def _join(*notes: str | None) -> str | None:
    words = [note for note in notes if note]
    return "; ".join(words) if words else None
