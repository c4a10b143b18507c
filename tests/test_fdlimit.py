"""File descriptors: the raised limit, the budget of held-open cgroup files, and saying why figures are missing."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pixel_tui.collect import cgroups, fdlimit
from pixel_tui.collect.engine import DockerEngine
from pixel_tui.collect.metrics import ContainerMetrics, describe_failures, failure_reason
from tests.test_cgroups import make_v2


def cid(index: int) -> str:
    return f"{index:02x}" * 32


@pytest.fixture
def root(tmp_path: Path) -> Path:
    tree = tmp_path / "cgroup-tree"
    for index in range(5):
        make_v2(tree, f"docker/{cid(index)}", usage_usec=1000, current=10_000 + index, limit="max", inactive=0)
    return tree


def metrics_over(root: Path, budget: int, clock: list[float]) -> ContainerMetrics:
    def no_pool() -> ThreadPoolExecutor:
        raise AssertionError("local cgroup files are there: no stats requests")

    return ContainerMetrics(
        local=True, executor=no_pool, clock=lambda: clock[0], handle_budget=budget, cgroup_root=root
    )


def own_fds() -> int:
    """Descriptors this process holds on the fake cgroup tree (other threads of the run may open files too)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += "/cgroup-tree/" in target
    return count


def running(count: int = 5) -> list[tuple[str, int | None]]:
    return [(cid(index), 1) for index in range(count)]


def test_budget_leaves_a_generous_reserve():
    assert fdlimit.reserve(96) == 128 and fdlimit.handle_budget(96, 3) == 0
    assert fdlimit.handle_budget(256, 3) == 42  # (256 - 128) // 3
    assert fdlimit.handle_budget(1024, 3) == 256  # a quarter kept: 768 fds for 256 containers
    assert fdlimit.handle_budget(65536, 3) == (65536 - 16384) // 3


def test_containers_beyond_the_budget_are_read_without_holding_files(root):
    clock = [10.0]
    metrics = metrics_over(root, 2, clock)
    before = own_fds()
    first = metrics.measure(None, running(), {})
    assert metrics.held == 2 and own_fds() - before == 2 * cgroups.FDS_PER_HANDLE  # limit files closed too
    assert first.failures == {}
    assert [first.readings[cid(index)][1] for index in range(5)] == [10_000 + index for index in range(5)]
    for index in range(5):
        (root / "docker" / cid(index) / "cpu.stat").write_text("usage_usec 501000\n")
    clock[0] = 11.0
    second = metrics.measure(None, running(), {})
    # Held or read in turn, every container gets its CPU % from two samples.
    assert [round(second.readings[cid(index)][0], 1) for index in range(5)] == [50.0] * 5
    # A held container goes away: its slot goes to the next one read.
    metrics.drop(cid(0))
    metrics.measure(None, running()[1:], {})
    assert metrics.held == 2 and own_fds() - before == 2 * cgroups.FDS_PER_HANDLE
    metrics.clear()
    assert metrics.held == 0 and own_fds() == before


def test_no_budget_at_all_still_measures_everything(root):
    metrics = metrics_over(root, 0, [1.0])
    before = own_fds()
    measured = metrics.measure(None, running(), {})
    assert metrics.held == 0 and own_fds() == before
    assert all(reading[1] is not None for reading in measured.readings.values()) and not measured.failures


def test_out_of_descriptors_shrinks_the_budget_then_says_why(root, monkeypatch):
    metrics = metrics_over(root, 100, [1.0])  # a budget the process cannot actually afford
    real_open = cgroups._open_ro
    base = own_fds()
    room = [cgroups.FDS_PER_HANDLE + 2]

    def scarce(path: Path) -> int:
        if own_fds() - base >= room[0]:
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return real_open(path)

    monkeypatch.setattr(cgroups, "_open_ro", scarce)
    # Room for one handle and two more: the second handle fails half-open, the budget shrinks to what
    # is held, and the others are read one file at a time.
    measured = metrics.measure(None, running(4), {})
    assert metrics.held == 1 and metrics.handle_budget == 1 and own_fds() - base == cgroups.FDS_PER_HANDLE
    assert measured.failures == {} and all(reading[1] is not None for reading in measured.readings.values())
    room[0] = cgroups.FDS_PER_HANDLE  # not one to spare: the held one still reads, the others say why
    measured = metrics.measure(None, running(4), {})
    assert measured.readings[cid(0)][1] is not None
    reason = f"cgroup counters unreadable: Too many open files (soft limit {fdlimit.soft_limit()})"
    assert measured.failures == {cid(index): reason for index in (1, 2, 3)}
    metrics.clear()


