"""Where a container's cgroup counters are: its own scope directory, found from its main process's /proc entry.

The layouts met on real hosts, as `/proc/<pid>/cgroup` names them:

- cgroup v2, systemd driver: `0::/system.slice/docker-<id>.scope`; cgroupfs driver: `0::/docker/<id>`;
- rootless: `0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-<id>.scope`;
- podman: `0::/machine.slice/libpod-<id>.scope/container` (PID 1 in a child of the scope);
- PID 1 moved into a child by the workload itself: docker:dind's `/init`, systemd in a container
  (kind nodes) `/init.scope`;
- hybrid (v1 controllers beside a v2 mount at `<root>/unified`) and v1: one line per controller;
- read from another cgroup namespace (pixel-tui in a container): `0::/../docker-<id>.scope`.

The path is cut after the component that names the id, as podman and cAdvisor do: the scope holds the
whole container, while a child holding PID 1 may hold nothing else (93 550 677 us of CPU in a dind
scope, 0 in its `init` leaf).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

CGROUP_ROOT = "/sys/fs/cgroup"
"""Where the host's cgroup hierarchies are mounted (setting `engine.cgroup_root`)."""
PROC_ROOT = "/proc"
"""The host's /proc (setting `engine.proc_root`): pixel-tui in a container reads the host's mounted there."""
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)


@dataclass(frozen=True)
class CgroupFiles:
    """Where one container's counters live; memory files are None where the memory controller is not enabled."""

    # Paths as text: locating 1 000 containers' files through pathlib was a third of a first collection's CPU.
    cpu_usage: str
    """cpuacct.usage (v1, ns) or cpu.stat (v2, usage_usec)."""
    mem_usage: str | None
    """memory.usage_in_bytes (v1) or memory.current (v2)."""
    mem_limit: str | None
    """memory.limit_in_bytes (v1) or memory.max (v2)."""
    mem_stat: str | None
    """memory.stat, for the inactive file cache `docker stats` leaves out."""
    v2: bool


def own_scope(path: str, container_id: str) -> str | None:
    """`path` cut after the component that names the container, None when none does.

    A remote engine's pid that happens to exist here never names the container, so it is never mistaken for it.
    """
    parts = path.split("/")
    for index, part in enumerate(parts):
        if container_id in part:
            return "/".join(parts[: index + 1])
    return None


def cgroup_lines(pid: int, proc_root: str = PROC_ROOT) -> dict[str, str]:
    """Controller -> path of `/proc/<pid>/cgroup` (`unified` for the v2 line); {} when the process is gone."""
    try:
        with open(f"{proc_root}/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError as error:
        if error.errno in _OUT_OF_FDS:
            raise  # not "no such process": the caller must say why it has no figures
        return {}
    paths: dict[str, str] = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            paths["unified"] = path
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


def locate(
    container_id: str, pid: int | None, root: str = CGROUP_ROOT, proc_root: str = PROC_ROOT
) -> CgroupFiles | None:
    """The cgroup files of a container's own scope, from its main process's /proc entry, else the usual paths."""
    paths: dict[str, str] = {}
    for controller, path in (cgroup_lines(pid, proc_root) if pid else {}).items():
        scope = own_scope(path, container_id)
        if scope is not None:
            paths[controller] = scope
    v1 = _v1_files(root, paths.get("cpuacct"), paths.get("memory"))
    if v1:
        return v1
    if "unified" in paths:
        for directory in _v2_directories(root, paths["unified"]):
            v2 = _v2_files(directory)
            if v2:
                return v2
    for relative in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"):
        found = _v1_files(root, "/" + relative, "/" + relative)
        found = found or _v2_files(os.path.join(root, relative)) or _v2_files(os.path.join(root, "unified", relative))
        if found:
            return found
    return None


def _v2_directories(root: str, path: str) -> list[str]:
    """Where a v2 path may be: under the root (pure v2) or its `unified` mount (hybrid).

    From another cgroup namespace the path climbs out of that namespace (`/../docker-<id>.scope`) to a
    place this process cannot name: the rest of the path is looked for under the root and each of its
    first two levels (system.slice, machine.slice, docker, kubepods...).
    """
    bases = [root, os.path.join(root, "unified")]
    parts = path.strip("/").split("/")
    if ".." not in parts:
        return [os.path.join(base, *parts) for base in bases]
    tail = parts[len(parts) - parts[::-1].index("..") :]
    found = []
    for base in bases:
        for parent in _levels(base, 2):
            candidate = os.path.join(parent, *tail)
            if os.path.isdir(candidate):
                found.append(candidate)
    return found


def _levels(base: str, depth: int) -> list[str]:
    """`base` and the directories under it down to `depth` levels."""
    levels, current = [base], [base]
    for _ in range(depth):
        below = []
        for directory in current:
            try:
                below += [entry.path for entry in os.scandir(directory) if entry.is_dir(follow_symlinks=False)]
            except OSError:
                continue
        levels += below
        current = below
    return levels


def _v1_files(root: str, cpu_path: str | None, mem_path: str | None) -> CgroupFiles | None:
    if not cpu_path:
        return None
    memory = os.path.join(root, "memory", mem_path.lstrip("/")) if mem_path else None
    if memory is not None and not os.path.exists(memory + "/memory.usage_in_bytes"):
        memory = None
    for cpu_dir in ("cpuacct", "cpu,cpuacct"):
        cpu = os.path.join(root, cpu_dir, cpu_path.lstrip("/"), "cpuacct.usage")
        if os.path.exists(cpu):
            if memory is None:
                return CgroupFiles(cpu, None, None, None, False)
            return CgroupFiles(
                cpu,
                memory + "/memory.usage_in_bytes",
                memory + "/memory.limit_in_bytes",
                memory + "/memory.stat",
                False,
            )
    return None


def _v2_files(directory: str) -> CgroupFiles | None:
    """The files of a v2 directory: CPU wherever cpu.stat is (every cgroup has it), memory where enabled."""
    if not os.path.exists(directory + "/cpu.stat"):
        return None
    if not os.path.exists(directory + "/memory.current"):
        # The memory controller is not in the parent's subtree_control (a hybrid host's unified mount).
        return CgroupFiles(directory + "/cpu.stat", None, None, None, True)
    return CgroupFiles(
        directory + "/cpu.stat",
        directory + "/memory.current",
        directory + "/memory.max",
        directory + "/memory.stat",
        True,
    )
