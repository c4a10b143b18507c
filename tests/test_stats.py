"""The stats fallback (remote engines): CPU % and memory as the docker CLI computes them (podman's CPU % as
`podman stats` does), estimates marked.

The documents are one-shot answers of each engine, in the shapes they send: Docker 20.10 on cgroup v1
(percpu_usage, online_cpus, both inactive_file keys, empty precpu_stats), Docker 29 on cgroup v2 (no
percpu_usage, inactive_file alone) and podman 4.3's compat socket (online_cpus 0 and no percpu_usage on
cgroup v2, no memory.stat keys: pkg/api/handlers/compat/containers_stats_linux.go; `read` its own clock's
time of the reading, `preread` Go's zero time).
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


def podman_4(total: int, system: int, read: str = "2026-12-06T12:11:58.499558627Z") -> dict[str, Any]:
    return {
        "read": read,
        "preread": "0001-01-01T00:00:00Z",
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
        # Not known to be podman (podman=False): no CPU count, this host's (3 here) stands in, an estimate.
        (podman_4, 0.5 / 2 * 3 * 100, 50_000_000, 16 * GiB, True),
    ],
)
def test_cpu_and_memory_as_the_docker_cli(document, cpu, used, limit, estimated):
    first = read_stats(document(*FIRST), None, now=10.0, host_cpus=3)
    assert first.cpu_percent is None and not first.estimated  # empty precpu_stats: nothing to compare with
    # The time between the two answers here does not matter: the host's own CPU time is the clock.
    second = read_stats(document(*SECOND), first.counters, now=10.001, host_cpus=3)
    assert (second.cpu_percent, second.mem_used, second.mem_limit, second.estimated) == (cpu, used, limit, estimated)


def podman_4_cgroup_v1(total: int, system: int, read: str) -> dict[str, Any]:
    """podman 4.3 on a cgroup v1 host, as it answered here: online_cpus and percpu_usage given."""
    document = podman_4(total, system, read)
    document["cpu_stats"]["cpu_usage"]["percpu_usage"] = [total // 2, total - total // 2]
    document["cpu_stats"]["online_cpus"] = 2
    return document


# A container capped at 0.2 of a core (--cpus 0.2), read twice by podman 4.3 on a 2-core host, 1.004 s apart
# by its `read` stamps. On cgroup v2 its system_cpu_usage is the top cgroups' usage added up (0.59 s a second
# here), not the host's CPU time over all cores (2 s a second): the docker CLI's formula reads 68 %.
PODMAN_READS = ("2026-12-06T12:11:58.499558627Z", "2026-12-06T12:11:59.503758627Z")
PODMAN_V2 = [(1_000_000_000, 31_594_067_992_329), (1_200_840_000, 31_594_660_470_000)]
# The same on cgroup v1 (recorded here: 0.1708 s of CPU, the host's 2.006 s over its 2 cores): both formulas agree.
PODMAN_V1 = [(246_244_025, 31_594_067_992_329), (417_058_717, 31_596_074_220_256)]


@pytest.mark.parametrize(
    ("document", "readings", "podman_cpu", "docker_cpu"),
    [
        (podman_4, PODMAN_V2, 20.0, 200_840_000 / 592_477_671 * 2 * 100),
        (podman_4_cgroup_v1, PODMAN_V1, 17.01, 170_814_692 / 2_006_227_927 * 2 * 100),
    ],
    ids=["cgroup-v2", "cgroup-v1"],
)
def test_podman_cpu_is_its_cpu_time_over_the_time_between_its_readings(document, readings, podman_cpu, docker_cpu):
    (total_1, system_1), (total_2, system_2) = readings
    first_document, second_document = (
        document(total_1, system_1, PODMAN_READS[0]),
        document(total_2, system_2, PODMAN_READS[1]),
    )
    first = read_stats(first_document, None, now=10.0, host_cpus=2, podman=True)
    assert first.cpu_percent is None and not first.estimated  # preread is Go's zero time: nothing to compare with
    # The answers came 0.3 s apart here (ssh, a loaded host): podman's own stamps are the clock, not this one's.
    second = read_stats(second_document, first.counters, now=10.3, host_cpus=2, podman=True)
    assert second.cpu_percent == pytest.approx(podman_cpu, abs=0.01)
    assert second.estimated, "podman's figure stays marked an estimate"
    assert (second.mem_used, second.mem_limit) == (50_000_000, 16 * GiB)
    # What the docker CLI's formula makes of the same documents: 3.4 times high on cgroup v2.
    as_docker = read_stats(
        second_document, read_stats(first_document, None, now=10.0, host_cpus=2).counters, now=10.3, host_cpus=2
    )
    assert as_docker.cpu_percent == pytest.approx(docker_cpu)


def test_podman_without_read_stamps_is_timed_by_this_machine():
    first = read_stats(podman_4(1_000_000_000, 1, read=""), None, now=10.0, podman=True)
    second = read_stats(podman_4(1_500_000_000, 2, read="0001-01-01T00:00:00Z"), first.counters, now=12.0, podman=True)
    assert (second.cpu_percent, second.estimated) == (25.0, True)  # 0.5 s of CPU in 2 s here


def test_podman_read_stamps_with_an_offset_and_a_restart():
    """A podman whose clock is not UTC writes its offset; a counter that went back gives no figure."""
    first = read_stats(podman_4(1_000_000_000, 1, read="2026-12-06T13:00:00.25+01:00"), None, now=1.0, podman=True)
    second = read_stats(
        podman_4(1_400_000_000, 2, read="2026-12-06T13:00:01.25+01:00"), first.counters, now=1.0, podman=True
    )
    assert second.cpu_percent == pytest.approx(40.0)
    restarted = read_stats(
        podman_4(5_000_000, 3, read="2026-12-06T13:00:02.25+01:00"), second.counters, now=3.0, podman=True
    )
    assert restarted.cpu_percent is None
    same = read_stats(
        podman_4(1_500_000_000, 3, read="2026-12-06T13:00:01.25+01:00"), second.counters, now=3.0, podman=True
    )
    assert same.cpu_percent is None, "no time between the two readings: no figure"


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


def test_the_fallback_reads_podman_by_its_read_stamps_once_told():
    """The collector tells ContainerMetrics the engine is podman; this machine's clock then stands still."""
    reads = iter([podman_4(*PODMAN_V2[0], PODMAN_READS[0]), podman_4(*PODMAN_V2[1], PODMAN_READS[1])])

    class Api:
        def stats(self, cid: str, **_: Any) -> dict[str, Any]:
            return next(reads)

    pool = ThreadPoolExecutor(1)
    metrics = ContainerMetrics(local=False, executor=lambda: pool, clock=lambda: 5.0, handle_budget=0)
    metrics.podman = True
    try:
        metrics.measure(Api(), [("busy", None)], {})
        second = metrics.measure(Api(), [("busy", None)], {})
    finally:
        pool.shutdown()
    assert second.readings["busy"][0] == pytest.approx(20.0, abs=0.01) and second.estimated == {"busy"}
