"""The orchestrator model (tests/syntropy) does what ORCHESTRATOR.md says Syntropy does, on the real engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.syntropy import (
    LOG_TAILER_NAME,
    DataFiles,
    InvariantMonitor,
    Phantom,
    Syntropy,
    SyntropyConfig,
    WorkerBehaviour,
    completed_but_running,
    dead_lock,
    hung_worker,
    js_iso,
    log_tailer,
    phantoms,
    worker_name,
)

JS_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DATE_ISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def make(engine, tmp_path):
    """Build `Syntropy` models on the private engine (root under tmp_path); all closed after the test."""
    made: list[Syntropy] = []

    def build(**config) -> Syntropy:
        config.setdefault("root", tmp_path / "pixel")
        made.append(Syntropy(engine.url, SyntropyConfig(**config)))
        return made[-1]

    yield build
    for syntropy in made:
        syntropy.close()
    assert [f for s in made for a in s.agents.values() for f in a.failures] == []  # every ledger write went through


@pytest.fixture
def syntropy(make) -> Syntropy:
    """A model with the real defaults."""
    return make()


def running_task(task_id: str, *, worker_id: str | None = "0123456789ab", **fields) -> dict:
    """A ledger task as the worker leaves it once running."""
    task = {
        "id": task_id,
        "status": "running",
        "createdAt": js_iso(),
        "type": "opencode",
        "payload": {"task": "t"},
        "attempts": 0,
        "maxAttempts": 3,
        "startedAt": "2030-01-01T00:00:00+00:00",
    }
    if worker_id is not None:
        task["workerId"] = worker_id
    return {**task, **fields}


def audit_types(syntropy: Syntropy) -> list[str]:
    """The types of the audit lines so far, in order."""
    return [entry["type"] for entry in syntropy.files.audit_entries()]


def finished_at_ns(container) -> int:
    """The container's State.FinishedAt in nanoseconds since the epoch (engine timestamps carry ns)."""
    container.reload()
    stamp = container.attrs["State"]["FinishedAt"]
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp()
    return int(seconds) * 10**9 + int((fraction + "0" * 9)[:9])


# -- spawning, in the real order -------------------------------------------------------------------------
def test_the_lock_comes_before_the_pending_task_and_the_task_before_the_container(make):
    seen: dict[str, tuple] = {}
    syntropy: Syntropy

    def look(point: str):
        def hook() -> None:
            names = [c.name for c in syntropy.client.containers.list(all=True)]
            lock = syntropy.files.lock.read_text() if syntropy.files.lock.exists() else None
            seen[point] = (lock, syntropy.files.tasks(), names)

        return hook

    points = ("spawn.after_read", "spawn.after_lock", "spawn.after_task")
    syntropy = make(hooks={point: look(point) for point in points})
    spawned = syntropy.spawn("the task", context="some context")
    assert spawned.ok and spawned.task_id and UUID4.match(spawned.task_id)

    assert seen["spawn.after_read"] == (None, [], [])  # ledger read: no lock, no task, no container yet
    lock_text, tasks, names = seen["spawn.after_lock"]
    provisional = json.loads(lock_text)
    assert list(provisional) == ["taskId", "createdAt"] and JS_ISO.match(provisional["createdAt"])
    assert UUID4.match(provisional["taskId"]) and provisional["taskId"] != spawned.task_id  # a uuid of its own
    assert lock_text.startswith('{\n  "taskId": ') and tasks == [] and names == []

    lock_text, tasks, names = seen["spawn.after_task"]
    assert json.loads(lock_text)["taskId"] == spawned.task_id  # rewritten once the task exists
    (task,) = tasks
    assert task == {
        "id": spawned.task_id,
        "status": "pending",
        "createdAt": task["createdAt"],
        "type": "opencode",
        "payload": {"task": "the task", "context": "some context"},
        "attempts": 0,
        "maxAttempts": 3,
    }
    assert list(task)[:3] == ["id", "status", "createdAt"] and JS_ISO.match(task["createdAt"])
    assert names == []  # no container before `compose run`
    assert syntropy.container(spawned.task_id) is not None
    assert audit_types(syntropy) == ["worker_task_created", "worker_spawned"]


