"""What remediation plans and reports: targets, steps in words, plans, outcomes. Plain data, no side effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.model import Event, Level, utcnow

OK, REFUSED, FAILED, INTERRUPTED = "ok", "refused", "failed", "interrupted"
"""The outcomes of an attempt, as the audit log writes them. `interrupted`: pixel-tui was stopped (SIGTERM,
SIGINT, `q`) before the attempt finished or started; `done` and `not_done` say how far it got."""


class Refused(Exception):
    """A step that must not run (its target changed, a precondition does not hold); the message says why."""


@dataclass(frozen=True)
class Target:
    """What a step acts on: a container (by id), a ledger task, the lock file, or the host."""

    kind: str
    """`container`, `task`, `lock` or `host`."""
    id: str | None
    """Container id, task id, lock path; None for the host."""
    name: str
    """How a person knows it: the container's name, "task 3f2a9c1d", the lock file, the hostname."""

    @property
    def short(self) -> str:
        """The name with a short id, as a confirmation shows it: `pixel-worker-3f2a9c1d (3f2a9c1d1e2f)`."""
        if self.kind == "container" and self.id:
            return f"{self.name} ({self.id[:12]})"
        return self.name

    def as_json(self) -> dict[str, str | None]:
        """The audit log's `target`."""
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Step:
    """One change on one target, planned from a snapshot; validated again just before it runs."""

    op: str
    """The operation: kill-worker, abort-ghost, remove-orphan, clear-lock, restart, stop, start, remove-exited,
    prune-images, prune-build-cache, drop-caches, cycle-swap."""
    target: Target | None
    what: str
    """What it will do, in words, naming the target."""
    why: str
    """Why it applies, in words ("timed out 12m00s ago")."""
    expect: dict[str, Any] = field(default_factory=dict)
    """What the snapshot said of the target, which must still hold when the step's turn comes."""
    context: dict[str, Any] = field(default_factory=dict)
    """The target's state that made the step apply, for the audit log."""


@dataclass(frozen=True)
class Plan:
    """An action as the operator (or autoheal) would run it: every step in words, shown before anything runs."""

    action: str
    """The catalogue id asked for."""
    steps: tuple[Step, ...]
    snapshot_at: datetime | None
    """When the snapshot the plan was made from was taken."""
    host: dict[str, Any]
    """The host's levels and figures in that snapshot (the audit context)."""
    nothing: str | None = None
    """Why there is nothing to do, when `steps` is empty."""
    bulk: bool = False
    """Bulk or destructive: the console asks for a typed word, not just yes."""
    stop_on_failure: bool = False
    """The cascade (optimize) stops at the first failed step."""
    rule: str | None = None
    """The autoheal rule that made it (docs/rules.md): every audit line of its steps carries it."""

    @property
    def prunes(self) -> bool:
        """True when a step prunes: what it would free is measured before a person is asked."""
        return any(step.op in ("prune-images", "prune-build-cache") for step in self.steps)

    def describe(self) -> list[str]:
        """The plan as lines a person reads before confirming."""
        if not self.steps:
            return [self.nothing or "nothing to do"]
        return [f"{number}. {step.what}: {step.why}" for number, step in enumerate(self.steps, start=1)]


@dataclass(frozen=True)
class Outcome:
    """What became of one step."""

    step: Step
    outcome: str
    """ok, refused, failed or interrupted."""
    error: str | None = None
    """Why it was refused, failed or interrupted."""
    duration_s: float = 0.0
    note: str | None = None
    """What else a person should know of an ok outcome: who ended the task first, what was already gone."""
    done: tuple[str, ...] = ()
    """Interrupted: the parts of the step that were done (each confirmed by the engine or the file system)."""
    under_way: str | None = None
    """Interrupted: the part that was asked for and not confirmed (a stop still waiting out its grace)."""
    not_done: tuple[str, ...] = ()
    """Interrupted: the parts that were never started."""
    record_id: str | None = None
    """The audit log's id of the attempt (its intent and outcome lines), when it was intended."""

    @property
    def ok(self) -> bool:
        """True when the step ran and succeeded."""
        return self.outcome == OK

    def sentence(self) -> str:
        """One line for the events pane, a notification or `heal`'s output."""
        name = self.step.target.short if self.step.target else "host"
        if self.ok:
            return f"{self.step.op} {name}: done" + (f" ({self.note})" if self.note else "")
        if self.outcome == INTERRUPTED:
            return f"{self.step.op} {name}: {self.outcome}: {self.error}; {self.progress()}"
        return f"{self.step.op} {name}: {self.outcome}: {self.error}"

    def progress(self) -> str:
        """How far an interrupted step got: "done: stop x; under way: remove x (not confirmed); not done: ..."."""
        words = [f"done: {', '.join(self.done) or 'nothing'}"]
        if self.under_way:
            words.append(f"under way: {self.under_way} (not confirmed)")
        words.append(f"not done: {', '.join(self.not_done) or 'nothing'}")
        return "; ".join(words)


AUTOHEAL = "autoheal"
"""The audit log's actor for what autoheal does."""


def outcome_event(outcome: Outcome, *, actor: str) -> Event:
    """An action's outcome as an event of the events pane."""
    level = Level.OK if outcome.ok else Level.WARNING
    name = outcome.step.target.name if outcome.step.target else "host"
    prefix = "autoheal: " if actor == AUTOHEAL else ""
    return Event(utcnow(), f"action-{outcome.outcome}", name, prefix + outcome.sentence(), level)
