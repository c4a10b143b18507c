"""Plans from a snapshot: which steps each catalogue action takes, on which targets, and why, in words.

Planning reads only the snapshot the operator (or autoheal) saw; nothing here touches the engine, the
ledger or the host. Each step carries `expect`, what the snapshot said of its target, which the
executor checks against the live state just before the step runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pixel_tui import format as fmt
from pixel_tui.model import GHOST, ORPHAN, Container, Level, Snapshot, Worker
from pixel_tui.remediate.catalogue import BY_ID
from pixel_tui.remediate.model import Plan, Step, Target


def host_context(snapshot: Snapshot) -> dict[str, Any]:
    """The host's levels and figures of a snapshot, as the audit log records them."""
    host, levels = snapshot.host, snapshot.levels
    return {
        "levels": {
            "overall": levels.overall.value,
            "memory": levels.memory.value,
            "swap": levels.swap.value,
            "load": levels.load.value,
            "workers": levels.workers.value,
        },
        "swap_percent": round(host.swap.percent, 1),
        "memory_percent": round(host.memory.percent, 1),
        "load_per_core": round(host.load_per_core, 2),
    }


def worker_target(worker: Worker) -> Target:
    """A worker container as a target (or its ghost task)."""
    if worker.container_id:
        return Target("container", worker.container_id, worker.container or worker.container_id[:12])
    return Target("task", worker.task_id, f"task {(worker.task_id or '?')[:8]}")


def worker_context(worker: Worker) -> dict[str, Any]:
    """A worker's state that made an action apply, for the audit log."""
    overdue = -worker.remaining_s if worker.remaining_s is not None and worker.remaining_s < 0 else None
    return {
        "state": worker.state,
        "task_id": worker.task_id,
        "task_status": worker.task_status,
        "age_s": None if worker.age_s is None else round(worker.age_s, 1),
        "timeout_s": worker.timeout_s,
        "timed_out": worker.timed_out,
        "overdue_s": None if overdue is None else round(overdue, 1),
        "phantom": worker.phantom,
    }


def why_worker(worker: Worker) -> str:
    """Why a worker is a target, in words: "timed out 12m00s ago (age 58m, timeout 46m)"."""
    if worker.phantom == GHOST:
        if (worker.task_status or "").lower() == "pending":
            return f"pending for {fmt.duration(worker.age_s)} and never started: it has no container"
        return f"the ledger says running, no container runs it (for {fmt.duration(worker.age_s)})"
    if worker.phantom == ORPHAN:
        status = worker.task_status or "missing from the ledger"
        return f"still running while its task is {status}"
    if worker.timed_out and worker.remaining_s is not None:
        return (
            f"timed out {fmt.duration(-worker.remaining_s)} ago "
            f"(age {fmt.duration(worker.age_s)}, timeout {fmt.duration(worker.timeout_s)})"
        )
    return f"asked for (age {fmt.duration(worker.age_s)}, timeout {fmt.duration(worker.timeout_s)})"


def kill_step(worker: Worker) -> Step:
    """Stop and remove a worker container; abort its task if the ledger says it runs."""
    target = worker_target(worker)
    active = (worker.task_status or "").lower() in ("pending", "running")
    task = f"; mark task {worker.task_id[:8]} aborted" if worker.task_id and active else ""
    return Step(
        "kill-worker",
        target,
        f"stop and remove {target.short}{task}",
        why_worker(worker),
        expect={"timed_out": worker.timed_out, "task_id": worker.task_id, "task_status": worker.task_status},
        context=worker_context(worker),
    )


