"""Engine events of every API the collector meets, fed through the event reader.

tests/fixtures/events/ holds one container's life (create, start, an exec, unhealthy, oom, kill, die,
removal) as each engine sends it, built from the engines' documented shapes: moby's api/types/events
Message (status/id/from deprecated, gone from API 1.52 on) and podman's compat handler
(pkg/api/handlers/compat/events.go: `remove`, `died` until it translated it to `die`, `health_status`
with a separate `HealthStatus`, no `oom`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from pixel_tui.collect.events import EngineEvents, read_event
from pixel_tui.model import Level

FIXTURES = Path(__file__).parent / "fixtures" / "events"
CID = "4f1e2b" * 10 + "a1b2"
ENGINES = ["docker-1.41", "docker-1.45", "docker-1.52", "podman-4", "podman-5-1.52"]


def payloads(engine: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{engine}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("recorded", ENGINES)
def test_every_change_names_the_container_by_its_actor_id(recorded):
    changes = [read_event(raw) for raw in payloads(recorded)]
    changing = [change for change in changes if change.changing]
    assert changing and {change.container_id for change in changing} == {CID}
    actions = [change.action for change in changing]
    # The removal is always `destroy`, the exit always `die`, whatever the engine calls them.
    assert actions[-1] == "destroy" and "die" in actions and "health_status" in actions
    assert not any(change.changing for change in changes if change.action.startswith("exec_"))


@pytest.mark.parametrize("recorded", ENGINES)
def test_pane_events_of_each_engine(recorded):
    events = [change.event for change in map(read_event, payloads(recorded)) if change.event is not None]
    told = [(event.kind, event.target, event.message, event.level) for event in events]
    expected = [("container-health", "web", "web unhealthy", Level.WARNING)]
    if recorded.startswith("docker"):  # podman sends no oom event (its list and inspect say OOMKilled)
        expected.append(("container-oom", "web", "web ran out of memory", Level.CRITICAL))
    expected.append(("container-died", "web", "web exited (137)", Level.WARNING))
    assert told == expected


@pytest.mark.parametrize(
    ("raw", "health"),
    [
        ({"Action": "health_status: healthy", "Actor": {"ID": CID}}, "healthy"),
        ({"Action": "health_status: starting", "Actor": {"ID": CID}}, "starting"),
        ({"Action": "health_status", "HealthStatus": "healthy", "Actor": {"ID": CID}}, "healthy"),
        ({"Action": "health_status", "HealthStatus": "starting", "Actor": {"ID": CID}}, "starting"),
    ],
)
def test_health_of_docker_and_podman(raw, health):
    change = read_event(raw)
    assert (change.action, change.health, change.changing, change.event) == ("health_status", health, True, None)


def test_top_level_id_alone_still_works_and_actor_id_wins():
    assert read_event({"status": "start", "id": CID}).container_id == CID  # before Actor (API < 1.22)
    both = read_event({"status": "start", "id": "old", "Action": "start", "Actor": {"ID": CID}})
    assert both.container_id == CID and both.action == "start"
    assert read_event({"Action": "start", "Actor": {"ID": CID, "Attributes": {}}}).event is None


@pytest.mark.parametrize("recorded", ENGINES)
def test_the_stream_reader_tells_the_changed_id_and_the_events(recorded):
    """EngineEvents over a fake client whose stream yields the recorded payloads."""
    done = threading.Event()

    class Stream:
        def __iter__(self):
            yield from payloads(recorded)
            done.set()

        def close(self):
            pass

    class Api:
        def events(self, **_):
            return Stream()

        def close(self):
            pass

    reader = EngineEvents(Api, clock=lambda: 0.0)
    reader.start()
    assert done.wait(5)
    reader._thread.join(5)
    assert reader.drain_changed() == {CID}  # before API 1.52's change: {CID}; after it the old code gave {""}
    assert [event.kind for event in reader.drain_events()][-1] == "container-died"


def test_the_private_engines_own_events_read_the_same(engine):
    """This suite's engine (Docker 20.10, API 1.41), its real stream: every change names the container by Actor.ID."""
    since = time.time() - 1
    container = engine.run("sh -c 'exit 3'", name="short-lived")
    container.wait(timeout=30)
    container.remove()
    raw = list(engine.client.api.events(since=since, until=time.time() + 1, decode=True, filters={"type": "container"}))
    changes = [read_event(event) for event in raw if (event.get("Actor") or {}).get("ID") == container.id]
    assert [change.action for change in changes if change.changing] == ["create", "start", "die", "destroy"]
    assert {change.container_id for change in changes} == {container.id}
    (died,) = [change.event for change in changes if change.event is not None]
    assert (died.kind, died.message) == ("container-died", "short-lived exited (3)")


def test_a_health_repeated_after_every_check_is_told_once():
    """podman 4 sends health_status after every health check; Docker only when it changes."""
    unhealthy = {"Action": "health_status", "HealthStatus": "unhealthy", "Actor": {"ID": CID, "Attributes": {}}}
    healthy = {**unhealthy, "HealthStatus": "healthy"}
    reader = EngineEvents(lambda: None, clock=lambda: 0.0)

    class Api:
        def events(self, **_):
            return iter([unhealthy, unhealthy, unhealthy, healthy, healthy, unhealthy])

        def close(self):
            pass

    reader._connect = Api
    reader.start()
    reader._thread.join(5)
    assert [event.message for event in reader.drain_events()] == [f"{CID[:12]} unhealthy", f"{CID[:12]} unhealthy"]
    assert reader.drain_changed() == {CID}


def test_unhealthy_again_after_a_restart_is_told_again():
    """A restart sets the health back to `starting` without an event: a container that fails its check again
    after autoheal restarted it must be seen at once, not at the next reconcile (the budget test on Docker
    20.10 waited out its 60 s)."""
    unhealthy = {"Action": "health_status: unhealthy", "Actor": {"ID": CID, "Attributes": {"name": "api"}}}
    die = {"Action": "die", "Actor": {"ID": CID, "Attributes": {"name": "api", "exitCode": "137"}}}
    start = {"Action": "start", "Actor": {"ID": CID, "Attributes": {"name": "api"}}}
    restart = {"Action": "restart", "Actor": {"ID": CID, "Attributes": {"name": "api"}}}
    reader = EngineEvents(lambda: None, clock=lambda: 0.0)
    told: list[set[str]] = []

    class Api:
        def events(self, **_):
            yield unhealthy
            yield from (die, start, restart)
            yield unhealthy  # failed again after the restart
            yield unhealthy  # and said once more with nothing between: not news

        def close(self):
            pass

    reader._connect = Api
    reader.start()
    reader._thread.join(5)
    told.append(reader.drain_changed())
    messages = [event.message for event in reader.drain_events()]
    assert messages.count("api unhealthy") == 2, messages
    assert told == [{CID}]
