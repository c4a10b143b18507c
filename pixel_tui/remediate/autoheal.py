"""Autoheal: the policy that acts by itself each collection, within guard rails (docs/domain.md, README).

What it does: kill workers past their timeout; abort ghost tasks and stop orphan workers (each
already past its grace); clear a lock stale for longer than `workers.lock_grace_s`; restart
containers labelled `pixel.autoheal=true` that stayed unhealthy longer than a grace; cycle swap when
swap is critical and memory allows it; re-apply an abort the orchestrator's whole-ledger write undid.

Guard rails: nothing during the first collections after start; a target is acted on when its
condition appears (or when the last attempt on it did not succeed), not every collection; at most
`budget_actions` attempts per target in `budget_window_s`, then it gives up on that target and says so
in an event and in the audit log; `pixel.autoheal=false` opts a container out; never in read-only.
Every attempt goes through the same executor as a person's: same validation, same audit.

The collection never waits for an action: `heal` hands each plan to a small pool of threads
(`remediate.parallel`) and returns at once; what finished is told with a later collection. A target
with an action in flight is not planned again until it is done.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from pixel_tui.model import GHOST, ORPHAN, Event, Level, Snapshot, utcnow
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.model import AUTOHEAL, OK, Outcome, Plan, Step, Target, outcome_event
from pixel_tui.remediate.plans import host_context, kill_step, phantom_steps, swap_step
from pixel_tui.settings import AutohealSettings
from pixel_tui.threads import DaemonPool

ACTOR = AUTOHEAL
"""The audit log's actor for what the policy does."""


GAVE_UP = "autoheal gave up on"
"""How the reason of autoheal's refusal starts when it gives up on a target (the audit log and its readers)."""


@dataclass
class _Condition:
    """A target the policy would act on this collection, and how."""

    key: str
    name: str
    action: str
    step: Step


@dataclass
class AutohealState:
    """What the status line shows of autoheal."""

    enabled: bool
    actions: int = 0
    """Attempts made since start."""
    given_up: dict[str, str] = field(default_factory=dict)
    """Targets it gave up on: key -> name."""


