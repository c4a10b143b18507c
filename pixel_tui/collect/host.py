"""Host figures from psutil: CPU without blocking, memory, swap, disks, load, uptime."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from pixel_tui.model import Disk, Host, Memory, Swap

MIN_CPU_WINDOW_S = 0.1
"""Below this many seconds between two readings a CPU % is mostly tick noise (0 or 100): not given. The
shortest `snapshot --sample` (0.1 s) is just enough: 10 ticks a core at 100 Hz, a figure to 5 % on 2 cores."""


class HostSampler:
    """Samples the host; CPU % is measured over the time since the previous measured reading.

    The baseline is the sampler's own, taken when it is created, not psutil's
    `cpu_percent(interval=None)`: psutil keeps that one per thread, and the collection runs in worker
    threads, so a cycle on a new thread compared against nothing (0.0, or 100.0 from a single tick).
    """

    def __init__(
        self,
        mounts: tuple[str, ...] = ("/",),
        *,
        cpu_times: Callable[[], Any] = psutil.cpu_times,
        clock: Callable[[], float] = time.monotonic,
        min_cpu_window_s: float = MIN_CPU_WINDOW_S,
    ) -> None:
        self._mounts = mounts
        self._hostname = socket.gethostname()
        self._cores = psutil.cpu_count(logical=True) or os.cpu_count() or 1
        self._boot_time = psutil.boot_time()
        self._cpu_times = cpu_times
        self._clock = clock
        self._min_cpu_window_s = min_cpu_window_s
        self._cpu_lock = threading.Lock()
        self._cpu_base = (cpu_times(), clock())

    def cpu_percent(self) -> float | None:
        """Busy % of all cores since the previous measured reading; None when too little time passed.

        A window that is too short keeps the baseline, so the next reading measures the longer one.
        """
        with self._cpu_lock:
            now_times, now = self._cpu_times(), self._clock()
            base_times, base_at = self._cpu_base
            if now - base_at < self._min_cpu_window_s:
                return None
            self._cpu_base = (now_times, now)
        return busy_percent(base_times, now_times)

    def sample(self) -> Host:
        """One reading of the host; never blocks for a sampling interval."""
        cpu_percent = self.cpu_percent()
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        try:
            load = tuple(float(value) for value in os.getloadavg())
        except OSError:
            load = (0.0, 0.0, 0.0)
        return Host(
            hostname=self._hostname,
            cpu_percent=cpu_percent,
            cores=self._cores,
            load=(load[0], load[1], load[2]),
            memory=Memory(
                total=memory.total,
                used=memory.total - memory.available,
                available=memory.available,
                percent=memory.percent,
            ),
            swap=Swap(total=swap.total, used=swap.used, percent=swap.percent if swap.total else 0.0),
            disks=tuple(self._disk(mount) for mount in self._mounts),
            uptime_s=max(0.0, time.time() - self._boot_time),
        )

    @staticmethod
    def _disk(mount: str) -> Disk:
        try:
            usage = psutil.disk_usage(mount)
        except OSError as error:
            return Disk(mount, None, None, None, error=f"{mount}: {error.strerror or error}")
        return Disk(mount, usage.total, usage.used, usage.percent)


def busy_percent(before: Any, after: Any) -> float | None:
    """Busy % between two `psutil.cpu_times()` readings, as psutil computes it; None without a delta.

    Busy is everything but idle and iowait (the CPU waits and does nothing). Guest times are already
    counted in user and nice on Linux, so they are left out of the total. A counter that went
    backwards (iowait can, on tickless kernels) counts as no change rather than a negative one.
    """
    fields = after._fields
    delta = {name: max(0.0, float(getattr(after, name)) - float(getattr(before, name, 0.0))) for name in fields}
    total = sum(delta.values()) - delta.get("guest", 0.0) - delta.get("guest_nice", 0.0)
    if total <= 0:
        return None
    busy = total - delta.get("idle", 0.0) - delta.get("iowait", 0.0)
    return round(min(100.0, max(0.0, 100.0 * busy / total)), 1)
