"""The headless remediation commands: `act` (one catalogue action), `heal` (the autoheal policy), `audit`.

Exit codes of `act` and `heal`: 0 everything asked for was done (or there was nothing to do), 1 a step
was refused (read-only, not confirmed, its target changed, a precondition), 2 a step failed, 3 usage,
config or an engine that cannot be asked (nothing could be planned), 4 SIGTERM or SIGINT cut a step short
or kept it from starting (pixel_tui/remediate/shutdown.py; its record says which parts were done).

Each outcome is printed (and flushed) the moment it is recorded, so a stop loses none of them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from pixel_tui.model import Snapshot
from pixel_tui.remediate.audit import person
from pixel_tui.remediate.autoheal import ACTOR, Autoheal
from pixel_tui.remediate.catalogue import BY_ID, CONTAINER, WORKER
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.model import FAILED, INTERRUPTED, REFUSED, Outcome, Plan
from pixel_tui.remediate.shutdown import EXIT_INTERRUPTED, run_stoppable
from pixel_tui.safe import printable
from pixel_tui.schema import dumps
from pixel_tui.threads import run_in_daemon_threads

EXIT_DONE, EXIT_REFUSED, EXIT_FAILED, EXIT_UNKNOWN = 0, 1, 2, 3
HOST_ONLY = frozenset({"host.relieve_memory", "host.cycle_swap"})
"""The actions that need no engine: they act on this host's memory and swap only."""


def exit_for(outcomes: Sequence[Outcome]) -> int:
    """4 when a step was interrupted, 2 when one failed, 1 when one was refused, else 0."""
    kinds = {outcome.outcome for outcome in outcomes}
    if INTERRUPTED in kinds:
        return EXIT_INTERRUPTED
    if FAILED in kinds:
        return EXIT_FAILED
    if REFUSED in kinds:
        return EXIT_REFUSED
    return EXIT_DONE


def resolve_target(action: str, target: str | None, snapshot: Snapshot) -> tuple[str | None, str | None]:
    """(row key, None) for the container or worker `target` names, or (None, why not) in words.

    A target is an exact name, a full id, or an id prefix of at least 4 characters; a ghost task is
    named by its task id (or a prefix of it).
    """
    scope = BY_ID[action].scope
    if scope not in (CONTAINER, WORKER):
        return (None, f"{action} acts on the whole host: it takes no target") if target else (None, None)
    if not target:
        return None, f"{action} needs a target: a container's name or id"
    named = [c.id for c in snapshot.containers if c.name == target or c.id == target]
    if not named and len(target) >= 4:
        named = [c.id for c in snapshot.containers if c.id.startswith(target)]
    if not named and scope == WORKER and len(target) >= 4:
        named = [w.key for w in snapshot.workers if w.task_id and w.task_id.startswith(target)]
    if not named:
        return None, f"no container or worker named {printable(target)!r}"
    if len(set(named)) > 1:
        return None, f"{printable(target)!r} names {len(set(named))} containers: give more of the id"
    return named[0], None


def confirm(plan: Plan, *, assume_yes: bool, stdin: TextIO, stdout: TextIO) -> str | None:
    """None when the operator confirmed, else why not. A bulk plan asks for its action's word."""
    if assume_yes:
        return None
    if not stdin.isatty():
        return "not confirmed: standard input is not a terminal (pass --yes to act without asking)"
    word = BY_ID[plan.action].label.split()[0]
    if plan.bulk:
        stdout.write(f"Type {word!r} to run these {len(plan.steps)} steps: ")
    else:
        stdout.write("Proceed? [y/N] ")
    stdout.flush()
    answer = stdin.readline().strip()
    if (answer == word) if plan.bulk else answer.lower() in ("y", "yes"):
        return None
    return "not confirmed"


class Told:
    """The outcomes an executor records, kept in order and, unless `quiet`, printed and flushed as they come."""

    def __init__(self, executor: Executor, stdout: TextIO, *, quiet: bool = False) -> None:
        self.outcomes: list[tuple[str, Outcome]] = []
        """(action, outcome), in the order they were recorded."""
        self._stdout = stdout
        self._quiet = quiet
        self._lock = threading.Lock()
        executor.listen(self._tell)

    def _tell(self, plan: Plan, outcome: Outcome, actor: str) -> None:
        with self._lock:
            self.outcomes.append((plan.action, outcome))
            if not self._quiet:
                self._stdout.write(printable(outcome.sentence()) + "\n")
                self._stdout.flush()

    def exit_code(self) -> int:
        """The exit code for what was told."""
        return exit_for([outcome for _, outcome in self.outcomes])


def execute_stoppably(executor: Executor, work: Callable[[], object], told: Told, stderr: TextIO) -> int:
    """Run `work` until it ends or a stop signal finishes it (pixel_tui/remediate/shutdown.py); the exit code."""
    run_stoppable(executor, work, say=stderr)
    return told.exit_code()


