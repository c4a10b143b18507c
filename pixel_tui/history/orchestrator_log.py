"""The orchestrator's audit log into cycles: `cycle_start` ... `cycle_complete` or `cycle_error`.

The events read and what they become are listed in docs/domain.md, "Importing cycles", and
tests/fixtures/orchestrator-audit.jsonl is an example. A cycle's figures are the maximum over its
`vps_metrics` events, its actions come from its worker and tool events; other event types, and events
between cycles, are the orchestrator's own business and are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.history.model import Cycle
from pixel_tui.history.records import (
    BadLine,
    Skipped,
    cycle_level,
    read_count,
    read_cycle_number,
    read_number,
    read_percent,
    read_status,
    read_text,
    read_time,
)
from pixel_tui.model import Level, Thresholds


@dataclass
class _OpenCycle:
    """A cycle of the audit log between its start and its end."""

    number: int
    line: int
    started_at: datetime
    figures: dict[str, float | None] = field(
        default_factory=lambda: {"swap": None, "memory": None, "cpu": None, "disk": None, "load": None}
    )
    status: Level | None = None
    containers: int | None = None
    actions: list[str] = field(default_factory=list)
    workers: set[str] = field(default_factory=set)
    timed_out: set[str] = field(default_factory=set)
    calls: dict[str, str] = field(default_factory=dict)

    def figure(self, name: str, value: float | None) -> None:
        if value is not None:
            old = self.figures[name]
            self.figures[name] = value if old is None else max(old, value)


_WORKER_EVENTS = ("worker_spawned", "worker_completed", "worker_timeout")


class AuditReader:
    """Events into cycles: `cycle_start` ... `cycle_complete` or `cycle_error`."""

    def __init__(self, source: str, thresholds: Thresholds) -> None:
        self.source = source
        self.thresholds = thresholds
        self.cycles: list[Cycle] = []
        self._open: _OpenCycle | None = None
        self._seen: dict[int, int] = {}
        self._skipped: list[Skipped] = []

    def feed(self, line: int, event: dict[str, Any]) -> None:
        """Apply the event of `line`, or raise BadLine saying why it cannot be used."""
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise BadLine("not an event: no type")
        moment = read_time(event, "timestamp")
        current = self._open
        if kind == "cycle_start":
            number = read_cycle_number(event)
            if number is None:
                raise BadLine("cycle_start without a cycle number")
            if current is not None:
                self._skipped.append(
                    Skipped(current.line, f"cycle {current.number} never ended: cycle {number} started on line {line}")
                )
            self._open = _OpenCycle(number, line, moment)
        elif kind in ("cycle_complete", "cycle_error"):
            if current is None:
                raise BadLine(f"{kind} without a cycle_start before it")
            number = read_cycle_number(event)
            if number not in (None, current.number):
                raise BadLine(f"{kind} of cycle {number} inside cycle {current.number} (line {current.line})")
            if moment < current.started_at:
                raise BadLine(f"{kind} at {event['timestamp']} is before its cycle_start (line {current.line})")
            method, summary, error = read_text(event, "method"), read_text(event, "summary"), read_text(event, "error")
            failure = "cycle.error " + (error or "(no reason given)") if kind == "cycle_error" else None
            self._close(current, moment, method, summary, failure)
        elif current is not None:
            self._inside(current, kind, event)

    def _inside(self, current: _OpenCycle, kind: str, event: dict[str, Any]) -> None:
        if kind == "vps_metrics":
            load, cores = read_number(event, "load1"), read_count(event, "cpuCount")
            values = {
                "swap": read_percent(event, "swapPercent"),
                "memory": read_percent(event, "memPercent"),
                "cpu": read_percent(event, "cpuPercent"),
                "disk": read_percent(event, "diskPercent"),
                "load": load / cores if load is not None and cores else None,
            }
            status, containers = read_status(event, "status"), read_count(event, "containersRunning")
            for name, value in values.items():
                current.figure(name, value)
            current.status = Level.worst([level for level in (current.status, status) if level is not None])
            if containers is not None:
                current.containers = max(current.containers or 0, containers)
        elif kind in _WORKER_EVENTS:
            worker = read_text(event, "containerName") or read_text(event, "workerId") or read_text(event, "taskId")
            if worker is None:
                raise BadLine(f"{kind} names no worker (containerName, workerId or taskId)")
            code, limit = read_text(event, "exitCode"), read_number(event, "timeoutSeconds")
            current.workers.add(worker)
            if kind == "worker_spawned":
                current.actions.append(f"worker.spawned {worker}")
            elif kind == "worker_completed":
                current.actions.append(f"worker.completed {worker}" + ("" if code is None else f" exit {code}"))
            else:
                current.timed_out.add(worker)
                current.actions.append(f"worker.timeout {worker}" + ("" if limit is None else f" after {limit:g}s"))
        elif kind in ("tool_call", "tool_result"):
            tool, call, error = read_text(event, "tool"), read_text(event, "callId"), read_text(event, "error")
            if kind == "tool_call":
                if tool is None:
                    raise BadLine("tool_call names no tool")
                if call is not None:
                    current.calls[call] = tool
                else:
                    current.actions.append(f"tool {tool}")
                return
            tool = tool or (current.calls.get(call, "?") if call is not None else "?")
            if call is not None:
                current.calls.pop(call, None)
            ok = event.get("success", event.get("ok", True)) is not False
            current.actions.append(f"tool {tool} ok" if ok else f"tool {tool} failed" + (f": {error}" if error else ""))

    def _close(
        self, current: _OpenCycle, moment: datetime, method: str | None, summary: str | None, failure: str | None
    ) -> None:
        self._open = None
        if current.number in self._seen:
            self._skipped.append(
                Skipped(current.line, f"cycle {current.number} already appears on line {self._seen[current.number]}")
            )
            return
        unanswered = [f"tool {tool} (no result)" for tool in current.calls.values()]
        actions = current.actions + unanswered + ([failure] if failure else [])
        timed_out = len(current.timed_out)
        self._seen[current.number] = current.line
        self.cycles.append(
            Cycle(
                cycle=current.number,
                source=self.source,
                started_at=current.started_at,
                ended_at=moment,
                duration_s=(moment - current.started_at).total_seconds(),
                level=cycle_level(
                    current.figures, self.thresholds, current.status, Level.WARNING if timed_out else None
                ),
                swap_percent=current.figures["swap"],
                memory_percent=current.figures["memory"],
                cpu_percent=current.figures["cpu"],
                disk_percent=current.figures["disk"],
                load_per_core=current.figures["load"],
                containers=current.containers,
                workers=len(current.workers),
                timed_out=timed_out,
                phantoms=None,  # the orchestrator's log does not know about phantoms
                actions=tuple(actions),
                method=method,
                notes=summary,
            )
        )

    def finish(self) -> list[Skipped]:
        """The end of the file: the lines that turned out unusable (cycles that never ended, repeated)."""
        if self._open is not None:
            current, self._open = self._open, None
            self._skipped.append(
                Skipped(
                    current.line,
                    f"cycle {current.number} has not ended yet (no cycle_complete or cycle_error): "
                    "not imported; import the file again once it has",
                )
            )
        return self._skipped
