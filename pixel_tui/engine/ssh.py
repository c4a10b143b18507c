"""ssh:// engines: docker's paramiko transport, never prompting, bounded in time, failures told in one line.

Why paramiko and not `use_ssh_client` (the docker SDK shelling out to the `ssh` binary): that `ssh`
inherits the console's stderr and may prompt on /dev/tty (an unknown host key, a password, a key's
passphrase), so a warning or a prompt would land in the middle of the full-screen console, or hang the
collector while nobody sees the question; its own error messages go to the terminal too, so the
engine pane could only say "connection closed". paramiko runs in-process: with docker's RejectPolicy
for unknown host keys and `_NeverPrompt` for servers that want a second factor, it never asks
anything, and each failure is an exception whose message we keep ("Server '[host]:2222' not found in
known_hosts", "Authentication failed.", ...).

What it reads (docker's `SSHHTTPAdapter`, plus what `_Transport` adds): `~/.ssh/config`
(HostName, Port, User, IdentityFile, ProxyCommand; not ProxyJump, Match or Include),
`~/.ssh/known_hosts` (hashed entries too) and `/etc/ssh/ssh_known_hosts`; keys from ssh-agent
(SSH_AUTH_SOCK), then IdentityFile, then `~/.ssh/id_rsa`, `id_ecdsa`, `id_ed25519`. `~` is HOME.
A host missing from known_hosts is refused, never added: record its key with one `ssh` login first.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import docker
import docker.errors
import paramiko
from docker.constants import DEFAULT_MAX_POOL_SIZE, DEFAULT_NUM_POOLS_SSH, MINIMUM_DOCKER_API_VERSION
from docker.transport import SSHHTTPAdapter
from docker.utils import version_lt

from pixel_tui.engine.client import timed_out

CONNECT_TIMEOUT_S = 10.0
"""TCP connect, SSH banner, authentication and channel opening, each (docker sets none: an unreachable
host held a cycle for the kernel's two minutes of SYN retries)."""
PROBE_TIMEOUT_S = 5.0
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
DIAL_STDIO = "docker system dial-stdio"
"""What the docker SDK runs on the remote host for each connection (as the docker CLI does)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# paramiko's transport thread logs the failures we report ourselves, tracebacks included; with no handler
# anywhere, Python's last-resort handler would print them on stderr, under the console or the snapshot.
# An application that configures logging still gets them through propagation.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


class RemoteEngineError(docker.errors.DockerException):
    """SSH worked, the engine behind it did not answer: the message is the remote side's own reason."""


class PromptRefused(paramiko.AuthenticationException):
    """The server accepted the key but asks for more (a password, a one-time code): never prompted for."""


class _NeverPrompt(paramiko.Transport):
    """A paramiko transport that refuses to ask anything.

    RejectPolicy covers host keys only: when a server wants keyboard-interactive after the key
    (two-factor), paramiko's SSHClient falls back to `auth_interactive_dumb`, which prints the prompt
    on stdout and waits on stdin: under the console, a question nobody sees and a collector that hangs.
    """

    def auth_interactive_dumb(self, username: str, handler: Any = None, submethods: str = "") -> list[str]:
        """Refuse: pixel-tui has nobody to ask."""
        raise PromptRefused("the server accepted the key but also asks for a password or code (two-factor)")


class _Transport(SSHHTTPAdapter):
    """docker's paramiko transport, bounded in time, never prompting, with the system's known_hosts and
    ssh_config's Port.

    Given the URL as the user wrote it: `APIClient` would first add `:22` to a URL without a port,
    which hides the `Port` of `~/.ssh/config` (docker/compose#8265).
    """

    def __init__(self, url: str, timeout: float | None, connect_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        super().__init__(
            url,
            timeout,
            pool_connections=DEFAULT_NUM_POOLS_SSH,
            max_pool_size=DEFAULT_MAX_POOL_SIZE,
            shell_out=False,
        )

    def _create_paramiko_client(self, base_url: str) -> None:
        super()._create_paramiko_client(base_url)
        with contextlib.suppress(OSError):  # absent or unreadable: ~/.ssh/known_hosts alone, as ssh would
            self.ssh_client.load_system_host_keys(GLOBAL_KNOWN_HOSTS)
        limit = self._connect_timeout
        self.ssh_params.update(timeout=limit, banner_timeout=limit, auth_timeout=limit, channel_timeout=limit)
        self.ssh_params["transport_factory"] = _NeverPrompt


def connect(
    url: str, *, timeout: float | None, version: str | None = None, connect_timeout: float = CONNECT_TIMEOUT_S
) -> tuple[docker.APIClient, dict[str, Any] | None]:
    """An API client for an `ssh://` engine, logged in; with `version` None, also the engine's `/version`.

    Without `version`, the API version is the engine's (as `version="auto"`), asked with the same
    request that returns the engine's version document. Raises paramiko's exceptions for SSH failures
    and RemoteEngineError when SSH works but the remote `docker system dial-stdio` does not.
    """
    # An APIClient that connects nothing yet (a shell-out adapter does nothing until a request, and a
    # given version means no request), then docker's paramiko transport mounted where it mounts it.
    api = docker.APIClient(
        base_url=url, version=version or MINIMUM_DOCKER_API_VERSION, timeout=timeout, use_ssh_client=True
    )
    try:
        transport = _Transport(url, timeout, connect_timeout)
    except BaseException:
        api.close()
        raise
    api._custom_adapter.close()
    api._custom_adapter = transport
    api.mount("http+docker://ssh", transport)
    if version is not None:
        return api, None
    try:
        about = api.version(api_version=False)
        api_version = about["ApiVersion"]
        if version_lt(api_version, MINIMUM_DOCKER_API_VERSION):
            raise docker.errors.InvalidVersion(
                f"the engine speaks API {api_version}; the docker SDK needs {MINIMUM_DOCKER_API_VERSION} or later"
            )
        api._version = api_version
    except Exception as error:
        reason = None if timed_out(error) else remote_reason(transport)
        api.close()
        if reason:
            raise RemoteEngineError(reason) from error
        raise
    return api, about


def remote_reason(transport: SSHHTTPAdapter, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why `docker system dial-stdio` fails on the remote host, in its own words; None if it runs.

    The SDK's connection only sees the channel close ("Remote end closed connection without
    response"); running the command once more on its own, with stdin closed, gets its stderr and
    exit status: `docker` not on the PATH, the daemon not running, no permission on its socket.
    """
    ssh = transport.ssh_client.get_transport() if transport.ssh_client else None
    if ssh is None or not ssh.is_active():
        return None
    try:
        channel = ssh.open_session(timeout=timeout)
    except (paramiko.SSHException, OSError) as error:
        return f"the ssh server refused a session: {error}"
    try:
        channel.settimeout(timeout)
        channel.exec_command(DIAL_STDIO)
        channel.shutdown_write()  # a working dial-stdio ends with its input
        err = b""
        while len(err) < 4096:
            chunk = channel.recv_stderr(4096)
            if not chunk:
                break
            err += chunk
        status = channel.recv_exit_status() if channel.status_event.wait(timeout) else None
    except (paramiko.SSHException, OSError):
        return None
    finally:
        channel.close()
    # The last line: what the shell or docker said last; before it may be the noise of a login script.
    lines = [_CONTROL.sub("", line).strip() for line in err.decode("utf-8", "replace").splitlines()]
    said = next((line for line in reversed(lines) if line), "")[:200]
    if status == 127:  # the shell's "command not found"
        return f"no `docker` command on the remote host's PATH for ssh sessions ({said or 'exit status 127'})"
    if status:
        return said or f"`{DIAL_STDIO}` exited with status {status} on the remote host"
    return None


def describe(chain: list[BaseException], where: str) -> str | None:
    """A one-line reason for an SSH failure in `chain` (outermost first), keeping paramiko's own words.

    None when none of the errors is about SSH (the caller describes it as for any engine).
    """
    for error in chain:
        text = str(error)
        if isinstance(error, RemoteEngineError):
            return f"{where}: {text}"
        if isinstance(error, paramiko.BadHostKeyException):
            return f"{where}: host key mismatch: {text} (check known_hosts)"
        if isinstance(error, PromptRefused):
            return f"{where}: {text}; pixel-tui never prompts: use a key that suffices on its own"
        if isinstance(error, paramiko.PasswordRequiredException):
            return f"{where}: ssh key needs a passphrase ({text}); pixel-tui never prompts: add it to ssh-agent"
        if isinstance(error, paramiko.AuthenticationException) or "No authentication methods" in text:
            return (
                f"{where}: ssh authentication failed ({text.rstrip('.')}): no key from ssh-agent,"
                " IdentityFile or ~/.ssh/id_* was accepted"
            )
        # Whichever of paramiko's two clocks runs out first: the banner's, or connect's own wait for the
        # key exchange (after which it tries a key on a transport that has no session yet).
        banner_late = text.startswith("Error reading SSH protocol banner") and timed_out(error)
        if isinstance(error, paramiko.SSHException) and (banner_late or text == "No existing session"):
            return f"no answer from {where} (no SSH greeting and key exchange in time)"
        if isinstance(error, paramiko.SSHException) and "not found in known_hosts" in text:
            return f"{where}: unknown host key: {text} (never accepted blindly: record it with one ssh login)"
        if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
            causes = list(error.errors.values())
            if causes and all(isinstance(cause, ConnectionRefusedError) for cause in causes):
                return f"connection refused by {where} (is sshd listening there?)"
            return f"{where}: {error.strerror}: {causes[0] if causes else ''}".rstrip(": ")
        if isinstance(error, paramiko.SSHException):
            return f"{where}: ssh: {text.splitlines()[0][:200] if text else type(error).__name__}"
    return None
