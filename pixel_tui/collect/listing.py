"""What the engine's sparse container list and an inspect say of a container, read field by field."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pixel_tui.model import Container
from pixel_tui.values import parse_time_or_none

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"^Exited \((-?\d{1,10})\)")


def list_name(item: dict[str, Any]) -> str:
    """A listed container's name, without the leading slash; its short id when it has none."""
    return (item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/")


def list_health(status: str) -> str | None:
    """Health as the list's Status text shows it: healthy, unhealthy, starting or None.

    podman's list has no health in its Status (`Up 5 minutes`): None here, and the row takes the health
    of its cached inspect (`Inspected.health`), refreshed by podman's `health_status` events.
    """
    found = _HEALTH.search(status)
    if found is None:
        return None
    return "starting" if found.group(1) == "health: starting" else found.group(1)


def list_exit_code(status: str) -> int | None:
    """The exit code the list's Status text gives an exited container ("Exited (137) 5 minutes ago"), else None."""
    found = _EXITED.match(status)
    return None if found is None else int(found.group(1))


def env_value(env: list[str], name: str) -> str | None:
    """The text of one variable of a container's environment (the worker rules judge it), None when unset."""
    prefix = name + "="
    for entry in env:
        if isinstance(entry, str) and entry.startswith(prefix):
            return entry[len(prefix) :]
    return None


@dataclass
class Inspected:
    """What the sparse list lacks, kept per container id until that container changes."""

    state_key: tuple[str, str | None]
    started_at: datetime | None
    restarts: int | None
    mem_limit: int | None
    pid: int | None
    env_timeout: str | None
    fetched: float
    health: str | None = None
    """State.Health.Status: what a row shows when the list has no health (podman's)."""
    exit_code: int | None = None
    """Its exit code while exited or dead."""
    oom_killed: bool = False

    @classmethod
    def read(cls, data: dict[str, Any], key: tuple[str, str | None], timeout_env: str, clock: float) -> Inspected:
        """From an inspect document; `key` is the (state, health) the list showed, `clock` when it was asked."""
        state = data.get("State") or {}
        host_config = data.get("HostConfig") or {}
        env = (data.get("Config") or {}).get("Env") or []
        health = (state.get("Health") or {}).get("Status") or None
        code = state.get("ExitCode")
        return cls(
            state_key=key,
            started_at=parse_time_or_none(state.get("StartedAt")),  # 0001-01-01: never started
            restarts=data.get("RestartCount"),
            mem_limit=host_config.get("Memory") or None,
            pid=state.get("Pid") or None,
            env_timeout=env_value(env, timeout_env),
            fetched=clock,
            health=health if health in ("healthy", "unhealthy", "starting") else None,
            # Read from the inspect a stop already causes (its state changed): no request of their own.
            exit_code=code if type(code) is int and state.get("Status") in ("exited", "dead") else None,
            oom_killed=state.get("OOMKilled") is True,
        )


def exit_code_of(item: dict[str, Any], inspected: Inspected | None) -> int | None:
    """A stopped container's exit code: the list's Status text has it, else its cached inspect."""
    code = list_exit_code(item.get("Status", ""))
    if code is None and inspected is not None:
        return inspected.exit_code
    return code


def same_items(before: list[dict[str, Any]] | None, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`listed` with each item equal to the one the list before gave the same container replaced by that one: a
    list (every 30 s on a quiet local engine) that found nothing new keeps every row the same object, so
    nothing after the collector walks 1 000 rows again for it."""
    if not before:
        return listed
    previous = {item["Id"]: item for item in before}
    kept = []
    for item in listed:
        old = previous.get(item["Id"])
        kept.append(old if old is not None and old == item else item)
    return kept


@dataclass(frozen=True)
class Shape:
    """The listed containers with their cached inspects, in name order, and the running ones by (id, main pid)."""

    rows: list[tuple[dict[str, Any], Inspected | None]]
    """(list item, its inspect or None when not read yet), in name order."""
    running: list[tuple[str, int | None]]
    """(id, main pid) of each running container; pid None while not inspected."""
    to_measure: list[tuple[str, int | None]]
    """The running containers whose figures can be read: inspected (a cgroup is found by its pid), or any on a
    remote engine (its stats need no pid)."""

    @classmethod
    def of(cls, listed: list[dict[str, Any]], inspected: dict[str, Inspected], *, local: bool) -> Shape:
        """From the last list and the inspects cached by id."""
        rows = sorted(((item, inspected.get(item["Id"])) for item in listed), key=lambda row: list_name(row[0]))
        running = [(item["Id"], info) for item, info in rows if item.get("State") == "running"]
        return cls(
            rows,
            [(cid, info.pid if info else None) for cid, info in running],
            [(cid, info.pid if info else None) for cid, info in running if info is not None or not local],
        )


Reading = tuple[float | None, int | None, int | None]
"""One collection's (CPU %, memory used, memory limit) of a container."""
UNMEASURED: Reading = (None, None, None)


def container_of(
    item: dict[str, Any],
    info: Inspected | None,
    reading: Reading,
    host_memory: int | None,
    estimated: bool,
) -> Container:
    """One row: what the list says, what its cached inspect says (None: not read yet, its fields unknown), and
    this collection's (CPU %, memory used, memory limit)."""
    cpu, used, limit = reading
    if limit is None and info is not None:
        limit = info.mem_limit or host_memory
    running = item.get("State") == "running"
    return Container(
        id=item["Id"],
        name=list_name(item),
        image=item.get("Image", ""),
        state=item.get("State", ""),
        health=list_health(item.get("Status", "")) or (info.health if info else None),
        started_at=info.started_at if info else None,  # its uptime counts from it, not from the list's Status
        restarts=info.restarts if info else None,
        cpu_percent=cpu,
        mem_used=used,
        mem_limit=limit if running else None,
        labels=item.get("Labels") or {},
        cpu_estimated=estimated,
        exit_code=None if running else exit_code_of(item, info),
        oom_killed=not running and info is not None and info.oom_killed,
        inspected=info is not None,
    )


class Rows:
    """The rows of the last collection by container id: a container whose list item and cached inspect are the
    very objects its row was built from, and whose figures are equal, is that same Container again.

    An idle container is then one object from collection to collection (its uptime is derived from its start,
    not stored), and what follows the collector passes it over by identity: at 1 000 idle containers, building
    every row each collection was a fifth of the collector's CPU.
    """

    def __init__(self, host_memory: int | None) -> None:
        self._host_memory = host_memory
        self._built: dict[str, tuple[dict[str, Any], Inspected | None, Reading, bool, Container]] = {}

    def row(self, item: dict[str, Any], info: Inspected | None, reading: Reading, estimated: bool) -> Container:
        """The container's row this collection (see `container_of`)."""
        cid = item["Id"]
        kept = self._built.get(cid)
        if kept is not None and kept[0] is item and kept[1] is info and kept[2] == reading and kept[3] == estimated:
            return kept[4]
        container = container_of(item, info, reading, self._host_memory, estimated)
        self._built[cid] = (item, info, reading, estimated, container)
        return container

    def keep_only(self, ids: Collection[str]) -> None:
        """Forget the rows of containers no longer listed."""
        if len(self._built) > len(ids):
            self._built = {cid: built for cid, built in self._built.items() if cid in ids}

    def clear(self) -> None:
        """Forget every row (the engine's caches were dropped)."""
        self._built.clear()
