"""The detail view's requests (a container's inspect, its log) and its reading of the inspect document:
ports, mounts, command, masked env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from pixel_tui.collect.liveness import Liveness
from pixel_tui.engine.client import describe_error
from pixel_tui.model import ContainerDetail, HealthCheck, mask_env
from pixel_tui.values import parse_time_or_none


def ask(
    liveness: Liveness,
    client: Callable[[], docker.APIClient],
    url: str,
    container_id: str,
    call: Callable[[docker.APIClient], Any],
) -> Any:
    """One on-demand request about a container: LookupError when it is gone; ConnectionError, in one line,
    when the engine is down or does not answer within the request timeout (the view says so at once)."""
    if liveness.down is not None:
        raise ConnectionError(f"engine unreachable: {liveness.down}")
    try:
        return call(client())
    except docker.errors.NotFound:
        raise LookupError(f"container {container_id[:12]} no longer exists") from None
    except docker.errors.APIError:
        raise
    except Exception as error:  # noqa: BLE001 - the collections find out on their own; this says why now
        raise ConnectionError(f"engine unreachable: {describe_error(error, url)}") from None


def detail_from_inspect(data: dict[str, Any]) -> ContainerDetail:
    """A ContainerDetail from `GET /containers/{id}/json`; env values that look secret are masked."""
    config = data.get("Config") or {}
    host_config = data.get("HostConfig") or {}
    ports = []
    for port, bindings in ((data.get("NetworkSettings") or {}).get("Ports") or {}).items():
        targets = ", ".join(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}" for b in bindings or [])
        ports.append(f"{port} -> {targets}" if targets else port)
    mounts = tuple(
        f"{m.get('Source') or m.get('Name')} -> {m.get('Destination')}{'' if m.get('RW', True) else ' (ro)'}"
        for m in data.get("Mounts") or []
    )
    env = []
    for entry in config.get("Env") or []:
        name, _, value = entry.partition("=")
        env.append((name, mask_env(name, value)))
    command = " ".join(str(part) for part in (config.get("Entrypoint") or []) + (config.get("Cmd") or []))
    state = data.get("State") or {}
    policy = host_config.get("RestartPolicy") or {}
    finished = parse_time_or_none(state.get("FinishedAt"))  # 0001-01-01: never
    return ContainerDetail(
        id=data["Id"],
        name=data.get("Name", "").lstrip("/"),
        image=config.get("Image", ""),
        state=state.get("Status", ""),
        command=command,
        created=parse_time_or_none(data.get("Created")),
        labels=config.get("Labels") or {},
        ports=tuple(ports),
        mounts=mounts,
        env=tuple(env),
        restart_policy=policy.get("Name") or None,
        restart_retries=_integer(policy.get("MaximumRetryCount")) or None,
        restart_count=_integer(data.get("RestartCount")),
        started_at=parse_time_or_none(state.get("StartedAt")),
        finished_at=finished,
        exit_code=_integer(state.get("ExitCode")) if finished is not None or state.get("Status") == "exited" else None,
        oom_killed=state.get("OOMKilled") is True,
        health=health_from_inspect(state.get("Health")),
    )


def health_from_inspect(health: Any) -> HealthCheck | None:
    """`State.Health`: its status and failing streak, and what the last check printed and returned."""
    if not isinstance(health, dict) or not health.get("Status"):
        return None
    log = [entry for entry in health.get("Log") or [] if isinstance(entry, dict)]
    last = log[-1] if log else {}
    output = str(last.get("Output") or "").replace("\r\n", "\n").expandtabs(4).rstrip("\n")
    return HealthCheck(
        status=str(health["Status"]),
        failing_streak=_integer(health.get("FailingStreak")) or 0,
        output=tuple(output.split("\n")) if output else (),
        exit_code=_integer(last.get("ExitCode")),
        ended_at=parse_time_or_none(last.get("End")),
    )


def _integer(value: Any) -> int | None:
    return value if type(value) is int else None
