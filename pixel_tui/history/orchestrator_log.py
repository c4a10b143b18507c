"""The orchestrator's audit log (its `logAudit` JSON lines) into cycles, unnumbered: the store numbers them.

The shapes are the orchestrator's own (ORCHESTRATOR.md, "The audit log"); what each event becomes is
listed in docs/domain.md, "Importing cycles", and tests/fixtures/orchestrator-audit.jsonl is an
example. A cycle is the span from one `cycle_start` to the next: it ends at its `cycle_complete` or
`cycle_error`, and what the orchestrator writes after that end and before the next start (its
`worker_cleanup`) still belongs to it. Its figures are the maximum over its `vps_metrics`; its actions
are its tool calls (from `cycle_complete.steps`, failed when their `tool_result` says so) and worker
events, in time order. The log is cut to its last 500 lines after every append, so the head of a
file often holds the end of a cycle whose start is gone: that is passed over, not reported.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.history.model import Cycle
from pixel_tui.history.records import (
    BadLine,
    Skipped,
    cycle_level,
    read_count,
    read_number,
    read_percent,
    read_status,
    read_text,
    read_time,
)
from pixel_tui.model import Level, Thresholds

TIMED_OUT_EXIT = 124
"""The exit code of `timeout`, which runs every worker's task (worker-entrypoint.sh): the task ran out of time."""
NO_LEVEL_STATUSES = ("STALE", "ERROR")
"""Statuses that say the figures could not be read now: no level, and no figures taken from that event."""
ACTION_CHARS = 200
"""The longest an action's free text (a tool's summary, a cycle's error) is kept; an action is one short line."""
NOTES_CHARS = 500
"""The longest a cycle's notes (the model's closing text) are kept."""


@dataclass(frozen=True)
class _Result:
    """One `tool_result`: which tool, whether it worked, its summary, when."""

    tool: str
    success: bool
    summary: str | None
    at: datetime


@dataclass
class _Span:
    """One cycle of the log, from its `cycle_start` until the next one."""

    line: int
    started_at: datetime
    figures: dict[str, float | None] = field(
        default_factory=lambda: {"swap": None, "memory": None, "cpu": None, "disk": None, "load": None}
    )
    status: Level | None = None
    results: list[_Result] = field(default_factory=list)
    events: list[tuple[datetime, str]] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    tasks: set[str] = field(default_factory=set)
    timed_out: set[str] = field(default_factory=set)
    calls: list[str] | None = None
    notes: str | None = None
    error: str | None = None
    ended_at: datetime | None = None
    end_line: int | None = None

    def figure(self, name: str, value: float | None) -> None:
        if value is not None:
            old = self.figures[name]
            self.figures[name] = value if old is None else max(old, value)

    def add(self, at: datetime, action: str) -> None:
        """A worker event's action: in the cycle's time line before its end, after everything once it ended."""
        if self.ended_at is None:
            self.events.append((at, action))
        else:
            self.after.append(action)


