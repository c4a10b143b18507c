"""Building executors for the tests: the private engine, real ledger and lock files, a host that is not this one.

`StandInHost` replaces the machine's own memory, swap and root-ness: no test ever drops this machine's
caches or turns its swap off. The real host backend is tested separately (tests/test_remediate_host.py)
with stand-in executables and a temporary file in place of /proc/sys/vm/drop_caches.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pixel_tui.collect import Collector
from pixel_tui.model import utcnow
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.engine_ops import DockerOps
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.host import MemoryFigures
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.settings import RemediateSettings, Settings, WorkerSettings

GiB = 1024**3


@dataclass
class StandInHost:
    """A HostSystem whose figures the test sets, recording what was asked of it."""

    root: bool = True
    figures: MemoryFigures = field(default_factory=lambda: MemoryFigures(16 * GiB, 2 * GiB, 8 * GiB, 8 * GiB))
    traffic: float = 0.0
    calls: list[str] = field(default_factory=list)

    def is_root(self) -> bool:
        return self.root

    def memory(self) -> MemoryFigures:
        return self.figures

    def swap_traffic(self, seconds: float) -> float:
        self.calls.append(f"swap_traffic {seconds}")
        return self.traffic

    def drop_caches(self) -> None:
        self.calls.append("drop_caches")

    def cycle_swap(self) -> None:
        self.calls.append("cycle_swap")


class Clock:
    """Real time plus an offset a test moves forward: a timeout or a grace passes without sleeping through it.

    The collector and the executor of a bench share one, so a worker past its timeout in a snapshot is past it
    when the executor re-validates it too; the engine's own times (a container's start) stay real.
    """

    def __init__(self, ahead_s: float = 0.0) -> None:
        self.offset = timedelta(seconds=ahead_s)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        """Move this clock `seconds` forward."""
        self.offset += timedelta(seconds=seconds)


@dataclass
class Bench:
    """An executor and a collector on the private engine, with the files they share."""

    executor: Executor
    collector: Collector
    ledger: Path
    lock: Path
    audit: AuditLog
    host: StandInHost
    clock: Clock

    def tasks(self) -> list[dict[str, Any]]:
        """The ledger's tasks as on disk now."""
        document = json.loads(self.ledger.read_text())
        return document["tasks"] if isinstance(document, dict) else document

    def task(self, task_id: str) -> dict[str, Any]:
        """One task as on disk now."""
        return next(task for task in self.tasks() if task["id"] == task_id)

    def audit_lines(self) -> list[dict[str, Any]]:
        """Every audit record so far."""
        records, problems = self.audit.read()
        assert not problems, problems
        return records

    def close(self) -> None:
        """Release the collector's and the executor's connections."""
        self.collector.close()
        engine = self.executor.backends.engine
        if isinstance(engine, DockerOps):
            engine.close()


def bench(
    engine_url: str,
    tmp_path: Path,
    tasks: list[dict[str, Any]] | None = None,
    *,
    read_only: bool = False,
    host: StandInHost | None = None,
    stop_grace_s: float = 1.0,
    ahead_s: float = 0.0,
    **workers: Any,
) -> Bench:
    """An executor acting on the private engine, the ledger `tasks` (orchestrator shape) and a lock file.

    Its collector and executor read one `Clock`, `ahead_s` seconds ahead of real time to begin with.
    """
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"version": 1, "tasks": tasks or []}, indent=2) + "\n")
    lock = tmp_path / "worker.lock"
    settings = Settings(
        docker_host=engine_url,
        read_only=read_only,
        workers=replace(WorkerSettings(), ledger=str(ledger), lock_file=str(lock), **workers),
        remediate=replace(RemediateSettings(), stop_grace_s=stop_grace_s),
    )
    audit = AuditLog(tmp_path / "state" / "audit.jsonl")
    host = host or StandInHost()
    backends = Backends(
        engine=DockerOps(engine_url),
        files=RealFiles(str(ledger), str(lock), max_bytes=1 << 20),
        host=host,
        audit=audit,
    )
    clock = Clock(ahead_s)
    executor = Executor(settings, backends, read_only=read_only, clock=clock)
    return Bench(executor, Collector(settings, clock=clock), ledger, lock, audit, host, clock)


def past_its_timeout(container: Any, timeout_s: float = 1.0) -> Any:
    """Wait until `container` has run longer than `timeout_s` by the engine's start time, and return it.

    For pixel-tui run in a subprocess, whose clock a test cannot move (in-process, a bench's `ahead_s`).
    """
    container.reload()
    started = datetime.fromisoformat(container.attrs["State"]["StartedAt"][:26].rstrip("Z") + "+00:00")
    time.sleep(max(0.0, (started - utcnow()).total_seconds() + timeout_s + 0.2))
    return container
