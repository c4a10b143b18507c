"""The engine-quiet collector on a real engine: a local engine is listed only when something changed.

A local engine with a healthy event stream is listed at start, when the stream tells of a change,
when a container's cgroup goes away, and every `reconcile_s`; nothing shown may go stale meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pixel_tui.collect import Collector
from pixel_tui.collect.engine import DockerEngine
from pixel_tui.model import Container, Snapshot, utcnow
from pixel_tui.settings import Settings

# A change reaches the event stream a few milliseconds after the API call that made it returns; the
# next collection of a console comes one interval (1-2 s) later. The tests wait this long instead.
EVENT_DELAY_S = 0.3


class Clock:
    """A monotonic clock the test moves by hand (the engine's lists and reconciles follow it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counter:
    """Counts the API client's container lists, its liveness pings and every other GET (list, inspect, stats...)."""

    def __init__(self, api: Any) -> None:
        self.lists = 0
        self.requests = 0
        self.pings = 0
        containers, get = api.containers, api.get

        def counted_containers(*args: Any, **kwargs: Any) -> Any:
            self.lists += 1
            return containers(*args, **kwargs)

        def counted_get(url: str, *args: Any, **kwargs: Any) -> Any:
            if url.endswith("/_ping"):
                self.pings += 1
            else:
                self.requests += 1
            return get(url, *args, **kwargs)

        api.containers = counted_containers
        api.get = counted_get


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.02)


def stream_healthy(docker_engine: DockerEngine) -> bool:
    events = docker_engine._events
    return events is not None and events.healthy


def quiet_collector(engine, **settings: Any) -> Collector:
    """A collector on the private engine, past its start: its event stream follows the engine."""
    collector = Collector(Settings(docker_host=engine.url, **settings))
    collector.collect()
    wait_until(lambda: stream_healthy(collector._engine), "the event stream connects")
    return collector


def figures(container: Container) -> tuple[object, ...]:
    """What a collection measures of a container: CPU %, memory used and limit, and whether it is an estimate."""
    return (container.cpu_percent, container.mem_used, container.mem_limit, container.cpu_estimated)


def rows(snapshot: Snapshot) -> dict[str, tuple[str, float | None]]:
    """name -> (state, uptime) of every container shown."""
    return {
        container.name: (container.state, container.uptime_at(snapshot.taken_at)) for container in snapshot.containers
    }


def test_steady_state_lists_2_times_a_minute_at_a_1s_interval_not_60(engine):
    """A minute of collections at 1 s with nothing changing: the 30 s reconcile lists twice, nothing else asks
    but the liveness probe, a `_ping` in the background at each collection that does not list.

    Before, each collection listed: 60 lists a minute. The clock is the engine's own, moved 1 s per
    collection, so the minute takes a few seconds.
    """
    for index in range(10):
        engine.run("sleep 600", name=f"steady-{index}")
    clock = Clock()
    docker_engine = DockerEngine(engine.url, reconcile_s=30.0, clock=clock)
    counter = Counter(docker_engine._client())
    start = utcnow()
    try:
        docker_engine.poll()
        assert counter.lists == 1
        inspector = docker_engine._socket_inspector(docker_engine._client())
        assert inspector.requests == 10  # an inspect of each container, once (over the inspector's socket)
        at_start = counter.requests
        wait_until(lambda: stream_healthy(docker_engine), "the event stream connects")
        uptimes = []
        previous: dict[str, Container] = {}
        kept = 0
        for second in range(1, 61):
            clock.now += 1.0
            # The previous collection's probe answers in a millisecond or two; its thread is not waited on.
            time.sleep(0.02)
            lists = counter.lists
            reading = docker_engine.poll()
            listed = counter.lists != lists  # a list gives new items: its rows are built again
            assert reading.state.reachable and len(reading.containers) == 10
            assert all(c.state == "running" and c.mem_used for c in reading.containers), reading.errors
            steady = next(c for c in reading.containers if c.name == "steady-0")
            uptimes.append(steady.uptime_at(start + timedelta(seconds=second)))
            for container in reading.containers:
                before = previous.get(container.id)
                # Figures unchanged: the very object of the collection before (what follows passes it over).
                if before is not None and not listed and figures(before) == figures(container):
                    assert before is container, (before, container)
                    kept += 1
                previous[container.id] = container
    finally:
        docker_engine.close()
    per_minute = counter.lists - 1
    assert per_minute == 2, f"{per_minute} lists in a minute at a 1 s interval (reconcile: 30 s)"
    assert counter.requests - at_start == per_minute, "no inspect, no stats request in the steady state"
    # At most one ping per collection that did not list (fewer when one was still on its way at the next).
    assert 0 < counter.pings <= 60 - per_minute, counter.pings
    assert inspector.requests == 10, "no inspect in the steady state"
    assert kept > 100, f"only {kept} of about 570 rows were kept: idle containers' figures moved every second?"
    # Uptime keeps ticking between two lists: it comes from the start time the inspect read, not from the list.
    assert all(abs(later - earlier - 1.0) < 1e-6 for earlier, later in zip(uptimes, uptimes[1:], strict=False)), uptimes