def test_the_worker_is_a_compose_one_off_named_after_its_task(syntropy):
    spawned = syntropy.spawn(behaviour=WorkerBehaviour(body="sleep 5", timeout_seconds=123))
    container = syntropy.container(spawned.task_id)
    assert container is not None and container.name == f"pixel-worker-{spawned.task_id[:8]}" == spawned.container_name
    labels = container.labels
    assert labels["com.docker.compose.service"] == "worker" and labels["com.docker.compose.oneoff"] == "True"
    assert labels["com.docker.compose.project"] == "pixel" and "pixel.task" not in labels
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["TASK_ID"] == spawned.task_id and env["WORKER_TIMEOUT_SECONDS"] == "123"
    assert container.attrs["HostConfig"]["NetworkMode"] == "none"
    assert container.attrs["Config"]["Hostname"] == container.id[:12]


def test_the_worker_marks_running_then_completed_before_its_container_exits_and_frees_the_lock(syntropy):
    body = "echo step one; sleep 0.6; echo '## Summary'; echo 'fixed it'"
    spawned = syntropy.spawn(behaviour=WorkerBehaviour(body=body))
    container = syntropy.container(spawned.task_id)
    task = syntropy.wait_for(spawned.task_id, {"running"})
    assert re.fullmatch(r"[0-9a-f]{12}", task["workerId"]) and container.id.startswith(task["workerId"])
    assert DATE_ISECONDS.match(task["startedAt"]) and "completedAt" not in task
    assert syntropy.files.read_lock()["taskId"] == spawned.task_id

    assert syntropy.wait_exit(spawned.task_id) == 0
    task = syntropy.files.task(spawned.task_id)
    assert task["status"] == "completed" and task["exitCode"] == 0 and DATE_ISECONDS.match(task["completedAt"])
    assert task["output"] == "step one\n## Summary\nfixed it\n" and task["summary"] == "## Summary\nfixed it\n"
    assert syntropy.files.ledger.stat().st_mtime_ns < finished_at_ns(container)  # written before the exit
    assert not syntropy.files.lock.exists()  # the EXIT trap: the lock held this task
    assert syntropy.files.ledger.read_text().endswith("}\n")  # jq's newline: the worker wrote last
    assert syntropy.files.output(spawned.task_id).read_text().startswith("step one\n")


def test_a_failed_task_gives_its_exit_code_and_a_cooldown(syntropy):
    spawned = syntropy.spawn(behaviour=WorkerBehaviour(body="echo oops; exit 3"))
    assert syntropy.wait_exit(spawned.task_id) == 3
    task = syntropy.files.task(spawned.task_id)
    assert (task["status"], task["exitCode"], task["output"], task["summary"]) == ("failed", 3, "oops\n", "\n")

    refused = syntropy.spawn()
    assert not refused.ok and refused.reason == "cooldown_after_failure"
    entry = syntropy.files.audit_entries()[-1]
    assert entry["type"] == "worker_spawn_rejected" and entry["reason"] == "cooldown_after_failure"
    assert entry["lastTaskId"] == spawned.task_id and 50 <= entry["waitSeconds"] <= 60
    assert worker_name(spawned.task_id) not in [c.name for c in syntropy.client.containers.list(all=True)]  # step 1
    syntropy.config.cooldown_s = 0.0
    assert syntropy.spawn().ok


@pytest.mark.parametrize(
    ("behaviour", "code", "line"),
    [
        (WorkerBehaviour(body="sleep 30", timeout_seconds=1), 124, "TIMEOUT: Task exceeded 1s limit"),
        (WorkerBehaviour(body="sleep 30", timeout_seconds=1, kill_after=1, ignore_term=True), 137, None),
    ],
    ids=["term", "kill-after"],
)
def test_the_timeout_ends_the_body_and_the_worker_still_writes_failed(syntropy, behaviour, code, line):
    spawned = syntropy.spawn(behaviour=behaviour)
    assert syntropy.wait_exit(spawned.task_id) == code
    task = syntropy.files.task(spawned.task_id)
    assert task["status"] == "failed" and task["exitCode"] == code and not syntropy.files.lock.exists()
    assert (line in task["output"]) if line else "TIMEOUT" not in task["output"]


