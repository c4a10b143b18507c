"""One attempt of a step, part by part, and the attempts in flight: what a stop of pixel-tui waits for or records.

A step is made of parts (stop the container, remove it, mark its task aborted, check that it is gone),
named in its intent line before the first one begins; each part is begun and confirmed through
`Attempt.part`. When pixel-tui is asked to stop (SIGTERM, SIGINT, `q`), `Attempts.stop` lets no new
attempt begin; those in flight get until the shutdown bound (`shutdown_wait_s`: the stop grace plus
`remediate.shutdown_margin_s`) to finish (`Attempts.drain`), and each one still running then is closed
(`Attempt.interrupt`): its outcome says which parts were done, which one was under way (asked for, not
confirmed) and which were never begun. Exactly one outcome is written per attempt, by whoever closes it
first: its own thread when it finishes, or the stop. The thread of an interrupted attempt begins no
further part (`Interrupted`), so what the record says not done stays not done.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pixel_tui.remediate.model import INTERRUPTED, Outcome, Plan, Step
from pixel_tui.settings import RemediateSettings


def shutdown_wait_s(remediate: RemediateSettings) -> float:
    """How long a stop of pixel-tui waits for the actions in flight: the stop grace, plus the margin for the
    removal, the ledger write and the checks that follow it (`remediate.shutdown_margin_s`)."""
    return remediate.stop_grace_s + remediate.shutdown_margin_s


class Interrupted(Exception):
    """Raised in an attempt's own thread when it would begin a part after a stop closed the attempt."""


@dataclass(frozen=True)
class Progress:
    """How far an attempt got when it was closed by a stop."""

    done: tuple[str, ...]
    under_way: str | None
    not_done: tuple[str, ...]
    intended: bool
    """False when it was still checking the target: nothing was changed, and no intent line was written."""

    def outcome(self, step: Step, why: str) -> Outcome:
        """The interrupted outcome of `step` that got this far when pixel-tui was stopped for `why`."""
        if self.intended:
            error = f"pixel-tui was stopped ({why}) before this finished"
        else:
            error = f"pixel-tui was stopped ({why}) while it checked the target: nothing was changed"
        return Outcome(step, INTERRUPTED, error, done=self.done, under_way=self.under_way, not_done=self.not_done)


def not_started(step: Step, why: str | None) -> Outcome:
    """The outcome of a step a stop kept from beginning: interrupted, nothing done."""
    return Outcome(step, INTERRUPTED, f"not started: pixel-tui was stopping ({why})", not_done=(step.what,))


class Attempt:
    """The parts of one step: planned in its intent, then begun and confirmed one by one; thread-safe."""

    def __init__(self, record_intent: Callable[[tuple[str, ...]], None], what: str) -> None:
        self._record_intent = record_intent
        self._what = what
        self._lock = threading.Lock()
        self._planned: list[str] = []
        self._done: list[str] = []
        self._current: str | None = None
        self._closed = False
        self.intended = False
        """True once the intent line is written (durably, before the first change)."""

    def __call__(self, *parts: str) -> None:
        """Record the intent, naming `parts`, once (AuditUnavailable when it cannot be); later calls add parts."""
        with self._lock:
            if self._closed:
                raise Interrupted
            if not self.intended:
                self._record_intent(parts)
                self.intended = True
            self._planned += [part for part in parts if part not in self._planned]

    @contextlib.contextmanager
    def part(self, what: str) -> Iterator[None]:
        """Begin the part `what` (Interrupted when a stop closed the attempt); done when the block ends normally."""
        with self._lock:
            if self._closed:
                raise Interrupted
            if what not in self._planned:
                self._planned.append(what)
            self._current = what
        try:
            yield
        finally:
            with self._lock:
                if self._current == what:
                    self._current = None
        with self._lock:
            if not self._closed:
                self._done.append(what)

    def settle(self) -> bool:
        """Close the attempt as finished; False when a stop closed it first (its outcome is written already)."""
        with self._lock:
            closed, self._closed = self._closed, True
            return not closed

    def interrupt(self) -> Progress | None:
        """Close the attempt for a stop; how far it got, or None when it had finished already."""
        with self._lock:
            if self._closed:
                return None
            self._closed = True
            if not self.intended:
                return Progress((), None, (self._what,), intended=False)
            begun = {*self._done, self._current}
            rest = tuple(part for part in self._planned if part not in begun)
            return Progress(tuple(self._done), self._current, rest, intended=True)


