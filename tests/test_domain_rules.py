"""The orchestrator's rules beside its real timing (ORCHESTRATOR.md): graces, matching, scope and the lock.

Each test is one of the ways the earlier rules made things worse; they run on model containers and
tasks (no engine), at fixed moments. The same rules judged live by the executor are tested on the
private engine in tests/test_heal_without_harm.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pixel_tui.domain import LockJudge, WorkerRules, WorkerTracker, judge_lock
from pixel_tui.ledger import LockReading, TaskIndex
from pixel_tui.model import Container
from pixel_tui.remediate.plans import plan
from pixel_tui.settings import WorkerSettings
from tests.scripted import crisis_frame
from tests.test_workers import NOW, container, task

SETTINGS = WorkerSettings()
RULES = WorkerRules(SETTINGS)
TASK = "3f2a9c1d-0000-4000-8000-000000000001"
WORKER = "pixel-worker-3f2a9c1d"


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def worker_at(seconds_old: float, *, when: datetime = NOW, **kwargs) -> Container:
    """The worker of TASK, started `seconds_old` before `when`."""
    return container(WORKER, age_s=seconds_old - (when - NOW).total_seconds(), **kwargs)


def lock(created_ago: float, task_id: str = TASK, now: datetime = NOW) -> LockReading:
    return LockReading(task_id, now - timedelta(seconds=created_ago), None, 1)


# -- the lock ---------------------------------------------------------------------------------------


def test_a_lock_taken_for_a_spawn_still_starting_is_live():
    """Lock first, then the pending task, then `docker compose run` for tens of seconds: no container yet."""
    pending = TaskIndex.of([task(TASK, "pending", started_ago=None, created_ago=0.4)])
    state = judge_lock("lock", lock(0.5), rules=RULES, containers=[], tasks=pending, now=NOW)
    assert not state.stale and "spawn is starting" in (state.why or "")
    # Before the task is even written: still live.
    state = judge_lock("lock", lock(0.2), rules=RULES, containers=[], tasks=TaskIndex.of([]), now=NOW)
    assert not state.stale
    # A container just created (not running yet) holds it too.
    created = container(WORKER, state="created")
    state = judge_lock("lock", lock(200), rules=RULES, containers=[created], tasks=pending, now=NOW)
    assert not state.stale and "created" in (state.why or "")
    # Past the spawn window with no container at all: stale.
    state = judge_lock("lock", lock(121), rules=RULES, containers=[], tasks=pending, now=NOW)
    assert state.stale


def test_the_log_tailer_never_keeps_a_dead_lock_alive():
    tailer = container("pixel-worker-logs-1", age_s=86400)
    done = TaskIndex.of([task(TASK, "completed", completed_ago=3600)])
    state = judge_lock("lock", lock(7200), rules=RULES, containers=[tailer], tasks=done, now=NOW)
    assert state.stale and "completed" in (state.why or "")


def test_an_unanswering_engine_never_makes_a_lock_stale():
    state = judge_lock("lock", lock(7200), rules=RULES, containers=None, tasks=TaskIndex.of([]), now=NOW)
    assert not state.stale


def test_stale_for_counts_from_first_sight_or_the_holders_end():
    judge = LockJudge(SETTINGS)
    running = TaskIndex.of([task(TASK, "running", started_ago=600)])
    first = judge.judge("lock", lock(600), containers=[], tasks=running, now=NOW)
    later = judge.judge("lock", lock(600 + 90, now=at(90)), containers=[], tasks=running, now=at(90))
    assert first.stale and first.stale_s == 0 and later.stale_s == 90
    # A cron `heal` has no memory: a holder that finished 400 s ago and left its lock tells it.
    ended = TaskIndex.of([task(TASK, "failed", completed_ago=400)])
    fresh = LockJudge(SETTINGS).judge("lock", lock(900), containers=[], tasks=ended, now=NOW)
    assert fresh.stale and fresh.stale_s == 400


# -- ghosts -----------------------------------------------------------------------------------------


def test_a_brief_stop_of_a_long_running_worker_is_not_a_ghost():
    tracker = WorkerTracker(SETTINGS)
    ten_minutes = [task(TASK, "running", started_ago=600)]
    (row,) = tracker.workers([worker_at(600)], {}, ten_minutes, NOW)
    assert row.phantom is None
    stopped = tracker.workers([worker_at(600, when=at(3), state="exited")], {}, ten_minutes, at(3))
    assert [row.phantom for row in stopped] == [None]  # the exited row, and no ghost 3 s after it was last seen
    gone = tracker.workers([], {}, ten_minutes, at(59))
    assert gone == ()
    (ghost,) = tracker.workers([], {}, ten_minutes, at(61))
    assert ghost.phantom == "ghost" and ghost.phantom_since == NOW


def test_a_pending_task_is_a_ghost_only_past_the_spawn_window():
    tracker = WorkerTracker(SETTINGS)
    assert tracker.workers([], {}, [task(TASK, "pending", started_ago=None, created_ago=90)], NOW) == ()
    (ghost,) = tracker.workers([], {}, [task(TASK, "pending", started_ago=None, created_ago=121)], NOW)
    assert ghost.phantom == "ghost" and ghost.task_status == "pending"
    assert "never started" in plan("workers.resolve_phantoms", _snapshot((ghost,)), None, is_worker=bool).steps[0].why


def test_a_running_task_never_seen_with_a_container_counts_from_its_start():
    tracker = WorkerTracker(SETTINGS)
    (ghost,) = tracker.workers([], {}, [task(TASK, "running", started_ago=61)], NOW)
    assert ghost.phantom == "ghost"
    assert WorkerTracker(SETTINGS).workers([], {}, [task(TASK, "running", started_ago=59)], NOW) == ()


# -- orphans ----------------------------------------------------------------------------------------


def test_a_worker_finishing_after_its_task_completed_is_not_an_orphan():
    """The entrypoint marks the task completed before the container exits."""
    tracker = WorkerTracker(SETTINGS)
    just_done = [task(TASK, "completed", started_ago=1.2, completed_ago=0.1)]
    (row,) = tracker.workers([worker_at(1.2)], {}, just_done, NOW)
    assert row.phantom is None
    still = [task(TASK, "completed", started_ago=100, completed_ago=61)]
    (row,) = WorkerTracker(SETTINGS).workers([worker_at(100)], {}, still, NOW)
    assert row.phantom == "orphan" and row.phantom_since == NOW - timedelta(seconds=61)


def test_a_worker_started_after_its_task_ended_gets_the_grace_from_its_start():
    stale_task = [task(TASK, "completed", started_ago=7200, completed_ago=7000)]
    (row,) = WorkerTracker(SETTINGS).workers([worker_at(1.2)], {}, stale_task, NOW)
    assert row.phantom is None


def test_a_completed_task_without_a_time_counts_from_first_sight():
    tracker = WorkerTracker(SETTINGS)
    undated = [task(TASK, "completed", started_ago=600)]
    (row,) = tracker.workers([worker_at(600)], {}, undated, NOW)
    assert row.phantom is None
    (row,) = tracker.workers([worker_at(600, when=at(61))], {}, undated, at(61))
    assert row.phantom == "orphan"


def test_an_unknown_worker_gets_the_grace_from_its_start():
    tracker = WorkerTracker(SETTINGS)
    (row,) = tracker.workers([container("pixel-worker-99999999", age_s=0)], {}, [], NOW)
    assert row.phantom is None
    (row,) = tracker.workers([container("pixel-worker-99999999", age_s=61)], {}, [], NOW)
    assert row.phantom == "orphan"


# -- matching ---------------------------------------------------------------------------------------


def test_a_short_worker_id_binds_nothing():
    """A `workerId` of two characters once bound another task's worker."""
    other = container("pixel-worker-aaaaaaaa", cid="ab" + "1" * 62)
    tasks = TaskIndex.of([task(TASK, "running", worker_id="ab"), task("aaaaaaaa-0000-4000-8000-00000000000a")])
    assert RULES.match_task(other, tasks).id.startswith("aaaaaaaa")
    assert RULES.match(container("x-1", labels={"pixel.role": "worker"}, cid="ab" + "1" * 62), tasks).task is None
    # Twelve hex or more, as the container's hostname is, binds.
    tasks = TaskIndex.of([task(TASK, "running", worker_id="ab1111111111")])
    assert RULES.match_task(container("x-1", labels={"pixel.role": "worker"}, cid="ab" + "1" * 62), tasks).id == TASK