def phantom_steps(snapshot: Snapshot) -> list[Step]:
    """Abort ghost tasks, stop and remove orphans, clear a stale lock."""
    steps = []
    for worker in snapshot.phantoms:
        target = worker_target(worker)
        if worker.phantom == GHOST:
            steps.append(
                Step(
                    "abort-ghost",
                    target,
                    f"mark {target.name} aborted in the ledger (no worker container)",
                    why_worker(worker),
                    expect={"task_status": worker.task_status},
                    context=worker_context(worker),
                )  # fmt: skip
            )
        elif worker.phantom == ORPHAN:
            steps.append(
                Step(
                    "remove-orphan",
                    target,
                    f"stop and remove {target.short}",
                    why_worker(worker),
                    expect={
                        "task_id": worker.task_id,
                        "task_status": worker.task_status,
                        "phantom_since": worker.phantom_since,
                    },
                    context=worker_context(worker),
                )  # fmt: skip
            )
    lock = snapshot.lock
    if lock is not None and lock.stale and lock.task_id:
        steps.append(
            Step(
                "clear-lock",
                Target("lock", lock.path, f"lock {lock.path}"),
                f"remove the lock file {lock.path}",
                f"held by task {lock.task_id[:8]} for {fmt.duration(lock.age_s)}, stale for "
                f"{fmt.duration(lock.stale_s)}: {lock.why or 'no worker of its task exists'}",
                expect={"task_id": lock.task_id, "created_at": lock.created_at, "mtime_ns": lock.mtime_ns},
                context={"task_id": lock.task_id, "age_s": lock.age_s, "stale_s": lock.stale_s},
            )
        )
    return steps


def prune_steps(snapshot: Snapshot, is_worker: Callable[[Container], bool]) -> list[Step]:
    """Remove exited worker containers; prune dangling images and the build cache. Never volumes."""
    steps = []
    for container in snapshot.containers:
        if container.state in ("exited", "dead", "created") and is_worker(container):
            target = Target("container", container.id, container.name)
            steps.append(
                Step(
                    "remove-exited",
                    target,
                    f"remove {target.short}",
                    f"an exited worker ({container.state})",
                    expect={"state": container.state},
                    context={"state": container.state},
                )  # fmt: skip
            )
    steps.append(Step("prune-images", None, "remove dangling images", "unused layers take disk"))
    steps.append(Step("prune-build-cache", None, "remove the build cache", "unused build cache takes disk"))
    return steps


def relieve_step(snapshot: Snapshot) -> Step:
    """Drop the page cache."""
    memory = snapshot.host.memory
    return Step(
        "drop-caches",
        Target("host", None, snapshot.host.hostname),
        "write back dirty pages, then drop the page cache",
        f"memory at {memory.percent:.1f} % ({snapshot.levels.memory.value})",
        context={"memory_percent": round(memory.percent, 1), "memory_level": snapshot.levels.memory.value},
    )


def swap_step(snapshot: Snapshot) -> Step:
    """swapoff -a; swapon -a."""
    swap = snapshot.host.swap
    return Step(
        "cycle-swap",
        Target("host", None, snapshot.host.hostname),
        "swapoff -a, then swapon -a (swapped pages come back into memory)",
        f"swap at {swap.percent:.1f} % ({snapshot.levels.swap.value})",
        context={"swap_percent": round(swap.percent, 1), "swap_level": snapshot.levels.swap.value},
    )


def container_step(action: str, container: Container, worker: Worker | None) -> Step:
    """Restart, stop or start one container."""
    target = Target("container", container.id, container.name)
    context = {"state": container.state, "health": container.health, "restarts": container.restarts}
    if worker is not None:
        context |= worker_context(worker)
    if action == "container.restart":
        return Step("restart", target, f"restart {target.short}", f"asked for ({container.state})",
                    expect={"state": container.state}, context=context)  # fmt: skip
    if container.running:
        return Step("stop", target, f"stop {target.short}", "asked for (running)",
                    expect={"state": container.state}, context=context)  # fmt: skip
    return Step("start", target, f"start {target.short}", f"asked for ({container.state})",
                expect={"state": container.state}, context=context)  # fmt: skip


def shell_step(container: Container, worker: Worker | None) -> Step:
    """Open a shell in one running container (it must still run when the step's turn comes)."""
    target = Target("container", container.id, container.name)
    context = {"state": container.state, "health": container.health, "image": container.image}
    if worker is not None:
        context |= worker_context(worker)
    return Step("shell", target, f"open a shell in {target.short}", "asked for (running)",
                expect={"state": "running"}, context=context)  # fmt: skip


IsWorker = Callable[[Container], bool]
"""The collector's worker rule (`WorkerRules.is_worker`)."""
Planned = tuple[list[Step], str | None]
"""The steps of a plan, and why there is nothing to do when there are none."""


@dataclass(frozen=True)
class Planner:
    """How one catalogue action is planned from a snapshot."""

    steps: Callable[[Snapshot, str | None, IsWorker], Planned]
    """The steps on the selected row's key (a container id or a worker row key; None for host-wide actions)."""
    cascade: bool = False
    """Its steps run in order and stop at the first failure (optimize)."""


