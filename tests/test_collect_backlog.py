"""The console's held-back inspects (collect/backlog.py): at many containers its first collection inspects only
what cannot wait, and a row whose inspect is not read yet shows its details as unknown, never as wrong values.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from pixel_tui.changes import diff_events
from pixel_tui.collect import Collector
from pixel_tui.collect.backlog import InspectBacklog
from pixel_tui.domain import WorkerTracker
from pixel_tui.domain.workers import WorkerRules
from pixel_tui.model import Container, utcnow
from pixel_tui.settings import Settings, WorkerSettings
from tests.scripted import crisis_frame

RULES = WorkerRules(WorkerSettings())


def item(cid: str, name: str, state: str = "running", labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A container as the engine's list gives it."""
    return {"Id": cid, "Names": ["/" + name], "State": state, "Status": "Up 5 minutes", "Labels": labels or {}}


def crowd(idle: int) -> dict[str, dict[str, Any]]:
    """`idle` running containers, one worker by name, one by label, one exited: by id."""
    items = [item(f"idle{index:04d}", f"idle-{index}") for index in range(idle)]
    items += [
        item("worker1", "pixel-worker-3f2a9c1d"),
        item("worker2", "batch-7", labels={"pixel.role": "worker"}),
        item("exited1", "old-job", state="exited"),
    ]
    return {entry["Id"]: entry for entry in items}


def wanted(items: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    return {cid: (entry["State"], None) for cid, entry in items.items()}


def test_the_first_list_of_a_crowded_engine_inspects_only_workers_and_stopped_containers():
    items = crowd(10)
    backlog = InspectBacklog(4, RULES.is_worker_named)
    now = backlog.split(wanted(items), items, {})
    assert set(now) == {"worker1", "worker2", "exited1"}
    assert backlog.waiting == 10
    # Then `batch` a collection, in list order, until none waits.
    assert list(backlog.take()) == ["idle0000", "idle0001", "idle0002", "idle0003"]
    assert list(backlog.take()) == ["idle0004", "idle0005", "idle0006", "idle0007"]
    assert list(backlog.take()) == ["idle0008", "idle0009"]
    assert backlog.waiting == 0 and backlog.take() == {}


def test_a_small_host_is_inspected_whole_at_once():
    items = crowd(4)
    backlog = InspectBacklog(4, RULES.is_worker_named)
    assert set(backlog.split(wanted(items), items, {})) == set(items)
    assert backlog.waiting == 0


def test_a_later_list_reads_a_batch_and_never_holds_back_a_known_container():
    items = crowd(10)
    backlog = InspectBacklog(4, RULES.is_worker_named)
    backlog.split(wanted(items), items, {})
    # The next list: the idle ones still unread, and idle0009 known (read before) whose state changed.
    unread = {cid: key for cid, key in wanted(items).items() if cid.startswith("idle")}
    now = backlog.split(unread, items, {"idle0009": object()})
    assert set(now) == {"idle0009", "idle0000", "idle0001", "idle0002", "idle0003"}
    assert backlog.waiting == 5


def test_without_a_batch_nothing_is_held_back_and_a_lost_engine_starts_over():
    items = crowd(10)
    assert InspectBacklog(None).split(wanted(items), items, {}) == wanted(items)
    backlog = InspectBacklog(4, RULES.is_worker_named)
    backlog.split(wanted(items), items, {})
    backlog.reset()
    assert backlog.waiting == 0
    assert set(backlog.split(wanted(items), items, {})) == {"worker1", "worker2", "exited1"}


def uninspected(name: str, **fields: Any) -> Container:
    values: dict[str, Any] = {
        "id": name,
        "name": name,
        "image": "busybox",
        "state": "running",
        "health": None,
        "started_at": None,
        "restarts": None,
        "cpu_percent": None,
        "mem_used": None,
        "mem_limit": None,
        "inspected": False,
    }
    values.update(fields)
    return Container(**values)


def test_a_worker_whose_inspect_is_not_read_is_never_timed_out():
    long_ago = utcnow() - timedelta(days=3)
    # Even with a start known from elsewhere and a default timeout long passed: its env timeout is unknown.
    worker = uninspected("pixel-worker-3f2a9c1d", started_at=long_ago)
    tracker = WorkerTracker(WorkerSettings(default_timeout_s=1.0))
    (row,) = tracker.workers([worker], {}, None, utcnow())
    assert row.timed_out is False
    assert RULES.timed_out(worker, 1.0, utcnow()) is False
    read = replace(worker, inspected=True)
    assert RULES.timed_out(read, 1.0, utcnow()) is True


def test_details_read_later_are_no_restart():
    before = uninspected("web")
    after = replace(before, inspected=True, restarts=3, started_at=utcnow())
    first = _snapshot(before)
    second = _snapshot(after)
    assert [event.kind for event in diff_events(first, second)] == []
    third = _snapshot(replace(after, restarts=4))
    assert [event.kind for event in diff_events(second, third)] == ["container-restarted"]


def _snapshot(*containers: Container) -> Any:
    return replace(crisis_frame(14), containers=containers, workers=())


def test_on_a_real_engine_the_rows_are_filled_in_over_the_following_collections(engine):
    for index in range(5):
        engine.run("sleep 600", name=f"idle-{index}")
    engine.run("sleep 600", name="pixel-worker-3f2a9c1d", environment={"WORKER_TIMEOUT_SECONDS": "5"})
    done = engine.run("sh -c 'exit 3'", name="done")
    done.wait()
    collector = Collector(Settings(docker_host=engine.url), defer_batch=2)
    try:
        first = collector.collect()
        by_name = {container.name: container for container in first.containers}
        assert len(by_name) == 7
        worker, stopped = by_name["pixel-worker-3f2a9c1d"], by_name["done"]
        assert worker.inspected and worker.started_at is not None and worker.restarts == 0
        assert stopped.inspected and stopped.exit_code == 3
        (row,) = first.workers
        assert row.timeout_s == pytest.approx(5 + WorkerSettings().kill_grace_s)  # its env, read at once
        idle = [by_name[f"idle-{index}"] for index in range(5)]
        for container in idle:  # unknown, not zero: no start, uptime, restarts, limit or figures yet
            assert not container.inspected
            assert (container.started_at, container.uptime_at(first.taken_at), container.restarts) == (None, None, None)
            assert (container.cpu_percent, container.mem_used, container.mem_limit) == (None, None, None)
        assert not any("no CPU/memory figures" in error for error in first.errors)
        later = [collector.collect() for _ in range(3)]
        assert [sum(c.inspected for c in snapshot.containers) for snapshot in later] == [4, 6, 7]  # 2 at a time
        # Details read later are no news: a restart count or a start first read is not a restart.
        assert [
            event.kind for snapshot in later for event in snapshot.events if event.kind.startswith("container")
        ] == []
        final = collector.collect()
        last = {container.name: container for container in final.containers}
        for index in range(5):
            container = last[f"idle-{index}"]
            uptime = container.uptime_at(final.taken_at)
            assert uptime is not None and uptime > 0 and container.restarts == 0
            assert container.mem_used is not None and container.mem_limit is not None
    finally:
        collector._engine.close()
