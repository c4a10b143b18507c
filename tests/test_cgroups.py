"""cgroup layouts as real hosts have them (v2 systemd and cgroupfs drivers, rootless, podman, a PID 1 moved into a
child, another cgroup namespace, hybrid and v1), and memory as `docker stats` computes it.

The fake trees mirror this kernel's (6.18) files: every v2 cgroup has cpu.stat, with the cpu controller's
fields only where the parent's cgroup.subtree_control lists `cpu`; memory.* counters only where it lists
`memory` (memory.pressure is there regardless); v1 memory.stat has both `inactive_file` (the cgroup's own
pages) and `total_inactive_file` (with its children's). The v1 layout of this CI host is also covered by
the real-engine tests.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pixel_tui.collect import cgroups
from pixel_tui.collect.cgroup_paths import locate, own_scope
from pixel_tui.collect.cgroups import STAT_EVERY, _stat_value, mem_used, open_handle
from pixel_tui.collect.metrics import ContainerMetrics

CID = "ab" * 32
ALL = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")
V1_MEMORY_STAT = (
    "cache {cache}\nrss 53248\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\nswap 0\npgpgin 1328\n"
    "pgpgout 1315\npgfault 1626\npgmajfault 0\ninactive_anon 49152\nactive_anon 4096\ninactive_file {own}\n"
    "active_file 0\nunevictable 0\nhierarchical_memory_limit 9223372036854771712\ntotal_cache {cache}\n"
    "total_rss 53248\ntotal_inactive_anon 49152\ntotal_active_anon 4096\ntotal_inactive_file {total}\n"
    "total_active_file 0\ntotal_unevictable 0\n"
)


def v2_cgroup(root: Path, relative: str, *, delegated: tuple[str, ...] = ALL, usage_usec: int = 0) -> Path:
    """A v2 cgroup and its ancestors; each ancestor enables `delegated` for its children (subtree_control)."""
    if not (root / "cgroup.controllers").exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / "cgroup.controllers").write_text(" ".join(ALL) + "\n")
    directory, parent_enables = root, " ".join(ALL)
    for part in relative.strip("/").split("/"):
        (directory / "cgroup.subtree_control").write_text(" ".join(delegated) + "\n")
        parent_enables = " ".join(delegated)
        directory = directory / part
        if not directory.exists():
            directory.mkdir()
            _v2_files(directory, parent_enables.split(), usage_usec=0)
    _v2_files(directory, parent_enables.split(), usage_usec=usage_usec)
    return directory


def _v2_files(directory: Path, enabled: list[str], *, usage_usec: int) -> None:
    (directory / "cgroup.controllers").write_text(" ".join(enabled) + "\n")
    (directory / "cgroup.procs").write_text("")
    for pressure in ("cpu", "io", "memory"):  # the PSI files exist whatever the controllers
        (directory / f"{pressure}.pressure").write_text("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    user, system = usage_usec * 2 // 3, usage_usec - usage_usec * 2 // 3
    stat = f"usage_usec {usage_usec}\nuser_usec {user}\nsystem_usec {system}\nnice_usec 0\n"
    if "cpu" in enabled:
        stat += (
            "core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
        )
    (directory / "cpu.stat").write_text(stat)


def v2_memory(directory: Path, *, current: int, limit: str, inactive: int, total_inactive: int | None = None) -> None:
    """Memory counters of a v2 cgroup whose parent enables memory."""
    assert "memory" in (directory / "cgroup.controllers").read_text().split()
    (directory / "memory.current").write_text(f"{current}\n")
    (directory / "memory.max").write_text(f"{limit}\n")
    (directory / "memory.stat").write_text(
        f"anon 100\nfile 200\nkernel 0\nshmem 0\ninactive_anon 50\nactive_anon 50\ninactive_file {inactive}\n"
        "active_file 5\nunevictable 0\n"
    )


def make_v2(root, relative: str, *, usage_usec: int, current: int, limit: str, inactive: int):
    """A container's v2 cgroup with CPU and memory (the cgroupfs or systemd driver's layout)."""
    directory = v2_cgroup(Path(root), relative, usage_usec=usage_usec)
    v2_memory(directory, current=current, limit=limit, inactive=inactive)
    return directory


def proc_entry(proc: Path, pid: int, lines: list[str]) -> None:
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cgroup").write_text("".join(line + "\n" for line in lines))


V1_CONTROLLERS = ["12:pids:{p}", "11:memory:{p}", "10:devices:{p}", "6:cpu,cpuacct:{p}", "1:name=systemd:{p}"]


SCOPE_USEC = 93_550_677  # the dind scope measured on this kernel's v2 mount; its `init` leaf read 0
ROOTLESS = "user.slice/user-1000.slice/user@1000.service/user.slice"
LAYOUTS = {
    # name: (/proc/<pid>/cgroup's v2 line, the container's scope, the child holding PID 1, what is delegated)
    "v2 systemd driver": (f"0::/system.slice/docker-{CID}.scope", f"system.slice/docker-{CID}.scope", None, ALL),
    "v2 cgroupfs driver": (f"0::/docker/{CID}", f"docker/{CID}", None, ALL),
    # systemd before 252 delegates only memory and pids to user@.service: cpu.stat without the cpu fields.
    "rootless": (f"0::/{ROOTLESS}/docker-{CID}.scope", f"{ROOTLESS}/docker-{CID}.scope", None, ("memory", "pids")),
    "podman": (
        f"0::/machine.slice/libpod-{CID}.scope/container",
        f"machine.slice/libpod-{CID}.scope",
        "container",
        ALL,
    ),
    "docker:dind's init": (
        f"0::/system.slice/docker-{CID}.scope/init",
        f"system.slice/docker-{CID}.scope",
        "init",
        ALL,
    ),
    "systemd in a container": (
        f"0::/docker/{CID}/init.scope",
        f"docker/{CID}",
        "init.scope",
        ALL,
    ),
    "another cgroup namespace": (f"0::/../docker-{CID}.scope", f"system.slice/docker-{CID}.scope", None, ALL),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_v2_layout_measures_the_containers_own_scope(tmp_path, layout):
    line, scope, child, delegated = LAYOUTS[layout]
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    directory = v2_cgroup(root, scope, delegated=delegated, usage_usec=SCOPE_USEC)
    v2_memory(directory, current=50_000, limit="67108864", inactive=20_000)
    v2_cgroup(root, "system.slice/docker-" + "cd" * 32 + ".scope", usage_usec=7)  # a neighbour, never measured
    if child is not None:  # PID 1's leaf: busy-looking memory, no CPU, only part of the container
        leaf = v2_cgroup(root, f"{scope}/{child}", delegated=delegated, usage_usec=0)
        v2_memory(leaf, current=4096, limit="max", inactive=0)
    proc_entry(proc, 4242, [line])
    files = locate(CID, 4242, str(root), str(proc))
    assert files is not None and files.v2 and files.cpu_usage == f"{directory}/cpu.stat"
    handle = cgroups.CgroupHandle(files)
    try:
        sample = handle.sample()
    finally:
        handle.close()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (SCOPE_USEC * 1000, 30_000, 64 * 1024 * 1024)


def test_hybrid_host_reads_v1_controllers_not_the_empty_unified_mount(tmp_path):
    """Debian 10 / Ubuntu 20.04 and this CI host: v1 controllers, a v2 mount at <root>/unified with none enabled."""
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    v2_cgroup(root / "unified", f"docker/{CID}", delegated=(), usage_usec=5)  # cpu.stat only, no memory.*
    cpu = root / "cpu,cpuacct" / "docker" / CID
    cpu.mkdir(parents=True)
    (cpu / "cpuacct.usage").write_text("123456789\n")
    memory = root / "memory" / "docker" / CID
    memory.mkdir(parents=True)
    (memory / "memory.usage_in_bytes").write_text("50000\n")
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    (memory / "memory.stat").write_text(V1_MEMORY_STAT.format(cache=30000, own=7, total=20000))
    proc_entry(proc, 4242, [line.format(p=f"/docker/{CID}") for line in V1_CONTROLLERS] + [f"0::/docker/{CID}"])
    handle = open_handle(CID, 4242, root=str(root), proc_root=str(proc))
    assert handle is not None and not handle.files.v2
    sample = handle.sample()
    handle.close()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (123456789, 30000, None)


def test_cpu_is_read_where_only_cpu_stat_is(tmp_path):
    """A v2 cgroup without the memory controller (its parent does not enable it) still gives CPU."""
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    directory = v2_cgroup(root, f"system.slice/docker-{CID}.scope", delegated=("cpu", "pids"), usage_usec=2500)
    assert not (directory / "memory.current").exists() and (directory / "memory.pressure").exists()
    proc_entry(proc, 7, [f"0::/system.slice/docker-{CID}.scope"])
    handle = open_handle(CID, 7, root=str(root), proc_root=str(proc))
    assert handle is not None
    sample = handle.sample()
    handle.close()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (2_500_000, None, None)
    assert cgroups.read_once(handle.files) == sample


def test_own_scope_cuts_after_the_component_naming_the_id():
    assert own_scope(f"/machine.slice/libpod-{CID}.scope/container", CID) == f"/machine.slice/libpod-{CID}.scope"
    assert own_scope(f"/docker/{CID}/init", CID) == f"/docker/{CID}"
    assert own_scope("/system.slice/ssh.service", CID) is None  # a remote engine's pid that exists here


def test_a_vanished_cgroup_is_told_by_the_read_error_not_by_a_missing_file(tmp_path, monkeypatch):
    """The kernel answers a read of a removed cgroup's open file with ENODEV; the file is not deleted from view."""
    make_v2(tmp_path, f"docker/{CID}", usage_usec=1, current=10, limit="max", inactive=0)
    metrics = ContainerMetrics(local=True, executor=lambda: None, clock=lambda: 1.0, cgroup_root=tmp_path)
    assert metrics.measure(None, [(CID, 1)], {}).readings[CID][1:] == (10, None)  # located, held open
    assert metrics.held == 1

    def gone(fd: int) -> str:
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(cgroups, "_pread", gone)
    early = metrics.sample_known([(CID, 1)])
    assert early.vanished == {CID} and not early.samples and metrics.held == 0


