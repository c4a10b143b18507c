"""The plan a rule's action makes on one target: the same steps, validation and audit as a person's action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pixel_tui import format as fmt
from pixel_tui.model import GHOST, ORPHAN, Container, LockState, Snapshot, Worker
from pixel_tui.remediate.model import Plan, Step
from pixel_tui.remediate.plans import (
    container_step,
    host_context,
    kill_step,
    phantom_steps,
    prune_steps,
    relieve_step,
    swap_step,
)
from pixel_tui.rules.facts import Facts


def audit_ids(target: Facts) -> tuple[str, ...]:
    """The ids the audit log's `target` gives this target when a person acts on it (hands-off looks them up)."""
    subject = target.subject
    if isinstance(subject, Container):
        return (subject.id,)
    if isinstance(subject, Worker):
        return tuple(i for i in (subject.container_id, subject.task_id) if i)
    if isinstance(subject, LockState):
        return (subject.path,)
    return ("host",)


def _steps(do: str, target: Facts, snapshot: Snapshot, is_worker: Callable[[Any], bool]) -> list[Step]:
    subject = target.subject
    if do == "worker.kill" and isinstance(subject, Worker) and subject.container_id:
        return [kill_step(subject)]
    if do == "container.restart" and isinstance(subject, Container):
        if is_worker(subject):
            # A worker's restart runs its task's entrypoint again in the middle of the task: the orchestrator's
            # work is killed, never healed. A stuck worker is `worker.kill`'s, which ends its task in the ledger.
            return []
        health = target.fields.get("health_for_s")
        if subject.health and health is not None:
            why = f"{subject.health} for {fmt.duration(health)}"
        else:
            why = f"{subject.state}, {subject.health or 'no health check'}"
        return [replace(container_step(do, subject, None), why=why)]
    if do == "workers.resolve_phantoms":
        ops = {GHOST: "abort-ghost", ORPHAN: "remove-orphan", "lock": "clear-lock"}
        op = ops.get(target.kind)
        ids = audit_ids(target)
        return [s for s in phantom_steps(snapshot) if s.op == op and s.target is not None and s.target.id in ids][:1]
    if do == "host.cycle_swap":
        return [swap_step(snapshot)]
    if do == "host.relieve_memory":
        return [relieve_step(snapshot)]
    if do == "host.prune":
        return prune_steps(snapshot, is_worker)
    return []


def rule_plan(
    rule_id: str, do: str, target: Facts, snapshot: Snapshot, is_worker: Callable[[Any], bool]
) -> Plan | None:
    """The plan of `do` on `target`, carrying the rule's id; None when the action has no step there."""
    steps = _steps(do, target, snapshot, is_worker)
    if not steps:
        return None
    return Plan(do, tuple(steps), snapshot.taken_at, host_context(snapshot), rule=rule_id)


SHADOW = "shadow"
"""The audit `outcome` of what a shadow rule would have done."""


def shadow_record(plan: Plan, time: str) -> tuple[dict[str, Any], str]:
    """The audit line of what a shadow rule would have done (its `outcome` is `shadow`), and that in words."""
    step = plan.steps[0]
    why = f"would have acted: {step.what} ({step.why})"
    record = {
        "time": time,
        "actor": "autoheal",
        "action": plan.action,
        "step": step.op,
        "target": step.target.as_json() if step.target else None,
        "reason": why,
        "rule": plan.rule,
        "outcome": SHADOW,
        "context": {"host": plan.host, "target": step.context},
    }
    return record, why
