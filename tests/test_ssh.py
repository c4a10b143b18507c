"""ssh:// engines end to end: a private sshd (tests/sshd.py) in front of the private engine.

The client side lives in a temporary HOME (known_hosts, key, config), never in the user's ~/.ssh;
the sshd gives its sessions DOCKER_HOST=<the private engine>, so the remote `docker system
dial-stdio` run over SSH reaches the tests' engine only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from pixel_tui import cli
from pixel_tui.collect import Collector
from pixel_tui.engine import ssh
from pixel_tui.engine.client import describe_error
from pixel_tui.settings import Settings
from tests.conftest import REQUIRE_DOCKER_ENV, _docker_required
from tests.dockerd import PrivateEngine
from tests.schema import check_snapshot
from tests.sshd import PrivateSshd, SshdError, available, free_port

# Limits no host reaches: the engine alone decides the exit code, whatever load the machine has.
CALM = "[thresholds]\n" + "".join(
    f"{gauge} = [1000, 1000, 1000]\n" for gauge in ("cpu", "memory", "swap", "disk", "load")
)
PIXEL_TUI = Path(sys.executable).with_name("pixel-tui")


@pytest.fixture(scope="module")
def sshd(docker_engine: PrivateEngine) -> Iterator[PrivateSshd]:
    """A private sshd whose sessions reach the private engine; skipped (CI: failed) when none can run."""
    reason = available()
    if reason is None:
        server = PrivateSshd(docker_engine.url)
        try:
            server.start()
        except SshdError as e:
            reason = f"the private sshd did not start: {e}"
    if reason is not None:
        if _docker_required():
            pytest.fail(f"{REQUIRE_DOCKER_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def home(sshd: PrivateSshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME with the client's key, the server in known_hosts and a `pixel-sshd` alias in ~/.ssh/config."""
    path = sshd.write_client_home(tmp_path / "home")
    monkeypatch.setenv("HOME", str(path))  # where paramiko and the docker SDK find ~/.ssh and ~/.docker
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # the user's agent and its keys stay out of it
    return path


@pytest.fixture
def calm(tmp_path: Path) -> str:
    config = tmp_path / "calm.toml"
    config.write_text(CALM)
    return str(config)


