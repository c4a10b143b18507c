"""The churning host of bench_soak.py: ~N containers, a few operations a second, workers and ledger tasks.

One `Churn` owns a private engine's containers and a ledger file in the orchestrator's camelCase shape.
Every 1/rate seconds it runs one operation on a small thread pool (the engine answers in 0.1 to 1 s, so
three run at once at most):

- keep the container count near `target`: run an idle busybox container (`app-<8 hex>`), stop a running
  one (SIGKILL, it is `sleep`), remove an exited one;
- spawn a worker as the orchestrator does: the task goes into the ledger `pending`, then
  `pixel-worker-<first 8 hex of the task id>` starts (labels `pixel.task`, `pixel.timeout`), then the
  task becomes `running` with `startedAt` and `workerId` (the container's 12-hex short id);
- finish a worker: most complete in time (task `completed`, exit code 0, then the container exits, as the
  entrypoint does it); some hang past their `pixel.timeout` (heal kills them and aborts the task); some
  vanish while running (removed under their task: a ghost, which heal aborts after its grace);
- finished tasks older than `keep_finished_s` leave the ledger, as the orchestrator's cleanup drops old ones.

The ledger is written the orchestrator's way (temp file + rename) by re-reading it first, so an abort heal
wrote a moment ago survives (the orchestrator's own read-modify-write race is not what this bench measures).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors

IDLE_COMMAND = ["sleep", "86400"]
TERMINAL = ("completed", "failed", "aborted")


def now_text(seconds: bool = False) -> str:
    """An ISO timestamp as the orchestrator writes it: `createdAt` with ms and Z, `startedAt` as `date -Iseconds`."""
    moment = datetime.now(UTC)
    if seconds:
        return moment.replace(microsecond=0).isoformat()
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Box:
    """One container the churn made."""

    id: str
    name: str
    worker: bool
    running: bool = True
    busy: bool = False
    task: str | None = None
    finish_at: float = 0.0
    """Monotonic time at which a worker's task ends (completed), or vanishes; inf when it hangs."""
    fate: str = "complete"
    """complete, hang or vanish."""


@dataclass
class Counts:
    """What the churn did so far."""

    ops: int = 0
    started: int = 0
    stopped: int = 0
    removed: int = 0
    workers: int = 0
    completed: int = 0
    hung: int = 0
    vanished: int = 0
    failures: int = 0


