"""The single-flight lock: live or stale, and for how long (docs/domain.md, "The ledger and the lock").

The orchestrator takes the lock *before* it writes the task and long before a container exists
(`docker compose run` can take tens of seconds), so "no running worker holds it" alone would call
every spawn in progress stale, and clearing it would let a second worker start beside the first.
A lock is live while a worker container of its task exists (created, running, restarting, paused),
or while it is younger than the spawn window and its task is pending or not yet in the ledger. Only
outside both is it stale. A container that is not a worker (the log tailer `pixel-worker-logs-1`)
never keeps it live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from pixel_tui.domain.phantoms import live_worker_of
from pixel_tui.domain.workers import WorkerRules
from pixel_tui.ledger import LockReading, TaskIndex
from pixel_tui.model import Container, LockState
from pixel_tui.settings import WorkerSettings


def judge_lock(
    path: str,
    reading: LockReading,
    *,
    rules: WorkerRules,
    containers: Sequence[Container] | None,
    tasks: TaskIndex | None,
    now: datetime,
) -> LockState:
    """The lock's state now; `containers` None means the engine could not be asked (then it is never stale)."""
    age = (now - reading.created_at).total_seconds() if reading.created_at else None
    state = LockState(path, reading.task_id, age, False, reading.error, created_at=reading.created_at,
                      mtime_ns=reading.mtime_ns)  # fmt: skip
    holder = reading.task_id
    if holder is None:
        return state
    if containers is None:
        return _with(state, why="the engine cannot be asked: whether a worker holds it is unknown")
    short = holder[:8]
    alive = live_worker_of(rules, holder, containers, tasks)
    if alive is not None:
        return _with(state, why=f"held by {alive.name} ({alive.state})")
    task = tasks.one(holder) if tasks is not None else None
    young = age is None or age < rules.settings.spawn_window_s
    if young and (tasks is None or task is None or task.pending):
        status = "not in the ledger yet" if task is None else "pending"
        return _with(state, why=f"a spawn is starting (task {short} {status}, lock {age or 0:.0f} s old)")
    found_status = (task.status or "without a status") if task is not None else "not in the ledger"
    return _with(state, stale=True, why=f"no worker of task {short} exists (task {found_status})")


def _with(state: LockState, *, stale: bool = False, why: str) -> LockState:
    return replace(state, stale=stale, why=why)


class LockJudge:
    """Judges the lock each collection and remembers since when a given lock has been stale."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.rules = WorkerRules(settings)
        self._stale_since: dict[tuple[str | None, datetime | None], datetime] = {}

    def judge(
        self,
        path: str,
        reading: LockReading,
        *,
        containers: Sequence[Container] | None,
        tasks: TaskIndex | None,
        now: datetime,
    ) -> LockState:
        """The lock's state, with `stale_s`: since pixel-tui first saw it stale, or since its task ended if earlier."""
        state = judge_lock(path, reading, rules=self.rules, containers=containers, tasks=tasks, now=now)
        if not state.stale:
            if containers is not None:
                self._stale_since = {}
            return state
        identity = (reading.task_id, reading.created_at)
        since = self._stale_since.get(identity, now)
        self._stale_since = {identity: since}
        holder = tasks.one(reading.task_id) if tasks is not None and reading.task_id else None
        if holder is not None and holder.terminal and holder.completed_at is not None:
            # The holder finished and its EXIT trap did not remove the lock: stale since then at the latest
            # (what a cron `heal`, with no memory of earlier runs, can still know).
            since = min(since, holder.completed_at)
        return replace(state, stale_s=max(0.0, (now - since).total_seconds()))
