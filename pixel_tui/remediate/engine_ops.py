"""The engine backend of remediation: live reads for validation, and the changing calls, on one engine.

This is the only module of pixel-tui that calls the Docker API's changing operations (stop, kill,
remove, restart, start, prune, exec); a test holds that. Container names and labels are only ever passed
as API arguments, never through a shell.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import docker
import docker.errors

from pixel_tui.engine.client import CHANGE_TIMEOUT_S, TIMEOUT_CEILING_S, connect_endpoint, describe_error, resolve
from pixel_tui.model import Container
from pixel_tui.values import parse_time_or_none


@dataclass(frozen=True)
class LiveContainer:
    """A container as the engine describes it right now (an inspect, or a list entry)."""

    id: str
    name: str
    state: str
    health: str | None
    started_at: datetime | None
    restarts: int | None
    labels: dict[str, str] = field(default_factory=dict)
    env: tuple[str, ...] = ()
    image: str = ""

    @property
    def running(self) -> bool:
        """True while it runs."""
        return self.state == "running"

    def env_value(self, name: str) -> str | None:
        """One variable of its environment, None when unset."""
        prefix = name + "="
        return next((entry[len(prefix) :] for entry in self.env if entry.startswith(prefix)), None)

    def as_container(self) -> Container:
        """The model's Container, for the worker rules (no metrics)."""
        return Container(self.id, self.name, self.image, self.state, self.health, self.started_at, self.restarts,
                         None, None, None, self.labels)  # fmt: skip


class EngineOps(Protocol):
    """What remediation asks of an engine; the real one is DockerOps, the demo has a simulated one."""

    def inspect(self, container_id: str) -> LiveContainer | None:
        """The container now, None when it no longer exists."""
        ...

    def containers(self) -> list[LiveContainer]:
        """Every container now (running or not), without env."""
        ...

    def stop(self, container_id: str, grace_s: float) -> None:
        """SIGTERM, then SIGKILL after `grace_s` seconds."""
        ...

    def start(self, container_id: str) -> None:
        """Start a stopped container."""
        ...

    def restart(self, container_id: str, grace_s: float) -> None:
        """Restart (stop within `grace_s`, then start)."""
        ...

    def remove(self, container_id: str) -> None:
        """Remove a stopped container (its anonymous volumes stay: data lives there)."""
        ...

    def prune_images(self) -> str:
        """Remove dangling images; a sentence saying what was reclaimed."""
        ...

    def prune_build_cache(self) -> str:
        """Remove the build cache; a sentence saying what was reclaimed."""
        ...

    def prune_preview(self) -> str:
        """What a prune would remove now (dangling images, unused build cache), counts and bytes, in words."""
        ...


class EngineError(Exception):
    """The engine refused or failed an operation; the message is one line a person can act on."""