@pytest.mark.parametrize("how", ["sigkill", "docker-stop-of-a-hung-worker"])
def test_a_worker_killed_from_outside_leaves_its_lock_and_its_running_task(syntropy, how):
    if how == "sigkill":
        spawned = syntropy.spawn(behaviour=WorkerBehaviour(body="sleep 30"))
        syntropy.wait_for(spawned.task_id, {"running"})
        syntropy.container(spawned.task_id).kill()
    else:
        spawned = hung_worker(syntropy, timeout_seconds=1)
        time.sleep(1.2)
        assert syntropy.container(spawned.task_id).status == "running"  # outlived WORKER_TIMEOUT_SECONDS=1
        started = time.monotonic()
        syntropy.container(spawned.task_id).stop(timeout=1)  # PID 1 ignores TERM: SIGKILL after 1 s
        assert time.monotonic() - started >= 0.9
    assert syntropy.wait_exit(spawned.task_id) == 137
    assert syntropy.files.read_lock()["taskId"] == spawned.task_id  # no trap
    assert syntropy.files.task(spawned.task_id)["status"] == "running"  # nobody wrote
    assert syntropy.cleanup_stale_tasks().aborted == 1
    task = syntropy.files.task(spawned.task_id)
    assert task["status"] == "aborted" and JS_ISO.match(task["completedAt"]) and "exitCode" not in task
    assert syntropy.files.read_lock()["taskId"] == spawned.task_id  # cleanup never touches the lock


# -- cleaning up, and its lost updates -------------------------------------------------------------------
def test_cleanup_writes_back_a_stale_ledger_over_the_workers_completed(make):
    syntropy: Syntropy
    seen: list[str] = []

    def worker_finishes_meanwhile() -> None:
        syntropy.wait_exit(task_id)
        seen.append(syntropy.files.task(task_id)["status"])

    syntropy = make(hooks={"cleanup.before_write": worker_finishes_meanwhile})
    task_id = syntropy.spawn(behaviour=WorkerBehaviour(body="sleep 0.5")).task_id
    syntropy.wait_for(task_id, {"running"})
    result = syntropy.cleanup_stale_tasks()
    assert seen == ["completed"] and result.aborted == 0  # it inspected while the worker still ran
    task = syntropy.files.task(task_id)
    assert task["status"] == "running" and "exitCode" not in task and "output" not in task  # the update is lost
    assert not syntropy.files.lock.exists()
    syntropy.config.hooks.clear()
    assert syntropy.cleanup_stale_tasks().aborted == 1  # the next cycle calls the finished task aborted
    assert syntropy.files.task(task_id)["status"] == "aborted"


def test_cleanup_undoes_an_abort_written_between_its_read_and_its_write(make, engine):
    task_id = str(uuid.uuid4())
    container = engine.run("sleep 60", name=worker_name(task_id))

    def pixel_tui_kills_it() -> None:  # what a kill by pixel-tui does: container gone, task aborted
        container.remove(force=True)
        ledger = files.read_ledger()
        ledger["tasks"][0].update(status="aborted", completedAt=js_iso())
        files.write_ledger(ledger)

    syntropy = make(hooks={"cleanup.before_write": pixel_tui_kills_it})
    files = syntropy.files
    files.write_ledger({"version": 1, "tasks": [running_task(task_id, worker_id=container.id[:12])]})
    assert syntropy.cleanup_stale_tasks().aborted == 0
    assert files.task(task_id)["status"] == "running"  # the abort is undone
    assert phantoms(engine.url, files.ledger) == [Phantom(task_id, "running", None)]


