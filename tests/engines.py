"""The other real engines of the tests, beside Debian 12's Docker 20.10 (tests/dockerd.py): Docker 26 and podman.

Each is a `PrivateEngine` with the same interface (`.url`, `.client`, `.image`, `.run(...)`,
`.remove_all_containers`, `stop`), started the same way: its daemon under `unshare --net --mount`
with every path under one `/tmp/pxd-*` directory, never the machine's own engine.

- `Docker26Engine`: `dockerd` and `containerd` 26.1 / 1.7 from Debian 13's `docker.io` and `containerd`
  packages, fetched with `apt-get download` from the Debian 13 suite of the host's own Debian mirror
  and unpacked with `dpkg-deb -x` under ENGINE_CACHE (`fetch_docker26`, also run by `.ci/run`; once,
  later starts use the cache). They run on Debian 12; `runc` and `docker-init` stay Debian 12's
  (Debian 13's runc needs a newer glibc).
- `PodmanEngine`: Debian 12's podman 4.3 as `podman system service` on the private socket, rootful,
  its own storage root, run root, tmp dir and network config dir, config files of its own (nothing
  under /etc/containers is read), cgroupfs (no systemd), the `file` events backend (no journald),
  containers without network (no netavark, no bridge). Its image is `podman import` of the same
  busybox root filesystem, through the Docker-compatible API.

`ENGINES` maps the ids of the tests ("docker20", "docker26", "podman") to the classes;
PIXEL_TUI_ENGINES (comma-separated) chooses which the Docker tests run on (tests/conftest.py).
`python tests/engines.py fetch` fills the cache (what `.ci/run` does).
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python tests/engines.py`: make the `tests` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dockerd import BUSYBOX_IMAGE, EngineError, PrivateEngine, available

__all__ = ["ENGINES", "ENGINE_CACHE", "Docker26Engine", "PodmanEngine", "fetch_docker26"]

ENGINE_CACHE = Path(os.environ.get("PIXEL_TUI_ENGINE_CACHE", "/var/cache/pixel-tui/engines"))
"""Downloaded packages and their unpacked trees, kept between runs (PIXEL_TUI_ENGINE_CACHE moves it)."""

DOCKER26_SUITE = "trixie"  # Debian 13
DOCKER26_PACKAGES = ("docker.io", "containerd")
DOCKER26_VERSION = "26.1."


def _host_mirror() -> str:
    """The URI of the host's Debian mirror (its main suite), from apt's own configuration."""
    codename = ""
    with contextlib.suppress(OSError), open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    out = subprocess.run(
        ["apt-get", "indextargets", "--format", "$(REPO_URI) $(RELEASE) $(COMPONENT)"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    for line in out.stdout.splitlines():
        uri, release, component = [*line.split(), "", "", ""][:3]
        if release == codename and component == "main":
            return uri
    raise EngineError(f"no Debian mirror for {codename or 'this release'} in apt's sources (apt-get update first?)")


def fetch_docker26(cache: Path | None = None) -> Path:
    """The unpacked tree of Debian 13's docker.io and containerd, downloaded and unpacked on first use."""
    home = (cache or ENGINE_CACHE) / "docker26"
    root, stamp = home / "root", home / "packages"
    if stamp.is_file() and (root / "usr/sbin/dockerd").is_file():
        return root
    if os.geteuid() != 0:
        raise EngineError(f"Docker 26 is not in {home} and only root can fetch it (run .ci/run or as root)")
    apt = home / "apt"
    for d in (apt / "lists/partial", apt / "archives/partial", apt / "sources.d", home / "debs"):
        d.mkdir(parents=True, exist_ok=True)
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    (apt / "sources.list").write_text(f"deb [signed-by={keyring}] {_host_mirror()} {DOCKER26_SUITE} main\n")
    options = [
        f"-oDir::Etc::SourceList={apt / 'sources.list'}", f"-oDir::Etc::SourceParts={apt / 'sources.d'}",
        f"-oDir::State::Lists={apt / 'lists'}", f"-oDir::Cache={apt}", "-oAPT::Sandbox::User=root",
    ]  # fmt: skip

    def apt_get(*args: str) -> None:
        done = subprocess.run(["apt-get", "-q", *options, *args], cwd=home / "debs", capture_output=True, text=True)
        if done.returncode:
            raise EngineError(f"apt-get {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")

    apt_get("update")
    for old in (home / "debs").glob("*.deb"):
        old.unlink()
    apt_get("download", *(f"{p}/{DOCKER26_SUITE}" for p in DOCKER26_PACKAGES))
    debs = sorted((home / "debs").glob("*.deb"))
    docker = [d.name for d in debs if d.name.startswith("docker.io_")]
    if not docker or not docker[0].startswith(f"docker.io_{DOCKER26_VERSION}"):
        raise EngineError(f"{DOCKER26_SUITE} offers {docker or 'no docker.io'}, not Docker {DOCKER26_VERSION}x")
    shutil.rmtree(root, ignore_errors=True)
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    stamp.write_text("".join(f"{d.name}\n" for d in debs))
    return root


