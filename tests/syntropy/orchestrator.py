"""`Syntropy`: the orchestrator's worker management, step for step, against a (private) Docker engine.

Read from `src/worker-manager.ts`, `src/tools/worker.ts` and `src/index.ts` of anabelle/syntropy-core;
ORCHESTRATOR.md is the summary. Where the real code has a quirk, the model keeps it (and says so):
the spawn appends its task to the ledger it read *before* taking the lock, the lock is created under
a provisional uuid and rewritten in place with the task's, a failed `compose run` leaves the lock and
the `pending` task behind, an `exitCode: null` counts as a failure for the cooldown, and nothing ever
resolves a `pending` task.

Race seams: `SyntropyConfig.pauses` (seconds) and `hooks` (callables) at the named points
`spawn.after_read` (ledger read, lock not yet taken), `spawn.after_lock` (lock taken, no task yet),
`spawn.after_task` (task pending, before `compose run`) and `cleanup.before_write` (ledger read and
containers inspected, before the whole ledger is written back).
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container

from tests.syntropy.docker_calls import (
    ContainerStatus,
    container_status,
    create_worker,
    remove_exited_workers,
    running_worker_names,
    worker_name,
)
from tests.syntropy.files import DataFiles, Task, js_iso, parse_time
from tests.syntropy.worker import WorkerAgent, WorkerBehaviour

DEFAULT_IMAGE = "pixel-busybox:latest"
TERMINAL = frozenset({"completed", "failed", "aborted"})
_SUMMARY = re.compile(r"^[\t ]*##\s+summary.*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class SyntropyConfig:
    """One orchestrator on one host; the defaults are the real ones where the real code has one."""

    root: Path
    """PIXEL_ROOT: `data/` (ledger, lock, outputs), `logs/`, `audit/audit.json` and the model's `worker-ctl/`."""
    project: str = "pixel"
    """The Compose project of the `worker` service (label `com.docker.compose.project`)."""
    image: str = DEFAULT_IMAGE
    """The worker image (the tests' busybox)."""
    cooldown_s: float = 60.0
    """SPAWN_COOLDOWN_MS: no spawn this long after a failed last task."""
    retention_days: float = 3.0
    """`cleanupStaleTasksInternal(3)` as the cycle calls it (the tool's own default is 7)."""
    compose_delay_s: float = 0.0
    """`docker compose run -d` before the container exists (image, volumes: seconds on a loaded host)."""
    start_delay_s: float = 0.0
    """Between creating the container and starting it (it shows as `created` meanwhile)."""
    compose_fails: bool = False
    """`compose run` exits non-zero and creates nothing: the spawn returns an error, lock and task stay."""
    model: str = "model-under-test"
    """The language model's name, as `cycle_start` logs it."""
    pauses: dict[str, float] = field(default_factory=dict)
    """Seconds to sleep at a named race point (see the module docstring)."""
    hooks: dict[str, Callable[[], None]] = field(default_factory=dict)
    """A callable to run at a named race point, after its pause."""
    extra_labels: dict[str, str] = field(default_factory=dict)
    """Labels added to every worker. NOT real: only for tests that must say something the host does not."""


@dataclass(frozen=True)
class SpawnResult:
    """What `spawnWorkerInternal` returned: `task_id` and `container_name` on success, else `error`."""

    ok: bool
    task_id: str | None = None
    container_name: str | None = None
    error: str | None = None
    reason: str | None = None
    """`cooldown_after_failure`, `worker_busy` or `compose_failed` when refused or failed."""

    def as_tool_result(self) -> dict[str, Any]:
        """The object the tool hands back to the model (what `tool_result.summary` stringifies)."""
        if self.ok:
            return {"success": True, "taskId": self.task_id, "containerName": self.container_name, "status": "spawned"}
        return {"error": self.error}


@dataclass(frozen=True)
class CleanupResult:
    """`cleanupStaleTasksInternal`'s counts."""

    aborted: int
    removed: int
    orphaned: int
    remaining: int


