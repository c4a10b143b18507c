"""Per-container CPU % and memory: from cgroup files on a local engine, else one-shot stats requests."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from pixel_tui.collect import cgroups, fdlimit
from pixel_tui.collect.stats import CpuCounters, read_stats
from pixel_tui.engine.client import timed_out

Reading = tuple[float | None, int | None, int | None]
"""CPU %, memory used, memory limit: None where not measured."""
Sample = tuple[cgroups.CgroupSample, float]
"""A cgroup reading and the monotonic time it was taken."""

_UNMEASURED: Reading = (None, None, None)
# The cgroup of a container that stopped meanwhile: not a failure, a change (the engine lists at once).
_GONE = (errno.ENOENT, errno.ENODEV, errno.ESRCH)
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)


@dataclass(frozen=True)
class Measured:
    """What one measure() got: a reading per container, and why some running ones have none."""

    readings: dict[str, Reading]
    failures: dict[str, str] = field(default_factory=dict)
    """Container id -> why its figures could not be read (a container that stopped is not one)."""
    vanished: frozenset[str] = frozenset()
    """Containers whose cgroup went away since it was found: they stopped, or are about to."""
    estimated: frozenset[str] = frozenset()
    """Containers whose CPU % is an estimate (see StatsFigures.estimated)."""


@dataclass(frozen=True)
class Early:
    """What sample_known() read: counters of the containers whose cgroup was already found."""

    samples: dict[str, Sample] = field(default_factory=dict)
    """Container id -> its counters and when they were read."""
    vanished: frozenset[str] = frozenset()
    """Containers whose cgroup went away (a change the engine's list has not told yet)."""


class ContainerMetrics:
    """Measures running containers; CPU % comes from two consecutive samples of the same container.

    On a local engine the cgroup files of up to `handle_budget` containers stay open (see
    CgroupHandle); the budget leaves the rest of the descriptor limit to sockets and files. Containers
    beyond it are read one file at a time and closed again each cycle: slower, still right.
    """

    def __init__(
        self,
        *,
        local: bool,
        executor: Callable[[], ThreadPoolExecutor],
        clock: Callable[[], float],
        handle_budget: int | None = None,
        cgroup_root: str | Path = cgroups.CGROUP_ROOT,
        proc_root: str | Path = cgroups.PROC_ROOT,
    ) -> None:
        self.local = local
        """cgroup files describe this machine's containers only when the engine runs on this machine."""
        self.podman = False
        """The engine is podman: its stats' CPU % is read as `podman stats` reads it (stats.read_stats)."""
        self.handle_budget = (
            fdlimit.handle_budget(fdlimit.soft_limit(), cgroups.FDS_PER_HANDLE)
            if handle_budget is None
            else handle_budget
        )
        """How many containers' cgroup files may be held open at once."""
        self._executor = executor
        self._clock = clock
        self._root = str(cgroup_root)
        self._proc = str(proc_root)
        self._files: dict[str, cgroups.CgroupFiles | None] = {}  # None: looked for, not found
        self._handles: dict[str, cgroups.CgroupHandle] = {}  # held open: at most handle_budget
        self._cpu_prev: dict[str, tuple[int, float]] = {}
        self._stats_prev: dict[str, CpuCounters] = {}

    @property
    def held(self) -> int:
        """How many containers' cgroup files are held open now."""
        return len(self._handles)

    def forget(self, cid: str) -> None:
        """The container changed (restart, update): find its cgroup again; its CPU history stays."""
        self._files.pop(cid, None)
        handle = self._handles.pop(cid, None)
        if handle is not None:
            handle.close()

    def drop(self, cid: str) -> None:
        """The container is gone: forget everything about it."""
        self.forget(cid)
        self._cpu_prev.pop(cid, None)
        self._stats_prev.pop(cid, None)

    def clear(self) -> None:
        """Forget every container (the engine was lost: what was cached is suspect)."""
        for cid in list(self._handles):
            self.forget(cid)
        self._files.clear()
        self._cpu_prev.clear()
        self._stats_prev.clear()

    def sample_known(self, running: Iterable[tuple[str, int | None]]) -> Early:
        """Counters of the given (id, main pid) whose cgroup is already located, each with its time.

        A container whose cgroup went away is told in `vanished` and forgotten: it stopped (or is
        stopping), a change the caller may not have heard of yet.
        """
        samples: dict[str, Sample] = {}
        vanished: set[str] = set()
        for cid, pid in running:
            if self._files.get(cid) is None:
                continue  # never located (new, or out of reach): measure() looks for it
            try:
                sampled = self._sample(cid, pid)
            except (OSError, ValueError) as error:
                if isinstance(error, OSError) and error.errno in _GONE:
                    vanished.add(cid)
                    self.forget(cid)
                continue  # anything else: measure() tries again and says why
            if sampled is not None:
                samples[cid] = sampled
        return Early(samples, frozenset(vanished))

    def measure(self, api: Any, running: list[tuple[str, int | None]], early: dict[str, Sample]) -> Measured:
        """Readings of `running` (id, main pid): the early samples where taken, cgroups, else stats."""
        results: dict[str, Reading] = {}
        failures: dict[str, str] = {}
        vanished: set[str] = set()
        remote: list[str] = []
        for cid, pid in running:
            if cid in early:
                reading, wall = early[cid]
            else:
                try:
                    sampled = self._sample(cid, pid)
                except (OSError, ValueError) as error:
                    self.forget(cid)  # look for its cgroup again next cycle
                    results[cid] = _UNMEASURED
                    if isinstance(error, OSError) and error.errno in _GONE:
                        vanished.add(cid)
                    else:
                        failures[cid] = f"cgroup counters unreadable: {failure_reason(error)}"
                    continue
                if sampled is None:
                    remote.append(cid)
                    continue
                reading, wall = sampled
            results[cid] = (self._cpu(cid, reading.cpu_ns, wall), reading.mem_used, reading.mem_limit)
        estimated: set[str] = set()
        if remote:
            results.update(self._one_shot_stats(api, remote, failures, estimated))
        return Measured(results, failures, frozenset(vanished), frozenset(estimated))

    def _sample(self, cid: str, pid: int | None) -> Sample | None:
        """The container's counters from its cgroup, None when they are out of reach (use stats)."""
        if not self.local or pid is None:
            return None
        if cid not in self._files:
            self._files[cid] = cgroups.locate(cid, pid, self._root, self._proc)
        files = self._files[cid]
        if files is None:
            return None
        handle = self._handles.get(cid)
        if handle is None and len(self._handles) < self.handle_budget:
            handle = self._hold(cid, files)
        if handle is not None:
            return handle.sample(), self._clock()
        return cgroups.read_once(files), self._clock()

    def _hold(self, cid: str, files: cgroups.CgroupFiles) -> cgroups.CgroupHandle | None:
        try:
            handle = cgroups.CgroupHandle(files)
        except OSError as error:
            if error.errno not in _OUT_OF_FDS:
                raise
            # Fewer descriptors to spare than the budget assumed: hold no more, read the rest in turn.
            self.handle_budget = len(self._handles)
            return None
        self._handles[cid] = handle
        return handle

    def _cpu(self, cid: str, cpu_ns: int, wall: float) -> float | None:
        previous = self._cpu_prev.get(cid)
        self._cpu_prev[cid] = (cpu_ns, wall)
        if previous is None or wall <= previous[1] or cpu_ns < previous[0]:
            return None
        # As `docker stats`: 100 % is one core fully busy.
        return 100.0 * (cpu_ns - previous[0]) / ((wall - previous[1]) * 1e9)

    def _one_shot_stats(
        self, api: Any, ids: list[str], failures: dict[str, str], estimated: set[str]
    ) -> dict[str, Reading]:
        """One non-streaming, one-shot stats request per container, a bounded pool running them; the ids whose
        CPU % is an estimate are added to `estimated`."""

        silent = threading.Event()

        def fetch(cid: str) -> tuple[str, dict[str, Any] | None, str | None]:
            if silent.is_set():
                return cid, None, "stats request not sent: the engine left another unanswered"
            try:
                return cid, api.stats(cid, stream=False, one_shot=True), None
            except docker.errors.NotFound:
                return cid, None, None  # removed meanwhile: no stats, and nothing wrong
            except Exception as error:  # noqa: BLE001 - no figures this cycle, and the snapshot says why
                if timed_out(error):
                    # The engine, not this container: one timeout per collection, not one per container
                    # queued (100 of them, 8 at a time, were 19 s at a 1.5 s timeout).
                    silent.set()
                    return cid, None, "stats request timed out"
                return cid, None, f"stats request failed: {failure_reason(error)}"

        results: dict[str, Reading] = {}
        for cid, stats, failure in self._executor().map(fetch, ids):
            if failure is not None:
                failures[cid] = failure
            if not stats:
                results[cid] = _UNMEASURED
                continue
            figures = read_stats(stats, self._stats_prev.get(cid), self._clock(), podman=self.podman)
            if figures.counters is not None:
                self._stats_prev[cid] = figures.counters
            if figures.estimated:
                estimated.add(cid)
            results[cid] = (figures.cpu_percent, figures.mem_used, figures.mem_limit)
        return results


def failure_reason(error: BaseException) -> str:
    """A short reason from the OSError at the root of an exception (chained or wrapped in args)."""
    found = _os_error(error, depth=0)
    if found is not None and found.strerror:
        text = found.strerror
        if found.errno in _OUT_OF_FDS:
            text += f" (soft limit {fdlimit.soft_limit()})"
        return text
    text = str(error).splitlines()[0][:200] if str(error) else ""
    return text or type(error).__name__


def _os_error(error: BaseException, depth: int) -> OSError | None:
    # urllib3 and requests wrap the socket's OSError in args as often as in __cause__.
    if depth > 8:
        return None
    if isinstance(error, OSError) and error.errno is not None:
        return error
    for inner in (error.__cause__, error.__context__, *error.args):
        if isinstance(inner, BaseException):
            found = _os_error(inner, depth + 1)
            if found is not None:
                return found
    return None


def describe_failures(reasons: Mapping[str, str], *, listed: int = 3) -> list[str]:
    """Error lines for containers without figures (name -> why), one per reason, naming a few of them.

    200 containers failing the same way give one line, not 200.
    """
    by_reason: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        by_reason.setdefault(reason, []).append(name)
    lines = []
    for reason, names in sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0])):
        names.sort()
        if len(names) == 1:
            lines.append(f"container {names[0]}: no CPU/memory figures: {reason}")
        else:
            more = f" and {len(names) - listed} more" if len(names) > listed else ""
            lines.append(
                f"{len(names)} containers: no CPU/memory figures: {reason}; first: {', '.join(names[:listed])}{more}"
            )
    return lines
