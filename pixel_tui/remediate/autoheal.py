"""Autoheal: the policy that acts by itself each collection, within guard rails (docs/domain.md, README).

What it does: kill workers past their timeout; abort ghost tasks (already past their grace); stop and
remove orphan workers; restart containers labelled `pixel.autoheal=true` that stayed unhealthy longer
than a grace; cycle swap when swap is critical and memory allows it.

Guard rails: nothing during the first collections after start; a target is acted on when its
condition appears (or when the last attempt on it did not succeed), not every collection; at most
`budget_actions` attempts per target in `budget_window_s`, then it gives up on that target and says so
in an event and in the audit log; `pixel.autoheal=false` opts a container out; never in read-only.
Every attempt goes through the same executor as a person's: same validation, same audit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pixel_tui.model import GHOST, ORPHAN, Event, Level, Snapshot, utcnow
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.model import OK, Outcome, Plan, Step, Target
from pixel_tui.remediate.plans import host_context, kill_step, phantom_steps, swap_step
from pixel_tui.settings import AutohealSettings

ACTOR = "autoheal"
"""The audit log's actor for what the policy does."""


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

    def heal(self, snapshot: Snapshot) -> tuple[Event, ...]:
        """One pass over a snapshot: the events of what it did, gave up on, or was refused."""
        self._seen += 1
        conditions = {condition.key: condition for condition in self._conditions(snapshot)}
        if not self.enabled or self._seen <= self.settings.startup_cycles:
            self._previous = set(conditions)
            return ()
        events: list[Event] = []
        now = self._clock()
        for key, condition in conditions.items():
            if key in self.state.given_up:
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
                    f"autoheal gave up on {condition.name}: {len(recent)} actions in "
                    f"{window / 60:g} minutes did not resolve it; it needs a person"
                )
                self.executor.refuse(plan, condition.step, actor=ACTOR, reason=reason)
                events.append(Event(utcnow(), "autoheal-gave-up", condition.name, reason, Level.WARNING))
                continue
            outcomes = self.executor.execute(plan, actor=ACTOR, reason=f"autoheal: {condition.step.why}")
            if not outcomes:
                continue
            outcome = outcomes[0]
            self._attempts[key] = [*recent, now]
            self._last[key] = outcome.outcome
            self.state.actions += 1
            events.append(outcome_event(outcome, actor=ACTOR))
        self._previous = set(conditions)
        return tuple(events)

    def _opted_out(self, labels: dict[str, str] | None) -> bool:
        return (labels or {}).get(self.settings.label, "").strip().lower() == "false"

    def _conditions(self, snapshot: Snapshot) -> list[_Condition]:
        labels = {container.id: dict(container.labels) for container in snapshot.containers}
        found: list[_Condition] = []
        for worker in snapshot.workers:
            if worker.container_id and self._opted_out(labels.get(worker.container_id)):
                continue
            if worker.timed_out and worker.container_id:
                found.append(_Condition(f"kill:{worker.container_id}", worker.container or "?", "worker.kill",
                                        kill_step(worker)))  # fmt: skip
        for step in phantom_steps(snapshot):
            if step.op == "clear-lock" or step.target is None:
                continue  # the lock is a person's call: it may be the orchestrator's own
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
        if snapshot.levels.swap is Level.CRITICAL and snapshot.host.swap.total:
            found.append(_Condition("swap", "swap", "host.cycle_swap", swap_step(snapshot)))
        return found


def outcome_event(outcome: Outcome, *, actor: str) -> Event:
    """An action's outcome as an event of the events pane."""
    level = Level.OK if outcome.ok else Level.WARNING
    name = outcome.step.target.name if outcome.step.target else "host"
    prefix = "autoheal: " if actor == ACTOR else ""
    return Event(utcnow(), f"action-{outcome.outcome}", name, prefix + outcome.sentence(), level)
