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
from docker.utils import kwargs_from_env

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
LOCAL_POOLS = 4
"""Idle connections kept to a local engine."""


def resolve_url(url: str | None) -> str:
    """The engine URL in use: the given one, else DOCKER_HOST, else the local socket."""
    return url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


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


def connect(
    url: str, *, explicit: bool, timeout: float | None, version: str | None = None
) -> tuple[docker.APIClient, dict[str, Any] | None]:
    """A client for `url`, and with `version` None the engine's version document (else None, no request).

    `explicit`: the URL came from the command line or the config, so DOCKER_TLS_* of the environment
    do not apply to it.
    """
    if url.startswith("ssh://"):
        from pixel_tui.engine import ssh

        return ssh.connect(url, timeout=timeout, version=version)
    kwargs: dict[str, Any] = {} if explicit else kwargs_from_env()
    kwargs.pop("version", None)
    kwargs["base_url"] = url
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
