"""The executor on the real test engine: each action, each validation refusal, the audit, the ledger's changes."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import pytest

from pixel_tui.model import utcnow
from pixel_tui.remediate.catalogue import READ_ONLY_REASON
from pixel_tui.remediate.engine_ops import prune_preview_of
from tests.remediation import bench

STUCK_TASK = "3f2a9c1d-0000-4000-8000-000000000001"


def ago(seconds: float) -> str:
    return (utcnow() - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def stuck_ledger() -> list[dict]:
    """The orchestrator's camelCase ledger with one running task, with fields pixel-tui does not know."""
    return [
        {
            "id": STUCK_TASK,
            "type": "code",
            "status": "running",
            "createdAt": ago(120),
            "startedAt": ago(100),
            "completedAt": None,
            "workerId": None,
            "exitCode": None,
            "error": None,
            "payload": {"prompt": "refactor", "attempt": 2},
        },
        {"id": "9e9e9e9e-0000-4000-8000-000000000009", "status": "completed", "createdAt": ago(900)},
    ]


def timed_out_worker(engine, name="pixel-worker-3f2a9c1d", **labels):
    """A worker with a 1 s timeout: past it for a bench `ahead_s=1.3` (see `past_its_timeout` for a subprocess)."""
    container = engine.run("sleep 600", name=name, labels={"pixel.timeout": "1", **labels})
    return container


def outcome_words(outcomes):
    return [(o.step.op, o.outcome, o.error) for o in outcomes]