def test_memory_as_the_docker_cli_computes_it():
    # v1: total_inactive_file first (it counts the children), inactive_file only when that is not below usage.
    assert mem_used(50_000, 20_000, 7) == 30_000
    assert mem_used(50_000, 60_000, 7) == 49_993
    assert mem_used(50_000, None, 4_000) == 46_000  # v2: no total_ key
    assert mem_used(10, None, 50) == 10  # the cache above the usage: the usage as is


def test_v1_memory_stat_with_both_keys(tmp_path):
    cpu = tmp_path / "cpuacct" / "docker" / CID
    cpu.mkdir(parents=True)
    (cpu / "cpuacct.usage").write_text("1\n")
    memory = tmp_path / "memory" / "docker" / CID
    memory.mkdir(parents=True)
    (memory / "memory.usage_in_bytes").write_text("50000\n")
    (memory / "memory.limit_in_bytes").write_text("67108864\n")
    (memory / "memory.stat").write_text(V1_MEMORY_STAT.format(cache=40000, own=35000, total=45000))
    handle = open_handle(CID, None, root=str(tmp_path))
    assert handle.sample().mem_used == 5_000  # the old reader's key of the v1 total was right; order is the CLI's
    (memory / "memory.stat").write_text(V1_MEMORY_STAT.format(cache=40000, own=35000, total=60000))
    (memory / "memory.usage_in_bytes").write_text("50001\n")
    assert handle.sample().mem_used == 15_001  # total above usage: the CLI falls back to inactive_file
    handle.close()


