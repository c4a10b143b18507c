"""Remediation beside the orchestrator as it really behaves (ORCHESTRATOR.md), on the private engine.

Each test is one way the earlier executor made things worse: a live lock cleared, a finishing worker
removed, a briefly stopped worker's task aborted, a `pending` task left behind, another task's worker
bound by a short `workerId`, an ended task reported as a failed kill, an abort undone unnoticed,
actions holding up the collection, a dead lock never cleared. The orchestrator's own writes are made
here as it makes them: the whole ledger, to a temporary file, renamed over.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pixel_tui.pipeline import Pipeline
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.remediate.engine_ops import DockerOps
from pixel_tui.settings import AutohealSettings
from tests.remediation import Bench, bench
from tests.test_remediate_engine import ago

TASK = "3f2a9c1d-0000-4000-8000-000000000001"
WORKER = "pixel-worker-3f2a9c1d"
OTHER = "5e5e5e5e-0000-4000-8000-000000000005"
TERM_IGNORED = ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]


def orchestrator_writes(ledger: Path, tasks: list[dict[str, Any]]) -> None:
    """The whole ledger, as the orchestrator writes it: a temporary file renamed over the old one."""
    temp = ledger.with_name(ledger.name + ".tmp")
    temp.write_text(json.dumps({"version": 1, "tasks": tasks}, indent=2))
    os.replace(temp, ledger)


def take_lock(b: Bench, task_id: str, created: str) -> None:
    """`wx`: the lock the orchestrator takes before the task exists."""
    with open(b.lock, "x") as lock:
        lock.write(json.dumps({"taskId": task_id, "createdAt": created}))


def steps_of(outcomes) -> dict[str, Any]:
    return {outcome.step.op: outcome for outcome in outcomes}


# -- the lock ---------------------------------------------------------------------------------------


def test_the_lock_of_a_spawn_still_starting_is_never_cleared(engine, tmp_path):
    """Lock taken, task pending, `docker compose run` still pulling: no container exists yet."""
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "pending", "createdAt": ago(0.5)}])
    take_lock(b, TASK, ago(0.5))
    try:
        snapshot = b.collector.collect()
        assert not snapshot.lock.stale and "spawn is starting" in snapshot.lock.why
        assert not snapshot.phantoms
        plan = b.executor.plan("workers.resolve_phantoms", snapshot)
        assert plan.steps == () and plan.nothing == "no phantom and no stale lock"
    finally:
        b.close()
    assert b.lock.exists() and b.task(TASK)["status"] == "pending"


def test_a_lock_judged_stale_is_left_alone_when_it_changed_or_came_alive(engine, tmp_path):
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "pending", "createdAt": ago(300)}], spawn_window_s=120)
    take_lock(b, TASK, ago(300))
    try:
        snapshot = b.collector.collect()
        assert snapshot.lock.stale  # pending for 5 minutes, no container: past the spawn window
        plan = b.executor.plan("workers.resolve_phantoms", snapshot)
        # Meanwhile the spawn gets its container: created, not even started.
        created = engine.client.containers.create(engine.image, "sleep 600", name=WORKER, network_mode="none")
        outcomes = steps_of(b.executor.execute(plan, actor="t"))
        assert outcomes["clear-lock"].outcome == "refused"
        assert outcomes["clear-lock"].error == f"the lock is live: held by {WORKER} (created)"
        assert outcomes["abort-ghost"].outcome == "refused" and "has a worker now" in outcomes["abort-ghost"].error
        assert b.lock.exists() and b.task(TASK)["status"] == "pending"
        created.remove(force=True)
        # The orchestrator deleted the stale lock itself and took a new one for a new task: not ours to clear.
        b.lock.unlink()
        take_lock(b, OTHER, ago(0))
        outcome = steps_of(b.executor.execute(plan, actor="t"))["clear-lock"]
    finally:
        b.close()
    assert outcome.outcome == "refused" and outcome.error.startswith("the lock changed since it was judged stale")
    assert json.loads(b.lock.read_text())["taskId"] == OTHER


def test_autoheal_clears_a_dead_lock_once_stale_past_its_grace(engine, tmp_path):
    """The log tailer incident: a dead lock and a `pixel-worker-logs-1` that is not a worker; every spawn blocked."""
    tailer = engine.run("sleep 600", name="pixel-worker-logs-1")
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "running", "startedAt": ago(900)}], lock_grace_s=30)
    take_lock(b, TASK, ago(900))
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        first = pipeline.step()
        autoheal.wait(10)
        assert first.snapshot.lock.stale and b.lock.exists(), "not before its grace"
        # Steps of the clock far above the real time a collection takes (a second on podman, loaded).
        b.clock.advance(20.0)
        pipeline.step()
        autoheal.wait(10)
        assert b.lock.exists(), "stale for 20 s of a 30 s grace"
        b.clock.advance(20.0)
        pipeline.step()  # stale for 40 s: cleared
        autoheal.wait(10)
        last = pipeline.step()
    finally:
        b.close()
    assert not b.lock.exists()
    assert last.snapshot.lock.task_id is None and not last.snapshot.lock.stale
    cleared = next(record for record in b.audit_lines() if record["step"] == "clear-lock")
    assert cleared["actor"] == "autoheal" and cleared["context"]["target"]["stale_s"] >= 30
    assert engine.client.containers.get(tailer.id).status == "running"


# -- graces -----------------------------------------------------------------------------------------


def test_a_worker_whose_task_just_completed_is_left_to_finish(engine, tmp_path):
    """The entrypoint marks the task completed before the container exits: not an orphan for its grace."""
    worker = engine.run("sleep 600", name=WORKER)
    done = [{"id": TASK, "status": "completed", "startedAt": ago(1), "completedAt": ago(0), "exitCode": 0}]
    b = bench(engine.url, tmp_path, done)
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        for _ in range(3):
            step = pipeline.step()
            autoheal.wait(10)
            assert not step.snapshot.phantoms
    finally:
        b.close()
    assert engine.client.containers.get(worker.id).status == "running" and b.audit_lines() == []


def test_a_worker_of_another_compose_project_is_never_touched(engine, tmp_path):
    labels = {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True",
              "com.docker.compose.project": "someone-else"}  # fmt: skip
    foreign = engine.run("sleep 600", name="someone-else-worker-run-1a2b", labels=labels)
    b = bench(engine.url, tmp_path, [], orphan_grace_s=1.0, compose_project="pixel", ahead_s=1.2)
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        step = pipeline.step()
        autoheal.wait(10)
        assert foreign.name not in {w.container for w in step.snapshot.workers}
        plan = b.executor.plan("worker.kill", step.snapshot, foreign.id)
    finally:
        b.close()
    assert plan.steps == ()
    assert engine.client.containers.get(foreign.id).status == "running" and b.audit_lines() == []


def test_a_brief_stop_of_a_long_running_worker_does_not_abort_its_task(engine, tmp_path):
    worker = engine.run("sleep 600", name=WORKER)
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "running", "startedAt": ago(600)}])
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        pipeline.step()  # seen running
        worker.stop(timeout=0)
        stopped = pipeline.step()
        autoheal.wait(10)
        assert not stopped.snapshot.phantoms  # a 10-minute-old task, its worker stopped for a second
        worker.start()
        again = pipeline.step()
        autoheal.wait(10)
    finally:
        b.close()
    assert not again.snapshot.phantoms and b.task(TASK)["status"] == "running" and b.audit_lines() == []


# -- killing ----------------------------------------------------------------------------------------


def test_killing_a_worker_whose_running_update_was_lost_aborts_its_pending_task(engine, tmp_path):
    """The cleanup's read-modify-write lost the worker's `running`: the task stays pending while it runs."""
    worker = engine.run("sleep 600", name=WORKER, labels={"pixel.timeout": "1"})
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "pending", "createdAt": ago(600)}], ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        (row,) = snapshot.workers
        assert row.timed_out and row.task_status == "pending" and not row.phantom
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", snapshot), actor="t")
    finally:
        b.close()
    assert outcome.ok, outcome.error
    assert worker.id not in {c.id for c in engine.client.containers.list(all=True)}
    assert b.task(TASK)["status"] == "aborted"


def test_a_two_character_worker_id_binds_no_other_tasks_worker(engine, tmp_path):
    worker = engine.run("sleep 600", name="pixel-worker-5e5e5e5e", labels={"pixel.timeout": "1"})
    tasks = [
        {"id": TASK, "status": "running", "startedAt": ago(60), "workerId": worker.id[:2]},
        {"id": OTHER, "status": "running", "startedAt": ago(60), "workerId": worker.id[:12]},
    ]
    b = bench(engine.url, tmp_path, tasks, ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        row = next(w for w in snapshot.workers if w.container_id == worker.id)
        assert row.task_id == OTHER and not row.conflict
        (outcome,) = b.executor.execute(b.executor.plan("worker.kill", snapshot, worker.id), actor="t")
    finally:
        b.close()
    assert outcome.ok, outcome.error
    assert b.task(OTHER)["status"] == "aborted" and b.task(TASK)["status"] == "running"


class CleanupAfterStop(DockerOps):
    """The real engine, with the orchestrator's cleanup running the moment a stop returns (its worst timing)."""

    def __init__(self, url: str, ledger: Path) -> None:
        super().__init__(url)
        self.ledger = ledger

    def stop(self, container_id: str, grace_s: float) -> None:
        super().stop(container_id, grace_s)
        document = json.loads(self.ledger.read_text())
        for task in document["tasks"]:
            if task["status"] == "running":  # its container exited: cleanupStaleTasksInternal aborts it
                task.update(status="aborted", completedAt=ago(0))
        orchestrator_writes(self.ledger, document["tasks"])