def test_kill_worker_stops_removes_aborts_its_task_and_audits(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        worker = next(w for w in snapshot.workers if w.container_id == container.id)
        assert worker.timed_out and worker.task_id == STUCK_TASK
        plan = b.executor.plan("worker.kill", snapshot, worker.key)
        assert [step.what for step in plan.steps] == [
            f"stop and remove pixel-worker-3f2a9c1d ({container.id[:12]}); mark task 3f2a9c1d aborted"
        ]
        assert plan.steps[0].why.startswith("timed out ") and "timeout 1s" in plan.steps[0].why
        started = time.monotonic()
        (outcome,) = b.executor.execute(plan, actor="tester@host")
        elapsed = time.monotonic() - started
    finally:
        b.close()
    assert outcome.ok, outcome.error
    assert not [c for c in engine.client.containers.list(all=True) if c.id == container.id]
    task = b.task(STUCK_TASK)
    assert task["status"] == "aborted" and task["completedAt"].endswith("Z")
    assert task["error"].startswith("killed by pixel-tui: timed out")
    assert task["payload"] == {"prompt": "refactor", "attempt": 2} and task["exitCode"] is None  # kept
    assert list(task) == list(stuck_ledger()[0])  # key order kept
    assert b.task("9e9e9e9e-0000-4000-8000-000000000009")["status"] == "completed"  # only the task concerned
    (record,) = b.audit_lines()
    assert record["actor"] == "tester@host" and record["action"] == "worker.kill" and record["step"] == "kill-worker"
    assert record["target"] == {"kind": "container", "id": container.id, "name": "pixel-worker-3f2a9c1d"}
    assert record["outcome"] == "ok" and record["error"] is None and 0 < record["duration_s"] <= elapsed + 0.1
    context = record["context"]
    assert context["target"]["timed_out"] is True and context["target"]["overdue_s"] > 0
    assert context["target"]["task_status"] == "running"
    assert set(context["host"]) == {"levels", "swap_percent", "memory_percent", "load_per_core"}
    assert record["snapshot_at"] and record["time"].endswith("Z")


def test_a_container_recreated_under_the_same_name_is_refused(engine, tmp_path):
    old = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        plan = b.executor.plan("worker.kill", snapshot, old.id)
        old.remove(force=True)
        new = engine.run("sleep 600", name="pixel-worker-3f2a9c1d")
        (outcome,) = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert outcome.outcome == "refused"
    assert f"a new container pixel-worker-3f2a9c1d ({new.id[:12]}) has its name" in outcome.error
    assert new.id in {c.id for c in engine.client.containers.list()}  # untouched
    assert b.task(STUCK_TASK)["status"] == "running"
    assert b.audit_lines()[-1]["outcome"] == "refused"


def test_killing_a_worker_that_is_gone_already_ends_its_task(engine, tmp_path):
    """Kill means the end state: the container gone (it is) and the task finished (it was not)."""
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    try:
        plan = b.executor.plan("worker.kill", b.collector.collect(), container.id)
        container.remove(force=True)
        (outcome,) = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert outcome_words([outcome]) == [("kill-worker", "ok", None)]
    assert outcome.note == "its container was gone already"
    assert b.task(STUCK_TASK)["status"] == "aborted"


def test_a_worker_that_restarted_is_no_longer_timed_out(engine, tmp_path):
    container = engine.run("sleep 600", name="pixel-worker-3f2a9c1d", labels={"pixel.timeout": "3"})
    time.sleep(3.3)  # real time: the restart's new start must be younger than the timeout on the same clock
    b = bench(engine.url, tmp_path, stuck_ledger())
    try:
        snapshot = b.collector.collect()
        assert next(w for w in snapshot.workers if w.container_id == container.id).timed_out
        plan = b.executor.plan("workers.reap", snapshot)
        container.restart(timeout=0)
        (outcome,) = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert outcome.outcome == "refused" and "is no longer timed out" in outcome.error
    assert "it restarted, exited or its timeout changed" in outcome.error
    assert engine.client.containers.get(container.id).status == "running"


def test_a_task_no_longer_running_is_refused(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    try:
        plan = b.executor.plan("worker.kill", b.collector.collect(), container.id)
        tasks = b.tasks()
        tasks[0]["status"] = "completed"
        b.ledger.write_text(json.dumps({"version": 1, "tasks": tasks}))
        (outcome,) = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert outcome.outcome == "refused"
    assert outcome.error == "its task 3f2a9c1d is completed now: the worker is finishing"
    assert engine.client.containers.get(container.id).status == "running"


def test_resolve_phantoms_aborts_ghosts_removes_orphans_and_clears_a_stale_lock(engine, tmp_path):
    ghost_id = "dddddddd-0000-4000-8000-000000000004"
    tasks = [
        {"id": ghost_id, "status": "running", "startedAt": ago(600), "note": "kept"},
        {"id": "bbbbbbbb-0000-4000-8000-000000000002", "status": "completed", "completedAt": ago(90)},
    ]
    orphan = engine.run("sleep 600", name="pixel-worker-bbbbbbbb")
    bystander = engine.run("sleep 600", name="web")
    b = bench(engine.url, tmp_path, tasks, orphan_grace_s=1.0, ahead_s=1.1)
    b.lock.write_text(f'{{"taskId": "{ghost_id}", "createdAt": "{ago(600)}"}}')
    try:
        snapshot = b.collector.collect()
        assert {w.phantom for w in snapshot.phantoms} == {"ghost", "orphan"} and snapshot.lock.stale
        plan = b.executor.plan("workers.resolve_phantoms", snapshot)
        assert plan.bulk and sorted(s.op for s in plan.steps) == ["abort-ghost", "clear-lock", "remove-orphan"]
        outcomes = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert all(o.ok for o in outcomes), outcome_words(outcomes)
    ghost = b.task(ghost_id)
    assert ghost["status"] == "aborted" and "no worker container" in ghost["error"] and ghost["note"] == "kept"
    assert orphan.id not in {c.id for c in engine.client.containers.list(all=True)}
    assert bystander.id in {c.id for c in engine.client.containers.list()}
    assert not b.lock.exists()
    assert sorted(r["step"] for r in b.audit_lines()) == sorted(o.step.op for o in outcomes)


def test_a_live_lock_is_never_cleared(engine, tmp_path):
    task_id = "3f2a9c1d-0000-4000-8000-000000000001"
    b = bench(engine.url, tmp_path, [{"id": task_id, "status": "running", "startedAt": ago(600)}])
    b.lock.write_text(f'{{"taskId": "{task_id}", "createdAt": "{ago(600)}"}}')
    try:
        snapshot = b.collector.collect()  # no worker runs it yet: the lock looks stale
        plan = b.executor.plan("workers.resolve_phantoms", snapshot)
        engine.run("sleep 600", name="pixel-worker-3f2a9c1d")  # the orchestrator spawns it meanwhile
        outcomes = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    by_op = {o.step.op: o for o in outcomes}
    assert (
        by_op["clear-lock"].outcome == "refused"
        and "the lock is live: held by pixel-worker-3f2a9c1d" in by_op["clear-lock"].error
    )
    assert by_op["abort-ghost"].outcome == "refused" and "has a worker now" in by_op["abort-ghost"].error
    assert b.lock.exists() and b.task(task_id)["status"] == "running"


def test_an_orphan_whose_task_runs_again_is_refused(engine, tmp_path):
    task_id = "bbbbbbbb-0000-4000-8000-000000000002"
    orphan = engine.run("sleep 600", name="pixel-worker-bbbbbbbb")
    b = bench(engine.url, tmp_path, [{"id": task_id, "status": "completed"}], orphan_grace_s=0.5)
    try:
        b.collector.collect()  # first seen finished now: no completedAt to count from
        b.clock.advance(0.6)
        plan = b.executor.plan("workers.resolve_phantoms", b.collector.collect())
        b.ledger.write_text(f'{{"tasks": [{{"id": "{task_id}", "status": "running"}}]}}')
        (outcome,) = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert outcome.outcome == "refused" and outcome.error.startswith("its task bbbbbbbb is running again")
    assert engine.client.containers.get(orphan.id).status == "running"


def test_prune_removes_exited_workers_only_and_never_volumes(engine, tmp_path):
    engine.client.volumes.create("pixel-data")
    worker = engine.run("true", name="pixel-worker-eeeeeeee", volumes={"pixel-data": {"bind": "/data"}})
    other = engine.run("true", name="db-migrate")
    for container in (worker, other):
        container.wait(timeout=10)
    scratch = engine.run(["sh", "-c", "head -c 300000 /dev/urandom > /blob"], name="scratch")
    scratch.wait(timeout=10)
    dangling = scratch.commit()  # no repository, no tag: a dangling image of about 300 kB
    scratch.remove()
    b = bench(engine.url, tmp_path)
    try:
        plan = b.executor.plan("host.prune", b.collector.collect())
        assert [s.op for s in plan.steps] == ["remove-exited", "prune-images", "prune-build-cache"]
        preview = b.executor.preview(plan)  # measured before asking
        outcomes = b.executor.execute(plan, actor="t")
    finally:
        b.close()
    assert preview is not None and "1 dangling image (0.3 MiB)" in preview, preview
    assert outcomes[0].ok and outcomes[1].ok, outcome_words(outcomes)
    # The engine's own count: Docker lists the image and its layer, podman the image alone, with the size of
    # the whole image (the busybox layer it shares and keeps too) as reclaimed.
    said = {"podman": "1 deleted (images and their layers), 2.3 MiB"}.get(
        engine.name, "2 deleted (images and their layers), 0.3 MiB"
    )
    assert outcomes[1].note == f"dangling images: {said} reclaimed"
    pruned = next(r for r in b.audit_lines() if r["step"] == "prune-images")
    assert pruned["note"] == outcomes[1].note  # the audit says what was freed
    assert dangling.id not in {image.id for image in engine.client.images.list(all=True)}
    left = {c.id for c in engine.client.containers.list(all=True)}
    assert worker.id not in left and other.id in left
    assert "pixel-data" in {v.name for v in engine.client.volumes.list()}
    assert engine.client.images.get(engine.image)  # in use by running containers or not, never dangling


@pytest.mark.parametrize(
    ("tagged", "untagged"),
    [
        (["pixel-busybox:latest"], ["<none>:<none>"]),  # Docker 20.10 and 26, as GET /system/df sends them
        (["latest"], ["<none>"]),  # podman 4.3: the tag alone, and `<none>` for no tag
        (["pixel-busybox:latest"], None),
    ],
)
def test_the_prune_preview_counts_untagged_images_in_each_engines_words(tagged, untagged):
    mib = 1048576
    usage = {
        "Images": [
            {"RepoTags": tagged, "Size": 2 * mib, "SharedSize": 2 * mib, "Containers": 0},
            {"RepoTags": untagged, "Size": 3 * mib, "SharedSize": 2 * mib, "Containers": 0},
            {"RepoTags": untagged, "Size": 5 * mib, "SharedSize": 0, "Containers": 1},  # in use: stays
        ]
    }
    assert prune_preview_of(usage).startswith("would free about 1.0 MiB: 1 dangling image (1.0 MiB)")


def test_restart_stop_and_start_act_on_the_container_the_operator_saw(engine, tmp_path):
    web = engine.run("sleep 600", name="web")
    b = bench(engine.url, tmp_path)
    try:
        snapshot = b.collector.collect()
        (restart,) = b.executor.execute(b.executor.plan("container.restart", snapshot, web.id), actor="t")
        stop_plan = b.executor.plan("container.stop_start", snapshot, web.id)
        assert stop_plan.steps[0].op == "stop"
        (stop,) = b.executor.execute(stop_plan, actor="t")
        (again,) = b.executor.execute(stop_plan, actor="t")  # the same plan, now stale: it is exited
        start_plan = b.executor.plan("container.stop_start", b.collector.collect(), web.id)
        (start,) = b.executor.execute(start_plan, actor="t")
    finally:
        b.close()
    assert restart.ok and stop.ok and start.ok and start_plan.steps[0].op == "start"
    assert again.outcome == "refused" and again.error == f"web ({web.id[:12]}) is exited now, not running"
    assert engine.client.containers.get(web.id).status == "running"


def test_labels_with_shell_metacharacters_and_unicode_act_on_the_right_container(engine, tmp_path):
    hostile = "$(touch /tmp/pixel-pwned);`id`|任务 \u202e"
    target = timed_out_worker(engine, name="pixel-worker-0a0a0a0a", **{"pixel.task": hostile})
    twin = engine.run("sleep 600", name="pixel-worker-0a0a0a0b")
    b = bench(engine.url, tmp_path, [{"id": hostile, "status": "running", "startedAt": ago(60)}], ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", snapshot), actor="t")
    finally:
        b.close()
    assert outcome.ok, outcome.error
    alive = {c.id for c in engine.client.containers.list()}
    assert target.id not in alive and twin.id in alive
    assert b.task(hostile)["status"] == "aborted"
    assert not os.path.exists("/tmp/pixel-pwned")


def test_a_read_only_executor_refuses_everything_and_audits_each_refusal(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), read_only=True, ahead_s=1.3)
    try:
        snapshot = b.collector.collect()
        outcomes = []
        for action in ("worker.kill", "workers.reap", "workers.resolve_phantoms", "host.prune",
                       "host.relieve_memory", "host.cycle_swap", "host.optimize", "container.restart"):  # fmt: skip
            outcomes += b.executor.execute(b.executor.plan(action, snapshot, container.id), actor="t")
    finally:
        b.close()
    assert outcomes and all(o.outcome == "refused" and o.error == READ_ONLY_REASON for o in outcomes)
    assert engine.client.containers.get(container.id).status == "running"
    assert b.task(STUCK_TASK)["status"] == "running" and b.host.calls == []
    assert [r["outcome"] for r in b.audit_lines()] == ["refused"] * len(outcomes)


def test_an_audit_log_that_cannot_be_written_refuses_the_action(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    b.audit.path.parent.mkdir(parents=True, exist_ok=True)
    b.audit.path.mkdir()  # a directory where the log should be: no line can be appended
    try:
        (outcome,) = b.executor.execute(b.executor.plan("worker.kill", b.collector.collect(), container.id),
                                        actor="t")  # fmt: skip
    finally:
        b.close()
    assert outcome.outcome == "refused" and "cannot be written" in outcome.error
    assert "nothing is done unrecorded" in outcome.error
    assert engine.client.containers.get(container.id).status == "running"


@pytest.mark.parametrize("stop_grace_s", [1.0])
def test_kill_ignores_term_then_kills_after_the_grace(engine, tmp_path, stop_grace_s):
    # busybox sh as pid 1 ignores SIGTERM: only the SIGKILL after the grace stops it.
    container = engine.run(["sh", "-c", "trap '' TERM; while :; do sleep 1; done"], name="pixel-worker-7e7e7e7e",
                           labels={"pixel.timeout": "1"})  # fmt: skip
    b = bench(engine.url, tmp_path, stop_grace_s=stop_grace_s, ahead_s=1.3)
    try:
        started = time.monotonic()
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", b.collector.collect()), actor="t")
        took = time.monotonic() - started
    finally:
        b.close()
    assert outcome.ok, outcome.error
    assert stop_grace_s <= took < stop_grace_s + 8
    assert container.id not in {c.id for c in engine.client.containers.list(all=True)}
