"""The operations a step can name, as data: each one's check against the live state and its run.

The executor looks a step's operation (`Step.op`) up in `OPERATIONS` and refuses a step whose operation is
not there: nothing runs that is not an entry. A new action is one planner in `plans.py`, one entry here and
one backend method.

A simple operation is one call of a backend (the engine, the host, the shell): it is checked, its intent is
recorded, then it runs as one part. The orchestrator's operations (kill-worker, remove-orphan, abort-ghost,
clear-lock) read the engine and the ledger between their parts, so each is one staged run of `WorkerSteps`,
which checks as it goes and records the intent itself once its checks pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pixel_tui.domain import WorkerRules
from pixel_tui.remediate import worker_steps
from pixel_tui.remediate.attempt import Attempt
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.engine_ops import EngineOps, LiveContainer
from pixel_tui.remediate.host import HostSystem
from pixel_tui.remediate.host_checks import host_refusal
from pixel_tui.remediate.model import Refused, Step
from pixel_tui.remediate.orchestrator import OrchestratorFiles
from pixel_tui.remediate.shell import ShellSessions, sessions
from pixel_tui.remediate.worker_steps import WorkerSteps
from pixel_tui.settings import Settings


@dataclass
class Backends:
    """What the executor acts through; the demo and the tests give their own."""

    engine: EngineOps | None
    """None when no engine can be reached (container steps are refused, saying so)."""
    files: OrchestratorFiles
    host: HostSystem
    audit: AuditLog
    shell: ShellSessions | None = None
    """Shells in containers, through the docker CLI; None where there is no real engine (the demo)."""


@dataclass
class Live:
    """What an operation checks and acts through: the settings, the backends (read at each call: a test may swap
    one), the collector's worker rules and the steps on workers."""

    settings: Settings
    backends: Backends
    rules: WorkerRules
    workers: WorkerSteps
    clock: Callable[[], datetime]

    def engine(self) -> EngineOps:
        """The engine; Refused when none is reachable."""
        if self.backends.engine is None:
            raise Refused("no Docker engine is reachable")
        return self.backends.engine

    def container(self, step: Step) -> LiveContainer:
        """The target container now; Refused when it is gone or was replaced under its name."""
        assert step.target is not None and step.target.id is not None
        engine = self.engine()
        live = engine.inspect(step.target.id)
        if live is not None:
            return live
        worker_steps.refuse_namesake(engine, step)
        raise Refused(f"{step.target.short} no longer exists")


Check = Callable[[Live, Step], None]
"""Raise Refused, saying why, when the live state no longer is what the snapshot said; changes nothing."""
Run = Callable[[Live, Step, Attempt], "str | None"]
"""Record the intent (`attempt(*parts)`), then do each part in `attempt.part(...)`; the outcome's note."""
Act = Callable[[Live, Step], object]
"""One backend call; what it says (a prune's "reclaimed ...") is the outcome's note."""


@dataclass(frozen=True)
class Operation:
    """One operation: what it does, how it is checked against the live state, and how it runs."""

    name: str
    """The `Step.op` and the audit log's `step`."""
    does: str
    """What it does, in words (for a reader of the registry)."""
    check: Check
    """Before anything is recorded: refuse when the target changed since the snapshot."""
    run: Run
    quick_check: Check | None = None
    """What can be checked before a person is asked (a host step known to be refused asks nothing)."""


def one_part(act: Act) -> Run:
    """The run of a simple operation: its intent, then `act` as its one part."""

    def run(live: Live, step: Step, attempt: Attempt) -> str | None:
        attempt(step.what)
        with attempt.part(step.what):
            said = act(live, step)
        return said if isinstance(said, str) else None

    return run


def checked_as_it_runs(live: Live, step: Step) -> None:
    """The check of a staged operation: its run reads the live state between its parts and refuses there."""


def _id(step: Step) -> str:
    return str(step.target.id if step.target else None)


def _in_state(live: Live, step: Step) -> LiveContainer:
    """The container, still in the state the snapshot showed."""
    container = live.container(step)
    name = step.target.short if step.target else container.name
    if container.state != step.expect.get("state"):
        raise Refused(f"{name} is {container.state} now, not {step.expect.get('state')}")
    return container


def _container_in_state(live: Live, step: Step) -> None:
    _in_state(live, step)


def _exited_worker(live: Live, step: Step) -> None:
    container = _in_state(live, step)
    if not live.rules.is_worker(container.as_container()):
        name = step.target.short if step.target else container.name
        raise Refused(f"{name} is not a worker: prune never removes other containers")


def _shell_possible(live: Live, step: Step) -> None:
    container = _in_state(live, step)
    sessions(live.backends.shell).check(container.id)  # the CLI and a shell are there, before the intent


def _host_allows(*, sample_traffic: bool) -> Check:
    def check(live: Live, step: Step) -> None:
        reason = host_refusal(step.op, live.backends.host, live.settings, sample_traffic=sample_traffic)
        if reason is not None:
            raise Refused(reason)

    return check


def _no_check(live: Live, step: Step) -> None:
    """Host-wide engine steps (prunes) have no target whose state could have changed."""


def _grace(live: Live) -> float:
    return live.settings.remediate.stop_grace_s


OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for operation in (
        Operation("kill-worker", "stop and remove a worker container, mark its task aborted", checked_as_it_runs,
                  lambda live, step, attempt: live.workers.kill(step, attempt)),
        Operation("remove-orphan", "stop and remove a worker whose task ended", checked_as_it_runs,
                  lambda live, step, attempt: live.workers.remove_orphan(step, attempt)),
        Operation("abort-ghost", "mark a task with no worker aborted in the ledger", checked_as_it_runs,
                  lambda live, step, attempt: live.workers.abort_ghost(step, attempt)),
        Operation("clear-lock", "remove a stale lock file", checked_as_it_runs,
                  lambda live, step, attempt: live.workers.clear_lock(step, attempt)),
        Operation("restart", "restart a container", _container_in_state,
                  one_part(lambda live, step: live.engine().restart(_id(step), _grace(live)))),
        Operation("stop", "stop a running container", _container_in_state,
                  one_part(lambda live, step: live.engine().stop(_id(step), _grace(live)))),
        Operation("start", "start a stopped container", _container_in_state,
                  one_part(lambda live, step: live.engine().start(_id(step)))),
        Operation("remove-exited", "remove an exited worker container", _exited_worker,
                  one_part(lambda live, step: live.engine().remove(_id(step)))),
        Operation("prune-images", "remove dangling images", _no_check,
                  one_part(lambda live, step: live.engine().prune_images())),
        Operation("prune-build-cache", "remove the build cache", _no_check,
                  one_part(lambda live, step: live.engine().prune_build_cache())),
        Operation("drop-caches", "write back dirty pages, drop the page cache", _host_allows(sample_traffic=True),
                  one_part(lambda live, step: live.backends.host.drop_caches()),
                  quick_check=_host_allows(sample_traffic=False)),
        Operation("cycle-swap", "swapoff -a, then swapon -a", _host_allows(sample_traffic=True),
                  one_part(lambda live, step: live.backends.host.cycle_swap()),
                  quick_check=_host_allows(sample_traffic=False)),
        # The console lends its terminal for the session; the session's end is the outcome.
        Operation("shell", "a shell in a running container", _shell_possible,
                  one_part(lambda live, step: sessions(live.backends.shell).session(_id(step)))),
    )
}  # fmt: skip
"""Every operation a step may name, by name. A step naming another is refused, never run."""


def unknown(op: str) -> str:
    """Why a step naming an operation not in the registry is refused."""
    return f"unknown operation {op!r}: nothing is done"