def test_a_spawn_writes_back_the_ledger_it_read_before_taking_the_lock(make, tmp_path):
    ghost = str(uuid.uuid4())
    root = tmp_path / "pixel"
    files = DataFiles(root).make()
    files.write_ledger({"version": 1, "tasks": [{"id": ghost, "status": "pending", "createdAt": js_iso()}]})

    def abort_the_ghost() -> None:
        ledger = files.read_ledger()
        ledger["tasks"][0].update(status="aborted", completedAt=js_iso())
        files.write_ledger(ledger)

    syntropy = make(root=root, hooks={"spawn.after_read": abort_the_ghost})
    assert syntropy.spawn(behaviour=WorkerBehaviour(body="true")).ok
    assert files.task(ghost)["status"] == "pending"


def test_check_worker_status_and_cleanup_resolve_running_but_never_pending(syntropy, engine):
    done = engine.run("sh -c 'exit 0'", name=worker_name("d0d0d0d0"))
    done.wait()
    tasks = [
        running_task("a0a0a0a0-0000-4000-8000-000000000000"),  # no container: failed, exit -1
        running_task("d0d0d0d0-0000-4000-8000-000000000000"),  # exited 0: completed
        running_task("b0b0b0b0-0000-4000-8000-000000000000", worker_id=None),  # no workerId: not checked
        {"id": "c0c0c0c0-0000-4000-8000-000000000000", "status": "pending", "createdAt": js_iso()},
    ]
    syntropy.files.write_ledger({"version": 1, "tasks": tasks})
    results = [syntropy.check_worker_status(t["id"]) for t in tasks]
    assert [(r["status"], r["exitCode"]) for r in results] == [
        ("failed", -1),
        ("completed", 0),
        ("running", None),
        ("pending", None),
    ]
    assert JS_ISO.match(syntropy.files.task(tasks[0]["id"])["completedAt"])
    updated = [e for e in syntropy.files.audit_entries() if e["type"] == "worker_status_updated"]
    assert [(e["taskId"][:8], e["status"], e["exitCode"]) for e in updated] == [
        ("a0a0a0a0", "failed", -1),
        ("d0d0d0d0", "completed", 0),
    ]

    assert syntropy.cleanup_stale_tasks().aborted == 1
    statuses = {t["id"][:8]: t["status"] for t in syntropy.files.tasks()}
    assert statuses == {"a0a0a0a0": "failed", "d0d0d0d0": "completed", "b0b0b0b0": "aborted", "c0c0c0c0": "pending"}


def test_cleanup_drops_finished_tasks_older_than_three_days_and_their_outputs(syntropy):
    old, recent = (js_iso(datetime.now(UTC) - timedelta(days=d)) for d in (3.1, 2.9))
    tasks = [
        {"id": "0ld00000-1", "status": "completed", "createdAt": old, "completedAt": old},
        {"id": "0ld00000-2", "status": "aborted", "createdAt": old},  # no completedAt: createdAt counts
        {"id": "new00000-3", "status": "failed", "createdAt": old, "completedAt": recent},
        {"id": "0ld00000-4", "status": "pending", "createdAt": old},  # never resolved, never dropped
    ]
    syntropy.files.write_ledger({"version": 1, "tasks": tasks, "extra": "kept"})
    for name in ("0ld00000-1", "new00000-3", "gone0000-5"):
        syntropy.files.output(name).write_text("output\n")
    result = syntropy.cleanup_stale_tasks()
    assert (result.aborted, result.removed, result.orphaned, result.remaining) == (0, 2, 1, 2)
    assert [t["id"] for t in syntropy.files.tasks()] == ["new00000-3", "0ld00000-4"]
    assert sorted(p.name for p in syntropy.files.data.glob("worker-output-*")) == ["worker-output-new00000-3.txt"]
    assert syntropy.files.read_ledger()["extra"] == "kept"
    assert syntropy.files.audit_entries()[-1] | {"timestamp": 0} == {
        "timestamp": 0,
        "type": "worker_cleanup",
        "aborted": 0,
        "removed": 2,
        "orphaned": 1,
    }


