"""Per-container CPU % and memory: from cgroup files on a local engine, else one-shot stats requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pixel_tui.collect import cgroups

Reading = tuple[float | None, int | None, int | None]
"""CPU %, memory used, memory limit: None where not measured."""
Sample = tuple[cgroups.CgroupSample, float]
"""A cgroup reading and the monotonic time it was taken."""

_UNMEASURED: Reading = (None, None, None)


class ContainerMetrics:
    """Measures running containers; CPU % comes from two consecutive samples of the same container."""

    def __init__(self, *, local: bool, executor: Callable[[], ThreadPoolExecutor], clock: Callable[[], float]) -> None:
        self.local = local
        """cgroup files describe this machine's containers only when the engine runs on this machine."""
        self._executor = executor
        self._clock = clock
        self._handles: dict[str, cgroups.CgroupHandle | None] = {}  # None: looked for, not found
        self._cpu_prev: dict[str, tuple[int, float]] = {}

    def forget(self, cid: str) -> None:
        """The container changed (restart, update): find its cgroup again; its CPU history stays."""
        handle = self._handles.pop(cid, None)
        if handle is not None:
            handle.close()

    def drop(self, cid: str) -> None:
        """The container is gone: forget everything about it."""
        self.forget(cid)
        self._cpu_prev.pop(cid, None)

    def clear(self) -> None:
        """Forget every container (the engine was lost: what was cached is suspect)."""
        for cid in list(self._handles):
            self.forget(cid)
        self._cpu_prev.clear()

    def sample_known(self, running: Iterable[str]) -> dict[str, Sample]:
        """Counters of the given containers that already have an open cgroup handle, each with its time."""
        samples: dict[str, Sample] = {}
        for cid in running:
            handle = self._handles.get(cid)
            if handle is None:
                continue
            try:
                samples[cid] = (handle.sample(), self._clock())
            except (OSError, ValueError):
                continue  # stopped meanwhile: measure() finds out and looks again
        return samples

    def measure(self, api: Any, running: list[tuple[str, int | None]], early: dict[str, Sample]) -> dict[str, Reading]:
        """Readings of `running` (id, main pid): the early samples where taken, cgroups, else stats."""
        results: dict[str, Reading] = {}
        remote: list[str] = []
        for cid, pid in running:
            if cid in early:
                reading, wall = early[cid]
            else:
                handle = self._handle(cid, pid)
                if handle is None:
                    remote.append(cid)
                    continue
                try:
                    reading, wall = handle.sample(), self._clock()
                except (OSError, ValueError):
                    self.forget(cid)  # the cgroup went away: look for it again next cycle
                    results[cid] = _UNMEASURED
                    continue
            results[cid] = (self._cpu(cid, reading.cpu_ns, wall), reading.mem_used, reading.mem_limit)
        if remote:
            results.update(self._one_shot_stats(api, remote))
        return results

    def _handle(self, cid: str, pid: int | None) -> cgroups.CgroupHandle | None:
        if not self.local or pid is None:
            return None
        if cid not in self._handles:
            self._handles[cid] = cgroups.open_handle(cid, pid)
        return self._handles[cid]

    def _cpu(self, cid: str, cpu_ns: int, wall: float) -> float | None:
        previous = self._cpu_prev.get(cid)
        self._cpu_prev[cid] = (cpu_ns, wall)
        if previous is None or wall <= previous[1] or cpu_ns < previous[0]:
            return None
        # As `docker stats`: 100 % is one core fully busy.
        return 100.0 * (cpu_ns - previous[0]) / ((wall - previous[1]) * 1e9)

    def _one_shot_stats(self, api: Any, ids: list[str]) -> dict[str, Reading]:
        """One non-streaming, one-shot stats request per container, a bounded pool running them."""

        def fetch(cid: str) -> tuple[str, dict[str, Any] | None]:
            try:
                return cid, api.stats(cid, stream=False, one_shot=True)
            except Exception:  # noqa: BLE001 - a container that went away has no stats this cycle
                return cid, None

        results: dict[str, Reading] = {}
        for cid, stats in self._executor().map(fetch, ids):
            if not stats:
                results[cid] = _UNMEASURED
                continue
            memory = stats.get("memory_stats") or {}
            usage = memory.get("usage")
            inner = memory.get("stats") or {}
            inactive = inner.get("inactive_file", inner.get("total_inactive_file", 0))
            used = usage - inactive if usage is not None and inactive < usage else usage
            total = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
            cpu = self._cpu(cid, total, self._clock()) if total is not None else None
            results[cid] = (cpu, used, memory.get("limit"))
        return results
