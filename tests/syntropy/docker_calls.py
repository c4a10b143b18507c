"""The `docker` commands Syntropy shells out to, as the engine answers them (docker SDK, no CLI needed).

The name filter of `docker ps --filter name=...` matches a substring, and Syntropy relies on it: its
"is a worker running?" and "remove exited workers" both see any container whose name merely contains
`pixel-worker-` (the log tailer `pixel-worker-logs-1`, another project's workers).
"""

from __future__ import annotations

from dataclasses import dataclass

import docker
from docker.models.containers import Container

from tests.syntropy.files import DataFiles
from tests.syntropy.worker import ENTRYPOINT

WORKER_PREFIX = "pixel-worker-"


def worker_name(task_id: str) -> str:
    """`pixel-worker-<first 8 characters of the task id>`."""
    return f"{WORKER_PREFIX}{task_id[:8]}"


@dataclass(frozen=True)
class ContainerStatus:
    """`getContainerStatus`: `docker inspect --format '{{.State.Status}}:{{.State.ExitCode}}'`."""

    exists: bool
    exited: bool
    exit_code: int
    status: str = ""


def running_worker_names(client: docker.DockerClient) -> list[str]:
    """`docker ps --filter name=pixel-worker-`: running containers whose name CONTAINS the prefix."""
    return [c.name for c in client.containers.list(filters={"name": WORKER_PREFIX}, ignore_removed=True)]


def remove_exited_workers(client: docker.DockerClient) -> tuple[int, int]:
    """`cleanupExitedWorkerContainers`: `docker rm -f` every exited container whose name contains
    `pixel-worker-`, whatever its project; returns (removed, attempted)."""
    exited = client.containers.list(all=True, filters={"name": WORKER_PREFIX, "status": "exited"}, ignore_removed=True)
    removed = 0
    for container in exited:
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.APIError:
            pass
    return removed, len(exited)


def container_status(client: docker.DockerClient, name: str) -> ContainerStatus:
    """`getContainerStatus(name)`: a missing container counts as exited with code -1; `dead` or
    `created` are neither missing nor exited."""
    try:
        state = client.api.inspect_container(name)["State"]
    except docker.errors.APIError:
        return ContainerStatus(exists=False, exited=True, exit_code=-1)
    status = str(state.get("Status", ""))
    return ContainerStatus(True, status == "exited", int(state.get("ExitCode") or 0), status)


def create_worker(
    client: docker.DockerClient,
    files: DataFiles,
    *,
    image: str,
    name: str,
    project: str,
    environment: dict[str, str],
    extra_labels: dict[str, str],
) -> Container:
    """The container `docker compose --profile worker run -d --name <name> worker` creates: the Compose
    one-off labels, no network, `data/` and `logs/` (and the model's `worker-ctl/`) under /pixel."""
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": "worker",
        "com.docker.compose.oneoff": "True",
        "com.docker.compose.project.working_dir": str(files.root),
        **extra_labels,
    }
    binds = {
        str(files.data): {"bind": "/pixel/data", "mode": "rw"},
        str(files.logs): {"bind": "/pixel/logs", "mode": "rw"},
        str(files.ctl): {"bind": "/pixel/ctl", "mode": "rw"},
    }
    container: Container = client.containers.create(
        image,
        ["sh", "-c", ENTRYPOINT],
        name=name,
        labels=labels,
        environment=environment,
        network_mode="none",
        volumes=binds,
    )
    return container