# -- the lock: stale by the orchestrator's rule, and the incidents ---------------------------------------
def test_a_lock_with_no_running_pixel_worker_is_deleted_by_the_spawn_itself(syntropy, engine):
    dead_lock(syntropy)
    exited = [engine.run("true", name=name) for name in ("pixel-worker-0ddba11a", "other-pixel-worker-x")]
    for container in exited:
        container.wait()
    spawned = syntropy.spawn(behaviour=WorkerBehaviour(body="sleep 2"))
    assert spawned.ok
    assert syntropy.files.read_lock()["taskId"] == spawned.task_id
    names = {c.name for c in syntropy.client.containers.list(all=True)}
    assert names == {spawned.container_name}  # exited containers containing `pixel-worker-` removed, any name


def test_the_log_tailer_keeps_a_dead_lock_alive_and_blocks_every_spawn(syntropy):
    tailer = log_tailer(syntropy)
    lock_before, ledger_before = syntropy.files.lock.read_text(), syntropy.files.ledger.read_text()
    refused = syntropy.spawn()
    assert not refused.ok and refused.reason == "worker_busy" and LOG_TAILER_NAME in refused.error
    entry = syntropy.files.audit_entries()[-1]
    assert entry | {"timestamp": 0} == {
        "timestamp": 0,
        "type": "worker_spawn_rejected",
        "reason": "worker_busy",
        "detail": f"Worker already running: {LOG_TAILER_NAME}",
    }
    assert syntropy.files.lock.read_text() == lock_before and syntropy.files.ledger.read_text() == ledger_before
    tailer.remove(force=True)
    spawned = syntropy.spawn(behaviour=WorkerBehaviour(body="true"))
    assert spawned.ok and syntropy.files.read_lock()["taskId"] == spawned.task_id


def test_a_failed_compose_run_leaves_the_lock_and_a_pending_task_that_nothing_resolves(make, engine):
    syntropy = make(compose_fails=True, compose_delay_s=0.2)
    failed = syntropy.spawn()
    assert not failed.ok and failed.reason == "compose_failed" and failed.task_id
    assert syntropy.files.read_lock()["taskId"] == failed.task_id
    assert syntropy.container(failed.task_id) is None
    syntropy.cleanup_stale_tasks()
    syntropy.check_worker_status(failed.task_id)
    assert syntropy.files.task(failed.task_id)["status"] == "pending"
    assert phantoms(engine.url, syntropy.files.ledger) == [Phantom(failed.task_id, "pending", None)]
    syntropy.config.compose_fails = False
    assert syntropy.spawn(behaviour=WorkerBehaviour(body="true")).ok  # the lock was called stale


def test_completed_but_running_holds_the_lock_until_it_exits(syntropy):
    spawned = completed_but_running(syntropy, linger=1.5)
    container = syntropy.container(spawned.task_id)
    assert container.status == "running" and syntropy.files.task(spawned.task_id)["status"] == "completed"
    assert syntropy.files.read_lock()["taskId"] == spawned.task_id
    assert not syntropy.spawn().ok  # single flight holds
    assert syntropy.wait_exit(spawned.task_id) == 0
    assert not syntropy.files.lock.exists()


# -- the invariant monitor -------------------------------------------------------------------------------
def test_the_monitor_sees_two_workers_at_once_but_not_the_log_tailer(engine, tmp_path):
    ledger = tmp_path / "task-ledger.json"
    ledger.write_text('{"version": 1, "tasks": []}')
    with InvariantMonitor(engine.url, ledger, interval=0.05) as monitor:
        engine.run("sleep 30", name="pixel-worker-aaaaaaaa", labels={"com.docker.compose.project": "pixel"})
        engine.run("sleep 30", name=LOG_TAILER_NAME, labels={"com.docker.compose.project": "pixel"})
        time.sleep(0.3)
        assert monitor.violations == [] and monitor.max_running == 1
        engine.run("sleep 30", name="pixel-worker-bbbbbbbb", labels={"com.docker.compose.project": "other"})
        ledger.write_text('{"version": 1, "tasks": [')  # written in place, torn
        time.sleep(0.3)
    kinds = sorted(v.kind for v in monitor.violations)
    assert kinds == ["ledger_unreadable", "two_workers"] and monitor.max_running == 2 and monitor.errors == []
    assert "pixel-worker-aaaaaaaa" in next(v.detail for v in monitor.violations if v.kind == "two_workers")
    with pytest.raises(AssertionError, match="two_workers"):
        monitor.assert_clean()
    scoped = InvariantMonitor(engine.url, project="pixel")
    scoped.poll()
    scoped.stop()
    assert scoped.violations == [] and scoped.max_running == 1