def _selected(snapshot: Snapshot, key: str | None) -> tuple[Container | None, Worker | None]:
    """The container and the worker of the selected row."""
    container = next((c for c in snapshot.containers if c.id == key), None)
    worker = next((w for w in snapshot.workers if key in (w.key, w.container_id)), None)
    return container, worker


def _kill(snapshot: Snapshot, key: str | None, is_worker: IsWorker) -> Planned:
    container, worker = _selected(snapshot, key)
    if worker is None and container is not None:
        return [], f"{container.name} is not a worker (or not one of ours): kill worker acts on workers only"
    if worker is None or worker.container_id is None:
        return [], "select a worker container: a ghost task has none (resolve phantoms aborts it)"
    if worker.conflict:
        return [], f"{worker.conflict}: which task to end is unclear; a person must sort the ledger out"
    return [kill_step(worker)], None


def _on_container(action: str) -> Callable[[Snapshot, str | None, IsWorker], Planned]:
    def steps(snapshot: Snapshot, key: str | None, is_worker: IsWorker) -> Planned:
        container, worker = _selected(snapshot, key)
        if container is None:
            return [], "select a container first"
        return [container_step(action, container, worker)], None

    return steps


def _shell(snapshot: Snapshot, key: str | None, is_worker: IsWorker) -> Planned:
    container, worker = _selected(snapshot, key)
    if container is None:
        return [], "select a container first"
    if not container.running:
        return [], f"{container.name} is {container.state}: a shell opens only in a running container"
    return [shell_step(container, worker)], None


def _reap_steps(snapshot: Snapshot) -> list[Step]:
    return [kill_step(worker) for worker in snapshot.timed_out if worker.container_id and not worker.conflict]


def _optimize(snapshot: Snapshot, key: str | None, is_worker: IsWorker) -> Planned:
    steps = _reap_steps(snapshot) + phantom_steps(snapshot) + prune_steps(snapshot, is_worker)
    if snapshot.levels.memory.rank >= Level.WARNING.rank:
        steps.append(relieve_step(snapshot))
    if snapshot.host.swap.total and snapshot.levels.swap.rank >= Level.CAREFUL.rank:
        steps.append(swap_step(snapshot))
    return steps, None


PLANNERS: dict[str, Planner] = {
    "container.restart": Planner(_on_container("container.restart")),
    "container.stop_start": Planner(_on_container("container.stop_start")),
    "container.shell": Planner(_shell),
    "worker.kill": Planner(_kill),
    "workers.reap": Planner(lambda snapshot, key, is_worker: (_reap_steps(snapshot), "no worker is past its timeout")),
    "workers.resolve_phantoms": Planner(
        lambda snapshot, key, is_worker: (phantom_steps(snapshot), "no phantom and no stale lock")
    ),
    "host.prune": Planner(lambda snapshot, key, is_worker: (prune_steps(snapshot, is_worker), None)),
    "host.relieve_memory": Planner(lambda snapshot, key, is_worker: ([relieve_step(snapshot)], None)),
    "host.cycle_swap": Planner(lambda snapshot, key, is_worker: ([swap_step(snapshot)], None)),
    "host.optimize": Planner(_optimize, cascade=True),
}
"""How each catalogue action that changes something on the host is planned, by id (not the console's own toggle,
nor the views)."""


def plan(action: str, snapshot: Snapshot, target_key: str | None, *, is_worker: IsWorker) -> Plan:
    """The plan of catalogue action `action` on `target_key` (a container id or a worker row key)."""
    spec = BY_ID.get(action)
    if spec is None:
        raise KeyError(f"no action {action!r}")
    planner = PLANNERS.get(action)
    steps, nothing = planner.steps(snapshot, target_key, is_worker) if planner else ([], None)
    if planner is None:
        nothing = f"{spec.label} is not an action on the host"
    return Plan(
        action=action,
        steps=tuple(steps),
        snapshot_at=snapshot.taken_at,
        host=host_context(snapshot),
        nothing=None if steps else nothing,
        bulk=spec.scope in ("all", "host"),
        stop_on_failure=planner is not None and planner.cascade,
    )
