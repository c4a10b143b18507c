"""Host figures from psutil: CPU without blocking, memory, swap, disks, load, uptime."""

from __future__ import annotations

import os
import socket
import time

import psutil

from pixel_tui.model import Disk, Host, Memory, Swap


class HostSampler:
    """Samples the host; CPU % is measured between two calls, so the first call has none."""

    def __init__(self, mounts: tuple[str, ...] = ("/",)) -> None:
        self._mounts = mounts
        self._hostname = socket.gethostname()
        self._cores = psutil.cpu_count(logical=True) or os.cpu_count() or 1
        self._boot_time = psutil.boot_time()
        self._primed = False

    def sample(self) -> Host:
        """One reading of the host; never blocks for a sampling interval."""
        # cpu_percent(None) compares with the previous call; its first answer is meaningless.
        cpu = psutil.cpu_percent(interval=None)
        cpu_percent = cpu if self._primed else None
        self._primed = True
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