def test_the_monitor_stays_clean_over_a_run_of_cycles(make, engine):
    syntropy = make(cooldown_s=0.0)
    with InvariantMonitor(engine.url, syntropy.files.ledger, interval=0.05) as monitor:
        for _ in range(3):
            syntropy.run_cycle(spawn={"task": "cycle task", "behaviour": WorkerBehaviour(body="sleep 0.3")})
            time.sleep(0.2)
        syntropy.wait_idle()
    monitor.assert_clean()
    assert [t["status"] for t in syntropy.files.tasks()].count("completed") >= 1


# -- the audit log and the cycle -------------------------------------------------------------------------
def test_a_cycle_logs_what_the_orchestrator_logs(syntropy):
    (result,) = syntropy.run_cycle(spawn={"task": "write the report"}, check=())
    syntropy.wait_exit(result["taskId"])
    entries = syntropy.files.audit_entries()
    assert [e["type"] for e in entries] == [
        "cycle_start",
        "worker_task_created",
        "worker_spawned",
        "tool_result",
        "cycle_complete",
        "worker_cleanup",
    ]
    assert all(JS_ISO.match(e["timestamp"]) and list(e)[:2] == ["timestamp", "type"] for e in entries)
    start, created, spawned, tool, complete, cleanup = entries
    assert start["model"] and "cycle" not in start
    assert created["task"] == "write the report" and spawned["containerName"] == worker_name(result["taskId"])
    assert (
        tool["tool"] == "spawnWorker"
        and tool["success"] is True
        and json.loads(tool["args"]) == {"task": "write the report"}
    )
    assert complete["steps"] == [
        {"toolCalls": [{"name": "spawnWorker", "args": {"task": "write the report"}}], "text": ""}
    ]
    assert set(cleanup) == {"timestamp", "type", "aborted", "removed", "orphaned"}


def test_the_audit_log_keeps_its_last_500_lines(tmp_path):
    files = DataFiles(tmp_path).make()
    for n in range(505):
        files.log_audit("cycle_skipped", reason=f"r{n}")
    lines = files.audit.read_text().splitlines()
    assert len(lines) == 500 and json.loads(lines[0])["reason"] == "r5" and json.loads(lines[-1])["reason"] == "r504"
    assert lines[0].startswith('{"timestamp":"') and '"type":"cycle_skipped"' in lines[0]


def test_an_unreadable_ledger_is_read_as_empty_and_replaced_by_the_next_write(tmp_path):
    files = DataFiles(tmp_path).make()
    files.ledger.write_text('{"version": 1, "tasks": [{"id": "x"')
    assert files.read_ledger() == {"version": 1, "tasks": []}
    assert files.create_lock("one") and not files.create_lock("two")
    assert files.read_lock()["taskId"] == "one"
    assert not os.path.exists(str(files.ledger) + ".tmp")


# -- as a process of its own -----------------------------------------------------------------------------
def test_the_model_runs_as_a_separate_process(engine, tmp_path):
    root = tmp_path / "pixel"
    command = [
        sys.executable,
        "-m",
        "tests.syntropy",
        "--docker-host",
        engine.url,
        "--root",
        str(root),
        "spawn",
        "--body",
        "echo from a process",
        "--wait",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[0])
    assert result["ok"] and result["container_name"] == worker_name(result["task_id"])
    task = DataFiles(root).task(result["task_id"])
    assert task["status"] == "completed" and task["output"] == "from a process\n"


def test_a_process_model_ends_its_loop_on_sigterm(engine, tmp_path):
    command = [
        sys.executable,
        "-m",
        "tests.syntropy",
        "--docker-host",
        engine.url,
        "--root",
        str(tmp_path),
        "loop",
        "--interval",
        "0.2",
    ]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert json.loads(first) == {"cycle": 1, "results": []}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
