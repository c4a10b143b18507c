"""Connecting to a Docker engine, for the collector and the remediation backend alike.

One place decides how a URL becomes a client: a local socket with a small connection pool, `tcp://`
with the environment's TLS settings, `ssh://` through paramiko (never the `ssh` binary, which could
prompt on the console's terminal: see ssh.py), and how a failure becomes one line a person can act on.
"""

from __future__ import annotations

import os
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.tls import TLSConfig
from docker.utils import kwargs_from_env

from pixel_tui.engine.contexts import DEFAULT_SOCKET, ContextTLS, Endpoint, resolve

__all__ = ["DEFAULT_SOCKET", "Endpoint", "connect", "connect_endpoint", "engine_product", "resolve", "resolve_url"]
LOCAL_POOLS = 4
"""Idle connections kept to a local engine."""
TIMEOUT_SHARE = 0.75
"""A request times out after this share of the interval: a frozen engine then shows within two intervals."""
TIMEOUT_FLOOR_S = 1.0
"""The shortest request timeout: a busy engine (1 000 containers, a host in swap) still lists within it."""
TIMEOUT_CEILING_S = 5.0
"""The longest request timeout, whatever the interval: an engine silent that long is of no use to a console."""
CHANGE_TIMEOUT_S = 30.0
"""The timeout of a changing request (remove, start, prune; stop and restart add their grace to it).

Not derived from the interval: a change that times out leaves unknown whether it happened, and the read
that validates every change just before it (inspect, at the interval's timeout) already fails fast on a
frozen engine.
"""


def request_timeout(interval: float, url: str | None, context: str | None = None) -> float:
    """Seconds an engine request may wait for an answer at this collection interval: 1 to 5 s, and over
    ssh:// always 5 s (each new SSH channel starts the docker CLI on the remote host first)."""
    if resolve_url(url, context).startswith("ssh://"):
        return TIMEOUT_CEILING_S
    return min(TIMEOUT_CEILING_S, max(TIMEOUT_FLOOR_S, TIMEOUT_SHARE * interval))


def timed_out(error: BaseException) -> bool:
    """True when a timeout is anywhere in the error's chain: the engine did not answer (frozen, overloaded)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, TimeoutError | requests.exceptions.Timeout):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def engine_product(about: dict[str, Any] | None) -> str:
    """`podman` when the engine's version document names a "Podman Engine" component (its compat socket
    answers /version as Docker does, `Version` its own), else `docker`."""
    components = (about or {}).get("Components")
    for component in components if isinstance(components, list) else ():
        if isinstance(component, dict) and str(component.get("Name", "")).lower().startswith("podman"):
            return "podman"
    return "docker"


def resolve_url(url: str | None, context: str | None = None) -> str:
    """The engine URL in use: the given one or context's, else the docker CLI's environment (contexts.resolve)."""
    return resolve(url, context, os.environ).url


def describe_error(error: BaseException, url: str) -> str:
    """A one-line reason an operator can act on: SSH's own words for ssh://, else from the chain's root."""
    chain = [error]
    while len(chain) < 20:
        following = chain[-1].__cause__ or chain[-1].__context__
        if following is None or following in chain:
            break
        chain.append(following)
    root = chain[-1]
    text = str(root) or type(root).__name__
    if url.startswith("docker context "):  # a context that could not be read: its reason says it all
        return text
    where = url.removeprefix("unix://") if url.startswith("unix://") else url
    if url.startswith("ssh://"):
        from pixel_tui.engine import ssh  # paramiko is loaded for ssh:// engines only (pixel_tui/__init__.py)

        remote = ssh.describe(chain, where)
        if remote is not None:
            return remote
    if isinstance(root, FileNotFoundError) or "No such file" in text:
        return f"no Docker socket at {where}"
    if isinstance(root, PermissionError) or "Permission denied" in text:
        return f"permission denied on {where} (root or the docker group is needed)"
    if isinstance(root, ConnectionRefusedError) or "Connection refused" in text:
        return f"connection refused by {where} (is dockerd running?)"
    if "timed out" in text.lower() or "timeout" in type(root).__name__.lower():
        return f"no answer from {where} (timed out)"
    if isinstance(error, docker.errors.APIError):
        return f"engine error: {error.explanation or error}"
    return f"{where}: {text.splitlines()[0][:200]}"


def connect_endpoint(
    endpoint: Endpoint, *, timeout: float | None, version: str | None = None
) -> tuple[docker.APIClient, dict[str, Any] | None]:
    """`connect` to an endpoint; one whose context could not be read raises ConnectionError with the reason."""
    if endpoint.error is not None:
        raise ConnectionError(endpoint.error)
    return connect(endpoint.url, explicit=endpoint.explicit, timeout=timeout, version=version, tls=endpoint.tls)


def connect(
    url: str, *, explicit: bool, timeout: float | None, version: str | None = None, tls: ContextTLS | None = None
) -> tuple[docker.APIClient, dict[str, Any] | None]:
    """A client for `url`, and with `version` None the engine's version document (else None, no request).

    `explicit`: the URL came from the command line, the config or a context, so DOCKER_TLS_* of the
    environment do not apply to it. `tls`: a context's TLS material.
    """
    if url.startswith("ssh://"):
        from pixel_tui.engine import ssh

        return ssh.connect(url, timeout=timeout, version=version)
    kwargs: dict[str, Any] = {} if explicit else kwargs_from_env()
    kwargs.pop("version", None)
    kwargs["base_url"] = url
    if tls is not None:
        kwargs["tls"] = TLSConfig(
            client_cert=tls.client_cert, ca_cert=tls.ca_cert if tls.verify else None, verify=tls.verify
        )
    api = docker.APIClient(version=version or "auto", timeout=timeout, **kwargs)
    if url.startswith("unix://"):
        limit_pools(api, LOCAL_POOLS)
    return api, api.version() if version is None else None


def limit_pools(api: docker.APIClient, size: int) -> None:
    """Keep at most `size` idle connections to a local engine.

    docker-py keeps one connection pool per URL, so every container inspected leaves an idle socket to
    dockerd open (25 at 100 containers), and its `num_pools` argument is ignored for unix sockets (an
    operator-precedence slip in APIClient.__init__). A local socket is cheap to reconnect; a remote
    (ssh) one is not, so only local engines get the smaller pool.
    """
    adapter = getattr(api, "_custom_adapter", None)
    pools = getattr(adapter, "pools", None)
    if adapter is not None and pools is not None and hasattr(pools, "clear"):
        pools.clear()
        adapter.pools = type(pools)(size, dispose_func=lambda pool: pool.close())