class Syntropy:
    """The orchestrator: spawns workers, checks them, cleans the ledger up, logs its audit lines.

    Give it the engine's URL (`PrivateEngine.url`); it opens a Docker client of its own. Each spawned
    worker gets a `WorkerAgent` thread; `close()` stops them (call it before the engine goes)."""

    def __init__(self, docker_host: str, config: SyntropyConfig) -> None:
        """Connect to `docker_host` and create the installation's directories."""
        self.config = config
        self.files = DataFiles(config.root).make()
        self.client = docker.DockerClient(base_url=docker_host, timeout=30)
        self.agents: dict[str, WorkerAgent] = {}
        """Worker agents by task id."""

    def close(self) -> None:
        """Stop every worker agent and close the Docker client."""
        for agent in self.agents.values():
            agent.stop()
        for agent in self.agents.values():
            agent.join(timeout=2)
        self.client.close()

    def __enter__(self) -> Syntropy:
        """Use as a context manager that closes on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on leaving the `with` block."""
        self.close()

    # -- Docker, as the orchestrator's CLI calls see it ------------------------------------------------
    def _point(self, name: str) -> None:
        """A named race point: sleep its configured pause, then run its hook."""
        pause = self.config.pauses.get(name, 0.0)
        if pause:
            time.sleep(pause)
        hook = self.config.hooks.get(name)
        if hook is not None:
            hook()

    def running_worker_names(self) -> list[str]:
        """`docker ps --filter name=pixel-worker-` (a substring match): the running containers' names."""
        return running_worker_names(self.client)

    def container_status(self, name: str) -> ContainerStatus:
        """`getContainerStatus(name)`: a missing container counts as exited with code -1."""
        return container_status(self.client, name)

    def container(self, task_id: str) -> Container | None:
        """The container `pixel-worker-<first 8 of task_id>`, or None."""
        try:
            return self.client.containers.get(worker_name(task_id))
        except docker.errors.NotFound:
            return None

    # -- spawnWorkerInternal ---------------------------------------------------------------------------
    def spawn(
        self, task: str = "model task", context: str | None = None, behaviour: WorkerBehaviour | None = None
    ) -> SpawnResult:
        """`spawnWorkerInternal`, in the real order (see ORCHESTRATOR.md, "Spawning a worker")."""
        files = self.files
        remove_exited_workers(self.client)
        ledger = files.read_ledger()
        tasks: list[Task] = ledger.setdefault("tasks", [])
        refused = self._cooldown(tasks)
        if refused is not None:
            return refused
        self._point("spawn.after_read")

        reason = self._acquire_lock(str(uuid.uuid4()))
        if reason is not None:
            running = [t for t in tasks if t.get("status") == "running"]
            files.log_audit(
                "worker_spawn_rejected",
                reason="worker_busy",
                detail=reason,
                runningTaskId=running[0].get("id") if running else None,
            )
            return SpawnResult(
                False,
                error=f"Another worker is currently running (single-flight enforced). {reason}",
                reason="worker_busy",
            )
        self._point("spawn.after_lock")

        task_id = str(uuid.uuid4())
        payload: dict[str, Any] = {"task": task} if context is None else {"task": task, "context": context}
        tasks.append(
            {
                "id": task_id,
                "status": "pending",
                "createdAt": js_iso(),
                "type": "opencode",
                "payload": payload,
                "attempts": 0,
                "maxAttempts": 3,
            }
        )
        files.write_ledger(ledger)
        files.log_audit("worker_task_created", taskId=task_id, task=task[:500])
        files.rewrite_lock(task_id)
        self._point("spawn.after_task")

        name = worker_name(task_id)
        try:
            self._compose_run(name, task_id, behaviour or WorkerBehaviour())
        except (docker.errors.APIError, RuntimeError) as e:
            return SpawnResult(False, task_id, name, error=f"Failed to spawn worker: {e}", reason="compose_failed")
        files.log_audit("worker_spawned", taskId=task_id, containerName=name)
        return SpawnResult(True, task_id, name)

    def _cooldown(self, tasks: list[Task]) -> SpawnResult | None:
        """The 60 s spawn cooldown after a failed last task (the one with the latest `completedAt`)."""
        finished = [(when, t) for t in tasks if t.get("completedAt") and (when := parse_time(t["completedAt"]))]
        if not finished:
            return None
        when, last = max(finished, key=lambda pair: pair[0])
        # `exitCode !== undefined && exitCode !== 0`: an explicit null counts as a failure too.
        failed = last.get("status") == "failed" or ("exitCode" in last and last["exitCode"] != 0)
        elapsed = (datetime.now(UTC) - when).total_seconds()
        if not failed or elapsed >= self.config.cooldown_s:
            return None
        wait = math.ceil(self.config.cooldown_s - elapsed)
        self.files.log_audit(
            "worker_spawn_rejected", reason="cooldown_after_failure", waitSeconds=wait, lastTaskId=last.get("id")
        )
        return SpawnResult(
            False,
            error=f"Spawn cooldown active (last task failed). Wait {wait}s before retrying. "
            f"Last task: {last.get('id')}",
            reason="cooldown_after_failure",
        )

    def _acquire_lock(self, provisional_id: str) -> str | None:
        """`acquireWorkerLock`: None when taken, else why not. A lock with no running `pixel-worker-`
        container (by substring) is called stale and deleted first."""
        if self.files.lock.exists() and not self.running_worker_names():
            self.files.remove_lock()
        if self.files.create_lock(provisional_id):
            return None
        running = self.running_worker_names()
        return f"Worker already running: {', '.join(running)}" if running else "Worker lock already held"

    def _compose_run(self, name: str, task_id: str, behaviour: WorkerBehaviour) -> Container:
        """`docker compose --profile worker run -d --name <name> -e TASK_ID=<id> worker`, as the engine sees it."""
        if self.config.compose_delay_s:
            time.sleep(self.config.compose_delay_s)
        if self.config.compose_fails:
            raise RuntimeError("compose run failed (model: compose_fails)")
        environment = behaviour.environment(task_id, str(self.config.root))
        container = create_worker(
            self.client,
            self.files,
            image=self.config.image,
            name=name,
            project=self.config.project,
            environment=environment,
            extra_labels=self.config.extra_labels,
        )
        if self.config.start_delay_s:
            time.sleep(self.config.start_delay_s)
        container.start()
        agent = WorkerAgent(self.files, task_id, name, self.client)
        self.agents[task_id] = agent
        agent.start()
        return container

    # -- checkWorkerStatus -----------------------------------------------------------------------------
    def check_worker_status(self, task_id: str) -> dict[str, Any]:
        """The `checkWorkerStatus` tool: a `running` task with a `workerId` whose container is gone or
        exited becomes `completed` (exit 0) or `failed` (missing container: exit -1)."""
        ledger = self.files.read_ledger()
        task = next((t for t in ledger.get("tasks", []) if t.get("id") == task_id), None)
        if task is None:
            return {"error": f"Task {task_id} not found in ledger"}
        if task.get("status") == "running" and task.get("workerId"):
            status = self.container_status(worker_name(task_id))
            if not status.exists or status.exited:
                task["status"] = "completed" if status.exit_code == 0 else "failed"
                task["exitCode"] = status.exit_code
                task["completedAt"] = js_iso()
                output_path = self.files.output(task_id)
                if output_path.exists():
                    output = output_path.read_text(encoding="utf-8", errors="replace")
                    task["output"] = output[-2000:]
                    match = _SUMMARY.search(output)
                    if match is not None:
                        task["summary"] = output[match.start() :]
                self.files.write_ledger(ledger)
                self.files.log_audit(
                    "worker_status_updated", taskId=task_id, status=task["status"], exitCode=task["exitCode"]
                )
        keys = (
            "status",
            "type",
            "createdAt",
            "startedAt",
            "completedAt",
            "attempts",
            "exitCode",
            "summary",
            "error",
            "workerId",
        )
        return {"taskId": task_id, **{k: task.get(k) for k in keys}}

    # -- cleanupStaleTasksInternal ---------------------------------------------------------------------
    def cleanup_stale_tasks(self, retention_days: float | None = None) -> CleanupResult:
        """`cleanupStaleTasksInternal`: read the whole ledger, abort each `running` task whose container is
        missing or exited, drop finished tasks past retention, write the whole ledger back (no lock)."""
        days = self.config.retention_days if retention_days is None else retention_days
        ledger = self.files.read_ledger()
        tasks: list[Task] = ledger.setdefault("tasks", [])
        aborted = 0
        for task in tasks:
            if task.get("status") == "running":
                status = self.container_status(worker_name(str(task.get("id", ""))))
                if not status.exists or status.exited:
                    task["status"], task["completedAt"] = "aborted", js_iso()
                    aborted += 1
        self._point("cleanup.before_write")

        cutoff = datetime.now(UTC) - timedelta(days=days)
        keep, removed_ids = [], []
        for task in tasks:
            finished = parse_time(task.get("completedAt") or task.get("createdAt"))
            if task.get("status") in TERMINAL and finished is not None and finished < cutoff:
                removed_ids.append(str(task.get("id")))
            else:
                keep.append(task)
        for task_id in removed_ids:
            self.files.output(task_id).unlink(missing_ok=True)
        ledger["tasks"] = keep
        self.files.write_ledger(ledger)

        active = {str(t.get("id")) for t in keep}
        orphaned = 0
        for path in self.files.data.glob("worker-output-*.txt"):
            if path.name.removeprefix("worker-output-").removesuffix(".txt") not in active:
                path.unlink(missing_ok=True)
                orphaned += 1
        self.files.log_audit("worker_cleanup", aborted=aborted, removed=len(removed_ids), orphaned=orphaned)
        return CleanupResult(aborted, len(removed_ids), orphaned, len(keep))

    # -- one cycle -------------------------------------------------------------------------------------
    def run_cycle(
        self, spawn: Mapping[str, Any] | None = None, check: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """One cycle as `runAutonomousCycle` logs it: `cycle_start`, the model's tool calls (`spawnWorker`
        with the `spawn` arguments, `checkWorkerStatus` for each id of `check`, default every `running`
        task), `cycle_complete`, then `cleanupStaleTasksInternal(3)`. Returns the tool results."""
        self.files.log_audit("cycle_start", model=self.config.model)
        calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if spawn is not None:
            args = dict(spawn)
            behaviour = args.pop("behaviour", None)
            calls.append(("spawnWorker", args, self.spawn(behaviour=behaviour, **args).as_tool_result()))
        ids = [str(t.get("id")) for t in self.files.tasks() if t.get("status") == "running"] if check is None else check
        for task_id in ids:
            calls.append(("checkWorkerStatus", {"taskId": task_id}, self.check_worker_status(task_id)))
        for name, args, result in calls:
            self.files.log_audit(
                "tool_result", tool=name, success=True, summary=json.dumps(result)[:500], args=json.dumps(args)[:500]
            )
        steps = [{"toolCalls": [{"name": name, "args": args}], "text": ""} for name, args, _ in calls]
        self.files.log_audit("cycle_complete", steps=steps or [{"toolCalls": [], "text": "nothing to do"}])
        self.cleanup_stale_tasks()
        return [result for _, _, result in calls]

    # -- waiting, for tests ----------------------------------------------------------------------------
    def wait_for(self, task_id: str, statuses: Iterable[str], timeout: float = 10.0) -> Task:
        """Poll the ledger until the task's status is one of `statuses`; the task, or AssertionError."""
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            task = self.files.task(task_id)
            if task is not None and task.get("status") in wanted:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} never became {sorted(wanted)}: {task}")
            time.sleep(0.02)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every worker agent has ended (each worker made its final write, or is over)."""
        deadline = time.monotonic() + timeout
        for agent in list(self.agents.values()):
            agent.join(timeout=max(0.0, deadline - time.monotonic()))
            assert not agent.is_alive(), f"{agent.name} still running after {timeout}s"

    def wait_exit(self, task_id: str, timeout: float = 10.0) -> int:
        """Wait for the task's container to exit, and to be listed as exited; its exit code.

        Docker 26 answers the wait a moment before its container list says `exited` (20.10 after)."""
        container = self.container(task_id)
        assert container is not None, f"no container for {task_id}"
        code = int(container.wait(timeout=timeout)["StatusCode"])
        deadline = time.monotonic() + timeout
        while not self.client.containers.list(all=True, filters={"id": container.id, "status": "exited"}):
            assert time.monotonic() < deadline, f"{container.name} exited but is not listed as exited"
            time.sleep(0.05)
        return code
