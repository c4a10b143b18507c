"""Which engine to talk to: `--docker-host`, a docker context, `DOCKER_HOST` or the socket, in the docker CLI's order.

The docker CLI (cli/command/cli.go, resolveContextName) takes `--context`, else the default context when
`-H` or `DOCKER_HOST` is given, else `DOCKER_CONTEXT`, else the `currentContext` of its config file
(`$DOCKER_CONFIG/config.json`, by default `~/.docker/config.json`), else the default context (`DOCKER_HOST`,
then the local socket). A context lives in the CLI's store: `contexts/meta/<sha256 of its name>/meta.json`
names its endpoint (`Endpoints.docker.Host`, `SkipTLSVerify`), and `contexts/tls/<sha256>/docker/` holds its
TLS material (`ca.pem`, `cert.pem`, `key.pem`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"
"""The docker CLI's name for "no context": DOCKER_HOST, else the local socket."""
META_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ContextTLS:
    """A context's TLS material (files of the CLI's store) and whether the server's certificate is checked."""

    ca_cert: str | None
    client_cert: tuple[str, str] | None
    verify: bool


@dataclass(frozen=True)
class Endpoint:
    """The engine to talk to and where that choice came from."""

    url: str
    """The engine's URL (unix://, tcp://, ssh://); for a context that cannot be read, `docker context NAME`."""
    context: str | None = None
    """The docker context it came from; None for --docker-host, DOCKER_HOST or the default socket."""
    source: str = "default"
    """What chose it: `--context`, `--docker-host`, `DOCKER_HOST`, `DOCKER_CONTEXT`, `currentContext of PATH`..."""
    explicit: bool = True
    """False when DOCKER_HOST chose the URL: then DOCKER_TLS_VERIFY and DOCKER_CERT_PATH apply to it, as for the CLI."""
    tls: ContextTLS | None = None
    error: str | None = None
    """Why the context could not be read: nothing is asked of any engine then (never the local one instead)."""

    def describe(self) -> str:
        """The endpoint as `locate` prints it: the URL, then the context and what chose it."""
        if self.context is not None:
            return f"{self.url}  (docker context {self.context!r}, from {self.source})"
        return f"{self.url}  ({self.source})"


def docker_config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The docker CLI's config directory: DOCKER_CONFIG, else ~/.docker."""
    configured = environ.get("DOCKER_CONFIG")
    return Path(configured) if configured else Path(environ.get("HOME") or Path.home()) / ".docker"


def resolve(
    docker_host: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] = os.environ,
    *,
    context_source: str = "--context",
    host_source: str = "--docker-host",
) -> Endpoint:
    """The endpoint for pixel-tui's own `docker_host` or `context` setting, else the docker CLI's environment."""
    if context and context != DEFAULT_CONTEXT:
        return read_context(context, context_source, environ)
    if docker_host:
        return Endpoint(docker_host, source=host_source)
    if not context:  # `--context default`: the default context, DOCKER_HOST then the socket
        if environ.get("DOCKER_HOST"):
            return _default(environ)
        named = environ.get("DOCKER_CONTEXT")
        if named:
            return _default(environ) if named == DEFAULT_CONTEXT else read_context(named, "DOCKER_CONTEXT", environ)
        current, where = _current_context(environ)
        if current and current != DEFAULT_CONTEXT:
            return read_context(current, f"currentContext of {where}", environ)
    return _default(environ)


def _default(environ: Mapping[str, str]) -> Endpoint:
    host = environ.get("DOCKER_HOST")
    if host:
        return Endpoint(host, source="DOCKER_HOST", explicit=False)
    return Endpoint(DEFAULT_SOCKET, source="default")


def _current_context(environ: Mapping[str, str]) -> tuple[str | None, Path]:
    path = docker_config_dir(environ) / "config.json"
    try:
        with open(path, "rb") as f:
            document = json.loads(f.read(META_MAX_BYTES))
    except (OSError, ValueError):
        return None, path  # no config, or one the CLI itself would complain of: the default context
    current = document.get("currentContext") if isinstance(document, dict) else None
    return (current if isinstance(current, str) and current else None), path


def read_context(name: str, source: str, environ: Mapping[str, str] = os.environ) -> Endpoint:
    """The endpoint of a named context of the docker CLI's store; one with `error` set when it cannot be read."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    store = docker_config_dir(environ) / "contexts"
    meta = store / "meta" / digest / "meta.json"
    failed = Endpoint(f"docker context {name}", context=name, source=source)
    try:
        with open(meta, "rb") as f:
            document = json.loads(f.read(META_MAX_BYTES))
    except FileNotFoundError:
        return _failed(failed, f"docker context {name!r} not found (no {meta})")
    except OSError as error:
        return _failed(failed, f"docker context {name!r}: cannot read {meta}: {error.strerror}")
    except ValueError as error:
        return _failed(failed, f"docker context {name!r}: {meta} is not JSON: {error}")
    endpoints = document.get("Endpoints") if isinstance(document, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(host, str) or not host:
        return _failed(failed, f"docker context {name!r} has no docker endpoint (Endpoints.docker.Host in {meta})")
    tls_dir = store / "tls" / digest / "docker"
    files = {part: tls_dir / f"{part}.pem" for part in ("ca", "cert", "key")}
    present = {part: str(path) for part, path in files.items() if path.is_file()}
    tls = None
    assert isinstance(docker, dict)
    skip = bool(docker.get("SkipTLSVerify"))
    if present or skip:
        pair = (present["cert"], present["key"]) if "cert" in present and "key" in present else None
        tls = ContextTLS(present.get("ca"), pair, verify=not skip)
    return Endpoint(host, context=name, source=source, tls=tls)


def _failed(endpoint: Endpoint, reason: str) -> Endpoint:
    return Endpoint(endpoint.url, endpoint.context, endpoint.source, endpoint.explicit, None, reason)
