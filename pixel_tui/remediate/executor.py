"""The one executor every remediation goes through: the console, `heal`, `act` and autoheal.

For each step of a plan, in order: refuse if read-only; refuse if the audit log cannot be written;
validate the target against live state (the container inspected again, the ledger and the lock read
again) and refuse, saying why, if it changed since the snapshot; run it through the backends; audit
the attempt whatever its outcome. A refusal never stops a plan; a failure stops the cascade.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pixel_tui import format as fmt
from pixel_tui.collect.workers import WorkerRules
from pixel_tui.model import Level, Snapshot, Thresholds, level_for, utcnow
from pixel_tui.remediate.audit import AuditLog, AuditUnavailable
from pixel_tui.remediate.catalogue import READ_ONLY_REASON, allowed
from pixel_tui.remediate.engine_ops import EngineOps, LiveContainer
from pixel_tui.remediate.host import HostError, HostSystem
from pixel_tui.remediate.model import FAILED, OK, REFUSED, Outcome, Plan, Refused, Step
from pixel_tui.remediate.orchestrator import OrchestratorFiles
from pixel_tui.remediate.plans import plan as make_plan
from pixel_tui.settings import Settings

Progress = Callable[[Step, int, int], None]
"""Told before each step: the step, its number from 1, and how many there are."""


@dataclass
class Backends:
    """What the executor acts through; the demo and the tests give their own."""

    engine: EngineOps | None
    """None when no engine can be reached (container steps are refused, saying so)."""
    files: OrchestratorFiles
    host: HostSystem
    audit: AuditLog


class Executor:
    """Plans, validates, runs and audits remediation steps; built read-only or not, and then it stays so."""

    def __init__(
        self,
        settings: Settings,
        backends: Backends,
        *,
        read_only: bool,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.backends = backends
        self.read_only = read_only
        self.rules = WorkerRules(settings.workers)
        self._clock = clock

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, action: str, snapshot: Snapshot, target: str | None = None) -> Plan:
        """The steps of `action` on `target` (a container id or worker row key), from `snapshot`."""
        return make_plan(action, snapshot, target, is_worker=self.rules.is_worker)

    # -- executing --------------------------------------------------------------------------------

    def execute(
        self, plan: Plan, *, actor: str, reason: str | None = None, progress: Progress | None = None
    ) -> tuple[Outcome, ...]:
        """Run the plan's steps in order; every attempt is audited. Never raises for a step's failure."""
        outcomes: list[Outcome] = []
        for number, step in enumerate(plan.steps, start=1):
            if progress is not None:
                progress(step, number, len(plan.steps))
            outcome = self._attempt(plan, step, actor=actor, reason=reason)
            outcomes.append(outcome)
            if outcome.outcome == FAILED and plan.stop_on_failure:
                break
        return tuple(outcomes)

    def refuse(self, plan: Plan, step: Step, *, actor: str, reason: str) -> Outcome:
        """Record a step refused before any attempt (autoheal giving up on a target): audited like any refusal."""
        return self._audited(plan, Outcome(step, REFUSED, reason), actor, reason, time.monotonic())

    def _attempt(self, plan: Plan, step: Step, *, actor: str, reason: str | None) -> Outcome:
        started = time.monotonic()
        if not allowed(plan.action, read_only=self.read_only):
            outcome = Outcome(step, REFUSED, READ_ONLY_REASON)
            return self._audited(plan, outcome, actor, reason, started)
        try:
            self.backends.audit.check()
        except AuditUnavailable as error:
            # Acting unrecorded is worse than not acting: refuse, and say so (it cannot be audited).
            return Outcome(step, REFUSED, f"{error}; nothing is done unrecorded")
        try:
            self._validate(step)
            self._run(step)
        except Refused as refusal:
            outcome = Outcome(step, REFUSED, str(refusal))
        except (HostError, OSError, LookupError, RuntimeError) as error:
            outcome = Outcome(step, FAILED, str(error) or type(error).__name__)
        except Exception as error:  # noqa: BLE001 - the engine's own errors: reported, never raised
            outcome = Outcome(step, FAILED, f"{type(error).__name__}: {error}")
        else:
            outcome = Outcome(step, OK)
        return self._audited(plan, outcome, actor, reason, started)

    def _audited(self, plan: Plan, outcome: Outcome, actor: str, reason: str | None, started: float) -> Outcome:
        duration = time.monotonic() - started
        outcome = Outcome(outcome.step, outcome.outcome, outcome.error, round(duration, 3))
        step = outcome.step
        record: dict[str, Any] = {
            "time": self._clock().isoformat().replace("+00:00", "Z"),
            "actor": actor,
            "action": plan.action,
            "step": step.op,
            "target": step.target.as_json() if step.target else None,
            "reason": reason or step.why,
            "snapshot_at": plan.snapshot_at.isoformat().replace("+00:00", "Z") if plan.snapshot_at else None,
            "outcome": outcome.outcome,
            "error": outcome.error,
            "duration_s": outcome.duration_s,
            "context": {"host": plan.host, "target": step.context},
        }
        try:
            self.backends.audit.append(record)
        except AuditUnavailable as error:
            note = f"(and the audit log failed after acting: {error})"
            return Outcome(step, outcome.outcome, f"{outcome.error or 'done'} {note}", outcome.duration_s)
        return outcome

    # -- validation: the live state must still be what the snapshot said -------------------------

    def _engine(self) -> EngineOps:
        if self.backends.engine is None:
            raise Refused("no Docker engine is reachable")
        return self.backends.engine

    def _live(self, step: Step) -> LiveContainer:
        """The target container now; Refused when it is gone or was replaced under its name."""
        assert step.target is not None and step.target.id is not None
        engine = self._engine()
        live = engine.inspect(step.target.id)
        if live is not None:
            return live
        namesake = next((c for c in engine.containers() if c.name == step.target.name), None)
        if namesake is not None:
            raise Refused(
                f"{step.target.short} is gone; a new container {namesake.name} ({namesake.id[:12]}) "
                "has its name: not acting on a container you did not see"
            )
        raise Refused(f"{step.target.short} no longer exists")

    def _validate(self, step: Step) -> None:
        op = step.op
        if op in ("kill-worker", "remove-orphan"):
            self._validate_worker(step, self._live(step))
        elif op in ("restart", "stop", "start", "remove-exited"):
            live = self._live(step)
            name = step.target.short if step.target else live.name
            if live.state != step.expect.get("state"):
                raise Refused(f"{name} is {live.state} now, not {step.expect.get('state')}")
            if op == "remove-exited" and not self.rules.is_worker(live.as_container(self._clock())):
                raise Refused(f"{name} is not a worker: prune never removes other containers")
        elif op == "abort-ghost":
            self._validate_ghost(step)
        elif op == "clear-lock":
            self._validate_lock(step)
        elif op in ("drop-caches", "cycle-swap"):
            self._validate_host(op)

    def _task_now(self, task_id: str | None) -> tuple[Any, bool]:
        """(task, ledger readable) for a task id, from a fresh read of the ledger."""
        files = self.backends.files
        if not files.has_ledger or task_id is None:
            return None, False
        tasks = files.tasks()
        found = tasks.with_id(task_id)
        return (found[0] if found else None), True

    def _validate_worker(self, step: Step, live: LiveContainer) -> None:
        now = self._clock()
        container = live.as_container(now)
        name = step.target.short if step.target else live.name
        if not self.rules.is_worker(container):
            raise Refused(f"{name} is not a worker")
        if not live.running:
            raise Refused(f"{name} is {live.state} now: nothing to stop")
        task, readable = self._task_now(step.expect.get("task_id"))
        if step.op == "kill-worker" and step.expect.get("timed_out"):
            age = (now - live.started_at).total_seconds() if live.started_at else None
            timeout = self.rules.timeout(container, live.env_value(self.settings.workers.timeout_env), task)
            if age is None or age <= timeout:
                raise Refused(
                    f"{name} is no longer timed out (age {fmt.duration(age)}, timeout {fmt.duration(timeout)}): "
                    "it restarted or its timeout changed"
                )
        was_running = step.expect.get("task_status") == "running"
        if step.op == "kill-worker" and readable and task is not None and was_running and not task.running:
            raise Refused(f"its task {task.id[:8]} is {task.status} now, not running: the worker finished")
        if step.op == "remove-orphan" and readable and task is not None and task.running:
            raise Refused(f"its task {task.id[:8]} is running again: {name} is not an orphan any more")

    def _validate_ghost(self, step: Step) -> None:
        task_id = step.target.id if step.target else None
        task, readable = self._task_now(task_id)
        if not readable:
            raise Refused("the ledger cannot be read: no ghost can be confirmed")
        if task is None:
            raise Refused(f"task {(task_id or '?')[:8]} is not in the ledger any more")
        if not task.running:
            raise Refused(f"task {task.id[:8]} is {task.status} now, not running")
        engine = self._engine()
        tasks = self.backends.files.tasks()
        for live in engine.containers():
            if live.running and self.rules.is_worker(live.as_container(self._clock())):
                match = self.rules.match_task(live.as_container(self._clock()), tasks)
                if match is not None and match.id == task.id:
                    raise Refused(f"task {task.id[:8]} has a worker now: {live.name} ({live.id[:12]})")

    def _validate_lock(self, step: Step) -> None:
        expected = step.expect.get("task_id")
        holder = self.backends.files.lock_holder()
        if holder is None:
            raise Refused("the lock file is gone already")
        if holder != expected:
            raise Refused(f"the lock is held by task {holder[:8]} now, not by the stale {str(expected)[:8]}")
        tasks = self.backends.files.tasks() if self.backends.files.has_ledger else None
        engine = self._engine()
        for live in engine.containers():
            if not live.running:
                continue
            container = live.as_container(self._clock())
            if not self.rules.is_worker(container):
                continue
            task = self.rules.match_task(container, tasks) if tasks is not None else None
            task_id = task.id if task else container.labels.get(self.settings.workers.task_label)
            if task_id and (task_id == holder or task_id.startswith(holder)):
                raise Refused(f"the lock is live: {live.name} ({live.id[:12]}) runs task {holder[:8]}")

    def _validate_host(self, op: str) -> None:
        host = self.backends.host
        if not host.is_root():
            raise Refused("needs root (pixel-tui runs as a user that cannot drop caches or swap off)")
        memory = host.memory()
        thresholds: Thresholds = self.settings.thresholds
        if op == "drop-caches":
            level = level_for(memory.percent, thresholds.memory)
            if level.rank < Level.WARNING.rank:
                raise Refused(
                    f"memory is at {memory.percent:.1f} % ({level.value}); the page cache is only dropped at "
                    f"warning ({thresholds.memory[1]:g} %) or worse"
                )
            return
        remediate = self.settings.remediate
        if memory.swap_used == 0:
            raise Refused("no swap is in use: nothing to cycle")
        margin = memory.total * remediate.swap_margin_percent / 100
        if memory.available <= memory.swap_used + margin:
            raise Refused(
                f"available memory {fmt.size(memory.available)} does not exceed swap used "
                f"{fmt.size(memory.swap_used)} by the margin {fmt.size(margin)} "
                f"({remediate.swap_margin_percent:g} % of {fmt.size(memory.total)})"
            )
        traffic = host.swap_traffic(remediate.swap_sample_s)
        if traffic >= remediate.swap_traffic_limit:
            raise Refused(
                f"swap traffic is {traffic:.1f} pages/s over {remediate.swap_sample_s:g} s "
                f"(cycling needs under {remediate.swap_traffic_limit:g})"
            )

    # -- running ----------------------------------------------------------------------------------

    def _run(self, step: Step) -> None:
        op = step.op
        grace = self.settings.remediate.stop_grace_s
        target_id = step.target.id if step.target else None
        if op in ("kill-worker", "remove-orphan"):
            engine = self._engine()
            assert target_id is not None
            engine.stop(target_id, grace)
            engine.remove(target_id)
            task_id = step.expect.get("task_id")
            ran = step.expect.get("task_status") == "running"
            if op == "kill-worker" and task_id and ran and self.backends.files.has_ledger:
                try:
                    self.backends.files.abort(task_id, f"killed by pixel-tui: {step.why}", self._clock())
                except Refused as refusal:  # the container is gone already: that part stands
                    raise RuntimeError(
                        f"the worker was stopped and removed, but its task was not marked aborted: {refusal}"
                    ) from None
        elif op == "restart":
            self._engine().restart(str(target_id), grace)
        elif op == "stop":
            self._engine().stop(str(target_id), grace)
        elif op == "start":
            self._engine().start(str(target_id))
        elif op == "remove-exited":
            self._engine().remove(str(target_id))
        elif op == "prune-images":
            self._engine().prune_images()
        elif op == "prune-build-cache":
            self._engine().prune_build_cache()
        elif op == "abort-ghost":
            self.backends.files.abort(str(target_id), "no worker container (resolved by pixel-tui)", self._clock())
        elif op == "clear-lock":
            self.backends.files.clear_lock(str(step.expect.get("task_id")))
        elif op == "drop-caches":
            self.backends.host.drop_caches()
        elif op == "cycle-swap":
            self.backends.host.cycle_swap()
        else:  # pragma: no cover - plans only make the ops above
            raise Refused(f"unknown operation {op}")
