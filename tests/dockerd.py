"""A private, throw-away Docker engine for the tests and the benches (no Textual, no pytest here).

`PrivateEngine` starts a `dockerd` of its own, with every path under one short temporary directory
(`/tmp/pxd-XXXXXXXX`): data root, exec root, pid file, socket, log, daemon config and trust key.
It never talks to, stops or cleans up the user's engine: `/var/run/docker.sock`, `/var/lib/docker`,
`/etc/docker/daemon.json` and the system containerd are all out of its reach.

How it is confined:

- `unshare --net --mount`: the daemon gets an empty network namespace (with `--bridge=none` dockerd
  deletes any `docker0` it finds; in there it finds none, and the host's interfaces, routes and
  firewall are never touched) and a private mount namespace, so the overlay mounts of its containers
  never show in the host's mount table and vanish with it.
- In that mount namespace a tmpfs hides `/run/containerd` and `/run/docker`. Without it, dockerd would
  use the *system* containerd whenever `/run/containerd/containerd.sock` exists (it checks that path
  before launching a containerd of its own), and would write into the system's plugin directory.
  So dockerd always launches its own containerd (root under `<tmp>/data/containerd`, state and socket
  under `<tmp>/exec/containerd`), whose shims put their sockets on that tmpfs. The two directories
  are created on the host if missing (as mount points) and left there, empty.
- `setpriv --pdeathsig TERM`: if the process that started the engine dies (a killed test run),
  dockerd shuts down; its directory is swept by the next start once it is 10 minutes old. The
  signal follows the *thread* that started the engine: start it from one that lives as long.
- `--iptables=false --ip6tables=false --bridge=none`: no firewall rules, no bridge. Containers run with
  `network_mode="none"`; the default network mode works too (dockerd 20.10 with `--bridge=none` gives a
  plain `docker run` a namespace with only `lo`), so tests need not pass it, but `PrivateEngine.run`
  passes it anyway to say what is meant. Nothing can be published on a port and there is no DNS.
- It is not in a PID namespace on purpose: `State.Pid` of a container is a host pid, so a collector
  can read `/proc/<pid>/cgroup` and the cgroup files as it would on a real host.

cgroups (the default `cgroupfs` driver, parent `/docker`): on a cgroup v1 host each container gets
`/sys/fs/cgroup/<controller>/docker/<full id>/` (memory.usage_in_bytes, memory.limit_in_bytes,
cpuacct.usage, pids.current, ...) and `/proc/<State.Pid>/cgroup` shows `N:<controller>:/docker/<id>`
for every hierarchy (`0::/docker/<id>` too); cgroup namespaces are in host mode on v1. On a cgroup v2
host it is `/sys/fs/cgroup/docker/<id>/` with cgroupfs, or `.../system.slice/docker-<id>.scope/` when
dockerd picks the systemd driver (its default on v2 under systemd): resolve it through
`/proc/<State.Pid>/cgroup` rather than assume either.

Storage: `overlay2` when the kernel and the filesystem under /tmp allow it, else `vfs` (slow, but works
on nested overlay). `PIXEL_TUI_DOCKER_STORAGE_DRIVER` forces one.

Image: `BUSYBOX_IMAGE` is built from the host's static busybox (package `busybox-static`) and imported;
nothing is pulled, no registry is needed.

`stop()` force-removes every container first (so their shims exit), sends SIGTERM, then SIGKILLs
whatever of the engine is left (dockerd, containerd and shims by mount namespace, container processes
by cgroup), removes leftover container cgroups, unmounts anything under the directory and deletes it.

Use it from tests through the `docker_engine` / `engine` fixtures (tests/conftest.py); from a bench,
`from tests.dockerd import PrivateEngine` with the repository root on sys.path; from a shell,
`python tests/dockerd.py` starts one and prints its `DOCKER_HOST` until Ctrl-C (`--check` only says
whether one can be had).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):  # `python tests/dockerd.py`: make the `tests` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.busybox import BUSYBOX_IMAGE, IMAGE_CHANGES, IMAGE_PATH, find_busybox, missing_applets, rootfs_tar

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

__all__ = ["BUSYBOX_IMAGE", "USER_SOCKETS", "EngineError", "PrivateEngine", "available", "sweep_stale"]

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
STALE_AFTER_S = 600.0
STORAGE_DRIVER_ENV = "PIXEL_TUI_DOCKER_STORAGE_DRIVER"

USER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
"""The user's engine. Asserted never to be ours."""

