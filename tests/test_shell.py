"""A shell in a container: the argv, the environment, the shell found, and the audited session on the private engine."""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Mapping, Sequence

import pytest

from pixel_tui.engine.contexts import Endpoint
from pixel_tui.paths import Paths
from pixel_tui.remediate.catalogue import BY_ID, READ_ONLY_REASON, forbidden
from pixel_tui.remediate.engine_ops import DockerOps
from pixel_tui.remediate.model import AUTOHEAL, Plan, Refused
from pixel_tui.remediate.plans import shell_step
from pixel_tui.remediate.real import real_executor
from pixel_tui.remediate.shell import NO_CLI, SHELLS, TLS_ENVIRONMENT, ShellSessions
from pixel_tui.settings import Settings
from tests.remediation import bench
from tests.test_contexts import add_context


def never(argv: Sequence[str], env: Mapping[str, str]) -> int:
    raise AssertionError(f"the CLI was run: {argv}")


def sessions(url: str = "unix:///run/x.sock", *, explicit: bool = True, shells: tuple[str, ...] = ("/bin/sh",),
             cli: str | None = "/usr/bin/docker") -> ShellSessions:  # fmt: skip
    return ShellSessions(Endpoint(url, explicit=explicit), lambda cid, argv: argv[0] in shells, runner=never,
                         which=lambda name: cli)  # fmt: skip


def test_the_session_is_argv_only_and_names_the_console_engine():
    shell = sessions("ssh://ops@web.example:2222")
    argv = shell.argv("/usr/bin/docker", "0123456789ab" * 5 + "cdef", "/bin/ash")
    assert argv == ["/usr/bin/docker", "-H", "ssh://ops@web.example:2222", "exec", "-it", "0123456789ab" * 5 + "cdef",
                    "/bin/ash"]  # fmt: skip


def test_a_docker_context_is_given_to_the_cli_by_name_not_by_url():
    """A context carries its TLS material: the CLI reads it itself (`--context`), as the console's engine did."""
    from pixel_tui.remediate.shell import ShellSessions

    shell = ShellSessions(Endpoint("tcp://build.example:2376", context="build"), lambda cid, argv: True)
    argv = shell.argv("/usr/bin/docker", "c0ffee", "/bin/sh")
    assert argv == ["/usr/bin/docker", "--context", "build", "exec", "-it", "c0ffee", "/bin/sh"]


def test_the_first_shell_that_runs_is_the_one_opened():
    assert SHELLS == ("/bin/bash", "/bin/ash", "/bin/sh")
    assert sessions(shells=("/bin/sh", "/bin/ash")).check("c0ffee") == "/bin/ash"
    assert sessions(shells=("/bin/sh", "/bin/bash")).check("c0ffee") == "/bin/bash"
    with pytest.raises(Refused, match=r"no shell in c0ffee: none of /bin/bash, /bin/ash, /bin/sh runs there"):
        sessions(shells=()).check("c0ffee")
    with pytest.raises(Refused) as refused:
        sessions(cli=None).check("c0ffee")
    assert str(refused.value) == NO_CLI


def test_an_explicit_engine_url_does_not_take_the_environment_tls(monkeypatch):
    for name in TLS_ENVIRONMENT:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    explicit = sessions(explicit=True).environment()
    assert not set(TLS_ENVIRONMENT) & set(explicit) and explicit["TERM"] == "xterm-256color"
    assert set(TLS_ENVIRONMENT) <= set(sessions(explicit=False).environment())