def test_two_tasks_claiming_one_container_is_shown_and_never_acted_on():
    cid = "abcdef012345" + "0" * 52
    labelled = container(WORKER, labels={"pixel.task": TASK, "pixel.timeout": "1"}, cid=cid, age_s=600)
    tasks = [task(TASK, "running"), task("bbbbbbbb-0000-4000-8000-00000000000b", "running", worker_id=cid[:12])]
    tracker = WorkerTracker(SETTINGS)
    (row,) = tracker.workers([labelled], {}, tasks, NOW)
    assert row.conflict and "claimed by 2 tasks" in row.conflict and row.task_id == TASK
    assert row.phantom is None and row.timed_out  # overdue, shown, but neither task is a ghost nor acted on
    assert any("claimed by 2 tasks" in problem for problem in tracker.problems)
    snapshot = _snapshot((row,))
    assert plan("worker.kill", snapshot, row.key, is_worker=bool).steps == ()
    assert plan("workers.reap", snapshot, None, is_worker=bool).steps == ()


# -- scope ------------------------------------------------------------------------------------------


def compose_worker(project: str, number: int, age_s: float) -> Container:
    labels = {"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True",
              "com.docker.compose.project": project}  # fmt: skip
    return container(f"{project}-worker-run-{number:04x}", labels=labels, age_s=age_s)


def test_a_worker_of_another_compose_project_is_never_flagged_when_a_scope_is_set():
    tracker = WorkerTracker(WorkerSettings(compose_project="pixel"))
    rows = tracker.workers([compose_worker("pixel", 1, 5), compose_worker("other", 2, 3600)], {}, [], NOW)
    assert [row.container for row in rows] == ["pixel-worker-run-0001"]


def test_several_projects_without_a_scope_are_said_and_the_ledgers_own_is_learnt():
    tracker = WorkerTracker(SETTINGS)
    ours = compose_worker("pixel", 1, 600)
    ours = container(ours.name, labels={**ours.labels, "pixel.task": TASK}, age_s=600)
    foreign = compose_worker("other", 2, 3600)
    rows = tracker.workers([ours, foreign], {}, [task(TASK, "running", started_ago=600)], NOW)
    assert [row.container for row in rows] == [ours.name]
    assert any("2 Compose projects" in problem and "pixel" in problem for problem in tracker.problems)
    # Without a task to learn from, every project is judged, and the console is told so.
    blind = WorkerTracker(SETTINGS)
    rows = blind.workers([compose_worker("a", 1, 5), compose_worker("b", 2, 5)], {}, [], NOW)
    assert len(rows) == 2 and any("set workers.compose_project" in problem for problem in blind.problems)


def _snapshot(workers):
    return replace(crisis_frame(14), workers=tuple(workers))