class Docker26Engine(PrivateEngine):
    """Debian 13's dockerd 26.1 and containerd 1.7 (fetched once into ENGINE_CACHE), Debian 12's runc."""

    name = "docker26"

    def __init__(self, **kwargs: object) -> None:
        """Prepare (not start) the engine; the packages are fetched at `start()` when not cached."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tree: Path | None = None

    def start(self) -> Docker26Engine:
        """Fetch Docker 26 when it is not cached yet, then start it as PrivateEngine does."""
        if self.unavailable() is None:
            self.tree = fetch_docker26()
        super().start()
        return self

    def daemon_env(self) -> dict[str, str]:
        """Debian 13's dockerd, containerd and shims come first on PATH; runc and docker-init are the host's."""
        assert self.tree is not None, "Docker 26 not fetched"
        env = super().daemon_env()
        env["PATH"] = f"{self.tree}/usr/sbin:{self.tree}/usr/bin:{env['PATH']}"
        return env


def _ulimit(name: str, which: int) -> str:
    """A containers.conf ulimit entry (`"nofile=1024:4096"`) equal to this process's own limits."""
    soft, hard = (-1 if v == resource.RLIM_INFINITY else v for v in resource.getrlimit(which))
    if which == resource.RLIMIT_NPROC:  # podman lowers its own to 32768 when it cannot raise it to 1048576
        soft, hard = (min(v, 32768) if v >= 0 else 32768 for v in (soft, hard))
    return f'"{name}={soft}:{hard}"'


