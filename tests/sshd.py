"""A private, throw-away OpenSSH server in front of a test Docker engine (no Textual, no pytest here).

`PrivateSshd(docker_host)` runs Debian's `/usr/sbin/sshd -D -e -f <own config>` on 127.0.0.1, on free
ports, with everything of its own under one temporary directory (`/tmp/pxs-XXXXXXXX`): config, host
key, AuthorizedKeysFile, pid file, log, and the client's key pair. It never reads or writes the system
sshd's files (`/etc/ssh`), never touches the system sshd service, and never touches the user's
`~/.ssh`: the client side (key, known_hosts, config) is written by `write_client_home()` into a
directory the test then uses as HOME, which is where paramiko and the docker SDK look
(`os.path.expanduser("~/.ssh/...")` reads HOME).

The login is `root` by key only (PermitRootLogin prohibit-password, no passwords, no PAM), and every
session gets `DOCKER_HOST=unix://<private engine socket>` through sshd's `SetEnv`, so the remote
`docker system dial-stdio` that the docker SDK runs over ssh reaches the tests' private engine, never
the system one. Two more ports serve the failure cases: on `no_docker_port` the session's PATH has no
`docker` in it, on `no_engine_port` DOCKER_HOST names a socket that does not exist. With
`second_factor=True` the server wants keyboard-interactive after the key (through PAM, the system's
`/etc/pam.d/sshd`, read only): a second factor, as an operator's bastion may.

How it is stopped: sshd runs as pid 1 of a PID namespace of its own (`unshare --pid --fork
--kill-child`), so when it ends the kernel kills every session it forked (shells, `docker
dial-stdio`), and `setpriv --pdeathsig KILL` on `unshare` ends it if the thread that started it dies
(a killed test run); the next start sweeps the directories such runs leave, once 10 minutes old.
`stop()` terminates it and deletes its directory. The privilege separation directory `/run/sshd`
that sshd insists on is created when missing and left in place.

From a shell, `python tests/sshd.py unix:///path/to/docker.sock` starts one and prints how to reach
it until Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["PrivateSshd", "SshdError", "available", "free_port", "sweep_stale"]

SSHD = "/usr/sbin/sshd"
STARTUP_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
STALE_AFTER_S = 600.0
USER = "root"
_PREFIX = "pxs-"


class SshdError(RuntimeError):
    """The private sshd could not be started (the message carries the tail of its log)."""


def available() -> str | None:
    """Why no private sshd can be had here, or None when one can be started."""
    if sys.platform != "linux":
        return f"a private sshd needs Linux, not {sys.platform}"
    if os.geteuid() != 0:
        return "a private sshd needs root (it logs in as root and needs /run/sshd)"
    if not os.access(SSHD, os.X_OK):
        return f"{SSHD} not found (install openssh-server)"
    tools = {"ssh-keygen": "openssh-client", "docker": "docker.io", "unshare": "util-linux", "setpriv": "util-linux"}
    for tool, package in tools.items():
        if shutil.which(tool) is None:
            return f"`{tool}` not found (install {package})"
    return None


def sweep_stale(parent: Path = Path("/tmp")) -> list[Path]:
    """Delete the directories of private sshds that died without cleaning up (a killed test run).

    Only `pxs-*` directories holding our `sshd_config`, untouched for STALE_AFTER_S, that no live
    process names on its command line; returns those removed.
    """
    removed = []
    for d in parent.glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            if not (d / "sshd_config").is_file() or time.time() - d.stat().st_mtime < STALE_AFTER_S:
                continue
            if _users(d):
                continue
            shutil.rmtree(d)
            removed.append(d)
    return removed


def _users(base_dir: Path) -> list[int]:
    """Processes whose command line names `base_dir` (an sshd started with our config)."""
    found, base = [], str(base_dir).encode()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry.name}/cmdline", "rb") as f:
                if base in f.read():
                    found.append(int(entry.name))
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _banner(port: int) -> bool:
    """True when an SSH server greets on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _keygen(path: Path, comment: str) -> str:
    """Make an ed25519 key pair without a passphrase at `path`; returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return path.with_suffix(".pub").read_text().strip()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


class PrivateSshd:
    """An sshd of our own whose sessions reach `docker_host`; `start()` it, then `stop()`."""

    def __init__(
        self, docker_host: str, *, second_factor: bool = False, startup_timeout: float = STARTUP_TIMEOUT_S
    ) -> None:
        """Prepare (not start) an sshd whose sessions get DOCKER_HOST=`docker_host`.

        `second_factor`: after the key, the server asks for a password too (keyboard-interactive).
        """
        if not docker_host.startswith("unix://"):
            raise ValueError(f"a private sshd fronts a unix socket engine, not {docker_host}")
        self.docker_host = docker_host
        self.second_factor = second_factor
        self.startup_timeout = startup_timeout
        self.base_dir: Path | None = None
        self.port = 0
        """The port where sessions reach the engine."""
        self.no_docker_port = 0
        """The port whose sessions find no `docker` command."""
        self.no_engine_port = 0
        """The port whose sessions point `docker` at a socket that does not exist."""
        self.host_key = ""
        """The server's public host key line (`ssh-ed25519 AAAA... comment`)."""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """sshd's own log (`-e`: everything it would send to syslog)."""
        assert self.base_dir is not None, "sshd not started"
        return self.base_dir / "sshd.log"

    @property
    def client_key(self) -> Path:
        """The private key authorized to log in as root."""
        assert self.base_dir is not None, "sshd not started"
        return self.base_dir / "id_ed25519"

    def url(self, port: int | None = None) -> str:
        """The engine's `ssh://` URL through this sshd (through `port` when given)."""
        return f"ssh://{USER}@127.0.0.1:{port or self.port}"

    def known_hosts_line(self, port: int | None = None) -> str:
        """The known_hosts entry of this server on `port` (default: the main one), as ssh writes it."""
        key_type, key = self.host_key.split()[:2]
        return f"[127.0.0.1]:{port or self.port} {key_type} {key}"

    def write_client_home(self, home: Path, *, key: bool = True, known: bool = True) -> Path:
        """Write `home/.ssh/` for a client of this server and return `home`, to be used as HOME.

        `key`: the authorized key as `id_ed25519` (where paramiko looks by default); `known`: the
        host key in `known_hosts` for every port. `config` always names the server `pixel-sshd`
        (HostName, Port, User), so `ssh://pixel-sshd` works as it would with OpenSSH's client.
        """
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if key:
            shutil.copyfile(self.client_key, ssh_dir / "id_ed25519")
            (ssh_dir / "id_ed25519").chmod(0o600)
            shutil.copyfile(self.client_key.with_suffix(".pub"), ssh_dir / "id_ed25519.pub")
        ports = (self.port, self.no_docker_port, self.no_engine_port)
        lines = [self.known_hosts_line(port) for port in ports] if known else []
        (ssh_dir / "known_hosts").write_text("".join(line + "\n" for line in lines))
        (ssh_dir / "config").write_text(f"Host pixel-sshd\n  HostName 127.0.0.1\n  Port {self.port}\n  User {USER}\n")
        return home

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> PrivateSshd:
        """Make keys and config, start sshd and wait until it greets. Raises SshdError."""
        reason = available()
        if reason:
            raise SshdError(reason)
        sweep_stale()
        self.base_dir = Path(tempfile.mkdtemp(prefix=_PREFIX, dir="/tmp"))
        atexit.register(self.stop)
        try:
            base = self.base_dir
            self.host_key = _keygen(base / "ssh_host_ed25519_key", "pixel-tui-test-host")
            (base / "authorized_keys").write_text(_keygen(self.client_key, "pixel-tui-test-client") + "\n")
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation; shared, left alone
            failures = []
            for _ in range(3):  # a free port may be taken between asking and binding
                self.port, self.no_docker_port, self.no_engine_port = free_port(), free_port(), free_port()
                try:
                    self._launch()
                    break
                except SshdError as e:
                    failures.append(str(e))
                    self._halt()
            else:
                raise SshdError("sshd did not start:\n" + "\n\n".join(failures))
        except BaseException:
            self.stop()
            raise
        return self

    def _config(self) -> str:
        assert self.base_dir is not None
        base = self.base_dir
        missing = f"unix://{base}/no-engine.sock"
        if self.second_factor:  # PAM is what answers keyboard-interactive; it asks for root's password
            login = [
                "UsePAM yes",
                "KbdInteractiveAuthentication yes",
                "AuthenticationMethods publickey,keyboard-interactive",
            ]
        else:
            login = ["UsePAM no", "KbdInteractiveAuthentication no"]
        return "\n".join(
            [
                f"ListenAddress 127.0.0.1:{self.port}",
                f"ListenAddress 127.0.0.1:{self.no_docker_port}",
                f"ListenAddress 127.0.0.1:{self.no_engine_port}",
                f"HostKey {base / 'ssh_host_ed25519_key'}",
                f"PidFile {base / 'sshd.pid'}",
                f"AuthorizedKeysFile {base / 'authorized_keys'}",
                "AuthorizedPrincipalsFile none",
                "StrictModes no",
                *login,
                f"AllowUsers {USER}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "HostbasedAuthentication no",
                "IgnoreRhosts yes",
                "PermitUserEnvironment no",
                "PermitUserRC no",
                "AllowAgentForwarding no",
                "AllowTcpForwarding no",
                "AllowStreamLocalForwarding no",
                "X11Forwarding no",
                "PermitTTY no",
                "PrintMotd no",
                "UseDNS no",
                "LogLevel VERBOSE",
                f"SetEnv DOCKER_HOST={self.docker_host}",
                # Match blocks come last; each replaces the SetEnv list for its port.
                f"Match LocalPort {self.no_docker_port}",
                f"  SetEnv DOCKER_HOST={self.docker_host} PATH=/nonexistent",
                f"Match LocalPort {self.no_engine_port}",
                f"  SetEnv DOCKER_HOST={missing}",
                "",
            ]
        )

    def _launch(self) -> None:
        """Run sshd on the current ports and wait until all greet; SshdError when it dies or hangs."""
        assert self.base_dir is not None
        config = self.base_dir / "sshd_config"
        config.write_text(self._config())
        argv = [
            # A killed test run takes its sshd with it: KILL, since unshare blocks TERM while it waits;
            # unshare's death TERMs sshd, and sshd's (pid 1 of the namespace) ends all its sessions.
            "setpriv", "--pdeathsig", "KILL",
            "unshare", "--pid", "--fork", "--kill-child=TERM", "--",
            SSHD, "-D", "-e", "-f", str(config),
        ]  # fmt: skip
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LANG": "C"}
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting sshd on port {self.port} ---\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + self.startup_timeout
        for port in (self.port, self.no_docker_port, self.no_engine_port):
            while not _banner(port):
                code = self._proc.poll()
                if code is not None:
                    raise SshdError(
                        f"sshd exited with status {code}; last lines of {self.log_path}:\n{_tail(self.log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise SshdError(
                        f"sshd did not greet on port {port} within {self.startup_timeout:.0f} s;"
                        f" last lines of {self.log_path}:\n{_tail(self.log_path)}"
                    )
                time.sleep(0.05)

    def _halt(self) -> None:
        """Terminate sshd (and with it, its PID namespace and every session in it)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        """Stop sshd and delete its directory. Idempotent."""
        if self.base_dir is None:
            return
        self._halt()
        shutil.rmtree(self.base_dir, ignore_errors=True)
        atexit.unregister(self.stop)
        self.base_dir = None

    def __enter__(self) -> PrivateSshd:
        """Start sshd for a `with` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop sshd at the end of a `with` block."""
        self.stop()


def main() -> int:
    """`python tests/sshd.py unix:///path/docker.sock`: run an sshd in front of that engine until Ctrl-C."""
    if len(sys.argv) != 2:
        print("usage: python tests/sshd.py unix:///path/to/docker.sock", file=sys.stderr)
        return 2
    reason = available()
    if reason:
        print(f"no private sshd: {reason}", file=sys.stderr)
        return 1
    with PrivateSshd(sys.argv[1]) as sshd:
        assert sshd.base_dir is not None
        home = sshd.write_client_home(sshd.base_dir / "home")
        print(f"HOME={home} DOCKER_HOST={sshd.url()}  (log: {sshd.log_path})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
