"""A faithful model of Syntropy, the orchestrator pixel-tui's first users run, for the test suite.

It does on a (private) Docker engine, with the busybox image, what the real orchestrator does on a
host, and writes the real files: `data/task-ledger.json`, `data/worker-lock.json`,
`data/worker-output-<id>.txt` and `audit/audit.json` under a root directory. /work/shared/ORCHESTRATOR.md
is the specification; every module says which part of the real code it follows.

- `Syntropy` / `SyntropyConfig` (orchestrator.py): spawn, checkWorkerStatus, cleanup, one cycle.
- docker_calls.py: the `docker` commands it shells out to (`worker_name`, `ContainerStatus`).
- `WorkerBehaviour` (worker.py): what a worker's task does (body, timeout, TERM, linger).
- `InvariantMonitor`, `phantoms`, `wait_settled` (monitor.py): what must hold while it all runs.
- scenarios.py: the real incidents (log tailer, completed but running, hung worker, dead lock).
- `python -m tests.syntropy` (__main__.py): the same as a separate process.
"""

from __future__ import annotations

from tests.syntropy.docker_calls import ContainerStatus, worker_name
from tests.syntropy.files import DataFiles, date_iseconds, js_iso
from tests.syntropy.monitor import InvariantMonitor, Phantom, Violation, phantoms, wait_settled
from tests.syntropy.orchestrator import CleanupResult, SpawnResult, Syntropy, SyntropyConfig
from tests.syntropy.scenarios import LOG_TAILER_NAME, completed_but_running, dead_lock, hung_worker, log_tailer
from tests.syntropy.worker import WorkerBehaviour

__all__ = [
    "LOG_TAILER_NAME",
    "CleanupResult",
    "ContainerStatus",
    "DataFiles",
    "InvariantMonitor",
    "Phantom",
    "SpawnResult",
    "Syntropy",
    "SyntropyConfig",
    "Violation",
    "WorkerBehaviour",
    "completed_but_running",
    "date_iseconds",
    "dead_lock",
    "hung_worker",
    "js_iso",
    "log_tailer",
    "phantoms",
    "wait_settled",
    "worker_name",
]