# Paths dockerd (or its containerd shims) use whatever the flags say; hidden by a private tmpfs.
_HIDDEN_RUN_DIRS = ("/run/containerd", "/run/docker")
_NS_SCRIPT = 'set -e; for d in $PXD_HIDE; do mount -n -t tmpfs -o mode=0700 pxd "$d"; done; exec "$@"'
_OUR_COMMANDS = ("dockerd", "containerd", "podman", "conmon")  # and containerd-shim*: what a sweep by path may kill
_PREFIX = "pxd-"


class EngineError(RuntimeError):
    """The private engine could not be started (the message carries the tail of dockerd's log)."""


def available() -> str | None:
    """Why no private engine can be had here, or None when one can be started."""
    if sys.platform != "linux":
        return f"a private Docker engine needs Linux, not {sys.platform}"
    if os.geteuid() != 0:
        return "a private Docker engine needs root (dockerd, namespaces and cgroups)"
    tools = {"dockerd": "docker.io", "containerd": "containerd", "unshare": "util-linux", "setpriv": "util-linux",
             "mount": "mount"}  # fmt: skip
    for tool, package in tools.items():
        if shutil.which(tool) is None:
            return f"`{tool}` not found (install {package})"
    busybox = find_busybox()
    if busybox is None:
        return "no statically linked busybox found (install busybox-static)"
    missing = missing_applets(busybox)
    if missing:
        return f"{busybox} lacks the applets {', '.join(missing)}"
    return None