@pytest.mark.parametrize("relative", [f"docker/{CID}", f"system.slice/docker-{CID}.scope"])
def test_v2_layouts(tmp_path, relative):
    directory = make_v2(tmp_path, relative, usage_usec=1500, current=10_000, limit="67108864", inactive=4_000)
    handle = open_handle(CID, None, root=tmp_path)
    assert handle is not None and handle.files.v2
    sample = handle.sample()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (1_500_000, 6_000, 67108864)
    (directory / "cpu.stat").write_text("usage_usec 2500\n")  # the counters are re-read in place
    assert handle.sample().cpu_ns == 2_500_000
    handle.close()


def test_v2_unlimited_and_missing(tmp_path):
    make_v2(tmp_path, f"docker/{CID}", usage_usec=1, current=10, limit="max", inactive=50)
    handle = open_handle(CID, None, root=tmp_path)
    sample = handle.sample()
    assert sample.mem_limit is None and sample.mem_used == 10  # inactive above usage: usage as is
    handle.close()
    assert open_handle("cd" * 32, None, root=tmp_path) is None


def test_v1_layout_with_split_cpu_and_cpuacct(tmp_path):
    for controller in ("cpuacct", "memory"):
        (tmp_path / controller / "docker" / CID).mkdir(parents=True)
    (tmp_path / "cpuacct" / "docker" / CID / "cpuacct.usage").write_text("123456789\n")
    memory = tmp_path / "memory" / "docker" / CID
    (memory / "memory.usage_in_bytes").write_text("50000\n")
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    (memory / "memory.stat").write_text("cache 1\ninactive_file 7\ntotal_inactive_file 20000\n")
    handle = open_handle(CID, None, root=tmp_path)
    sample = handle.sample()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (123456789, 30000, None)
    handle.close()