class Churn:
    """Drives the engine and the ledger until `stop()`; `counts` and `census()` say what it did."""

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        ledger: Path,
        *,
        target: int = 100,
        rate: float = 3.0,
        max_workers: int = 12,
        worker_timeout_s: float = 20.0,
        keep_finished_s: float = 120.0,
        seed: int = 14,
    ) -> None:
        self.client, self.image, self.ledger = client, image, ledger
        self.target, self.rate, self.max_workers = target, rate, max_workers
        self.worker_timeout_s, self.keep_finished_s = worker_timeout_s, keep_finished_s
        self.random = random.Random(seed)
        self.counts = Counts()
        self._boxes: dict[str, Box] = {}
        self._lock = threading.Lock()
        self._ledger_lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(3, thread_name_prefix="churn")
        self._thread = threading.Thread(target=self._run, name="churn", daemon=True)
        self.write_ledger([])

    # -- the ledger ----------------------------------------------------------------------------------

    def read_ledger(self) -> list[dict[str, Any]]:
        """The tasks as on disk now."""
        document = json.loads(self.ledger.read_text())
        return list(document["tasks"] if isinstance(document, dict) else document)

    def write_ledger(self, tasks: list[dict[str, Any]]) -> None:
        """Temp file + rename, as the orchestrator writes it."""
        temp = self.ledger.with_name(self.ledger.name + ".tmp")
        temp.write_text(json.dumps({"version": 1, "tasks": tasks}, indent=2))
        os.replace(temp, self.ledger)

    def change_task(self, task_id: str, **fields: Any) -> None:
        """Re-read the ledger, change one task (unless heal ended it already), drop old finished ones."""
        with self._ledger_lock:
            tasks = self.read_ledger()
            for task in tasks:
                if task.get("id") == task_id and task.get("status") not in TERMINAL:
                    task.update(fields)
            self.write_ledger(self._pruned(tasks))

    def add_task(self, task: dict[str, Any]) -> None:
        """Append a task (re-reading first)."""
        with self._ledger_lock:
            self.write_ledger([*self._pruned(self.read_ledger()), task])

    def _pruned(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Without the tasks finished more than keep_finished_s ago."""
        horizon = time.time() - self.keep_finished_s
        kept = []
        for task in tasks:
            ended = task.get("completedAt")
            if task.get("status") in TERMINAL and isinstance(ended, str):
                with contextlib.suppress(ValueError):
                    if datetime.fromisoformat(ended.replace("Z", "+00:00")).timestamp() < horizon:
                        continue
            kept.append(task)
        return kept

    # -- the loop ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin churning."""
        self._thread.start()

    def stop(self) -> None:
        """Stop churning and wait for the operations in hand."""
        self._stop.set()
        self._thread.join(10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def census(self) -> tuple[int, int]:
        """(containers the churn holds, of which workers)."""
        with self._lock:
            return len(self._boxes), sum(box.worker for box in self._boxes.values())

    def _run(self) -> None:
        period = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += period
            operation = self._choose()
            if operation is not None:
                self.counts.ops += 1
                self._pool.submit(self._guarded, *operation)

    def _guarded(self, function: Any, box: Box | None) -> None:
        try:
            function(box)
        except (docker.errors.DockerException, OSError, ValueError) as error:
            self.counts.failures += 1
            if self.counts.failures <= 20:
                print(f"churn: {function.__name__}: {error}", flush=True)
        finally:
            if box is not None:
                with self._lock:
                    box.busy = False

    def _choose(self) -> tuple[Any, Box | None] | None:
        """The next operation and its target (marked busy), by what the host needs now."""
        now = time.monotonic()
        with self._lock:
            free = [box for box in self._boxes.values() if not box.busy]
            due = [b for b in free if b.worker and b.running and b.task and now >= b.finish_at]
            if due:
                return self._claim(self._finish, self.random.choice(due))
            live_workers = sum(box.worker and box.running for box in self._boxes.values())
            if live_workers < self.max_workers and self.random.random() < 0.35:
                return self._spawn, None
            exited = [box for box in free if not box.running]
            running = [box for box in free if box.running and not box.worker]
            total = len(self._boxes)
            if total < self.target and (not exited or self.random.random() < 0.6):
                return self._run_idle, None
            if exited and (total >= self.target or self.random.random() < 0.5):
                return self._claim(self._remove, self.random.choice(exited))
            if running:
                return self._claim(self._stop_box, self.random.choice(running))
            return None

    @staticmethod
    def _claim(function: Any, box: Box) -> tuple[Any, Box]:
        box.busy = True
        return function, box

    # -- operations ----------------------------------------------------------------------------------

    def _run_idle(self, _: Box | None) -> None:
        name = f"app-{secrets.token_hex(4)}"
        container = self.client.containers.run(self.image, IDLE_COMMAND, name=name, detach=True, network_mode="none")
        with self._lock:
            self._boxes[container.id] = Box(container.id, name, worker=False)
        self.counts.started += 1

    def _stop_box(self, box: Box | None) -> None:
        assert box is not None
        box.running = False
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):  # exited or gone meanwhile
            self.client.api.kill(box.id)
        self.counts.stopped += 1

    def _remove(self, box: Box | None) -> None:
        assert box is not None
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):  # heal may be removing it
            self.client.api.remove_container(box.id, force=True)
        with self._lock:
            self._boxes.pop(box.id, None)
        self.counts.removed += 1

    def _spawn(self, _: Box | None) -> None:
        """The orchestrator's order: the task pending in the ledger, the container, then running."""
        task_id = str(uuid.uuid4())
        roll = self.random.random()
        fate = "hang" if roll < 0.2 else "vanish" if roll < 0.3 else "complete"
        self.add_task({"id": task_id, "status": "pending", "type": "code", "createdAt": now_text(),
                       "payload": {"prompt": "soak"}})  # fmt: skip
        name = f"pixel-worker-{task_id[:8]}"
        labels = {"pixel.task": task_id, "pixel.timeout": f"{self.worker_timeout_s:g}"}
        try:
            container = self.client.containers.run(
                self.image, IDLE_COMMAND, name=name, labels=labels, detach=True, network_mode="none"
            )
        except docker.errors.DockerException:
            self.change_task(task_id, status="failed", completedAt=now_text(), exitCode=-1)
            raise
        span = self.random.uniform(4.0, 0.6 * self.worker_timeout_s)
        finish_at = float("inf") if fate == "hang" else time.monotonic() + span
        with self._lock:
            self._boxes[container.id] = Box(container.id, name, True, task=task_id, finish_at=finish_at, fate=fate)
        self.change_task(task_id, status="running", startedAt=now_text(seconds=True), workerId=container.id[:12])
        self.counts.started += 1
        self.counts.workers += 1
        self.counts.hung += fate == "hang"

    def _finish(self, box: Box | None) -> None:
        """The task ends (completed, then the container exits), or the container vanishes under it."""
        assert box is not None and box.task is not None
        if box.fate == "vanish":
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(box.id, force=True)
            with self._lock:
                self._boxes.pop(box.id, None)
            self.counts.vanished += 1
            return
        self.change_task(box.task, status="completed", completedAt=now_text(), exitCode=0, summary="done")
        box.running = False
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):  # heal may have ended it first
            self.client.api.kill(box.id)
        self.counts.completed += 1

    def forget_gone(self) -> None:
        """Drop the boxes the engine no longer has (heal removed them), so the count stays near target."""
        present = {item["Id"]: item["State"] for item in self.client.api.containers(all=True)}
        with self._lock:
            for key, box in list(self._boxes.items()):
                if box.busy:
                    continue
                if key not in present:
                    del self._boxes[key]
                else:
                    box.running = present[key] == "running"