def _ping(sock_path: Path) -> bool:
    """True when an engine answers `GET /_ping` on the unix socket (no SDK, cheap to poll)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock_path))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return s.recv(64).split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"]
    except (OSError, IndexError):
        return False


def _tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(text[-lines:])


def _daemon_pids(base_dir: Path, mnt_ns: str | None = None) -> Iterator[int]:
    """dockerd, containerd and shim processes of the engine under `base_dir`: those in its mount
    namespace `mnt_ns`, and those whose command line names `base_dir`."""
    me, base = os.getpid(), str(base_dir).encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            if mnt_ns and os.readlink(f"/proc/{entry.name}/ns/mnt") == mnt_ns:
                yield int(entry.name)
                continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if os.path.basename(argv[0]).decode(errors="replace").startswith(_OUR_COMMANDS) and any(
                base in arg for arg in argv
            ):
                yield int(entry.name)


def sweep_stale(parent: Path = Path("/tmp")) -> list[Path]:
    """Delete the directories of private engines that died without cleaning up (a killed test run).

    Only `pxd-*` directories holding our `daemon.json` (or podman's `containers.conf`), untouched for
    STALE_AFTER_S, with no live process of theirs and nothing mounted under them; returns those removed."""
    removed = []
    for d in parent.glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            ours = any((d / marker).is_file() for marker in ("daemon.json", "containers.conf"))  # docker, podman
            if not ours or time.time() - d.stat().st_mtime < STALE_AFTER_S:
                continue
            if next(_daemon_pids(d), None) is not None or _mounts_under(d):
                continue
            shutil.rmtree(d)
            removed.append(d)
    return removed


def _kill(pids: Sequence[int], sig: int = signal.SIGKILL) -> None:
    """Send `sig` to each pid, ignoring those already gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _mounts_under(root: Path) -> list[str]:
    """Mount points in our own mount namespace at or under `root`, deepest first."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == str(root) or point.startswith(str(root) + "/"):
                found.append(point)
    return sorted(found, key=lambda p: p.count("/"), reverse=True)


class PrivateEngine:
    """A dockerd of our own under a temporary directory; `start()` it, use `.client`, then `stop()`.

    Debian 12's Docker 20.10; tests/engines.py has the others, each a subclass with the same interface."""

    name = "docker20"
    """The engine's id in the test ids and PIXEL_TUI_ENGINES."""
    LACKS: Mapping[str, str] = {}
    """What this engine cannot do, each with why (`lacks`)."""
    hidden_run_dirs: tuple[str, ...] = _HIDDEN_RUN_DIRS
    """Host directories a private tmpfs hides from the daemon (paths it uses whatever its flags say)."""

    def __init__(self, *, storage_driver: str | None = None, startup_timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Prepare (not start) an engine; `storage_driver=None` tries overlay2, then vfs."""
        forced = storage_driver or os.environ.get(STORAGE_DRIVER_ENV) or None
        self._drivers = [forced] if forced else ["overlay2", "vfs"]
        self.startup_timeout = startup_timeout
        self.base_dir: Path | None = None
        self.storage_driver: str | None = None
        self.startup_seconds: float | None = None
        self.image = BUSYBOX_IMAGE
        self._proc: subprocess.Popen[bytes] | None = None
        self._mnt_ns: str | None = None
        self._client: docker.DockerClient | None = None

    # -- paths -----------------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        """The engine's API socket."""
        assert self.base_dir is not None, "engine not started"
        return self.base_dir / "docker.sock"

    @property
    def url(self) -> str:
        """The `DOCKER_HOST` of this engine (`unix:///tmp/pxd-.../docker.sock`)."""
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        """dockerd's (and its containerd's) combined output."""
        assert self.base_dir is not None, "engine not started"
        return self.base_dir / "dockerd.log"

    @property
    def pid(self) -> int | None:
        """dockerd's pid while it runs."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    @property
    def client(self) -> docker.DockerClient:
        """A docker SDK client bound to this engine only."""
        if self._client is None:
            import docker

            self._assert_ours()
            self._client = docker.DockerClient(base_url=self.url, timeout=60)
        return self._client

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (the CLI, a bench) that should talk to this engine."""
        return {**os.environ, "DOCKER_HOST": self.url}

    def _assert_ours(self) -> None:
        """Refuse to go on with a socket that is not under our temporary directory."""
        assert self.base_dir is not None and self.base_dir.name.startswith(_PREFIX), self.base_dir
        sock = os.path.realpath(self.socket_path)
        assert sock.startswith(os.path.realpath(self.base_dir) + "/"), sock
        assert all(sock != os.path.realpath(u) for u in USER_SOCKETS), f"{sock} is the user's engine"

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> PrivateEngine:
        """Start dockerd, wait until it answers, import the busybox image. Raises EngineError."""
        reason = self.unavailable()
        if reason:
            raise EngineError(reason)
        begun = time.monotonic()
        sweep_stale()
        # A short path: unix socket paths are limited to ~108 bytes, containerd's sit deeper than ours.
        self.base_dir = Path(tempfile.mkdtemp(prefix=_PREFIX, dir="/tmp"))
        atexit.register(self.stop)
        failures = []
        try:
            for driver in self._drivers:
                try:
                    self._launch(driver)
                    self.storage_driver = driver
                    break
                except EngineError as e:
                    failures.append(f"--storage-driver={driver}: {e}")
                    self._halt_daemon()
                    self._reset_dirs()
            else:
                raise EngineError("dockerd did not start:\n" + "\n\n".join(failures))
            self.import_busybox()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - begun
        return self

    def _daemon_argv(self, driver: str) -> list[str]:
        """The daemon's command line (run inside the private namespaces), its config written first."""
        assert self.base_dir is not None
        base = self.base_dir
        # Our own config, so /etc/docker/daemon.json is never read; in 20.10 the trust key path (else
        # /etc/docker/key.json) is only settable there.
        (base / "daemon.json").write_text(json.dumps({"deprecated-key-path": str(base / "key.json")}) + "\n")
        return [
            "dockerd",
            "--config-file", str(base / "daemon.json"),
            "--data-root", str(base / "data"),
            "--exec-root", str(base / "exec"),
            "--pidfile", str(base / "dockerd.pid"),
            "--host", self.url,
            "--storage-driver", driver,
            "--bridge=none", "--iptables=false", "--ip6tables=false",
            "--shutdown-timeout", "3",
        ]  # fmt: skip

    def daemon_env(self) -> dict[str, str]:
        """The daemon's environment; its PATH is where it finds containerd, the shims, runc and docker-init."""
        return {"PATH": os.environ.get("PATH", IMAGE_PATH), "LANG": "C"}

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this engine cannot be started here, or None."""
        return available()

    def lacks(self, feature: str) -> None:
        """In a test: end it as an expected failure, naming this engine and why, when it cannot do `feature`."""
        if feature in self.LACKS:
            import pytest  # only a test asks; the benches import this module without pytest

            pytest.xfail(f"{self.name} {self.LACKS[feature]}")

    def _launch(self, driver: str) -> None:
        """Run dockerd with `driver` and wait for its API; EngineError when it dies or times out."""
        assert self.base_dir is not None
        # The tmpfs needs a mount point. Left in place afterwards: removing it would detach the tmpfs of
        # any other private engine running meanwhile (dockerd creates both directories anyway).
        for d in self.hidden_run_dirs:
            os.makedirs(d, mode=0o700, exist_ok=True)
        argv = [
            "setpriv", "--pdeathsig", "TERM",  # a killed test run takes its daemon with it
            "unshare", "--net", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", _NS_SCRIPT, "pxd-ns",
            *self._daemon_argv(driver),
        ]  # fmt: skip
        env = {**self.daemon_env(), "PXD_HIDE": " ".join(self.hidden_run_dirs)}
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting {self.name} ({driver}) ---\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while not _ping(self.socket_path):
            code = self._proc.poll()
            if code is not None:
                raise EngineError(
                    f"dockerd exited with status {code}; last lines of {self.log_path}:\n" + _tail(self.log_path)
                )
            if time.monotonic() > deadline:
                raise EngineError(
                    f"dockerd did not answer on {self.socket_path} within {self.startup_timeout:.0f} s;"
                    f" last lines of {self.log_path}:\n" + _tail(self.log_path)
                )
            time.sleep(0.05)
        self._mnt_ns = os.readlink(f"/proc/{self._proc.pid}/ns/mnt")
        if self._mnt_ns == os.readlink("/proc/self/ns/mnt"):  # never treat the host namespace as ours
            raise EngineError("dockerd is not in a private mount namespace")
        if not self.client.ping():
            raise EngineError(f"dockerd at {self.url} does not answer ping")
        driver_in_use = self.client.info().get("Driver")
        if driver_in_use != driver:
            raise EngineError(f"dockerd runs storage driver {driver_in_use!r}, not {driver!r}")

    def import_busybox(self) -> str:
        """Import `BUSYBOX_IMAGE` from the host's static busybox; returns the image name."""
        busybox = find_busybox()
        assert busybox is not None
        repo, tag = BUSYBOX_IMAGE.rsplit(":", 1)
        answer = self.client.api.import_image_from_data(
            rootfs_tar(busybox),
            repository=repo,
            tag=tag,
            changes=list(IMAGE_CHANGES),
        )
        if "error" in str(answer).lower():
            raise EngineError(f"importing {BUSYBOX_IMAGE} failed: {answer}")
        self.client.images.get(BUSYBOX_IMAGE)
        return BUSYBOX_IMAGE

    def run(
        self,
        command: str | Sequence[str] | None = None,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | Sequence[str] | None = None,
        mem_limit: str | int | None = None,
        image: str | None = None,
        network_mode: str = "none",
        **kwargs: Any,
    ) -> Container:
        """Start a detached container (busybox, no network by default) and return it, attrs loaded."""
        container = self.client.containers.run(
            image or self.image,
            command,
            name=name,
            labels=dict(labels or {}),
            environment=environment,
            mem_limit=mem_limit,
            network_mode=network_mode,
            detach=True,
            **kwargs,
        )
        container.reload()
        return container

    def remove_all_containers(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Force-remove every container of this engine whose id is not in `keep`."""
        import docker

        for c in self.client.containers.list(all=True, ignore_removed=True):
            if c.id not in keep:
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    c.remove(force=True, v=True)

    def stop(self) -> None:
        """Stop the engine, kill whatever it left running, unmount and delete its files. Idempotent."""
        if self.base_dir is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.thaw_daemon()  # a frozen daemon would answer nothing, not even the removals
        with contextlib.suppress(Exception):
            if self._proc and self._proc.poll() is None and self._client is not None:
                self.remove_all_containers()  # so containerd-shims and their containers exit
        self._halt_daemon()
        for cgroup in self._container_cgroups():  # left behind only when dockerd died first
            with contextlib.suppress(OSError):
                cgroup.rmdir()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        for point in _mounts_under(self.base_dir):
            if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        atexit.unregister(self.stop)
        self.base_dir = None

    def stop_daemon(self) -> None:
        """Stop dockerd as a crash or an upgrade would, keeping its files: `start_daemon()` brings it back."""
        self._halt_daemon()

    def start_daemon(self) -> None:
        """Start dockerd again on the same data root and socket after `stop_daemon()`."""
        assert self.base_dir is not None and self.storage_driver is not None, "engine never started"
        self._launch(self.storage_driver)

    def freeze_daemon(self) -> None:
        """SIGSTOP dockerd (not its containerd): it keeps its socket and connections and answers nothing.

        The caller must `thaw_daemon()` in a `finally`; `stop()` thaws it too, or it could not stop.
        """
        assert self.pid is not None, "dockerd is not running"
        os.kill(self.pid, signal.SIGSTOP)

    def thaw_daemon(self) -> None:
        """SIGCONT dockerd after `freeze_daemon()`."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGCONT)

    def _halt_daemon(self) -> None:
        """SIGTERM dockerd, SIGKILL it after STOP_TIMEOUT_S, then kill anything of ours still alive."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)  # a frozen daemon would wait out the SIGTERM
                proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self._proc = None
        # containerd runs in a session of its own and each shim in a process group of its own, so the
        # process group is not enough: sweep by mount namespace, by our paths, and by container cgroups.
        for _ in range(50):
            left = self._leftover_pids()
            if not left:
                break
            _kill(left)
            time.sleep(0.1)

    def _container_ids(self) -> list[str]:
        """Ids of every container this engine has on disk (running or not)."""
        assert self.base_dir is not None
        containers = self.base_dir / "data" / "containers"
        return [e.name for e in os.scandir(containers)] if containers.is_dir() else []

    def _container_cgroups(self) -> list[Path]:
        """The cgroup directories of this engine's containers (v1 or v2, cgroupfs or systemd driver)."""
        root = Path("/sys/fs/cgroup")
        layouts = ("*/docker/{}", "docker/{}", "system.slice/docker-{}.scope", "*/system.slice/docker-{}.scope")
        return [d for cid in self._container_ids() for layout in layouts for d in root.glob(layout.format(cid))]

    def _leftover_pids(self) -> list[int]:
        """Processes of this engine: in its mount namespace, or a dockerd/containerd/shim naming our
        directory (before the namespace is known), or in the cgroup of one of its containers."""
        assert self.base_dir is not None
        found = set(_daemon_pids(self.base_dir, self._mnt_ns))
        for cgroup in self._container_cgroups():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (cgroup / "cgroup.procs").read_text().split())
        found.discard(os.getpid())
        return sorted(found)

    def _reset_dirs(self) -> None:
        """Forget a failed attempt's data and exec roots (keeping the log) before the next one."""
        assert self.base_dir is not None
        for sub in ("data", "exec"):
            for point in _mounts_under(self.base_dir / sub):
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
            shutil.rmtree(self.base_dir / sub, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.base_dir / "docker.sock").unlink()
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> PrivateEngine:
        """Start the engine for a `with` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the engine at the end of a `with` block."""
        self.stop()


def main() -> int:
    """`python tests/dockerd.py [--check]`: print why no engine, or run one until Ctrl-C."""
    reason = available()
    if "--check" in sys.argv[1:]:
        print(reason or "ok")
        return 1 if reason else 0
    if reason:
        print(f"no private engine: {reason}", file=sys.stderr)
        return 1
    with PrivateEngine() as engine:
        info = {
            "DOCKER_HOST": engine.url,
            "storage_driver": engine.storage_driver,
            "startup_s": round(engine.startup_seconds or 0, 2),
            "image": engine.image,
            "log": str(engine.log_path),
        }
        print(json.dumps(info), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