@dataclass(eq=False)
class Flight:
    """An attempt in flight and what its outcome line needs."""

    attempt: Attempt
    plan: Plan
    step: Step
    actor: str
    reason: str | None
    record_id: str
    started: float = field(default_factory=time.monotonic)
    rule: str | None = None
    """The autoheal rule that asked for it (its outcome line carries it too)."""


class PlanRun:
    """A plan being executed: its steps not begun yet, taken one at a time; a stop takes all the rest at once."""

    def __init__(self, plan: Plan, actor: str, reason: str | None, *, rule: str | None = None) -> None:
        self.plan = plan
        self.actor = actor
        self.reason = reason
        self.rule = rule
        """The autoheal rule that asked for the plan, None for a person's."""
        self._pending = deque(enumerate(plan.steps, start=1))
        self._outcomes: dict[int, Outcome] = {}
        self._lock = threading.Lock()

    def take(self) -> tuple[int, Step] | None:
        """The next step to begin and its number from 1; None when none is left."""
        with self._lock:
            return self._pending.popleft() if self._pending else None

    def rest(self) -> list[tuple[int, Step]]:
        """Take every step not begun yet (a stop, or the cascade after a failure)."""
        with self._lock:
            rest, self._pending = list(self._pending), deque()
            return rest

    def put(self, number: int, outcome: Outcome) -> None:
        """The outcome of step `number`."""
        with self._lock:
            self._outcomes[number] = outcome

    def outcomes(self) -> tuple[Outcome, ...]:
        """The outcomes so far, in the plan's order."""
        with self._lock:
            return tuple(self._outcomes[number] for number in sorted(self._outcomes))


class Attempts:
    """The attempts in flight, and the stop: no new one begins after it; wait for the rest; close what is left."""

    def __init__(self) -> None:
        self._flying: list[Flight] = []
        self._runs: list[PlanRun] = []
        self._changed = threading.Condition()
        self.stopping: str | None = None
        """Why pixel-tui is stopping ("SIGTERM", "q"...); None while it runs."""

    def stop(self, why: str) -> list[tuple[PlanRun, list[tuple[int, Step]]]]:
        """From now on no attempt begins; the steps of the plans running that were not begun, taken from them."""
        with self._changed:
            self.stopping = self.stopping or why
            runs = list(self._runs)
        return [(run, rest) for run in runs if (rest := run.rest())]

    def add_run(self, run: PlanRun) -> bool:
        """A plan begins; False when pixel-tui is stopping (its steps are then not begun at all)."""
        with self._changed:
            self._runs.append(run)
            return self.stopping is None

    def remove_run(self, run: PlanRun) -> None:
        """A plan ended."""
        with self._changed, contextlib.suppress(ValueError):
            self._runs.remove(run)

    @property
    def in_flight(self) -> int:
        """Attempts begun and not finished."""
        with self._changed:
            return len(self._flying)

    def add(self, flight: Flight) -> None:
        """An attempt begins."""
        with self._changed:
            self._flying.append(flight)

    def remove(self, flight: Flight) -> None:
        """An attempt ended (finished, refused, failed, or its thread came back after it was interrupted)."""
        with self._changed:
            with contextlib.suppress(ValueError):
                self._flying.remove(flight)
            self._changed.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for every attempt in flight to end; True when none is left."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._changed:
            while self._flying:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def closing(self) -> list[tuple[Flight, Progress]]:
        """Close every attempt still in flight; each with how far it got (those that just finished are left out)."""
        with self._changed:
            flying = list(self._flying)
        closed = []
        for flight in flying:
            progress = flight.attempt.interrupt()
            if progress is not None:
                closed.append((flight, progress))
        return closed


def target_key(step: Step) -> str:
    """What two steps must not act on at once: a container, a task, the lock, or a host-wide operation."""
    target = step.target
    if target is None or target.kind == "host" or target.id is None:
        return f"op:{step.op}"  # one swap cycle, one prune at a time
    return f"{target.kind}:{target.id}"
