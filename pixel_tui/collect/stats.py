"""One stats document of the engine (`/containers/<id>/stats`, one-shot) read as `docker stats` reads it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pixel_tui.collect.cgroups import mem_used


@dataclass(frozen=True)
class CpuCounters:
    """What a CPU % is computed from: the container's and the host's cumulative CPU time, and when it was read."""

    total_usage: int
    """cpu_stats.cpu_usage.total_usage: the container's CPU time, ns."""
    system_usage: int | None
    """cpu_stats.system_cpu_usage: the host's CPU time over all its cores, ns; None when the engine sends none."""
    at: float
    """When the reading came back (this machine's monotonic clock): only used without system_usage."""


@dataclass(frozen=True)
class StatsFigures:
    """A container's figures from one stats document."""

    cpu_percent: float | None
    """100 is one core busy; None on a first reading that carries no earlier one."""
    mem_used: int | None
    mem_limit: int | None
    estimated: bool
    """The CPU % is an estimate: the engine did not say how many CPUs it has (podman sends no `online_cpus`,
    and no `percpu_usage` on cgroup v2), so this machine's count stood in, or it sent no `system_cpu_usage` and
    the time between two readings here stood in for the host's."""
    counters: CpuCounters | None
    """What the next reading's CPU % is computed against."""


def read_stats(
    stats: dict[str, Any], previous: CpuCounters | None, now: float, host_cpus: int | None = None
) -> StatsFigures:
    """The figures of one stats document, the CPU % against `previous` (else the document's own `precpu_stats`).

    As the docker CLI (cli/command/container/stats_helpers.go): CPU % = container CPU delta / host CPU delta
    x online CPUs x 100, online CPUs from `online_cpus`, else the length of `percpu_usage`; memory is the
    usage less `total_inactive_file` (cgroup v1), else `inactive_file`, each only when below the usage.
    """
    cpu_stats = stats.get("cpu_stats") or {}
    usage = cpu_stats.get("cpu_usage") or {}
    total = usage.get("total_usage")
    system = cpu_stats.get("system_cpu_usage") or None
    online = cpu_stats.get("online_cpus") or len(usage.get("percpu_usage") or ()) or None
    estimated = online is None
    cpus = online or host_cpus or os.cpu_count() or 1
    counters = CpuCounters(int(total), system, now) if total is not None else None
    if previous is None:
        previous = _precpu(stats, now)
    cpu = None
    if counters is not None and previous is not None and counters.total_usage >= previous.total_usage:
        cpu_delta = counters.total_usage - previous.total_usage
        if system is not None and previous.system_usage is not None and system > previous.system_usage:
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


def _precpu(stats: dict[str, Any], now: float) -> CpuCounters | None:
    """The engine's own earlier reading in the document: empty in a one-shot answer of Docker's."""
    precpu = stats.get("precpu_stats") or {}
    total = (precpu.get("cpu_usage") or {}).get("total_usage")
    system = precpu.get("system_cpu_usage")
    if not total or not system:
        return None
    return CpuCounters(int(total), int(system), now)