class AuditReader:
    """Events into cycles: `cycle_start` ... `cycle_complete` or `cycle_error` ... the next `cycle_start`."""

    def __init__(self, source: str, thresholds: Thresholds, cores: int | None = None) -> None:
        self.source = source
        self.thresholds = thresholds
        self.cores = cores
        """What `load1` is divided by for the load per core; None leaves the load per core unknown."""
        self.cycles: list[Cycle] = []
        """The cycles read so far, in the order of the file, not yet numbered."""
        self._span: _Span | None = None
        self._starts: dict[datetime, int] = {}
        self._names: dict[str, str] = {}
        self._skipped: list[Skipped] = []

    def feed(self, line: int, event: dict[str, Any]) -> None:
        """Apply the event of `line`, or raise BadLine saying why it cannot be used."""
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise BadLine("not an event: no type")
        if kind == "cycle_start":
            self._start(line, event)
            return
        moment = read_time(event, "timestamp")
        span = self._span
        if span is None:
            return  # before the first usable cycle_start: the end of a cycle whose start was cut off, or lost
        if kind in ("cycle_complete", "cycle_error"):
            self._end(span, line, kind, moment, event)
        elif kind == "cycle_skipped":
            reason = read_text(event, "reason") or "(no reason given)"
            span.add(moment, f"cycle.skipped {reason}")  # another run was due while this one still ran
        elif kind.startswith("worker_"):
            self._worker(span, kind, moment, event)
        elif span.ended_at is not None:
            return  # figures and tool results after the end are not this cycle's
        elif kind == "vps_metrics":
            self._metrics(span, event)
        elif kind == "tool_result":
            tool = read_text(event, "tool")
            if tool is None:
                raise BadLine("tool_result names no tool")
            success = event.get("success")
            if not isinstance(success, bool):
                raise BadLine(f"tool_result of {tool}: success is not true or false")
            span.results.append(_Result(tool, success, _clipped(read_text(event, "summary"), ACTION_CHARS), moment))

    def _start(self, line: int, event: dict[str, Any]) -> None:
        self._flush()
        try:
            moment = read_time(event, "timestamp")
        except BadLine:
            self._span = None  # this cycle's events, and its end, are passed over: its start line is reported
            raise
        if moment in self._starts:
            self._span = None
            raise BadLine(f"a cycle already started at this time, on line {self._starts[moment]}")
        self._starts[moment] = line
        self._span = _Span(line, moment)

    def _end(self, span: _Span, line: int, kind: str, moment: datetime, event: dict[str, Any]) -> None:
        if span.ended_at is not None:
            raise BadLine(
                f"{kind} of the cycle started on line {span.line}, which already ended on line {span.end_line}"
            )
        if moment < span.started_at:
            raise BadLine(f"{kind} at {event['timestamp']} is before its cycle_start (line {span.line})")
        if kind == "cycle_error":
            span.error = _clipped(read_text(event, "error"), ACTION_CHARS) or "(no reason given)"
        else:
            span.calls, span.notes = _steps(event.get("steps"))
        span.ended_at, span.end_line = moment, line

    def _metrics(self, span: _Span, event: dict[str, Any]) -> None:
        load = read_number(event, "load1")
        figures = {
            "swap": read_percent(event, "swapPercent"),
            "memory": read_percent(event, "memPercent"),
            "disk": read_percent(event, "diskPercent"),
            "load": load / self.cores if load is not None and self.cores else None,
        }
        word = (read_text(event, "status") or "").strip().upper()
        if word in NO_LEVEL_STATUSES:
            return
        for name, value in figures.items():
            span.figure(name, value)
        status = read_status(event, "status")
        if status is not None:
            span.status = status if span.status is None else Level.worst([span.status, status])

    def _worker(self, span: _Span, kind: str, moment: datetime, event: dict[str, Any]) -> None:
        task = read_text(event, "taskId")
        if kind == "worker_spawned":
            name = read_text(event, "containerName") or (_container(task) if task else None)
            if name is None:
                raise BadLine("worker_spawned names no worker (containerName or taskId)")
            if task is not None:
                self._names[task] = name
                span.tasks.add(task)
            span.add(moment, f"worker.spawned {name}")
        elif kind == "worker_status_updated":
            if task is None:
                raise BadLine("worker_status_updated names no task (taskId)")
            status, code = read_text(event, "status") or "updated", _exit_code(event)
            span.tasks.add(task)
            action = f"worker.{status} {self._names.get(task) or _container(task)}"
            if code is not None:
                action += f" exit {code}"
            if code == TIMED_OUT_EXIT:
                span.timed_out.add(task)
                action += " (timed out)"
            span.add(moment, action)
        elif kind == "worker_spawn_rejected":
            action = f"worker.spawn_rejected {read_text(event, 'reason') or '(no reason given)'}"
            wait, detail = read_number(event, "waitSeconds"), _clipped(read_text(event, "detail"), ACTION_CHARS)
            action += (f", wait {wait:g}s" if wait is not None else "") + (f": {detail}" if detail else "")
            span.add(moment, action)
        elif kind == "worker_cleanup":
            counts = [(word, read_count(event, word)) for word in ("aborted", "removed", "orphaned")]
            done = ", ".join(f"{word} {count}" for word, count in counts if count)
            if done:  # written at the end of every cycle; only a cleanup that did something is an action
                span.add(moment, f"worker.cleanup {done}")

    def _flush(self) -> None:
        """The cycle read so far is over (another started, or the file ended): make it a Cycle."""
        span, self._span = self._span, None
        if span is None:
            return
        ended = span.ended_at
        actions = [action for _, action in sorted([*_tool_actions(span), *span.events], key=lambda pair: pair[0])]
        if span.error is not None:
            actions.append(f"cycle.error {span.error}")
        if ended is None:
            actions.append("cycle.unfinished: no cycle_complete or cycle_error before the next cycle_start")
        actions += span.after
        timed_out = len(span.timed_out)
        self.cycles.append(
            Cycle(
                cycle=None,
                source=self.source,
                started_at=span.started_at,
                ended_at=ended,
                duration_s=None if ended is None else (ended - span.started_at).total_seconds(),
                level=cycle_level(span.figures, self.thresholds, span.status, Level.WARNING if timed_out else None),
                swap_percent=span.figures["swap"],
                memory_percent=span.figures["memory"],
                cpu_percent=None,  # the log carries no CPU figure
                disk_percent=span.figures["disk"],
                load_per_core=span.figures["load"],
                containers=None,  # nor a count of containers
                workers=len(span.tasks),
                timed_out=timed_out,
                phantoms=None,  # nor phantoms
                actions=tuple(actions),
                method=None,
                notes=span.notes,
            )
        )

    def finish(self) -> list[Skipped]:
        """The end of the file: the last cycle if it ended, and the lines that turned out unusable."""
        span = self._span
        if span is not None and span.ended_at is None:
            self._span = None
            self._skipped.append(
                Skipped(
                    span.line,
                    "this cycle has not ended yet (no cycle_complete or cycle_error): not imported; "
                    "import the file again once it has",
                )
            )
        self._flush()
        return self._skipped