@pytest.mark.parametrize(
    ("docker_host", "context", "environ", "told", "tls_kept"),
    [
        # DOCKER_HOST: not explicit, the environment's TLS settings go with it (the CLI gets that URL).
        (None, None, {"DOCKER_HOST": "tcp://build.example:2376"}, ["-H", "tcp://build.example:2376"], True),
        (None, "default", {"DOCKER_HOST": "tcp://build.example:2376"}, ["-H", "tcp://build.example:2376"], True),
        # --docker-host, a context, the default socket: explicit, the environment's TLS settings left out.
        ("tcp://other.example:2376", None, {}, ["-H", "tcp://other.example:2376"], False),
        (None, "prod", {"DOCKER_HOST": "tcp://build.example:2376"}, ["--context", "prod"], False),
        (None, None, {}, ["-H", "unix:///var/run/docker.sock"], False),
    ],
    ids=["DOCKER_HOST", "context-default", "docker-host", "context", "socket"],
)
def test_the_shell_is_told_the_engine_the_console_resolved(monkeypatch, tmp_path, docker_host, context, environ, told,
                                                            tls_kept):  # fmt: skip
    """The executor's shell gets the engine's resolved endpoint: the URL DOCKER_HOST chose, and the environment's
    TLS settings exactly when the console's own connection takes them."""
    add_context(tmp_path / "docker-config", "prod", "ssh://deploy@db1")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    for name, value in {**environ, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path / "certs")}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(docker_host=docker_host, context=context)
    executor = real_executor(settings, Paths(tmp_path / "config", tmp_path / "data", tmp_path / "state"))
    shell, ops = executor.backends.shell, executor.backends.engine
    assert isinstance(shell, ShellSessions) and isinstance(ops, DockerOps)
    assert shell.argv("/usr/bin/docker", "c0ffee", "/bin/sh") == ["/usr/bin/docker", *told, "exec", "-it", "c0ffee",
                                                                  "/bin/sh"]  # fmt: skip
    environment = shell.environment()
    assert ("DOCKER_TLS_VERIFY" in environment, "DOCKER_CERT_PATH" in environment) == (tls_kept, tls_kept)
    assert ops.endpoint.explicit is not tls_kept  # the engine's own connection decides the same way


def test_a_shell_is_a_person_s_action_and_changing():
    spec = BY_ID["container.shell"]
    assert spec.key == "e" and spec.mutating and spec.person_only and spec.scope == "container"
    assert forbidden("container.shell", read_only=True, actor="ops@host") == READ_ONLY_REASON
    assert forbidden("container.shell", read_only=False, actor="ops@host") is None
    assert "autoheal never runs it" in str(forbidden("container.shell", read_only=False, actor=AUTOHEAL))
    assert forbidden("container.restart", read_only=False, actor=AUTOHEAL) is None
    assert not any(s.person_only for s in BY_ID.values() if s.id != "container.shell")


# -- on the private engine ----------------------------------------------------------------------------------


def typed_session(typed: bytes, seen: bytearray, timeout: float = 30.0):
    """A runner that runs the CLI in a pseudo-terminal, types `typed` at the first prompt, and keeps the output."""

    def run(argv: Sequence[str], env: Mapping[str, str]) -> int:
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.execve(argv[0], list(argv), dict(env))
        deadline, sent = time.monotonic() + timeout, False
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        break  # the session ended
                    if not chunk:
                        break
                    seen.extend(chunk)
                if not sent and b"# " in seen:
                    os.write(fd, typed)
                    sent = True
        finally:
            os.close(fd)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    return run


def running(b, engine, name: str):
    """The snapshot's row of container `name` and its worker (None)."""
    snapshot = b.collector.collect()
    return next(c for c in snapshot.containers if c.name == name), snapshot


def wait_for_bash(ops: DockerOps, cid: str) -> None:
    """Until the container's command has made its /bin/bash (executable)."""
    deadline = time.monotonic() + 10
    while not ops.runs(cid, ["/bin/sh", "-c", "test -x /bin/bash"]):
        assert time.monotonic() < deadline, "no /bin/bash made"
        time.sleep(0.05)


