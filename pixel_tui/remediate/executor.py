"""The one executor every remediation goes through: the console, `heal`, `act` and autoheal.

For each step of a plan: refuse if read-only, or if autoheal asks for a person's action (a shell);
refuse if the audit log cannot be written; refuse if another step acts on the same target right now;
refuse an operation that is not in the registry (pixel_tui/remediate/operations.py); check the target
against live state (the container inspected again, the ledger and the lock read again, judged by the
collector's own rules) and refuse, saying why, if it changed since the snapshot; run it through the
backends; audit the attempt whatever its outcome (one `AuditRecord` a line). Steps on different targets run
in parallel (`remediate.parallel`), so a ghost never waits behind a slow stop; the cascade (optimize)
runs in order and stops at a failure. A refusal never stops a plan.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from pixel_tui.domain import WorkerRules
from pixel_tui.model import Event, Level, Snapshot, utcnow
from pixel_tui.remediate.attempt import Attempt, Attempts, Flight, Interrupted, PlanRun, not_started, target_key
from pixel_tui.remediate.audit import AuditUnavailable
from pixel_tui.remediate.audit_record import INTENT, OUTCOME, Asked, AuditRecord, stamp
from pixel_tui.remediate.catalogue import forbidden
from pixel_tui.remediate.host import HostError
from pixel_tui.remediate.model import (
    FAILED,
    INTERRUPTED,
    OK,
    REFUSED,
    Outcome,
    Plan,
    Refused,
    Step,
    Target,
    outcome_event,
)
from pixel_tui.remediate.operations import OPERATIONS, Backends, Live, unknown
from pixel_tui.remediate.plans import plan as make_plan
from pixel_tui.remediate.worker_steps import WorkerSteps
from pixel_tui.settings import Settings
from pixel_tui.threads import run_in_daemon_threads

Progress = Callable[[Step, int, int], None]
"""Told before each step: the step, its number from 1, and how many there are."""
Told = Callable[[Plan, Outcome, str], None]
"""Told each outcome once it is recorded: the plan, the outcome, the actor."""
Begun = Callable[[Plan, Step, str], None]
"""Told when a step begins, its intent recorded, before it changes anything: the plan, the step, the actor."""

__all__ = ["Backends", "Executor", "Progress", "Told"]


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
        self.workers = WorkerSteps(settings, backends.engine, backends.files, clock)
        """The steps on workers, tasks and the lock, and the watch over the aborts written."""
        self.live = Live(settings, backends, self.rules, self.workers, clock)
        """What the operations (pixel_tui/remediate/operations.py) check and act through."""
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self.attempts = Attempts()
        """The steps in flight (`in_flight`), why pixel-tui is stopping (`stopping`), the wait for them (`drain`)."""
        self._told: list[Told] = []
        self._begun: list[Begun] = []

    # -- stopping ---------------------------------------------------------------------------------

    def listen(self, told: Told, *, begun: Begun | None = None) -> None:
        """Have `told` called with every outcome recorded from now on, once each, from the thread that records it;
        `begun` with each step begun, once its intent is recorded."""
        self._told.append(told)
        self._begun += [begun] if begun is not None else []

    def stop(self, why: str) -> None:
        """Begin no new step from now on: the steps of running plans not begun yet are recorded as interrupted
        (not started) at once; those in flight go on."""
        for run, rest in self.attempts.stop(why):
            self._not_started(run, rest)

    def interrupt(self, why: str) -> tuple[Outcome, ...]:
        """Record every step still in flight as interrupted, with its parts done and not done; their outcomes.

        Their threads go on waiting for the engine, but begin no further part and write nothing more."""
        self.stop(why)
        outcomes = []
        for flight, progress in self.attempts.closing():
            outcome = progress.outcome(flight.step, why)
            record_id = flight.record_id if progress.intended else None
            asked = Asked(flight.actor, flight.reason, flight.rule)
            outcomes.append(self._audited(flight.plan, outcome, asked, flight.started, record_id))
        return tuple(outcomes)

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, action: str, snapshot: Snapshot, target: str | None = None) -> Plan:
        """The steps of `action` on `target` (a container id or worker row key), from `snapshot`."""
        return make_plan(action, snapshot, target, is_worker=self.rules.is_worker)

    # -- executing --------------------------------------------------------------------------------

    def execute(
        self,
        plan: Plan,
        *,
        actor: str,
        reason: str | None = None,
        progress: Progress | None = None,
        rule: str | None = None,
    ) -> tuple[Outcome, ...]:
        """Run the plan's steps (in parallel on different targets; the cascade in order); every attempt is
        audited, with `rule` (the autoheal rule that asked) on each of its lines. Never raises for a step's
        failure; the outcomes come in the plan's order. After a stop the steps not begun are recorded as
        interrupted (not started), and this returns once those begun end."""
        steps = plan.steps
        rule = rule or plan.rule  # a rule's plan names it; so may its caller
        asked = Asked(actor, reason, rule)
        run = PlanRun(plan, actor, reason, rule=rule)
        if not self.attempts.add_run(run):
            self._not_started(run, run.rest())

        def work() -> None:
            while (taken := run.take()) is not None:
                number, step = taken
                if progress is not None:
                    progress(step, number, len(steps))
                outcome = self._attempt(plan, step, asked)
                run.put(number, outcome)
                if outcome.outcome == FAILED and plan.stop_on_failure:
                    run.rest()  # the cascade stops at a failure: the rest is not attempted
                    return

        parallel = min(self.settings.remediate.parallel, len(steps))
        try:
            if plan.stop_on_failure or parallel <= 1:
                work()
            else:
                # Daemon threads: a step still waiting for the engine after a stop recorded it holds no exit.
                run_in_daemon_threads([work] * parallel, name="pixel-step")
        finally:
            self.attempts.remove_run(run)
        return run.outcomes()

    def _not_started(self, run: PlanRun, steps: list[tuple[int, Step]]) -> None:
        asked = Asked(run.actor, run.reason, run.rule)
        for number, step in steps:
            outcome = not_started(step, self.attempts.stopping)
            run.put(number, self._audited(run.plan, outcome, asked, time.monotonic()))

    def refuse(self, plan: Plan, step: Step, *, actor: str, reason: str, rule: str | None = None) -> Outcome:
        """Record a step refused before any attempt (autoheal giving up on a target): audited like any refusal."""
        asked = Asked(actor, reason, rule or plan.rule)
        return self._audited(plan, Outcome(step, REFUSED, reason), asked, time.monotonic())

    def _attempt(self, plan: Plan, step: Step, asked: Asked) -> Outcome:
        started = time.monotonic()
        if self.attempts.stopping is not None:
            return self._audited(plan, not_started(step, self.attempts.stopping), asked, started)
        if (refused := forbidden(plan.action, read_only=self.read_only, actor=asked.actor)) is not None:
            return self._audited(plan, Outcome(step, REFUSED, refused), asked, started)
        operation = OPERATIONS.get(step.op)
        if operation is None:  # only an entry of the registry ever runs
            return self._audited(plan, Outcome(step, REFUSED, unknown(step.op)), asked, started)
        try:
            self.backends.audit.check()
        except AuditUnavailable as error:
            # Acting unrecorded is worse than not acting: refuse, and say so (it cannot be audited).
            return self._tell(plan, Outcome(step, REFUSED, f"{error}; nothing is done unrecorded"), asked.actor)
        key = target_key(step)
        if not self._claim(key):
            outcome = Outcome(step, REFUSED, f"another action on {step.target.short if step.target else key} "
                                             "is running now")  # fmt: skip
            return self._audited(plan, outcome, asked, started)
        record_id = secrets.token_hex(6)

        def intent(parts: tuple[str, ...]) -> None:
            """Durably record what is about to be done; refused (AuditUnavailable) if that cannot be."""
            record = replace(self._record(plan, step, asked), id=record_id, phase=INTENT, parts=parts or (step.what,))
            self.backends.audit.append(record)
            for begun in self._begun:
                with contextlib.suppress(Exception):  # a listener stops nothing
                    begun(plan, step, asked.actor)

        attempt = Attempt(intent, step.what)
        flight = Flight(attempt, plan, step, asked.actor, asked.reason, record_id, started, rule=asked.rule)
        self.attempts.add(flight)
        unrecordable = False
        try:
            operation.check(self.live, step)
            note = operation.run(self.live, step, attempt)
        except Interrupted:
            outcome = Outcome(step, INTERRUPTED, f"pixel-tui was stopped ({self.attempts.stopping})")
        except AuditUnavailable as error:
            # Acting unrecorded is worse than not acting: nothing was changed, and nothing can be recorded.
            outcome = Outcome(step, REFUSED, f"{error}; nothing is done unrecorded")
            unrecordable = True
        except Refused as refusal:
            outcome = Outcome(step, REFUSED, str(refusal))
        except (HostError, OSError, LookupError, RuntimeError) as error:
            outcome = Outcome(step, FAILED, str(error) or type(error).__name__)
        except Exception as error:  # noqa: BLE001 - the engine's own errors: reported, never raised
            outcome = Outcome(step, FAILED, f"{type(error).__name__}: {error}")
        else:
            outcome = Outcome(step, OK, note=note)
        finally:
            self._release(key)
        try:
            if not attempt.settle():
                return outcome  # a stop recorded it as interrupted already: nothing more is written or told
            if unrecordable:
                return self._tell(plan, outcome, asked.actor)
            return self._audited(plan, outcome, asked, started, record_id if attempt.intended else None)
        finally:
            self.attempts.remove(flight)  # only once its outcome is written: a stop waits for that line

    def _claim(self, key: str) -> bool:
        """Take the target for one step; False when another step holds it (two stops of one worker, say)."""
        with self._busy_lock:
            if key in self._busy:
                return False
            self._busy.add(key)
            return True

    def _release(self, key: str) -> None:
        with self._busy_lock:
            self._busy.discard(key)

    def _record(self, plan: Plan, step: Step, asked: Asked) -> AuditRecord:
        """The audit record's fields that do not depend on the outcome."""
        return AuditRecord(
            time=stamp(self._clock()) or "",
            actor=asked.actor,
            rule=asked.rule or plan.rule,
            action=plan.action,
            step=step.op,
            target=step.target.as_json() if step.target else None,
            reason=asked.reason or step.why,
            snapshot_at=stamp(plan.snapshot_at),
            context={"host": plan.host, "target": step.context},
        )

    def _audited(
        self, plan: Plan, outcome: Outcome, asked: Asked, started: float, record_id: str | None = None
    ) -> Outcome:
        duration = time.monotonic() - started
        outcome = replace(outcome, duration_s=round(duration, 3), record_id=record_id)
        record = replace(self._record(plan, outcome.step, asked), outcome=outcome.outcome, error=outcome.error,
                         note=outcome.note, duration_s=outcome.duration_s)  # fmt: skip
        if record_id is not None:
            record = replace(record, id=record_id, phase=OUTCOME)
        if outcome.outcome == INTERRUPTED:
            record = replace(record, done=outcome.done, under_way=outcome.under_way, not_done=outcome.not_done)
        try:
            self.backends.audit.append(record)
        except AuditUnavailable as error:
            note = f"(and the audit log failed after acting: {error})"
            outcome = replace(outcome, error=f"{outcome.error or 'done'} {note}")
        return self._tell(plan, outcome, asked.actor)

    def _tell(self, plan: Plan, outcome: Outcome, actor: str) -> Outcome:
        for told in self._told:
            with contextlib.suppress(Exception):  # a listener that cannot print (a closed pipe) stops nothing
                told(plan, outcome, actor)
        return outcome

    # -- aborts undone by the orchestrator's whole-ledger write -----------------------------------

    def recheck_aborts(self, *, reapply: bool, actor: str, budget: int = 3) -> tuple[Event, ...]:
        """Re-read the tasks whose abort pixel-tui wrote lately; one undone (pending or running again, with
        no worker) is aborted again when `reapply` (at most `budget` times), else reported as an event."""
        now = self._clock()
        watched = self.workers.watch.current(now)
        if not watched or self.read_only:
            return ()
        try:
            tasks = self.backends.files.tasks()
        except Refused:
            return ()  # unreadable now: the next collection tries again
        events: list[Event] = []
        for entry in watched:
            task = tasks.one(entry.task_id)
            if task is None or not task.active:
                continue
            entry.undone += 1
            short = entry.task_id[:8]
            written = entry.written_at.strftime("%H:%M:%S")
            if reapply and entry.undone <= budget:
                step = Step(
                    "abort-ghost",
                    Target("task", entry.task_id, f"task {short}"),
                    f"mark task {short} aborted again",
                    f"its abort written at {written} was undone by another writer (it is {task.status} again)",
                    context={"undone": entry.undone, "status_found": task.status},
                )
                plan = Plan("workers.resolve_phantoms", (step,), now, {})
                outcome = self._attempt(plan, step, Asked(actor, step.why))
                events.append(outcome_event(outcome, actor=actor))
                continue
            self.workers.watch.drop(entry.task_id)
            then = "autoheal gave up re-applying it" if reapply else "resolve phantoms aborts it again"
            events.append(Event(now, "abort-undone", f"task {short}",
                                f"the abort of task {short} written at {written} was undone by another writer "
                                f"({task.status} again); {then}", Level.WARNING))  # fmt: skip
        return tuple(events)

    # -- before asking a person -------------------------------------------------------------------

    def preview(self, plan: Plan) -> str | None:
        """What a plan that prunes would free, asked of the engine before asking the operator (None for
        other plans); a sentence saying it could not be measured when the engine does not answer."""
        if not plan.prunes:
            return None
        try:
            return self.live.engine().prune_preview()
        except Exception as error:  # noqa: BLE001 - a preview never stops the plan: it says what it missed
            return f"what it would free could not be measured: {error}"

    def precheck(self, plan: Plan) -> tuple[Step, str] | None:
        """A one-step host plan that would be refused now, and why: asked before asking the operator, so a
        plan known to fail asks nothing (the quick checks; the swap traffic is sampled when it runs)."""
        if len(plan.steps) != 1:
            return None
        step = plan.steps[0]
        operation = OPERATIONS.get(step.op)
        if operation is None or operation.quick_check is None:
            return None
        try:
            operation.quick_check(self.live, step)
        except Refused as refusal:
            return step, str(refusal)
        return None