class DockerOps:
    """EngineOps on a real engine, through clients of its own (the collector keeps its own).

    Two clients, for two timeouts: the reads that validate a change (inspect, list) wait as long as a
    collection's requests (`request_timeout`, from the interval), so a frozen engine refuses an action
    within seconds; the changes themselves wait `CHANGE_TIMEOUT_S` (stop and restart add their grace),
    since a change cut short leaves unknown whether it happened.
    """

    def __init__(
        self, url: str | None = None, *, request_timeout: float = TIMEOUT_CEILING_S,
        change_timeout: float = CHANGE_TIMEOUT_S, context: str | None = None,
    ) -> None:  # fmt: skip
        self.endpoint = resolve(url, context)
        """The engine as resolved (--docker-host, a context, DOCKER_HOST or the socket), and whether it is explicit."""
        self.url = self.endpoint.url
        self.context = self.endpoint.context
        """The docker context the URL came from, None when none did."""
        self._timeouts = {"read": request_timeout, "change": change_timeout}
        self._apis: dict[str, docker.APIClient] = {}
        self._lock = threading.Lock()

    def _client(self, kind: str = "change") -> docker.APIClient:
        with self._lock:
            api = self._apis.get(kind)
            if api is None:
                api = self._apis[kind] = connect_endpoint(self.endpoint, timeout=self._timeouts[kind])[0]
            return api

    def _call(self, doing: str, call: Callable[[docker.APIClient], Any], kind: str = "change") -> Any:
        """`call` on the client of that kind; the connection's failures too become one line."""
        try:
            return call(self._client(kind))
        except docker.errors.NotFound as error:
            raise LookupError(f"{doing}: no longer exists") from error
        except docker.errors.APIError as error:
            raise EngineError(f"{doing}: {error.explanation or error}") from None
        except Exception as error:  # noqa: BLE001 - the connection itself: one line, never a traceback
            self.close()
            raise EngineError(f"{doing}: {describe_error(error, self.url)}") from None

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            apis, self._apis = list(self._apis.values()), {}
        for api in apis:
            api.close()

    def inspect(self, container_id: str) -> LiveContainer | None:
        """The container now, None when gone."""
        try:
            data = self._call(f"inspect {container_id[:12]}", lambda api: api.inspect_container(container_id), "read")
        except LookupError:
            return None
        state = data.get("State") or {}
        config = data.get("Config") or {}
        health = (state.get("Health") or {}).get("Status")
        return LiveContainer(
            id=data["Id"],
            name=str(data.get("Name", "")).lstrip("/"),
            state=state.get("Status", ""),
            health=health if health in ("healthy", "unhealthy", "starting") else None,
            started_at=parse_time_or_none(state.get("StartedAt")),
            restarts=data.get("RestartCount"),
            labels=dict(config.get("Labels") or {}),
            env=tuple(entry for entry in config.get("Env") or () if isinstance(entry, str)),
            image=str(config.get("Image", "")),
        )

    def containers(self) -> list[LiveContainer]:
        """Every container from one list request (start times are not in the list: None)."""
        listed = self._call("list containers", lambda api: api.containers(all=True), "read")
        return [
            LiveContainer(
                id=item["Id"],
                name=(item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/"),
                state=item.get("State", ""),
                health=None,
                started_at=None,
                restarts=None,
                labels=dict(item.get("Labels") or {}),
                image=item.get("Image", ""),
            )
            for item in listed
        ]

    def runs(self, container_id: str, argv: Sequence[str]) -> bool:
        """True when `argv` runs in the container and exits 0: an exec with no terminal, how a shell is found.

        False when the runtime cannot start it (no such file); LookupError when the container is gone."""

        def exit_code(api: docker.APIClient) -> int | None:
            try:
                started = api.exec_create(container_id, list(argv), stdin=False, tty=False)
                api.exec_start(started["Id"])  # waits for it to end (its output, if any, is dropped)
            except docker.errors.NotFound:
                raise
            except docker.errors.APIError:
                return None  # older engines refuse the start itself when the file is not there
            return api.exec_inspect(started["Id"]).get("ExitCode")

        return self._call(f"exec in {container_id[:12]}", exit_code, "read") == 0

    def stop(self, container_id: str, grace_s: float) -> None:
        """docker stop with the grace as its timeout; the request waits the grace plus a margin."""
        self._call(f"stop {container_id[:12]}", lambda api: api.stop(container_id, timeout=int(round(grace_s))))

    def start(self, container_id: str) -> None:
        """docker start."""
        self._call(f"start {container_id[:12]}", lambda api: api.start(container_id))

    def restart(self, container_id: str, grace_s: float) -> None:
        """docker restart."""
        self._call(f"restart {container_id[:12]}", lambda api: api.restart(container_id, timeout=int(round(grace_s))))

    def remove(self, container_id: str) -> None:
        """docker rm (never -v: volumes are data)."""
        self._call(f"remove {container_id[:12]}", lambda api: api.remove_container(container_id, v=False))

    def prune_images(self) -> str:
        """docker image prune (dangling only)."""
        result = self._call("prune images", lambda api: api.prune_images(filters={"dangling": True})) or {}
        deleted = sum(1 for entry in result.get("ImagesDeleted") or [] if entry.get("Deleted"))
        reclaimed = _mib(result.get("SpaceReclaimed"))
        return f"dangling images: {deleted} deleted (images and their layers), {reclaimed} reclaimed"

    def prune_build_cache(self) -> str:
        """docker builder prune."""
        result = self._call("prune build cache", lambda api: api.prune_builds()) or {}
        return f"build cache: {_mib(result.get('SpaceReclaimed'))} reclaimed"

    def prune_preview(self) -> str:
        """docker system df, read for what a prune would take."""
        return prune_preview_of(self._call("measure disk usage", lambda api: api.df()) or {})


def prune_preview_of(usage: dict[str, Any]) -> str:
    """The words of `prune_preview` from the engine's disk usage (`GET /system/df`)."""
    images = [image for image in usage.get("Images") or [] if _dangling(image)]
    # Only its own layers are freed: the part shared with images that stay (busybox under a commit) is not.
    image_bytes = sum(
        max(int(image.get("Size") or 0) - max(int(image.get("SharedSize") or 0), 0), 0) for image in images
    )
    cache = [entry for entry in usage.get("BuildCache") or [] if not entry.get("InUse")]
    cache_bytes = sum(int(entry.get("Size") or 0) for entry in cache)
    return (
        f"would free about {_mib(image_bytes + cache_bytes)}: {len(images)} dangling "
        f"image{'s' if len(images) != 1 else ''} ({_mib(image_bytes)}), {len(cache)} unused build cache "
        f"entr{'ies' if len(cache) != 1 else 'y'} ({_mib(cache_bytes)})"
    )


def _dangling(image: dict[str, Any]) -> bool:
    """Untagged: what `docker image prune` (dangling=true) removes, unless a container still uses it.

    Docker says `<none>:<none>` (or nothing) for no tag; podman's `/system/df` says `<none>`."""
    tags = [tag for tag in image.get("RepoTags") or [] if tag not in ("<none>:<none>", "<none>")]
    return not tags and not image.get("Containers")


def _mib(value: Any) -> str:
    return f"{(value or 0) / 1048576:.1f} MiB"