def test_the_shell_found_is_the_first_that_runs(engine):
    ops = DockerOps(engine.url)
    try:
        plain = engine.run("sleep 600", name="plain-busybox")
        assert not ops.runs(plain.id, ["/bin/bash", "-c", "exit 0"])  # busybox has no bash applet
        assert ops.runs(plain.id, ["/bin/ash", "-c", "exit 0"])
        shell = ShellSessions(ops.endpoint, ops.runs, runner=never)
        assert shell.check(plain.id) == "/bin/ash"
        # A /bin/bash that is there and fails (busybox called "bash": no such applet) is passed over...
        broken = engine.run(["sh", "-c", "ln -s /bin/busybox /bin/bash && sleep 600"], name="broken-bash")
        wait_for_bash(ops, broken.id)
        assert shell.check(broken.id) == "/bin/ash"
        # ...and one that works is preferred.
        script = "printf '#!/bin/sh\\nexec /bin/sh \"$@\"\\n' > /bin/bash && chmod +x /bin/bash && sleep 600"
        bash = engine.run(["sh", "-c", script], name="with-bash")
        wait_for_bash(ops, bash.id)
        assert shell.check(bash.id) == "/bin/bash"
        bash.remove(force=True)
        with pytest.raises(LookupError):
            ops.runs(bash.id, ["/bin/sh", "-c", "exit 0"])
    finally:
        ops.close()


def test_a_session_on_the_private_engine_is_audited_with_its_exit_status(engine, tmp_path):
    container = engine.run("sleep 600", name="web-shell")
    b = bench(engine.url, tmp_path)
    seen = bytearray()
    ops = b.executor.backends.engine
    assert isinstance(ops, DockerOps)
    runner = typed_session(b"echo hello-$((6*7)); exit 7\n", seen)
    b.executor.backends.shell = ShellSessions(ops.endpoint, ops.runs, runner=runner)
    try:
        row, snapshot = running(b, engine, "web-shell")
        plan = Plan("container.shell", (shell_step(row, None),), snapshot.taken_at, {})
        (outcome,) = b.executor.execute(plan, actor="ops@host")
    finally:
        b.close()
    assert b"hello-42" in seen and outcome.ok, (outcome, bytes(seen))
    assert outcome.note == "/bin/ash ended with exit status 7"
    lines = [line for line in b.audit.path.read_text().splitlines()]
    assert len(lines) == 2 and '"phase":"intent"' in lines[0] and '"phase":"outcome"' in lines[1]
    (record,) = b.audit_lines()
    assert record["action"] == "container.shell" and record["outcome"] == "ok" and record["actor"] == "ops@host"
    assert record["target"] == {"kind": "container", "id": container.id, "name": "web-shell"}
    assert record["note"] == "/bin/ash ended with exit status 7"


def test_a_container_stopped_since_the_snapshot_is_refused_and_nothing_runs(engine, tmp_path):
    container = engine.run("sleep 600", name="web-stops")
    b = bench(engine.url, tmp_path)
    ops = b.executor.backends.engine
    assert isinstance(ops, DockerOps)
    b.executor.backends.shell = ShellSessions(ops.endpoint, ops.runs, runner=never)
    try:
        row, snapshot = running(b, engine, "web-stops")
        container.stop(timeout=0)
        (outcome,) = b.executor.execute(Plan("container.shell", (shell_step(row, None),), snapshot.taken_at, {}),
                                        actor="ops@host")  # fmt: skip
    finally:
        b.close()
    assert outcome.outcome == "refused" and "is exited now, not running" in str(outcome.error)
    (record,) = b.audit_lines()
    assert record["outcome"] == "refused" and "phase" not in record  # refused before any intent


def test_autoheal_is_refused_a_shell(engine, tmp_path):
    engine.run("sleep 600", name="web-auto")
    b = bench(engine.url, tmp_path)
    b.executor.backends.shell = ShellSessions(Endpoint(engine.url), lambda *_: True, runner=never)
    try:
        row, snapshot = running(b, engine, "web-auto")
        plan = Plan("container.shell", (shell_step(row, None),), snapshot.taken_at, {})
        (outcome,) = b.executor.execute(plan, actor=AUTOHEAL)
    finally:
        b.close()
    assert outcome.outcome == "refused" and "autoheal never runs it" in str(outcome.error)
    assert [r["outcome"] for r in b.audit_lines()] == ["refused"]