class Autoheal:
    """The policy, run by the pipeline after each collection (implements pipeline.Healer)."""

    def __init__(
        self,
        executor: Executor,
        settings: AutohealSettings,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.executor = executor
        self.settings = settings
        self.state = AutohealState(enabled=settings.enabled if enabled is None else enabled)
        self._clock = clock
        self._seen = 0
        self._previous: set[str] = set()
        self._last: dict[str, str] = {}
        self._attempts: dict[str, list[float]] = {}
        self._unhealthy_since: dict[str, float] = {}
        # Daemon threads: an action still waiting for the engine when a stop recorded it interrupted holds no exit.
        self._pool = DaemonPool(executor.settings.remediate.parallel, name="pixel-heal")
        self._flight: dict[str, Future[tuple[Event, ...]]] = {}
        self._flight_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """True when it runs each collection. Read-only, its every attempt is refused (and audited)."""
        return self.state.enabled

    def toggle(self) -> bool:
        """Turn it on or off; returns the new state. Read-only, it cannot be turned on."""
        self.state.enabled = not self.state.enabled and not self.executor.read_only
        return self.state.enabled

    def plans(self, snapshot: Snapshot) -> list[Plan]:
        """What the policy calls for in `snapshot`, one plan per target, ignoring grace and budget (`heal` once)."""
        return [
            Plan(condition.action, (condition.step,), snapshot.taken_at, host_context(snapshot))
            for condition in self._conditions(snapshot)
        ]

    @property
    def remembered(self) -> int:
        """Targets it keeps state for: live conditions, actions in flight, and targets tried within the budget
        window (bounded on a host where containers and tasks come and go, however long it runs)."""
        return len(set(self._last) | set(self._attempts) | set(self.state.given_up))

    @property
    def in_flight(self) -> int:
        """Actions handed to the pool and not finished yet."""
        with self._flight_lock:
            return sum(1 for future in self._flight.values() if not future.done())

    def heal(self, snapshot: Snapshot) -> tuple[Event, ...]:
        """One pass over a snapshot: hand what the policy calls for to the pool; the events of what finished."""
        self._seen += 1
        events = list(self.finished())
        conditions = {condition.key: condition for condition in self._conditions(snapshot)}
        if self.executor.workers.watch.current(snapshot.taken_at):
            self._start("recheck-aborts", self._recheck)
        if not self.enabled or self._seen <= self.settings.startup_cycles:
            self._previous = set(conditions)
            return tuple(events)
        now = self._clock()
        for key, condition in conditions.items():
            if key in self.state.given_up or self._busy(key):
                continue
            # Act when the condition is new, never tried, or the last try did not succeed: not every collection.
            last = self._last.get(key)
            if key in self._previous and last == OK:
                continue
            window = self.settings.budget_window_s
            recent = [moment for moment in self._attempts.get(key, []) if now - moment < window]
            plan = Plan(condition.action, (condition.step,), snapshot.taken_at, host_context(snapshot))
            if len(recent) >= self.settings.budget_actions:
                self.state.given_up[key] = condition.name
                reason = (
                    f"{GAVE_UP} {condition.name}: {len(recent)} actions in "
                    f"{window / 60:g} minutes did not resolve it; it needs a person"
                )
                self.executor.refuse(plan, condition.step, actor=ACTOR, reason=reason)
                events.append(Event(utcnow(), "autoheal-gave-up", condition.name, reason, Level.WARNING))
                continue
            self._attempts[key] = [*recent, now]
            self._start(key, functools.partial(self._act, key, plan, condition.step.why))
        self._previous = set(conditions)
        self._forget(set(conditions), now)
        return tuple(events)

    def _forget(self, present: set[str], now: float) -> None:
        """Drop what is kept of targets whose condition is gone, once it can no longer matter.

        Keys name containers and tasks that come and go (on a churning host, hundreds an hour): without
        this the process grows with every target it ever saw. A condition that comes back within the
        budget window still finds its attempts (the budget holds across a flap); `_last` only matters
        while the condition stays, and an action in flight writes it when it ends, so it goes with it.
        """
        window = self.settings.budget_window_s
        with self._flight_lock:
            flying = set(self._flight)
        keep = present | flying
        # In place: an action in flight writes `_last` from the pool meanwhile (its key is kept).
        for key in [key for key in list(self._last) if key not in keep]:
            self._last.pop(key, None)
        for key, moments in list(self._attempts.items()):
            if key not in keep and all(now - moment >= window for moment in moments):
                del self._attempts[key]
        # A target given up on stays given up (and said so) while its condition lasts or may return.
        for key in [key for key in self.state.given_up if key not in keep and key not in self._attempts]:
            del self.state.given_up[key]

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the actions in flight, at most `timeout` seconds (what finished is told by the next `heal`)."""
        with self._flight_lock:
            futures = list(self._flight.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for future in futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                future.exception(timeout=remaining)
            except TimeoutError:
                break

    def close(self) -> None:
        """Start no more actions: those queued and not begun are dropped (nothing of them was done; the next run
        plans them again); those in flight go on (a stop waits for them: pixel_tui/remediate/shutdown.py)."""
        self._pool.shutdown()

    # -- the pool ---------------------------------------------------------------------------------

    def _busy(self, key: str) -> bool:
        with self._flight_lock:
            future = self._flight.get(key)
            return future is not None and not future.done()

    def _start(self, key: str, call: Callable[[], tuple[Event, ...]]) -> None:
        with self._flight_lock:
            running = self._flight.get(key)
            if running is not None and not running.done():
                return
            with contextlib.suppress(RuntimeError):  # closed: the process is stopping
                self._flight[key] = self._pool.submit(call)

    def finished(self) -> tuple[Event, ...]:
        """The events of the actions that finished since last asked (`heal` asks first thing)."""
        with self._flight_lock:
            done = {key: future for key, future in self._flight.items() if future.done()}
            for key in done:
                del self._flight[key]
        events: list[Event] = []
        for key, future in done.items():
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:  # never expected: the executor reports, it does not raise
                events.append(Event(utcnow(), "action-failed", key, f"autoheal: {key}: {error}", Level.WARNING))
                continue
            events.extend(future.result())
        return tuple(events)

    def _act(self, key: str, plan: Plan, why: str) -> tuple[Event, ...]:
        outcomes = self.executor.execute(plan, actor=ACTOR, reason=f"autoheal: {why}")
        if not outcomes:
            return ()
        outcome: Outcome = outcomes[0]
        self._last[key] = outcome.outcome
        self.state.actions += 1
        return (outcome_event(outcome, actor=ACTOR),)

    def _recheck(self) -> tuple[Event, ...]:
        return self.executor.recheck_aborts(reapply=self.enabled, actor=ACTOR, budget=self.settings.budget_actions)

    def _memory_allows(self, snapshot: Snapshot) -> bool:
        return _memory_allows_swapoff(snapshot, self.executor.settings.remediate.swap_margin_percent)

    def _opted_out(self, labels: dict[str, str] | None) -> bool:
        return (labels or {}).get(self.settings.label, "").strip().lower() == "false"

    def _conditions(self, snapshot: Snapshot) -> list[_Condition]:
        labels = {container.id: dict(container.labels) for container in snapshot.containers}
        found: list[_Condition] = []
        for worker in snapshot.workers:
            if worker.container_id and self._opted_out(labels.get(worker.container_id)):
                continue
            if worker.timed_out and worker.container_id and not worker.conflict:
                found.append(_Condition(f"kill:{worker.container_id}", worker.container or "?", "worker.kill",
                                        kill_step(worker)))  # fmt: skip
        for step in phantom_steps(snapshot):
            if step.target is None:
                continue
            if step.op == "clear-lock":
                lock = snapshot.lock
                grace = self.executor.settings.workers.lock_grace_s
                if lock is not None and (lock.stale_s or 0.0) >= grace:
                    found.append(_Condition(f"lock:{lock.task_id}", step.target.name, "workers.resolve_phantoms", step))
                continue  # younger than its grace: it may still be the orchestrator's own business
            if step.op == "remove-orphan" and self._opted_out(labels.get(step.target.id or "")):
                continue
            kind = GHOST if step.op == "abort-ghost" else ORPHAN
            found.append(_Condition(f"{kind}:{step.target.id}", step.target.name, "workers.resolve_phantoms", step))
        now = self._clock()
        unhealthy = set()
        for container in snapshot.containers:
            if container.health != "unhealthy" or not container.running:
                continue
            unhealthy.add(container.id)
            since = self._unhealthy_since.setdefault(container.id, now)
            wanted = container.labels.get(self.settings.label, "").strip().lower() == "true"
            if wanted and now - since >= self.settings.unhealthy_grace_s:
                target = Target("container", container.id, container.name)
                step = Step("restart", target, f"restart {target.short}",
                            f"unhealthy for {now - since:.0f} s (label {self.settings.label}=true)",
                            expect={"state": container.state},
                            context={"health": container.health, "restarts": container.restarts})  # fmt: skip
                found.append(_Condition(f"restart:{container.id}", container.name, "container.restart", step))
        self._unhealthy_since = {cid: t for cid, t in self._unhealthy_since.items() if cid in unhealthy}
        if snapshot.levels.swap is Level.CRITICAL and snapshot.host.swap.total and self._memory_allows(snapshot):
            found.append(_Condition("swap", "swap", "host.cycle_swap", swap_step(snapshot)))
        return found


def _memory_allows_swapoff(snapshot: Snapshot, margin_percent: float) -> bool:
    """Available memory exceeds swap used by the margin, in the snapshot's figures (validated again live)."""
    memory = snapshot.host.memory
    return memory.available > snapshot.host.swap.used + memory.total * margin_percent / 100