def test_start_stop_rename_pause_remove_each_show_at_the_next_collection(engine):
    engine.run("sleep 600", name="bystander")
    collector = quiet_collector(engine)
    docker_engine = collector._engine
    try:
        lists = docker_engine.lists
        assert rows(collector.collect()).keys() == {"bystander"}
        assert docker_engine.lists == lists, "nothing changed: no list"

        def step(change: Callable[[], object]) -> dict[str, tuple[str, float | None]]:
            nonlocal lists
            change()
            time.sleep(EVENT_DELAY_S)
            shown = rows(collector.collect())
            assert docker_engine.lists == lists + 1, "one list for the change, no more"
            lists = docker_engine.lists
            again = rows(collector.collect())
            assert docker_engine.lists == lists, "told once, listed once"
            assert again.keys() == shown.keys()
            return shown

        newcomer = engine.client.containers.create(engine.image, "sleep 600", name="newcomer", network_mode="none")
        assert step(lambda: None)["newcomer"][0] == "created"  # `create` was told before the step began
        assert step(newcomer.start)["newcomer"][0] == "running"
        shown = step(lambda: newcomer.rename("renamed"))
        assert "newcomer" not in shown and shown["renamed"][0] == "running"
        assert step(newcomer.pause)["renamed"][0] == "paused"
        assert step(newcomer.unpause)["renamed"][0] == "running"
        assert step(lambda: newcomer.stop(timeout=0))["renamed"] == ("exited", None)
        shown = step(newcomer.start)
        assert shown["renamed"][0] == "running" and shown["renamed"][1] < 10
        assert step(lambda: newcomer.remove(force=True)).keys() == {"bystander"}
    finally:
        collector.close()


def test_a_stopped_container_is_seen_at_once_even_with_its_events_lost(engine):
    """Its cgroup goes away: that alone is a change, and the collection that finds it lists at once."""
    doomed = engine.run("sleep 600", name="doomed")
    collector = quiet_collector(engine)
    docker_engine = collector._engine
    try:
        collector.collect()
        lists = docker_engine.lists
        docker_engine._events.drain_changed = set  # the stream looks healthy but tells nothing
        doomed.kill()
        wait_until(lambda: engine.client.api.inspect_container(doomed.id)["State"]["Status"] == "exited", "killed")
        shown = rows(collector.collect())
        assert shown["doomed"] == ("exited", None)
        assert docker_engine.lists == lists + 1
    finally:
        collector.close()


def test_lost_events_are_caught_up_by_the_reconcile(engine):
    engine.run("sleep 600", name="old-name")
    collector = quiet_collector(engine, reconcile_s=2.0)
    docker_engine = collector._engine
    try:
        collector.collect()
        docker_engine._events.drain_changed = set  # events lost while the stream looks healthy
        changed_at = time.monotonic()
        engine.client.api.rename("old-name", "new-name")
        engine.run("sleep 600", name="unannounced")
        time.sleep(EVENT_DELAY_S)
        before_reconcile = rows(collector.collect())
        caught_up = None
        while caught_up is None and time.monotonic() - changed_at < 10:
            time.sleep(0.25)
            shown = rows(collector.collect())
            if {"new-name", "unannounced"} <= shown.keys():
                caught_up = time.monotonic() - changed_at
    finally:
        collector.close()
    assert before_reconcile.keys() == {"old-name"}, "the stream told nothing: only a reconcile can know"
    assert caught_up is not None and caught_up <= 2.0 + 0.5, f"caught up after {caught_up} s (reconcile 2 s)"
    assert shown["unannounced"][0] == "running" and "old-name" not in shown


def test_a_cut_stream_means_a_list_every_collection_until_it_is_back(engine):
    engine.run("sleep 600", name="first")
    clock = Clock()
    docker_engine = DockerEngine(engine.url, clock=clock)
    try:
        docker_engine.poll()
        wait_until(lambda: stream_healthy(docker_engine), "the event stream connects")
        docker_engine.poll()
        assert docker_engine.lists == 1
        cut = docker_engine._events
        cut._stream.close()  # the connection drops, as when dockerd restarts or a proxy times it out
        wait_until(lambda: not cut.alive, "the events thread sees the stream end")
        engine.run("sleep 600", name="during-the-cut")
        names = {c.name for c in docker_engine.poll().containers}
        assert names == {"first", "during-the-cut"} and docker_engine.lists == 2
        clock.now += 1.0
        docker_engine.poll()
        assert docker_engine.lists == 3, "no stream, no quiet: a list every collection"
        clock.now += 30.0  # a stream that failed is followed again 30 s after it began
        docker_engine.poll()
        assert docker_engine._events is not cut and docker_engine.lists == 4
        wait_until(lambda: stream_healthy(docker_engine), "the event stream connects again")
        docker_engine.poll()
        assert docker_engine.lists == 4, "the new stream tells every change: quiet again"
        engine.client.api.rename("first", "renamed")
        time.sleep(EVENT_DELAY_S)
        names = {c.name for c in docker_engine.poll().containers}
        assert names == {"renamed", "during-the-cut"} and docker_engine.lists == 5
    finally:
        docker_engine.close()


def test_a_remote_engine_is_listed_every_collection(engine):
    engine.run("sleep 600", name="far")
    docker_engine = DockerEngine(engine.url)
    docker_engine.metrics.local = False  # as for tcp:// or ssh://: no cgroup files, no shared clock
    try:
        for _ in range(3):
            docker_engine.poll()
            wait_until(lambda: stream_healthy(docker_engine), "the event stream connects")
        assert docker_engine.lists == 3
    finally:
        docker_engine.close()
