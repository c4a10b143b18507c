"""podman's list has no health in its Status: a row takes its health from the cached inspect instead."""

from __future__ import annotations

from typing import Any

import pytest

from pixel_tui.collect import engine as engine_module
from pixel_tui.collect.engine import DockerEngine
from pixel_tui.collect.listing import Inspected, list_health

CID = "ab" * 32


def podman_inspect(health: str | None) -> dict[str, Any]:
    """The fields of podman's compat inspect the collector reads (podman 4.3 and 5 alike)."""
    state: dict[str, Any] = {"Status": "running", "Running": True, "Pid": 4242, "StartedAt": "2026-12-06T09:00:00Z"}
    if health is not None:
        state["Health"] = {"Status": health, "FailingStreak": 0, "Log": []}
    return {"Id": CID, "State": state, "RestartCount": 0, "HostConfig": {"Memory": 0}, "Config": {"Env": []}}


class FakePodman:
    """A compat socket that lists one running container, `Status` without health as podman words it."""

    api_version = "1.41"

    def __init__(self, health: str | None) -> None:
        self.health = health

    def containers(self, all: bool = False) -> list[dict[str, Any]]:
        return [{"Id": CID, "Names": ["/web"], "Image": "busybox", "State": "running", "Status": "Up 5 minutes"}]

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return podman_inspect(self.health)

    def stats(self, cid: str, **_: Any) -> dict[str, Any]:
        return {}

    def events(self, **_: Any) -> Any:
        return iter(())

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


@pytest.mark.parametrize("health", ["healthy", "unhealthy", "starting", None])
def test_podman_row_health_comes_from_the_inspect(monkeypatch, health):
    api = FakePodman(health)
    monkeypatch.setattr(engine_module, "connect_endpoint", lambda *a, **k: (api, {"Version": "4.3.1"}))
    docker_engine = DockerEngine("tcp://podman.invalid:8080")
    try:
        reading = docker_engine.poll()
    finally:
        docker_engine.close()
    assert reading.state.reachable, reading.state.error
    (row,) = reading.containers
    # Without a health check: None (no health), never "healthy"; the old code said None in every case.
    assert (row.name, row.state, row.health) == ("web", "running", health)


def test_list_health_of_docker_and_podman_status():
    assert list_health("Up 5 minutes (healthy)") == "healthy"
    assert list_health("Up 2 seconds (health: starting)") == "starting"
    assert list_health("Up 5 minutes") is None  # podman's, with or without a health check
    assert Inspected.read(podman_inspect(""), ("running", None), "X", 0.0).health is None  # podman: no check