def test_a_kill_whose_task_the_orchestrator_ended_first_is_ok_and_says_who(engine, tmp_path):
    engine.run("sleep 600", name=WORKER, labels={"pixel.timeout": "1"})
    b = bench(engine.url, tmp_path, [{"id": TASK, "status": "running", "startedAt": ago(60)}], ahead_s=1.3)
    b.executor.backends.engine = b.executor.workers.engine = CleanupAfterStop(engine.url, b.ledger)
    try:
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", b.collector.collect()), actor="t")
    finally:
        b.close()
    assert outcome.ok, outcome.error
    assert outcome.note == "task 3f2a9c1d was already aborted, by the orchestrator's cleanup (its worker was gone)"
    (record,) = b.audit_lines()
    assert record["outcome"] == "ok" and record["note"] == outcome.note
    assert b.task(TASK)["status"] == "aborted" and "error" not in b.task(TASK)


def test_an_abort_undone_by_the_orchestrators_write_is_noticed_and_reapplied(engine, tmp_path):
    engine.run("sleep 600", name=WORKER, labels={"pixel.timeout": "1"})
    running = [{"id": TASK, "status": "running", "startedAt": ago(60)}]
    b = bench(engine.url, tmp_path, running, ahead_s=1.3)
    try:
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", b.collector.collect()), actor="t")
        assert outcome.ok and b.task(TASK)["status"] == "aborted"
        orchestrator_writes(b.ledger, running)  # its cleanup read before our write and renamed after it
        (reapplied,) = b.executor.recheck_aborts(reapply=True, actor="autoheal")
        assert reapplied.kind == "action-ok" and b.task(TASK)["status"] == "aborted"
        orchestrator_writes(b.ledger, running)
        (told,) = b.executor.recheck_aborts(reapply=False, actor="autoheal")
        assert b.executor.recheck_aborts(reapply=False, actor="autoheal") == ()  # said once
    finally:
        b.close()
    assert told.kind == "abort-undone" and "was undone by another writer (running again)" in told.message
    steps = [(record["step"], record["outcome"]) for record in b.audit_lines()]
    assert steps == [("kill-worker", "ok"), ("abort-ghost", "ok")]
    assert "undone" in b.audit_lines()[1]["reason"]


