"""Worker recognition, task matching, timeouts and phantoms, on model containers (no engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pixel_tui.domain import WorkerRules, WorkerTracker
from pixel_tui.ledger import Task, TaskIndex
from pixel_tui.model import Container
from pixel_tui.settings import WorkerSettings

NOW = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)


def container(name: str, *, labels=None, state="running", age_s=30.0, cid=None) -> Container:
    return Container(
        id=cid or (name.encode().hex() + "0" * 64)[:64],
        name=name,
        image="img",
        state=state,
        health=None,
        started_at=NOW - timedelta(seconds=age_s),
        restarts=0,
        cpu_percent=None,
        mem_used=None,
        mem_limit=None,
        labels=labels or {},
    )


def task(
    task_id: str,
    status: str = "running",
    *,
    started_ago: float | None = 30.0,
    created_ago: float | None = None,
    completed_ago: float | None = None,
    **extra,
) -> Task:
    def moment(ago: float | None) -> datetime | None:
        return NOW - timedelta(seconds=ago) if ago is not None else None

    return Task(task_id, status, moment(created_ago), moment(started_ago), moment(completed_ago),
                extra.get("worker_id"), extra.get("timeout_s"))  # fmt: skip


RULES = WorkerRules(WorkerSettings())


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        ("pixel-worker-3f2a9c1d", {}, True),
        ("pixel-worker-rebuild-3f2a9c1d", {}, True),
        ("pixel-worker-logs-1", {}, False),  # the log tailer that once blocked every spawn
        ("pixel-worker-3f2a9c1d-old", {}, False),
        ("my-pixel-worker-3f2a9c1d", {}, False),
        ("pixel-worker-3F2A9C1D", {}, False),
        ("random_name", {"pixel.role": "worker"}, True),
        ("pixel-worker-3f2a9c1d", {"pixel.role": "logs"}, False),
        ("proj-worker-run-1a2b", {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True"}, True),
        ("proj-worker-1", {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "False"}, False),
        ("proj-web-run-1", {"com.docker.compose.service": "web", "com.docker.compose.oneoff": "True"}, False),
    ],
)
def test_is_worker(name, labels, expected):
    assert RULES.is_worker(container(name, labels=labels)) is expected


def test_task_matching_order():
    by_label = task("label-task")
    by_worker = task("worker-task", worker_id="abcdef012345")
    by_name = task("3f2a9c1d-0000-4000-8000-000000000000")
    tasks = TaskIndex.of([by_label, by_worker, by_name])
    labelled = container("pixel-worker-3f2a9c1d", labels={"pixel.task": "label-task"}, cid="bcdef0123456" + "0" * 52)
    assert RULES.match_task(labelled, tasks) is by_label
    assert RULES.match_task(container("pixel-worker-3f2a9c1d", cid="abcdef012345" + "0" * 52), tasks) is by_worker
    assert RULES.match_task(container("pixel-worker-3f2a9c1d"), tasks) is by_name
    assert RULES.match_task(container("pixel-worker-99999999"), tasks) is None


def test_timeout_chain():
    with_label = container("w", labels={"pixel.timeout": "120"})
    plain = container("w")
    assert RULES.timeout(with_label, 600.0, task("t", timeout_s=900.0)) == 120.0
    assert RULES.timeout(plain, 600.0, task("t", timeout_s=900.0)) == 660.0  # env timeout + 60 s kill grace
    assert RULES.timeout(plain, None, task("t", timeout_s=900.0)) == 900.0
    assert RULES.timeout(plain, None, None) == 2760.0
    assert RULES.timeout(container("w", labels={"pixel.timeout": "soon"}), None, None) == 2760.0


def test_timed_out_and_orphan_and_ghost():
    tracker = WorkerTracker(WorkerSettings())
    stuck = container("pixel-worker-aaaaaaaa", labels={"pixel.timeout": "60"}, age_s=600)
    orphan = container("pixel-worker-bbbbbbbb", age_s=600)
    fresh = container("pixel-worker-cccccccc", age_s=10)
    logs = container("pixel-worker-logs-1")
    tasks = [
        task("aaaaaaaa-1"),
        task("bbbbbbbb-1", "completed", completed_ago=120),
        task("cccccccc-1"),
        task("dddddddd-ghost", started_ago=300),
        task("eeeeeeee-starting", started_ago=5),
    ]
    rows = tracker.workers([stuck, orphan, fresh, logs], {}, tasks, NOW)
    by_task = {row.task_id: row for row in rows}
    assert set(by_task) == {"aaaaaaaa-1", "bbbbbbbb-1", "cccccccc-1", "dddddddd-ghost"}
    assert by_task["aaaaaaaa-1"].timed_out and by_task["aaaaaaaa-1"].phantom is None
    assert by_task["bbbbbbbb-1"].phantom == "orphan"
    assert by_task["cccccccc-1"].phantom is None and not by_task["cccccccc-1"].timed_out
    ghost = by_task["dddddddd-ghost"]
    assert ghost.phantom == "ghost" and ghost.container is None and ghost.container_id is None
    # Overdue first, then phantoms.
    assert rows[0].task_id == "aaaaaaaa-1" and {rows[1].phantom, rows[2].phantom} == {"orphan", "ghost"}


def test_no_phantoms_without_a_readable_ledger():
    tracker = WorkerTracker(WorkerSettings())
    rows = tracker.workers([container("pixel-worker-bbbbbbbb")], {}, None, NOW)
    assert [row.phantom for row in rows] == [None]


def test_ghost_without_timestamps_waits_for_the_grace_from_first_sight():
    tracker = WorkerTracker(WorkerSettings(ghost_grace_s=60))
    undated = [task("ffffffff-1", started_ago=None)]
    assert tracker.workers([], {}, undated, NOW) == ()
    assert tracker.workers([], {}, undated, NOW + timedelta(seconds=30)) == ()
    rows = tracker.workers([], {}, undated, NOW + timedelta(seconds=61))
    assert [row.phantom for row in rows] == ["ghost"]


def test_exited_worker_is_never_timed_out_nor_orphan():
    tracker = WorkerTracker(WorkerSettings())
    exited = container("pixel-worker-aaaaaaaa", state="exited", age_s=99999)
    (row,) = tracker.workers([exited], {}, [], NOW)
    assert not row.timed_out and row.phantom is None and row.age_s is None