class PodmanEngine(PrivateEngine):
    """Debian 12's podman as `podman system service` on the private socket, rootful, with its own dirs."""

    name = "podman"
    LACKS = {
        "oom_event": "sends no `oom` event (its compat API has no such action)",
        "health_checks": "runs healthchecks from systemd timers only: with no systemd (as here) a health stays"
        " `starting`",
        "refuses_newer_api_version": "answers any API version in the path; no HTTP 400 for a client too new",
    }
    # Rootful podman keeps its locks in shared memory (/dev/shm/libpod_lock) and state under /run/libpod
    # and /run/containers whatever the other flags say: another podman on the host must never see ours.
    hidden_run_dirs = ("/run/containers", "/run/libpod", "/dev/shm")

    def __init__(self, **kwargs: object) -> None:
        """Prepare (not start) the engine; storage `overlay` (podman's name for overlay2), else `vfs`."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        forced = os.environ.get("PIXEL_TUI_PODMAN_STORAGE_DRIVER")
        self._drivers = [forced] if forced else ["overlay", "vfs"]

    @classmethod
    def unavailable(cls) -> str | None:
        """Why podman cannot be started here (not installed, not root, ...), or None."""
        reason = available()
        if reason and "dockerd" not in reason and "containerd" not in reason:
            return reason
        for tool in ("podman", "conmon", "runc", "unshare", "setpriv"):
            if shutil.which(tool) is None:
                return f"`{tool}` not found (install podman)"
        return None

    def _daemon_argv(self, driver: str) -> list[str]:
        """`podman system service` with its own config, storage, run and network dirs, cgroupfs, file events."""
        assert self.base_dir is not None
        base = self.base_dir
        (base / "containers.conf").write_text(
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{base}/exec/events.log"\n'
            'runtime = "runc"\n'
            f'tmp_dir = "{base}/exec/libpod"\n'
            "[containers]\n"
            'netns = "none"\n'
            # Rootful podman gives containers nofile and nproc of 1048576, which runc cannot set where the
            # service's own hard limit is lower (a sandbox, CI): "error setting rlimit type 7". Ours, then.
            f"default_ulimits = [{_ulimit('nofile', resource.RLIMIT_NOFILE)},"
            f" {_ulimit('nproc', resource.RLIMIT_NPROC)}]\n"
        )
        (base / "storage.conf").write_text(
            f'[storage]\ndriver = "{driver}"\nrunroot = "{base}/exec/storage"\ngraphroot = "{base}/data/storage"\n'
        )
        (base / "registries.conf").write_text("unqualified-search-registries = []\n")
        return [
            "podman",
            "--root", f"{base}/data/storage", "--runroot", f"{base}/exec/storage", "--tmpdir", f"{base}/exec/libpod",
            "--storage-driver", driver, "--cgroup-manager", "cgroupfs", "--events-backend", "file",
            "--network-config-dir", f"{base}/data/networks", "--volumepath", f"{base}/data/volumes",
            "system", "service", "--time", "0", self.url,
        ]  # fmt: skip

    def daemon_env(self) -> dict[str, str]:
        """podman reads only our config files, never /etc/containers."""
        assert self.base_dir is not None
        base = self.base_dir
        return {
            **super().daemon_env(),
            "CONTAINERS_CONF": str(base / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(base / "storage.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(base / "registries.conf"),
            "TMPDIR": str(base / "exec"),
        }

    def import_busybox(self) -> str:
        """`podman import` the busybox root filesystem; podman names it `docker.io/library/pixel-busybox:latest`."""
        super().import_busybox()
        self.image = self.client.images.get(BUSYBOX_IMAGE).tags[0]
        return self.image

    def _container_ids(self) -> list[str]:
        """Ids of every container in this engine's storage (podman's ids are the storage's)."""
        assert self.base_dir is not None
        return [p.name for p in (self.base_dir / "data/storage").glob("*-containers/*") if p.is_dir()]

    def _container_cgroups(self) -> list[Path]:
        """podman's cgroupfs layout: `libpod_parent/libpod-<id>` (under each controller on v1)."""
        root = Path("/sys/fs/cgroup")
        layouts = ("*/libpod_parent/libpod-{}", "libpod_parent/libpod-{}")
        return [d for cid in self._container_ids() for layout in layouts for d in root.glob(layout.format(cid))]


ENGINES: dict[str, type[PrivateEngine]] = {
    "docker20": PrivateEngine,
    "docker26": Docker26Engine,
    "podman": PodmanEngine,
}
"""Every engine the Docker tests can run on, by test id."""


def main() -> int:
    """`python tests/engines.py fetch`: fill the cache; `python tests/engines.py check`: say which engines start."""
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "fetch":
        print(fetch_docker26())
        return 0
    status = 0
    for name, cls in ENGINES.items():
        engine = cls()
        try:
            engine.start()
            version = engine.client.version()
            print(f"{name}: {version.get('Version')} API {version.get('ApiVersion')} in {engine.startup_seconds:.1f} s")
        except EngineError as e:
            print(f"{name}: {e}")
            status = 1
        finally:
            engine.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