def _tool_actions(span: _Span) -> list[tuple[datetime, str]]:
    """The cycle's tool calls with their results: each call at the time of its result, in the steps' order.

    The k-th `tool_result` of a tool answers its k-th call; a cycle that ended in an error has no steps,
    and then its results alone say what was called.
    """
    waiting: defaultdict[str, deque[_Result]] = defaultdict(deque)
    for given in span.results:
        waiting[given.tool].append(given)
    timed: list[tuple[datetime, str]] = []
    at = span.started_at
    for name in span.calls or []:
        answer = waiting[name].popleft() if waiting[name] else None
        at = max(at, answer.at) if answer else at  # a call never answered: just after the one before
        timed.append((at, _tool(name, answer)))
    unanswered = sorted((left for queue in waiting.values() for left in queue), key=lambda left: left.at)
    timed += [(left.at, _tool(left.tool, left)) for left in unanswered]
    return timed


def _tool(name: str, result: _Result | None) -> str:
    if result is None or result.success:
        return f"tool {name}"
    return f"tool {name} failed" + (f": {result.summary}" if result.summary else "")


def _steps(steps: Any) -> tuple[list[str], str | None]:
    """The tool names called in `cycle_complete.steps`, in order, and the last step's text (the closing words)."""
    if steps is None:
        return [], None
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise BadLine("cycle_complete: steps is not a list of objects")
    names: list[str] = []
    text: str | None = None
    for step in steps:
        calls = step.get("toolCalls") or []  # absent when a step called nothing
        if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
            raise BadLine("cycle_complete: a step's toolCalls is not a list of objects")
        for call in calls:
            name = read_text(call, "name")
            if name is None:
                raise BadLine("cycle_complete: a tool call has no name")
            names.append(name)
        said = read_text(step, "text")
        text = said.strip() if said and said.strip() else text
    return names, _clipped(text, NOTES_CHARS, flat=False)


def _exit_code(event: dict[str, Any]) -> int | None:
    """`exitCode`: a whole number, negative too (the orchestrator counts a missing container as -1)."""
    value = event.get("exitCode")
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**31:
        raise BadLine(f"exitCode: {value!r:.40} is not an exit code")
    return value


def _container(task: str) -> str:
    """The orchestrator's own name for a task's worker: `pixel-worker-` and the task id's first 8 characters."""
    return f"pixel-worker-{task[:8]}"


def _clipped(text: str | None, chars: int, *, flat: bool = True) -> str | None:
    """`text` at most `chars` long (an ellipsis says it was cut); `flat`: on one line."""
    if text is None:
        return None
    if flat:
        text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"
