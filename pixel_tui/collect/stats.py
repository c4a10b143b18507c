"""One stats document of the engine (`/containers/<id>/stats`, one-shot) read as `docker stats` reads it, or
podman's as `podman stats` does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pixel_tui.collect.cgroups import mem_used
from pixel_tui.values import parse_time_or_none


@dataclass(frozen=True)
class CpuCounters:
    """What a CPU % is computed from: the container's and the host's cumulative CPU time, and when it was read."""

    total_usage: int
    """cpu_stats.cpu_usage.total_usage: the container's CPU time, ns."""
    system_usage: int | None
    """cpu_stats.system_cpu_usage: the host's CPU time over all its cores, ns; None when the engine sends none."""
    at: float
    """When the reading came back (this machine's monotonic clock): used when the engine's clock is not given."""
    read_at: float | None = None
    """The document's `read`: when the engine read the counters (its clock, epoch seconds); None without one."""


@dataclass(frozen=True)
class StatsFigures:
    """A container's figures from one stats document."""

    cpu_percent: float | None
    """100 is one core busy; None on a first reading that carries no earlier one."""
    mem_used: int | None
    mem_limit: int | None
    estimated: bool
    """The CPU % is an estimate: the engine is podman (its CPU time over the time between its two `read`
    stamps, not against a host counter), or it did not say how many CPUs it has so this machine's count stood
    in, or it sent no `system_cpu_usage` and the time between two readings here stood in for the host's."""
    counters: CpuCounters | None
    """What the next reading's CPU % is computed against."""


def read_stats(
    stats: dict[str, Any],
    previous: CpuCounters | None,
    now: float,
    host_cpus: int | None = None,
    *,
    podman: bool = False,
) -> StatsFigures:
    """The figures of one stats document, the CPU % against `previous` (else the document's own `precpu_stats`).

    Docker, as the docker CLI (cli/command/container/stats_helpers.go): CPU % = container CPU delta / host CPU
    delta x online CPUs x 100, online CPUs from `online_cpus`, else the length of `percpu_usage`.
    podman (`podman`), as `podman stats` (libpod's calculateCPUPercent): CPU % = container CPU delta / the time
    between the two readings x 100, that time from the documents' `read` stamps. Its `system_cpu_usage` is not
    the host's CPU time over all cores on cgroup v2 (podman 4.3 adds up the top cgroups' usage there: 0.59 s a
    second on 2 cores, the docker formula read 71 % for a container capped at 20 %), so it is not used.
    Memory is the usage less `total_inactive_file` (cgroup v1), else `inactive_file`, each only when below the
    usage.
    """
    cpu_stats = stats.get("cpu_stats") or {}
    usage = cpu_stats.get("cpu_usage") or {}
    total = usage.get("total_usage")
    system = cpu_stats.get("system_cpu_usage") or None
    online = cpu_stats.get("online_cpus") or len(usage.get("percpu_usage") or ()) or None
    estimated = online is None or podman
    cpus = online or host_cpus or os.cpu_count() or 1
    read_at = _stamp(stats.get("read"))
    counters = CpuCounters(int(total), system, now, read_at) if total is not None else None
    if previous is None:
        previous = _precpu(stats, now)
    cpu = None
    if counters is not None and previous is not None and counters.total_usage >= previous.total_usage:
        cpu_delta = counters.total_usage - previous.total_usage
        if podman:
            cpu = _over_elapsed(cpu_delta, counters, previous)
        elif system is not None and previous.system_usage is not None and system > previous.system_usage:
            cpu = 100.0 * cpu_delta / (system - previous.system_usage) * cpus
        elif system is None and now > previous.at:
            cpu = 100.0 * cpu_delta / ((now - previous.at) * 1e9)  # no host counter: this machine's clock
            estimated = True
    memory = stats.get("memory_stats") or {}
    used = memory.get("usage")
    inner = memory.get("stats") or {}
    if used is not None:
        used = mem_used(used, inner.get("total_inactive_file"), inner.get("inactive_file"))
    return StatsFigures(cpu, used, memory.get("limit"), estimated and cpu is not None, counters)


def _over_elapsed(cpu_delta: int, counters: CpuCounters, previous: CpuCounters) -> float | None:
    """100 x the container's CPU time over the time between two readings: the engine's `read` stamps where
    both have one (the time podman read the counters, not when its answer reached this machine over ssh),
    else this machine's clock."""
    if counters.read_at is not None and previous.read_at is not None:
        elapsed = counters.read_at - previous.read_at
    else:
        elapsed = counters.at - previous.at
    if elapsed <= 0:
        return None
    return 100.0 * cpu_delta / (elapsed * 1e9)


def _stamp(value: Any) -> float | None:
    """A document's `read` or `preread` as epoch seconds; None when absent or Go's zero time (never read)."""
    moment = parse_time_or_none(value)
    return moment.timestamp() if moment is not None else None


def _precpu(stats: dict[str, Any], now: float) -> CpuCounters | None:
    """The engine's own earlier reading in the document: empty in a one-shot answer of Docker's."""
    precpu = stats.get("precpu_stats") or {}
    total = (precpu.get("cpu_usage") or {}).get("total_usage")
    system = precpu.get("system_cpu_usage")
    preread = _stamp(stats.get("preread"))
    if not total or not (system or preread):
        return None
    return CpuCounters(int(total), int(system) if system else None, now, preread)
