"""The metric families of one scrape: built from a fresh snapshot and the audit log's counts.

Names follow Prometheus' conventions (base units, `_total` for counters, `_timestamp_seconds` for a
moment); no label takes an unbounded set of values (no container, worker or task names).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from pixel_tui import __version__
from pixel_tui.export.audit_counts import ACTOR_KINDS, OUTCOMES, AuditCounts
from pixel_tui.ledger.format import STATUSES
from pixel_tui.ledger.reader import OTHER_STATUS
from pixel_tui.levels import HOST_METRICS
from pixel_tui.model import Snapshot
from pixel_tui.remediate.catalogue import MUTATING_ACTIONS

REMEDIATIONS = tuple(sorted(MUTATING_ACTIONS - {"autoheal.toggle"}))
"""The actions the audit log records (turning autoheal on or off is a setting, not a remediation)."""

PREFIX = "pixel_tui"
RESOURCES = ("overall", *(metric.key for metric in HOST_METRICS), "workers")
"""The resources whose level is exported: the host metrics of the table, the workers, and `overall`, the worst."""
WORKER_STATES = ("running", "timed_out", "ghost", "orphan", "conflict")
"""The worker states counted: running (alive, in time), timed out, the two phantoms, two tasks claiming one."""


def worker_counts(snapshot: Snapshot) -> dict[str, int]:
    """How many workers are in each of WORKER_STATES (a worker counts in one: the most urgent that applies)."""
    counts = dict.fromkeys(WORKER_STATES, 0)
    for worker in snapshot.workers:
        if worker.conflict:
            counts["conflict"] += 1
        elif worker.phantom in ("ghost", "orphan"):
            counts[worker.phantom] += 1
        elif worker.timed_out:
            counts["timed_out"] += 1
        else:
            counts["running"] += 1
    return counts


def families(
    snapshot: Snapshot | None,
    actions: dict[tuple[str, str, str], int],
    *,
    gave_up: int = 0,
    autoheal_enabled: bool,
    scrape_s: float,
) -> Iterator[Metric]:
    """Every family of one scrape; without a snapshot (the collection failed) only what is known regardless."""
    yield InfoMetricFamily(f"{PREFIX}_build", "pixel-tui's version.", value={"version": __version__})
    counter = CounterMetricFamily(
        f"{PREFIX}_remediation_actions",
        "Remediation attempts by outcome, since the audit log began (an attempt of a plan step each).",
        labels=["action", "actor_kind", "outcome"],
    )
    # Every changing action starts at zero, so the first attempt is an increase `increase()` can see.
    known = {(action, actor, outcome): 0 for action in REMEDIATIONS for actor in ACTOR_KINDS
             for outcome in OUTCOMES}  # fmt: skip
    for (action, actor, outcome), count in sorted((known | actions).items()):
        counter.add_metric([action, actor, outcome], count)
    yield counter
    yield CounterMetricFamily(f"{PREFIX}_autoheal_gave_up", "Times autoheal gave up on a target that needs a person.",
                              value=gave_up)  # fmt: skip
    yield _gauge("autoheal_enabled", "1 when the config turns autoheal on where it runs (the console, heal --every).",
                 int(autoheal_enabled))  # fmt: skip
    if snapshot is not None:
        yield from _judged(snapshot)
    yield _gauge("scrape_duration_seconds", "Seconds this scrape took to collect and judge.", scrape_s)


def _judged(snapshot: Snapshot) -> Iterator[Metric]:
    """What the snapshot says: the engine, levels, workers, ledger, lock."""
    yield _gauge("engine_up", "1 when the Docker engine answered this scrape's collection.",
                 int(snapshot.docker.reachable))  # fmt: skip
    levels = GaugeMetricFamily(
        f"{PREFIX}_level", "pixel-tui's level of a resource: 0 ok, 1 careful, 2 warning, 3 critical.",
        labels=["resource"],
    )  # fmt: skip
    for resource in RESOURCES:
        levels.add_metric([resource], getattr(snapshot.levels, resource).rank)  # the snapshot's, judged once
    yield levels
    workers = GaugeMetricFamily(f"{PREFIX}_workers", "Worker containers and tasks by state.", labels=["state"])
    for state, count in worker_counts(snapshot).items():
        workers.add_metric([state], count)
    yield workers
    starts = [worker.started_at for worker in snapshot.workers if worker.started_at is not None and not worker.phantom]
    if starts:
        yield _gauge("oldest_worker_start_timestamp_seconds", "When the oldest live worker started (Unix time).",
                     min(starts).timestamp())  # fmt: skip
    ledger = snapshot.ledger
    if ledger is not None:
        yield _gauge("ledger_readable", "1 when the task ledger could be read and parsed.", int(ledger.readable))
        if ledger.readable:
            tasks = GaugeMetricFamily(f"{PREFIX}_ledger_tasks", "Ledger tasks by status.", labels=["status"])
            counted = dict(ledger.by_status)
            for status in (*STATUSES, OTHER_STATUS):
                tasks.add_metric([status], counted.get(status, 0))
            yield tasks
    lock = snapshot.lock
    if lock is not None:
        held = lock.task_id is not None
        yield _gauge("lock_held", "1 while the orchestrator's worker lock file names a task.", int(held))
        yield _gauge("lock_stale", "1 while the lock is held by a task with no live worker, past the spawn window.",
                     int(lock.stale))  # fmt: skip


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


class ScrapeCollector(Collector):
    """A prometheus_client collector: each scrape takes a fresh snapshot (no cached values, no timestamps).

    Scrapes that come together take turns: one collector is never asked twice at once.
    """

    def __init__(self, take: Callable[[], Snapshot], audit: AuditCounts, *, autoheal_enabled: bool) -> None:
        self._take = take
        self._audit = audit
        self._autoheal_enabled = autoheal_enabled
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        """The families of one scrape."""
        with self._lock:
            started = time.monotonic()
            snapshot = self._take()
            actions = self._audit.counts()
            took = time.monotonic() - started
        yield from families(snapshot, actions, gave_up=self._audit.gave_up, autoheal_enabled=self._autoheal_enabled,
                            scrape_s=took)  # fmt: skip

    def describe(self) -> list[Any]:
        """Nothing up front: registering must not collect (a scrape does)."""
        return []