def test_stat_value():
    text = "cache 5\nrss 7\ninactive_file 9\ntotal_inactive_file 11\n"
    assert [_stat_value(text, key) for key in ("cache", "rss", "inactive_file", "total_inactive_file", "swap")] == [
        5,
        7,
        9,
        11,
        0,
    ]
    assert _stat_value("usage_usec 42", "usage_usec") == 42


def test_memory_stat_is_read_again_when_usage_moves_or_every_stat_every_samples(tmp_path):
    directory = make_v2(tmp_path, f"docker/{CID}", usage_usec=10, current=50_000, limit="max", inactive=20_000)
    handle = open_handle(CID, None, root=tmp_path)
    try:
        assert handle.sample().mem_used == 30_000
        # The usage moves: memory.stat is read with it, in the same sample.
        (directory / "memory.stat").write_text("anon 100\nfile 200\ninactive_file 0\nactive_file 5\n")
        (directory / "memory.current").write_text("60000\n")
        assert handle.sample().mem_used == 60_000
        # The page cache moves while the usage stays: not read at once (memory.stat costs 44 us a read on v1)...
        (directory / "memory.stat").write_text("anon 100\nfile 200\ninactive_file 10000\nactive_file 5\n")
        later = [handle.sample().mem_used for _ in range(STAT_EVERY)]
        # ...but after STAT_EVERY samples it is.
        assert later == [60_000] * (STAT_EVERY - 1) + [50_000], later
    finally:
        handle.close()


def test_an_idle_containers_reading_is_the_same_object_until_a_counter_moves(tmp_path):
    """At 1 000 idle containers, parsing counters that did not move was a third of a steady collection's Python."""
    directory = make_v2(tmp_path, f"docker/{CID}", usage_usec=5, current=1000, limit="max", inactive=100)
    handle = open_handle(CID, None, str(tmp_path))
    assert handle is not None
    first = handle.sample()
    assert (first.cpu_ns, first.mem_used) == (5000, 900)
    assert handle.sample() is first  # nothing moved
    (directory / "cpu.stat").write_text("usage_usec 7\nuser_usec 4\nsystem_usec 3\n")
    moved = handle.sample()
    assert moved is not first and (moved.cpu_ns, moved.mem_used) == (7000, 900)
    # Memory moved: memory.stat is read again with it, and the cache it gives is used.
    (directory / "memory.current").write_text("2000\n")
    (directory / "memory.stat").write_text("inactive_file 500\n")
    assert handle.sample().mem_used == 1500
    handle.close()
