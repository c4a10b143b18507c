"""The real incidents, set up on a `Syntropy` model: each returns what a test needs to look at.

- `log_tailer`: a long-running container named `pixel-worker-logs-1` (Compose service `worker-logs`,
  not a worker) next to a dead lock. The orchestrator's `docker ps --filter name=pixel-worker-` sees
  it, so it never calls the lock stale and every spawn is rejected `worker_busy`, for hours.
- `completed_but_running`: the task is `completed` in the ledger while its container keeps running
  (and holding the lock) for `linger` seconds.
- `hung_worker`: a worker that ignores TERM and runs without its `timeout` kill switch, outliving
  WORKER_TIMEOUT_SECONDS; `docker stop` ends it only by SIGKILL, so its trap never runs.
- `dead_lock`: a lock left by a worker killed from outside, its task long finished.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docker.models.containers import Container

from tests.syntropy.files import js_iso
from tests.syntropy.orchestrator import SpawnResult, Syntropy
from tests.syntropy.worker import WorkerBehaviour

LOG_TAILER_NAME = "pixel-worker-logs-1"
DEAD_TASK_ID = "0dead10c-0000-4000-8000-000000000001"


def dead_lock(orchestrator: Syntropy, task_id: str = DEAD_TASK_ID, age_s: float = 3 * 3600) -> str:
    """A lock holding `task_id`, `age_s` old, whose task the ledger shows `aborted` since; returns the id.

    (The worker was killed from outside, so its trap never removed the lock; a later cleanup aborted
    the task. No `exitCode`, so no cooldown.)"""
    files = orchestrator.files
    then = datetime.now(UTC) - timedelta(seconds=age_s)
    ledger = files.read_ledger()
    ledger.setdefault("tasks", []).append(
        {
            "id": task_id,
            "status": "aborted",
            "createdAt": js_iso(then),
            "type": "opencode",
            "payload": {"task": "the task whose worker was killed"},
            "attempts": 0,
            "maxAttempts": 3,
            "startedAt": then.replace(microsecond=0).isoformat(),
            "workerId": "0123456789ab",
            "completedAt": js_iso(then + timedelta(minutes=50)),
        }
    )
    files.write_ledger(ledger)
    files.lock.write_text(f'{{\n  "taskId": "{task_id}",\n  "createdAt": "{js_iso(then)}"\n}}', encoding="utf-8")
    return task_id


def log_tailer(orchestrator: Syntropy, *, with_dead_lock: bool = True) -> Container:
    """Start `pixel-worker-logs-1` (the project's `worker-logs` service, replica 1) and, by default, a
    dead lock beside it; returns the tailer's container."""
    if with_dead_lock:
        dead_lock(orchestrator)
    project = orchestrator.config.project
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": "worker-logs",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.container-number": "1",
    }
    # `docker compose logs -f` stands in as a loop that ends promptly on TERM.
    command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
    container: Container = orchestrator.client.containers.run(
        orchestrator.config.image, command, name=LOG_TAILER_NAME, labels=labels, network_mode="none", detach=True
    )
    return container


def completed_but_running(
    orchestrator: Syntropy, linger: float = 5.0, body: str = "echo done; echo '## Summary'; echo 'all good'"
) -> SpawnResult:
    """Spawn a worker that writes `completed` and then keeps running for `linger` seconds; returns once
    the ledger says `completed` (the container is still running then)."""
    spawned = orchestrator.spawn("completed but running", behaviour=WorkerBehaviour(body=body, linger=linger))
    assert spawned.ok and spawned.task_id, spawned
    orchestrator.wait_for(spawned.task_id, {"completed", "failed"}, timeout=10 + linger)
    return spawned


def hung_worker(orchestrator: Syntropy, timeout_seconds: int = 1) -> SpawnResult:
    """Spawn a worker hung past its WORKER_TIMEOUT_SECONDS that ignores TERM; returns once it is `running`."""
    behaviour = WorkerBehaviour(
        body="echo 'waiting for a prompt'; sleep 3600",
        timeout_seconds=timeout_seconds,
        enforce_timeout=False,
        ignore_term=True,
    )
    spawned = orchestrator.spawn("hung worker", behaviour=behaviour)
    assert spawned.ok and spawned.task_id, spawned
    orchestrator.wait_for(spawned.task_id, {"running"})
    return spawned