def test_a_stopped_container_is_not_a_failure(root):
    metrics = metrics_over(root, 0, [1.0])
    assert metrics.measure(None, running(2), {}).readings[cid(0)][1] == 10_000
    for name in ("cpu.stat", "memory.current", "memory.max", "memory.stat"):
        (root / "docker" / cid(0) / name).unlink()  # its cgroup went away after the list
    measured = metrics.measure(None, running(2), {})
    assert measured.failures == {} and measured.readings[cid(0)] == (None, None, None)
    assert measured.readings[cid(1)][1] == 10_001


def test_failures_are_aggregated_by_reason():
    reasons = {f"web-{index}": "cgroup counters unreadable: Too many open files" for index in range(53)}
    reasons["db"] = "stats request failed: Connection refused"
    assert describe_failures(reasons) == [
        "53 containers: no CPU/memory figures: cgroup counters unreadable: Too many open files;"
        " first: web-0, web-1, web-10 and 50 more",
        "container db: no CPU/memory figures: stats request failed: Connection refused",
    ]
    assert describe_failures({}) == []


def test_failure_reason_finds_the_wrapped_socket_error():
    wrapped = ConnectionError("('Connection aborted.', OSError(24, 'Too many open files'))")
    wrapped.args = ("Connection aborted.", OSError(errno.EMFILE, "Too many open files"))
    assert failure_reason(wrapped).startswith("Too many open files (soft limit ")
    assert failure_reason(ValueError("bad\nsecond line")) == "bad"


def test_raise_soft_limit_goes_toward_the_hard_limit():
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (96, 4096))\n"
        "from pixel_tui.collect import fdlimit\n"
        "print(fdlimit.raise_soft_limit(), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
        "print(fdlimit.raise_soft_limit(target=1024), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "FdLimit(soft=4096, hard=4096, before=96, error=None) (4096, 4096)",
        "FdLimit(soft=4096, hard=4096, before=4096, error=None) (4096, 4096)",  # never lowered
    ]


# -- on the real engine --------------------------------------------------------------------------------


def run_many(engine, count: int) -> list[str]:
    with ThreadPoolExecutor(4) as pool:
        return [c.name for c in pool.map(lambda i: engine.run("sleep 600", name=f"many-{i:02d}"), range(count))]


def limited(soft: int, hard: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return apply


@pytest.mark.parametrize(("soft", "hard"), [(96, 96), (96, 4096)], ids=["budget-only", "raised"])
def test_every_container_measured_under_a_low_descriptor_limit(engine, soft, hard):
    # 40 containers held open at 4 descriptors each could never fit under 96: the old collector left
    # most without figures and said nothing. Under a hard limit of 96 the budget reads them in turn;
    # under 4096 the raised limit holds them all.
    names = run_many(engine, 40)
    result = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "snapshot", "--json", "--sample", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DOCKER_HOST": engine.url},
        preexec_fn=limited(soft, hard),
    )
    assert result.returncode in (0, 1, 2), result.stderr
    doc = json.loads(result.stdout)
    assert doc["docker"]["reachable"], doc["docker"]
    rows = {row["name"]: row for row in doc["containers"] if row["state"] == "running"}
    assert set(names) <= set(rows)
    missing = sorted(name for name, row in rows.items() if row["cpu_percent"] is None or row["mem_used"] is None)
    assert missing == [], f"{len(missing)} of {len(rows)} running containers without figures"


def test_containers_without_figures_are_named_in_the_errors(engine, monkeypatch):
    names = run_many(engine, 5)
    docker_engine = DockerEngine(engine.url)
    docker_engine.metrics.handle_budget = 2

    def exhausted(path: Path) -> int:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    try:
        docker_engine.poll()
        assert docker_engine.metrics.held == 2
        docker_engine.metrics.clear()  # as after losing the engine: everything opened again
        monkeypatch.setattr(cgroups, "_open_ro", exhausted)
        reading = docker_engine.poll()
    finally:
        docker_engine.close()
    limit = fdlimit.soft_limit()
    assert reading.errors == (
        f"5 containers: no CPU/memory figures: cgroup counters unreadable: Too many open files (soft limit {limit});"
        f" first: {', '.join(sorted(names)[:3])} and 2 more",
    )
    assert all(c.cpu_percent is None and c.mem_used is None for c in reading.containers)