# -- never waiting ----------------------------------------------------------------------------------


def test_the_collection_never_waits_for_an_action_and_a_ghost_never_waits_behind_a_stop(engine, tmp_path):
    stuck = [engine.run(TERM_IGNORED, name=f"pixel-worker-7e7e7e7{n}", labels={"pixel.timeout": "1"}) for n in range(2)]
    ghost = "dddddddd-0000-4000-8000-000000000004"
    b = bench(
        engine.url, tmp_path, [{"id": ghost, "status": "running", "startedAt": ago(600)}], stop_grace_s=3.0, ahead_s=1.3
    )
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        started = time.monotonic()
        pipeline.step()
        took = time.monotonic() - started
        assert autoheal.in_flight == 3
        while autoheal.in_flight and time.monotonic() - started < 30:
            pipeline.step()  # samples keep coming while the stops wait out their grace
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        b.close()
    assert took < 2.0, f"the collection waited {took:.1f} s for the actions"
    assert elapsed < 2 * 3.0 + 3, f"two 3 s stops took {elapsed:.1f} s: they ran one after the other"
    records = {record["step"] + ":" + record["target"]["name"]: record for record in b.audit_lines()}
    abort = records[f"abort-ghost:task {ghost[:8]}"]
    kills = [record for key, record in records.items() if key.startswith("kill-worker")]
    assert len(kills) == 2 and all(record["outcome"] == "ok" for record in kills)
    assert abort["outcome"] == "ok" and abort["duration_s"] < 1.0
    assert all(abort["time"] < kill["time"] for kill in kills)  # done while the stops were still waiting
    assert not {c.id for c in stuck} & {c.id for c in engine.client.containers.list(all=True)}


def test_person_and_autoheal_never_act_on_one_target_at_once(engine, tmp_path):
    engine.run(TERM_IGNORED, name=WORKER, labels={"pixel.timeout": "1"})
    b = bench(engine.url, tmp_path, [], stop_grace_s=2.0, ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        plan = b.executor.plan("workers.reap", snapshot)
        twice = replace(plan, steps=plan.steps * 2)
        outcomes = b.executor.execute(twice, actor="t")
    finally:
        b.close()
    assert sorted(outcome.outcome for outcome in outcomes) == ["ok", "refused"]
    refused = next(outcome for outcome in outcomes if outcome.outcome == "refused")
    assert refused.error.startswith("another action on pixel-worker-3f2a9c1d") and "is running now" in refused.error
