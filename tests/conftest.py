"""Shared fixtures: an isolated environment for every test, and a private Docker engine for those that ask.

- `docker_engine` (session): a `tests.dockerd.PrivateEngine` started on first use, never before; `.url`,
  `.client`, `.image` and `.run(command, name=, labels=, environment=, mem_limit=, ...)`. It is
  parametrised over the real engines of tests/engines.py, so every test using it runs on each, with
  the engine's id in the test id (`test_x[docker20]`, `[docker26]`, `[podman]`); PIXEL_TUI_ENGINES
  (comma-separated ids) runs on fewer. Only one engine runs at a time: pytest groups the tests by
  engine and stops one before it starts the next.
- `engine` (function): the same engine, and whatever the test created on it is removed afterwards.
Tests that use either are marked `docker` automatically (`-m "not docker"` leaves them out). Without
an engine they are skipped with the reason, unless `PIXEL_TUI_REQUIRE_DOCKER=1`, where they fail.
Where an engine cannot do what a test checks, the test says so: `engine.lacks("oom_event")` ends it
as an expected failure whose reason names the engine (tests/engines.py lists each engine's LACKS).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.dockerd import EngineError, PrivateEngine
from tests.engines import ENGINES

REQUIRE_DOCKER_ENV = "PIXEL_TUI_REQUIRE_DOCKER"
ENGINES_ENV = "PIXEL_TUI_ENGINES"
_DOCKER_FIXTURES = {"docker_engine", "engine"}
# Variables that could point the code under test at a real engine, or at the user's own files.
_UNSAFE_ENV = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONFIG")


def _docker_required() -> bool:
    """True when a missing engine must fail the run rather than skip (CI)."""
    return os.environ.get(REQUIRE_DOCKER_ENV, "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the engine fixtures with `docker`."""
    for item in items:
        if _DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's files under its tmp dir and away from any real Docker engine."""
    monkeypatch.setenv("PIXEL_TUI_HOME", str(tmp_path / "pixel-tui-home"))
    for name in _UNSAFE_ENV:
        monkeypatch.delenv(name, raising=False)


def _engine_ids() -> list[str]:
    """The engines the Docker tests run on: PIXEL_TUI_ENGINES, or every one."""
    chosen = [n.strip() for n in os.environ.get(ENGINES_ENV, "").split(",") if n.strip()] or list(ENGINES)
    unknown = [n for n in chosen if n not in ENGINES]
    if unknown:
        raise ValueError(f"{ENGINES_ENV}: unknown engine {', '.join(unknown)} (known: {', '.join(ENGINES)})")
    return chosen


@pytest.fixture(scope="session", params=_engine_ids())
def docker_engine(request: pytest.FixtureRequest) -> Iterator[PrivateEngine]:
    """A private engine of the kind the parameter names, for the whole session, with `BUSYBOX_IMAGE` imported."""
    kind = ENGINES[request.param]
    reason = kind.unavailable()
    if reason is None:
        private = kind()
        try:
            private.start()
        except EngineError as e:
            reason = f"the private {kind.name} engine did not start: {e}"
    if reason is not None:
        if _docker_required():
            pytest.fail(f"{REQUIRE_DOCKER_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def engine(docker_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The session's engine; containers, volumes, networks and images the test creates are removed after."""
    client = docker_engine.client
    containers = {c.id for c in client.containers.list(all=True, ignore_removed=True)}
    volumes = {v.name for v in client.volumes.list()}
    networks = {n.id for n in client.networks.list()}
    images = {i.id for i in client.images.list(all=True)}
    yield docker_engine
    docker_engine.remove_all_containers(keep=containers)
    for volume in client.volumes.list():
        if volume.name not in volumes:
            with contextlib.suppress(Exception):
                volume.remove(force=True)
    for network in client.networks.list():
        if network.id not in networks:
            with contextlib.suppress(Exception):
                network.remove()
    try:
        keep_image = client.images.get(docker_engine.image).id
    except docker.errors.ImageNotFound:  # the test removed it: bring it back for the next one
        keep_image = client.images.get(docker_engine.import_busybox()).id
    for image in client.images.list(all=True):
        if image.id not in images and image.id != keep_image:
            with contextlib.suppress(Exception):
                client.images.remove(image.id, force=True)
