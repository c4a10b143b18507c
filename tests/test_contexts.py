"""docker contexts: `--context`, DOCKER_CONTEXT and the CLI's current context, in the docker CLI's order."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixel_tui.engine.client import connect_endpoint
from pixel_tui.engine.contexts import DEFAULT_SOCKET, resolve
from pixel_tui.settings import Settings, with_overrides
from tests.schema import check_snapshot


def add_context(config: Path, name: str, host: str, *, tls: bool = False, skip_verify: bool = False) -> Path:
    """A context as `docker context create NAME --docker host=HOST` stores it."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    document = {
        "Name": name,
        "Metadata": {"Description": f"{name} engine"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
    }
    (meta / "meta.json").write_text(json.dumps(document))
    if tls:
        material = config / "contexts" / "tls" / digest / "docker"
        material.mkdir(parents=True)
        for part in ("ca", "cert", "key"):
            (material / f"{part}.pem").write_text(f"-----BEGIN {part}-----\n")
    return meta / "meta.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "docker-config"
    directory.mkdir()
    add_context(directory, "prod", "ssh://deploy@db1")
    add_context(directory, "staging", "tcp://staging:2376", tls=True)
    (directory / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "prod"}))
    return directory


def test_the_docker_cli_order(config):
    env = {"DOCKER_CONFIG": str(config)}
    current = resolve(None, None, env)
    assert (current.url, current.context, current.source) == (
        "ssh://deploy@db1",
        "prod",
        f"currentContext of {config}/config.json",
    )
    env["DOCKER_CONTEXT"] = "staging"  # beats the current context
    assert (resolve(None, None, env).url, resolve(None, None, env).source) == ("tcp://staging:2376", "DOCKER_CONTEXT")
    env["DOCKER_HOST"] = "tcp://from-env:2375"  # beats DOCKER_CONTEXT: the default context, with the env's TLS
    from_env = resolve(None, None, env)
    assert (from_env.url, from_env.context, from_env.explicit) == ("tcp://from-env:2375", None, False)
    assert resolve(None, "prod", env).url == "ssh://deploy@db1"  # --context beats DOCKER_HOST
    assert resolve("unix:///run/other.sock", None, env).url == "unix:///run/other.sock"  # and so does -H
    assert resolve(None, "default", env).url == "tcp://from-env:2375"  # `default`: DOCKER_HOST, then the socket
    del env["DOCKER_HOST"]
    assert resolve(None, "default", env).url == DEFAULT_SOCKET
    env["DOCKER_CONTEXT"] = "default"  # names the default context: the current one does not apply
    assert resolve(None, None, env).url == DEFAULT_SOCKET
    assert resolve(None, None, {"HOME": str(config.parent / "nobody")}).url == DEFAULT_SOCKET  # no docker config


def test_tls_material_of_a_context(config):
    staging = resolve(None, "staging", {"DOCKER_CONFIG": str(config)})
    tls_dir = config / "contexts" / "tls" / hashlib.sha256(b"staging").hexdigest() / "docker"
    assert staging.tls is not None and staging.tls.verify
    assert staging.tls.ca_cert == str(tls_dir / "ca.pem")
    assert staging.tls.client_cert == (str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"))
    add_context(config, "lab", "tcp://lab:2376", skip_verify=True)
    lab = resolve(None, "lab", {"DOCKER_CONFIG": str(config)})
    assert lab.tls is not None and not lab.tls.verify and lab.tls.client_cert is None
    assert resolve(None, "prod", {"DOCKER_CONFIG": str(config)}).tls is None


def test_a_context_that_cannot_be_read_is_never_replaced_by_the_local_engine(config):
    missing = resolve(None, "nope", {"DOCKER_CONFIG": str(config)})
    digest = hashlib.sha256(b"nope").hexdigest()
    assert missing.error == f"docker context 'nope' not found (no {config}/contexts/meta/{digest}/meta.json)"
    assert missing.url == "docker context nope"
    with pytest.raises(ConnectionError, match="not found"):
        connect_endpoint(missing, timeout=1.0)
    meta = add_context(config, "broken", "unix:///x.sock")
    meta.write_text("{not json")
    assert "is not JSON" in str(resolve(None, "broken", {"DOCKER_CONFIG": str(config)}).error)


def test_the_command_line_names_the_engine_once():
    from_file = Settings(context="prod")
    assert with_overrides(from_file, docker_host="unix:///x.sock").context is None
    assert with_overrides(Settings(docker_host="unix:///x.sock"), context="prod").docker_host is None


def pixel_tui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DOCKER_")}
    return subprocess.run(
        [sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=60, env={**clean, **env}
    )


def test_docker_host_and_context_together_are_a_usage_error(tmp_path):
    result = pixel_tui("--docker-host", "unix:///x.sock", "--context", "prod", "locate", env={})
    assert result.returncode != 0 and "--docker-host and --context" in result.stderr


def test_a_context_reaches_the_private_engine(engine, tmp_path, config):
    """DOCKER_CONTEXT, then --context, point pixel-tui at the private engine's socket; locate and snapshot name it."""
    add_context(config, "private", engine.url)
    engine.run("sleep 600", name="through-context")
    env = {"DOCKER_CONFIG": str(config), "DOCKER_CONTEXT": "private", "PIXEL_TUI_HOME": str(tmp_path / "home")}
    located = pixel_tui("locate", env=env)
    assert f"engine: {engine.url}  (docker context 'private', from DOCKER_CONTEXT)" in located.stdout
    for args in (("snapshot", "--json", "--sample", "0.1"), ("--context", "private", "snapshot", "--json")):
        result = pixel_tui(*args, env=env if args[0] == "snapshot" else {**env, "DOCKER_CONTEXT": "prod"})
        doc = json.loads(result.stdout)
        check_snapshot(doc)
        assert doc["docker"]["reachable"], doc["docker"]
        assert (doc["docker"]["host"], doc["docker"]["context"]) == (engine.url, "private")
        assert "through-context" in [container["name"] for container in doc["containers"]]
    text = pixel_tui("snapshot", "--sample", "0.1", env=env)
    assert f"docker {engine.url} (context private): engine" in text.stdout


def test_a_missing_context_is_an_unreachable_engine_with_the_reason(tmp_path, config):
    env = {"DOCKER_CONFIG": str(config), "DOCKER_CONTEXT": "gone", "PIXEL_TUI_HOME": str(tmp_path / "home")}
    result = pixel_tui("snapshot", "--json", "--sample", "0.1", env=env)
    doc = json.loads(result.stdout)
    # Unknown, unless this loaded machine's own gauges measure warning or critical (the Nagios order).
    assert result.returncode == {"critical": 2, "warning": 1}.get(doc["levels"]["overall"], 3)
    docker = doc["docker"]
    assert docker["reachable"] is False and docker["context"] == "gone"
    assert docker["error"].startswith("docker context 'gone' not found")
