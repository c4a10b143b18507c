"""A shell in a running container: the docker CLI's `exec -it` with the first shell the container has.

Argv only: the container's id and the shell's path are arguments of the docker CLI, never words of a
shell on this host. The CLI is told the engine the console watches (`-H URL`), so the shell opens on
the engine the row was seen on (unix://, ssh://, tcp://, the tests' private engine). The shell is
found before the terminal is handed over, by exec'ing each candidate with `-c 'exit 0'` through the
engine's API (no terminal, nothing typed), so a container without one is refused with the reason,
not shown as a session that ends at once.

The session itself needs the terminal: `hand_over` is how whoever owns it lends it (the console
suspends itself and takes it back after); by default, as `pixel-tui act` runs, the CLI just inherits it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence

from pixel_tui.engine.contexts import Endpoint
from pixel_tui.remediate.model import Refused

SHELLS: tuple[str, ...] = ("/bin/bash", "/bin/ash", "/bin/sh")
"""The shells tried, in order: the first that runs in the container is the one opened."""
NO_CLI = (
    "the docker CLI is not installed here, and a shell opens through it "
    "(apt-get install docker.io, or docker-ce-cli from Docker's own repository)"
)
"""What a shell without the docker CLI says."""
NO_SESSIONS = "no shell can be opened here: this console's containers are not on a Docker engine (the demo)"
"""What a shell asked of a console with no shell backend says."""
DOCKER_FAILED = 125
"""`docker exec`'s exit status when the CLI or the engine failed (any other status is the shell's own)."""
TLS_ENVIRONMENT = ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS")
"""The environment's TLS settings, which pixel-tui does not apply to an engine named on its command line or
config: the CLI must not apply them either, or it would talk to the engine otherwise than the console does."""

Runner = Callable[[Sequence[str], Mapping[str, str]], int]
"""Runs argv with that environment on the terminal; its exit status."""
Probe = Callable[[str, Sequence[str]], bool]
"""True when argv runs in the container (by id) and exits 0: `DockerOps.runs`."""
HandOver = Callable[[Callable[[], int]], int]
"""Lends the terminal to the call and takes it back after; the call's result."""


def run_attached(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """The CLI on this process's terminal, waited for; its exit status."""
    return subprocess.run(list(argv), env=dict(env), check=False).returncode


def _lend_nothing(call: Callable[[], int]) -> int:
    return call()


class ShellSessions:
    """Opens shells in containers of one engine through the docker CLI; the executor's `shell` backend."""

    def __init__(
        self,
        endpoint: Endpoint,
        probe: Probe,
        *,
        runner: Runner = run_attached,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        """`endpoint`: the engine as the console resolved it (DockerOps.endpoint), so the CLI is told the same
        engine, and takes the environment's TLS settings exactly when the console's engine did."""
        self.url = endpoint.url
        """The engine URL the console uses, given to the CLI as `-H`."""
        self.context = endpoint.context
        """The docker context the URL came from: the CLI is given the context (its TLS too), not the URL."""
        self._probe = probe
        self._explicit = endpoint.explicit
        self._runner = runner
        self._which = which
        self.hand_over: HandOver = _lend_nothing
        """How the terminal is lent to a session (the console sets its own: suspend, run, resume)."""

    def cli(self) -> str | None:
        """The docker CLI's path, None when it is not installed."""
        return self._which("docker")

    def shell_of(self, container_id: str) -> str:
        """The first of SHELLS that runs in the container; Refused when none does."""
        for shell in SHELLS:
            if self._probe(container_id, (shell, "-c", "exit 0")):
                return shell
        raise Refused(f"no shell in {container_id[:12]}: none of {', '.join(SHELLS)} runs there")

    def argv(self, cli: str, container_id: str, shell: str) -> list[str]:
        """The command of a session: every part one argument, nothing read by a shell of this host."""
        engine = ["--context", self.context] if self.context else ["-H", self.url]
        return [cli, *engine, "exec", "-it", container_id, shell]

    def environment(self) -> dict[str, str]:
        """The CLI's environment: this process's, without the TLS settings an explicit engine URL ignores (one
        from DOCKER_HOST is not explicit: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH go with it, as for the engine)."""
        if not self._explicit:
            return dict(os.environ)
        return {name: value for name, value in os.environ.items() if name not in TLS_ENVIRONMENT}

    def check(self, container_id: str) -> str:
        """The shell a session would open; Refused when the CLI or a shell is missing (asked before the intent)."""
        if self.cli() is None:
            raise Refused(NO_CLI)
        return self.shell_of(container_id)

    def session(self, container_id: str) -> str:
        """Find the CLI and the shell, lend the terminal to `docker exec -it`, and say how the session ended.

        Refused (the terminal never lent) without the CLI or a shell; RuntimeError when docker exec itself
        failed (status 125); otherwise the shell's exit status, whatever it is, is the outcome's note."""
        cli = self.cli()
        if cli is None:
            raise Refused(NO_CLI)
        shell = self.shell_of(container_id)
        argv = self.argv(cli, container_id, shell)
        env = self.environment()
        status = self.hand_over(lambda: self._runner(argv, env))
        if status == DOCKER_FAILED:
            raise RuntimeError(f"docker exec failed (exit status {DOCKER_FAILED}: the CLI or the engine refused)")
        return f"{shell} ended with exit status {status}"


def sessions(backend: ShellSessions | None) -> ShellSessions:
    """The backend, or Refused saying why there is none."""
    if backend is None:
        raise Refused(NO_SESSIONS)
    return backend