def pixel_tui(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `pixel-tui` script, with this test's environment (HOME, PIXEL_TUI_HOME)."""
    assert PIXEL_TUI.exists(), f"{PIXEL_TUI} is not installed (make .venv/.installed)"
    return subprocess.run([str(PIXEL_TUI), *args], capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_snapshot_over_ssh_lists_the_engines_containers(engine, sshd, home, calm):
    container = engine.run("sleep 600", name="seen-over-ssh")
    url = sshd.url()
    result = pixel_tui("--docker-host", url, "--config", calm, "snapshot", "--json", "--sample", "0.2")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    check_snapshot(doc)
    assert doc["docker"]["reachable"] and doc["docker"]["error"] is None
    assert doc["docker"]["host"] == url and doc["docker"]["version"]
    (row,) = [row for row in doc["containers"] if row["name"] == "seen-over-ssh"]
    assert row["id"] == container.id and row["state"] == "running"
    assert row["mem_used"] and row["cpu_percent"] is not None  # one-shot stats, two samples


@pytest.mark.parametrize("target", ["url", "ssh_config_alias"])
def test_docker_host_variable_reaches_the_engine_over_ssh(engine, sshd, home, calm, monkeypatch, capsys, target):
    engine.run("sleep 600", name="via-docker-host")
    # The alias takes HostName, Port and User from ~/.ssh/config (the docker SDK alone would use port 22).
    url = sshd.url() if target == "url" else "ssh://pixel-sshd"
    monkeypatch.setenv("DOCKER_HOST", url)
    code = cli.main(["--config", calm, "snapshot", "--json", "--sample", "0.1"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["docker"]["error"] is None and doc["docker"]["reachable"], doc["docker"]
    assert code == 0
    assert doc["docker"]["host"] == url
    assert "via-docker-host" in {row["name"] for row in doc["containers"]}


def test_collector_over_ssh_measures_cpu_and_memory_with_one_shot_stats(engine, sshd, home):
    busy = engine.run(["sh", "-c", "while :; do :; done"], name="busy", nano_cpus=200_000_000)  # 0.2 of a core
    idle = engine.run("sleep 600", name="idle", mem_limit="64m")
    collector = Collector(Settings(docker_host=sshd.url()))
    try:
        first = collector.collect()
        time.sleep(1.0)
        second = collector.collect()
    finally:
        collector.close()
    assert first.docker.reachable and second.docker.reachable, second.docker.error
    before = {c.name: c for c in first.containers}
    after = {c.name: c for c in second.containers}
    assert before["busy"].cpu_percent is None, "one sample gives no CPU figure yet"
    assert after["busy"].id == busy.id and after["idle"].id == idle.id
    assert after["busy"].cpu_percent is not None and after["busy"].cpu_percent > 1.0
    assert after["idle"].cpu_percent is not None and after["idle"].cpu_percent < 5.0
    for name in ("busy", "idle"):
        assert after[name].mem_used and after[name].mem_used > 0, name
    assert after["idle"].mem_limit == 64 * 1024 * 1024
    # At most 20 %, less on a loaded host. podman's is its CPU time over the time between its `read` stamps: the
    # docker CLI's formula read 71 % there (its system_cpu_usage on cgroup v2 is not the host's CPU time).
    assert after["busy"].cpu_percent < 30.0, after["busy"].cpu_percent
    podman = engine.name == "podman"
    assert after["busy"].cpu_estimated == podman and second.docker.product == ("podman" if podman else "docker")


def test_a_log_is_followed_over_ssh_and_closing_ends_it_at_once(engine, sshd, home):
    container = engine.run(["sh", "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.1; done"], name="ticking")
    collector = Collector(Settings(docker_host=sshd.url()))
    try:
        stream = collector.follow_logs(container.id, tail=1)
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.extend(stream), name="ssh-follow")
        reader.start()
        deadline = time.monotonic() + 20
        while len(got) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        stream.close()  # docker-py's own close refuses over ssh://: the stream's client goes with it
        reader.join(5)
        assert not reader.is_alive() and time.monotonic() - started < 3
    finally:
        collector.close()
    assert len(got) >= 4 and stream.ended == "closed"
    numbers = [int(line.rsplit("tick-", 1)[1]) for line in got]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "every line, in order, over ssh"
    assert all(line[:4].isdigit() and "Z tick-" in line for line in got), "with the engine's timestamps"


FAILURES = {
    # case: (what changes, words the reason must contain)
    "unknown host key": ("known_hosts", ("unknown host key", "not found in known_hosts")),
    "no key": ("key", ("ssh authentication failed",)),
    "wrong port": ("port", ("connection refused by ssh://root@127.0.0.1:",)),
    "no docker on the remote": ("no_docker_port", ("no `docker` command", "docker: command not found")),
    "no engine behind it": ("no_engine_port", ("no-engine.sock", "no such file or directory")),
}


@pytest.mark.parametrize("case", FAILURES)
def test_ssh_failures_say_why_in_one_line(engine, sshd, home, case):
    change, words = FAILURES[case]
    url = sshd.url()
    if change == "known_hosts":
        (home / ".ssh" / "known_hosts").write_text("")
    elif change == "key":
        (home / ".ssh" / "id_ed25519").unlink()
    elif change == "port":
        url = sshd.url(free_port())
    else:
        url = sshd.url(getattr(sshd, change))
    collector = Collector(Settings(docker_host=url))
    try:
        begun = time.monotonic()
        snapshot = collector.collect()
        elapsed = time.monotonic() - begun
    finally:
        collector.close()
    error = snapshot.docker.error
    assert not snapshot.docker.reachable and error, snapshot.docker
    assert all(word in error for word in words), error
    assert "\n" not in error and "Traceback" not in error
    assert f"docker: {error}" in snapshot.errors
    assert elapsed < 15, f"{elapsed:.1f} s to fail"


def test_cli_failure_over_ssh_is_one_line_without_traceback(engine, sshd, home, calm):
    (home / ".ssh" / "known_hosts").write_text("")  # the server's key is unknown: refused, never asked about
    result = pixel_tui("--docker-host", sshd.url(), "--config", calm, "snapshot", "--json", "--sample", "0.1")
    assert result.returncode == 3, result.stdout + result.stderr  # unknown: the engine cannot be seen
    assert result.stderr == ""  # nothing from paramiko or ssh reaches the terminal
    doc = json.loads(result.stdout)
    assert doc["docker"]["reachable"] is False
    assert doc["docker"]["error"] == (
        f"{sshd.url()}: unknown host key: Server '[127.0.0.1]:{sshd.port}' not found in known_hosts"
        " (never accepted blindly: record it with one ssh login)"
    )
    assert (home / ".ssh" / "known_hosts").read_text() == "", "the key was not added"


def test_a_server_that_wants_a_second_factor_is_refused_not_prompted_for(docker_engine, sshd, home, calm):
    # paramiko alone would print "Password:" on stdout and wait on stdin: a hidden prompt, a hung console.
    with PrivateSshd(docker_engine.url, second_factor=True) as bastion:
        quiet, silent = os.pipe()  # a stdin that stays open and never types anything, like an idle terminal
        try:
            result = subprocess.run(
                [
                    str(PIXEL_TUI),
                    "--docker-host",
                    bastion.url(),
                    "--config",
                    calm,
                    "snapshot",
                    "--json",
                    "--sample",
                    "0.1",
                ],
                stdin=quiet,
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "HOME": str(bastion.write_client_home(home.parent / "bastion-home"))},
            )
        finally:
            os.close(quiet)
            os.close(silent)
    assert result.stderr == ""
    assert result.returncode == 3, result.stdout
    doc = json.loads(result.stdout)  # nothing but the document: no prompt printed before it
    assert doc["docker"]["error"] == (
        f"{bastion.url()}: the server accepted the key but also asks for a password or code (two-factor);"
        " pixel-tui never prompts: use a key that suffices on its own"
    )


def test_a_server_that_never_greets_is_given_up_on_in_time(tmp_path, monkeypatch):
    # No sshd needed: a listener that accepts and says nothing, as a wedged host or a wrong service may.
    monkeypatch.setenv("HOME", str(tmp_path))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ssh://root@127.0.0.1:{listener.getsockname()[1]}"
        begun = time.monotonic()
        with pytest.raises(Exception) as caught:
            ssh.connect(url, timeout=1.0, connect_timeout=0.5)
        elapsed = time.monotonic() - begun
    assert elapsed < 5, f"{elapsed:.1f} s"
    said = f"no answer from {url} (no SSH greeting and key exchange in time)"
    assert describe_error(caught.value, url) == said
    # paramiko has two clocks; the other one, when it runs out first, fails this way (not forced here):
    banner = paramiko.SSHException("Error reading SSH protocol banner")
    banner.__context__ = TimeoutError()
    assert describe_error(banner, url) == said
