"""The private Docker engine the suite runs on: it answers, runs busybox, limits memory, and is ours."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dockerd import USER_SOCKETS, PrivateEngine


def test_engine_answers(engine: PrivateEngine) -> None:
    """The engine pings and reports the storage driver it was started with."""
    assert engine.client.ping()
    assert engine.client.info()["Driver"] == engine.storage_driver


def test_engine_is_private(engine: PrivateEngine) -> None:
    """The URL points into the engine's own temporary directory, never at the user's engine."""
    assert engine.base_dir is not None
    assert engine.url == f"unix://{engine.base_dir}/docker.sock"
    assert engine.socket_path.is_socket()
    assert all(os.path.realpath(engine.socket_path) != os.path.realpath(s) for s in USER_SOCKETS)
    assert "DOCKER_HOST" not in os.environ


def test_busybox_echo(engine: PrivateEngine) -> None:
    """The busybox image runs a command and its output reaches the logs."""
    container = engine.run(["echo", "hi"], name="pixel-test-echo", labels={"pixel.test": "echo"})
    assert container.wait(timeout=30)["StatusCode"] == 0
    assert container.logs() == b"hi\n"
    assert container.image.tags == [engine.image]
    assert container.labels["pixel.test"] == "echo"


def test_environment_and_shell(engine: PrivateEngine) -> None:
    """Environment variables reach the container and the shell runs loops."""
    script = 'i=0; while [ $i -lt 3 ]; do echo "$TASK_ID-$i"; i=$((i+1)); done'
    container = engine.run(["sh", "-c", script], environment={"TASK_ID": "abc"})
    assert container.wait(timeout=30)["StatusCode"] == 0
    assert container.logs().decode().split() == ["abc-0", "abc-1", "abc-2"]


def test_memory_limit(engine: PrivateEngine) -> None:
    """`mem_limit="64m"` is applied: in the container's config and in its cgroup on the host."""
    container = engine.run(["sleep", "60"], mem_limit="64m")
    assert container.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert container.status == "running"
    pid = container.attrs["State"]["Pid"]
    memory_line = next(
        line for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines() if line.split(":")[1] in {"memory", ""}
    )
    cgroup = memory_line.split(":", 2)[2]
    assert cgroup.endswith(container.id)
    v1 = Path("/sys/fs/cgroup/memory") / cgroup.lstrip("/") / "memory.limit_in_bytes"
    v2 = Path("/sys/fs/cgroup") / cgroup.lstrip("/") / "memory.max"
    limit_file = v1 if v1.exists() else v2
    assert int(limit_file.read_text()) == 64 * 1024 * 1024


def test_cleanup_between_tests(engine: PrivateEngine) -> None:
    """Containers left by earlier tests (test_busybox_echo's, labelled) were removed by the `engine` fixture."""
    assert engine.client.containers.list(all=True, filters={"label": "pixel.test"}) == []


@pytest.mark.parametrize("name", ["pixel-worker-0123abcd", "pixel-worker-rebuild-89abcdef"])
def test_named_container_runs(engine: PrivateEngine, name: str) -> None:
    """Containers can be given worker-like names and be found by them."""
    engine.run(["sleep", "30"], name=name)
    assert engine.client.containers.get(name).status == "running"