def act(
    executor: Executor,
    snapshot: Snapshot,
    action: str,
    target: str | None,
    *,
    assume_yes: bool,
    dry_run: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Plan `action` on `target`, show the plan, confirm, execute, print the outcomes; the exit code."""
    if action not in BY_ID or not BY_ID[action].mutating:
        known = ", ".join(spec.id for spec in BY_ID.values() if spec.mutating and spec.id != "autoheal.toggle")
        stderr.write(f"pixel-tui act: no changing action {printable(action)!r}; one of: {known}\n")
        return EXIT_UNKNOWN
    if not snapshot.docker.reachable and action not in HOST_ONLY:
        # Without the engine "nothing to do" would be a guess: no worker, phantom or container can be seen.
        stderr.write(f"pixel-tui act: the engine cannot be asked: {printable(snapshot.docker.error or '')}\n")
        return EXIT_UNKNOWN
    key, problem = resolve_target(action, target, snapshot)
    if problem is not None:
        stderr.write(f"pixel-tui act: {problem}\n")
        return EXIT_UNKNOWN
    plan = executor.plan(action, snapshot, key)
    if not plan.steps and key is not None:
        # A named target the action cannot act on (a worker kill on a service): a refusal, not "done".
        stderr.write(f"pixel-tui act: refused: {printable(plan.nothing or 'nothing to do on that target')}\n")
        return EXIT_REFUSED
    for line in plan.describe():
        stdout.write(printable(line) + "\n")
    preview = executor.preview(plan)
    if preview:
        stdout.write(printable(preview) + "\n")
    if not plan.steps or dry_run:
        return EXIT_DONE
    known_to_fail = None if executor.read_only else executor.precheck(plan)
    if known_to_fail is not None:  # asks nothing: the answer could not change the outcome
        step, reason = known_to_fail
        outcome = executor.refuse(plan, step, actor=person(), reason=reason)
        stderr.write(f"pixel-tui act: {printable(outcome.sentence())}\n")
        return EXIT_REFUSED
    refusal = None if executor.read_only else confirm(plan, assume_yes=assume_yes, stdin=stdin, stdout=stdout)
    if refusal is not None:
        stderr.write(f"pixel-tui act: {refusal}\n")
        return EXIT_REFUSED
    told = Told(executor, stdout)
    return execute_stoppably(executor, lambda: executor.execute(plan, actor=person()), told, stderr)


def heal_once(
    executor: Executor,
    autoheal: Autoheal,
    snapshot: Snapshot,
    *,
    dry_run: bool,
    as_json: bool,
    stdout: TextIO,
    stderr: TextIO = sys.stderr,
) -> int:
    """One autoheal pass over a fresh snapshot: every plan the policy calls for, executed (or only printed).

    With no engine nothing can be seen, so nothing is claimed: exit 3 and the reason."""
    if not snapshot.docker.reachable:
        stdout.flush()
        stderr.write(f"pixel-tui heal: the engine cannot be asked: {printable(snapshot.docker.error or '')}\n")
        return EXIT_UNKNOWN
    plans = autoheal.plans(snapshot)
    results: list[dict[str, Any]] = []
    code = EXIT_DONE
    if dry_run:
        for plan in plans:
            results.append({"action": plan.action, "plan": plan.describe(), "outcome": None})
            if not as_json:
                stdout.write(printable(f"would {plan.describe()[0]}") + "\n")
    elif plans:
        told = Told(executor, stdout, quiet=as_json)
        pending = list(plans)
        lock = threading.Lock()

        def work() -> None:
            # One plan per target, so they run in parallel: a ghost's abort does not wait for a slow stop.
            while True:
                with lock:
                    if not pending or executor.attempts.stopping:
                        return
                    plan = pending.pop(0)
                executor.execute(plan, actor=ACTOR, reason=f"heal: {plan.steps[0].why}")

        parallel = min(executor.settings.remediate.parallel, len(plans))
        code = execute_stoppably(executor, lambda: run_in_daemon_threads([work] * parallel, name="pixel-heal"),
                                 told, stderr)  # fmt: skip
        results = [outcome_json(outcome, action) for action, outcome in told.outcomes]
    if as_json:
        stdout.write(dumps(results) + "\n")
    elif not plans:
        stdout.write("nothing to heal\n")
    stdout.flush()
    return code


def outcome_json(outcome: Outcome, action: str) -> dict[str, Any]:
    """An outcome as `heal --json` prints it."""
    return {
        "action": action,
        "step": outcome.step.op,
        "target": outcome.step.target.as_json() if outcome.step.target else None,
        "what": outcome.step.what,
        "why": outcome.step.why,
        "outcome": outcome.outcome,
        "error": outcome.error,
        "note": outcome.note,
        "duration_s": outcome.duration_s,
        **(
            {"done": list(outcome.done), "under_way": outcome.under_way, "not_done": list(outcome.not_done)}
            if outcome.outcome == INTERRUPTED
            else {}
        ),
    }
