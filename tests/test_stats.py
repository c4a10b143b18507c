"""The stats fallback (remote engines): CPU % and memory as the docker CLI computes them, estimates marked.

The documents are one-shot answers of each engine, in the shapes they send: Docker 20.10 on cgroup v1
(percpu_usage, online_cpus, both inactive_file keys, empty precpu_stats), Docker 29 on cgroup v2 (no
percpu_usage, inactive_file alone) and podman 4.3's compat socket (online_cpus 0 and no percpu_usage on
cgroup v2, no memory.stat keys: pkg/api/handlers/compat/containers_stats_linux.go).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pixel_tui.collect.metrics import ContainerMetrics
from pixel_tui.collect.stats import CpuCounters, read_stats

GiB = 1 << 30


def docker_v1(total: int, system: int) -> dict[str, Any]:
    return {
        "read": "2026-12-06T09:00:00.000000000Z",
        "preread": "0001-01-01T00:00:00Z",
        "cpu_stats": {
            "cpu_usage": {"total_usage": total, "percpu_usage": [total // 2, total - total // 2],
                          "usage_in_kernelmode": 0, "usage_in_usermode": total},
            "system_cpu_usage": system,
            "online_cpus": 2,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                         "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
        "memory_stats": {"usage": 50_000_000, "max_usage": 60_000_000, "limit": 2 * GiB,
                         "stats": {"inactive_file": 7_000_000, "total_inactive_file": 20_000_000, "cache": 30_000_000}},
    }  # fmt: skip


def docker_v2(total: int, system: int) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": total},
            "system_cpu_usage": system,
            "online_cpus": 4,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                         "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
        "memory_stats": {"usage": 50_000_000, "limit": 8 * GiB,
                         "stats": {"anon": 30_000_000, "file": 15_000_000, "inactive_file": 4_000_000}},
    }  # fmt: skip


def podman_4(total: int, system: int) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": total, "percpu_usage": None, "usage_in_kernelmode": 0,
                          "usage_in_usermode": total},
            "system_cpu_usage": system,
            "online_cpus": 0,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 0, "percpu_usage": None}, "system_cpu_usage": 0,
                         "online_cpus": 0},
        "memory_stats": {"usage": 50_000_000, "max_usage": 0, "stats": None, "limit": 16 * GiB},
    }  # fmt: skip


# Between the two readings: the host spent 2 s of CPU time over its cores, the container 0.5 s of one.
FIRST, SECOND = (1_000_000_000, 100_000_000_000), (1_500_000_000, 102_000_000_000)


@pytest.mark.parametrize(
    ("document", "cpu", "used", "limit", "estimated"),
    [
        (docker_v1, 50.0, 30_000_000, 2 * GiB, False),  # 0.5 / 2 x 2 CPUs x 100; total_inactive_file first
        (docker_v2, 100.0, 46_000_000, 8 * GiB, False),  # 0.5 / 2 x 4 CPUs x 100
        (podman_4, 0.5 / 2 * 3 * 100, 50_000_000, 16 * GiB, True),  # no CPU count: this host's (3 here)
    ],
)
def test_cpu_and_memory_as_the_docker_cli(document, cpu, used, limit, estimated):
    first = read_stats(document(*FIRST), None, now=10.0, host_cpus=3)
    assert first.cpu_percent is None and not first.estimated  # empty precpu_stats: nothing to compare with
    # The time between the two answers here does not matter: the host's own CPU time is the clock.
    second = read_stats(document(*SECOND), first.counters, now=10.001, host_cpus=3)
    assert (second.cpu_percent, second.mem_used, second.mem_limit, second.estimated) == (cpu, used, limit, estimated)


def test_cpu_count_from_percpu_usage_when_online_cpus_is_absent():
    document = docker_v1(*SECOND)
    del document["cpu_stats"]["online_cpus"]  # API < 1.27
    figures = read_stats(document, CpuCounters(*FIRST, 10.0), now=11.0, host_cpus=64)
    assert (figures.cpu_percent, figures.estimated) == (50.0, False)


def test_without_system_cpu_usage_the_clock_stands_in_and_says_so():
    document = docker_v2(*SECOND)
    del document["cpu_stats"]["system_cpu_usage"]
    figures = read_stats(document, CpuCounters(FIRST[0], None, 10.0), now=11.0)
    assert (figures.cpu_percent, figures.estimated) == (50.0, True)  # 0.5 s of CPU in 1 s


def test_precpu_stats_of_a_streaming_engine_give_a_first_figure():
    document = docker_v2(*SECOND)
    document["precpu_stats"]["cpu_usage"]["total_usage"], document["precpu_stats"]["system_cpu_usage"] = FIRST
    assert read_stats(document, None, now=1.0).cpu_percent == 100.0


def test_a_restarted_container_gives_no_figure_rather_than_a_negative_one():
    assert read_stats(docker_v2(10, SECOND[1]), CpuCounters(*FIRST, 1.0), now=2.0).cpu_percent is None


def test_the_fallback_marks_estimates_for_the_snapshot():
    """ContainerMetrics over a remote engine: the reading of podman's stats is marked an estimate."""
    answers = {"podman": [podman_4(*FIRST), podman_4(*SECOND)], "docker": [docker_v2(*FIRST), docker_v2(*SECOND)]}

    class Api:
        def stats(self, cid: str, **_: Any) -> dict[str, Any]:
            return answers[cid].pop(0)

    pool = ThreadPoolExecutor(2)
    metrics = ContainerMetrics(local=False, executor=lambda: pool, clock=lambda: 5.0, handle_budget=0)
    try:
        running = [("podman", None), ("docker", None)]
        first = metrics.measure(Api(), running, {})
        second = metrics.measure(Api(), running, {})
    finally:
        pool.shutdown()
    assert first.readings["docker"][0] is None and first.estimated == frozenset()
    assert second.readings["docker"][0] == 100.0 and second.estimated == {"podman"}
