"""The host system backend: memory figures, swap traffic, dropping the page cache, cycling swap.

Everything that touches the machine itself goes through a `HostSystem`. `RealHost` reads `/proc` and
runs `swapoff`/`swapon` found on PATH, with argv only (no shell); its paths and PATH are parameters,
so tests run it against a temporary file in place of `/proc/sys/vm/drop_caches` and stand-in
executables first on PATH, never against the machine they run on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class MemoryFigures:
    """Memory and swap now, in bytes, from /proc/meminfo."""

    total: int
    available: int
    swap_total: int
    swap_free: int

    @property
    def percent(self) -> float:
        """Memory used %, as the gauges compute it (total - available)."""
        return 100.0 * (self.total - self.available) / self.total if self.total else 0.0

    @property
    def swap_used(self) -> int:
        """Swap in use."""
        return max(self.swap_total - self.swap_free, 0)


class HostSystem(Protocol):
    """What host actions need from the machine."""

    def is_root(self) -> bool:
        """True when pixel-tui may drop caches and cycle swap."""
        ...

    def memory(self) -> MemoryFigures:
        """Memory and swap now."""
        ...

    def swap_traffic(self, seconds: float) -> float:
        """Pages swapped in plus out per second over a sample of `seconds`."""
        ...

    def drop_caches(self) -> None:
        """Write back dirty pages, then drop the page cache."""
        ...

    def cycle_swap(self) -> None:
        """swapoff -a, then swapon -a."""
        ...


class HostError(Exception):
    """A host operation failed; the message says which and why."""


class RealHost:
    """The machine pixel-tui runs on, through /proc and argv-only commands."""

    def __init__(
        self,
        *,
        proc: Path | str = "/proc",
        drop_caches_path: Path | str | None = None,
        path: str | None = None,
        command_timeout_s: float = 900.0,
    ) -> None:
        self.proc = Path(proc)
        self.drop_caches_path = Path(drop_caches_path) if drop_caches_path else self.proc / "sys/vm/drop_caches"
        self.path = path
        """PATH the swap commands are looked up in (None: the process's own)."""
        self.command_timeout_s = command_timeout_s

    def is_root(self) -> bool:
        """Effective uid 0."""
        return os.geteuid() == 0

    def memory(self) -> MemoryFigures:
        """From /proc/meminfo (kB values)."""
        values: dict[str, int] = {}
        for line in (self.proc / "meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[name] = int(parts[0]) * 1024
        return MemoryFigures(
            total=values.get("MemTotal", 0),
            available=values.get("MemAvailable", values.get("MemFree", 0)),
            swap_total=values.get("SwapTotal", 0),
            swap_free=values.get("SwapFree", 0),
        )

    def _swapped_pages(self) -> int:
        total = 0
        for line in (self.proc / "vmstat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name in ("pswpin", "pswpout"):
                total += int(value)
        return total

    def swap_traffic(self, seconds: float) -> float:
        """pswpin + pswpout per second over `seconds`, from /proc/vmstat."""
        before = self._swapped_pages()
        time.sleep(seconds)
        return (self._swapped_pages() - before) / seconds

    def drop_caches(self) -> None:
        """sync, then "1" into drop_caches (the page cache only: dentries and inodes stay)."""
        os.sync()
        try:
            with open(self.drop_caches_path, "w") as handle:
                handle.write("1\n")
        except OSError as error:
            raise HostError(f"cannot write {self.drop_caches_path}: {error.strerror or error}") from None

    def cycle_swap(self) -> None:
        """swapoff -a (pages come back into memory), then swapon -a; stops at the first that fails."""
        for command in ("swapoff", "swapon"):
            self._run([command, "-a"])

    def _run(self, argv: list[str]) -> None:
        executable = shutil.which(argv[0], path=self.path)
        if executable is None:
            raise HostError(f"{argv[0]} not found on PATH")
        try:
            result = subprocess.run(
                [executable, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=self.command_timeout_s,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HostError(f"{' '.join(argv)} did not finish in {self.command_timeout_s:.0f} s") from None
        except OSError as error:
            raise HostError(f"{' '.join(argv)}: {error.strerror or error}") from None
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise HostError(f"{' '.join(argv)} exited {result.returncode}: {detail[-1] if detail else 'no message'}")
