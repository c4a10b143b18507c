"""One cycle's single home: collect, record history, plan autoheal, execute, audit, events.

The console, `watch --plain` and `heal` all run this one loop; none of them owns "never overlap"
any more. A step is blocking (the collector asks the engine and reads files) and runs in a daemon
thread; `Pipeline.run` re-arms only after a step finished, so a slow engine stretches the period
instead of stacking requests, and pausing stops collecting altogether. The healer only hands its
actions to a pool of its own (pixel_tui/remediate/autoheal.py) and tells what finished with a later
step: an action that waits out a stop grace never holds up a collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from pixel_tui.model import Event, Level, Snapshot
from pixel_tui.source import SnapshotSource
from pixel_tui.threads import in_daemon_thread

if TYPE_CHECKING:
    from pixel_tui.history.model import Cycle
    from pixel_tui.history.store import HistoryStore


class HistorySink(Protocol):
    """Where each snapshot goes to be aggregated into cycles (pixel_tui.history)."""

    def record(self, snapshot: Snapshot) -> object:
        """Feed one snapshot; close and store a cycle when one is due."""
        ...

    def add_action(self, text: str) -> None:
        """An action taken in the current cycle."""
        ...

    @property
    def status(self) -> str | None:
        """None while the history works, else "history unavailable: <why>"."""
        ...


NOT_ACTIONS = ("rule-",)
"""Kinds of autoheal's events that tell about the rules (a proposal, a demotion, a rule that cannot run), not an
action on the host: the history's cycles do not list them."""


class RecordedHistory(HistorySink, Protocol):
    """The history the console records into and reads back (pixel_tui.history.recorder.HistoryRecorder)."""

    @property
    def closed(self) -> int:
        """Cycles closed so far in this process: read again when it changed."""
        ...

    @property
    def store(self) -> HistoryStore:
        """The store; its `status` says why the last read or write failed."""
        ...

    def recent(self, count: int) -> list[Cycle]:
        """The latest `count` cycles, own and imported, oldest first (blocking: SQLite)."""
        ...


class Healer(Protocol):
    """The autoheal pass of a step: given the snapshot, act within the guard rails, return the events."""

    def heal(self, snapshot: Snapshot) -> tuple[Event, ...]:
        """Start what the policy calls for (validated, run and audited beside the loop); the events of what finished."""
        ...


class EventLog:
    """The one log of recent events of every kind (engine changes, derived changes, action outcomes): the pipeline
    writes each step's events, sorted once by time, and the events pane and view read them. Keeps the last
    `limit` (`ui.events`); thread-safe."""

    def __init__(self, limit: int = 200) -> None:
        self._events: deque[Event] = deque(maxlen=max(limit, 1))
        self._lock = threading.Lock()

    def add(self, events: Iterable[Event]) -> None:
        """Append one step's events in the order they happened (they come from several sources: sorted here)."""
        with self._lock:
            self._events.extend(sorted(events, key=lambda event: event.at))

    def recent(self, count: int | None = None) -> tuple[Event, ...]:
        """The newest `count` events (all when None), newest first."""
        with self._lock:
            events = tuple(reversed(self._events))
        return events if count is None else events[:count]


@dataclass(frozen=True)
class Step:
    """What one step produced: the snapshot (its events include the step's action outcomes), the history state, and
    the event log after it."""

    snapshot: Snapshot
    history: str | None = None
    """None while the history works, else why it does not."""
    events: tuple[Event, ...] = ()
    """The recent events after this step, newest first (what the events pane shows)."""


class Control:
    """Pause, wake and one-step requests for a running `Pipeline.run` loop, from the event loop's side."""

    def __init__(self) -> None:
        self.paused = False
        """While True nothing is collected (a step can still be asked for)."""
        self.stopped = False
        """True once `stop` was called: the loop ends after the step under way is delivered."""
        self._wake = asyncio.Event()
        self._step = False

    def stop(self) -> None:
        """End the loop: the step under way (if any) is still delivered, so nothing it drained is lost."""
        self.stopped = True
        self._wake.set()

    def pause(self, paused: bool) -> None:
        """Pause or resume."""
        self.paused = paused
        self._wake.set()

    def step_now(self) -> None:
        """Run one step now, even while paused (the result is applied: it was asked for)."""
        self._step = True
        self._wake.set()

    def take_step(self) -> bool:
        """True (once) when a step was asked for."""
        asked, self._step = self._step, False
        return asked

    async def sleep_until(self, due: float) -> None:
        """Sleep until the monotonic time `due`; while paused, until resumed and due; a step request ends it."""
        while not self._step and not self.stopped:
            remaining = None if self.paused else due - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)


class Pipeline:
    """Collect -> record history -> autoheal -> events, one step at a time, never two at once."""

    def __init__(
        self,
        source: SnapshotSource,
        *,
        history: HistorySink | None = None,
        healer: Healer | None = None,
        events: EventLog | None = None,
    ) -> None:
        self.source = source
        self.history = history
        self.healer = healer
        self.events = events or EventLog()
        self.busy_since: float | None = None
        """Monotonic time the running step started, None between steps (a step that never ends shows here)."""
        self._lock = asyncio.Lock()
        self._noted: list[Event] = []
        self._noted_lock = threading.Lock()

    def note(self, events: Iterable[Event]) -> None:
        """Events from outside a step (a person's action): told with the next step's snapshot, and to history."""
        events = list(events)
        with self._noted_lock:
            self._noted.extend(events)
        if self.history is not None:
            for event in events:
                if event.kind.startswith("action-"):
                    self.history.add_action(event.message)

    def step(self) -> Step:
        """One collection and what follows from it. Blocking: call it off the event loop."""
        snapshot = self.source.collect()
        with self._noted_lock:
            noted, self._noted = self._noted, []
        if noted:
            snapshot = replace(snapshot, events=snapshot.events + tuple(noted))
        history = None
        if self.history is not None:
            self.history.record(snapshot)
            history = self.history.status
            notices: list[str] = getattr(self.history, "take_notices", lambda: [])()
            if notices:
                told = tuple(Event(snapshot.taken_at, "history", "history", text, Level.WARNING) for text in notices)
                snapshot = replace(snapshot, events=snapshot.events + told)
        if self.healer is not None:
            healed = self.healer.heal(snapshot)
            if healed:
                snapshot = replace(snapshot, events=snapshot.events + healed)
                if self.history is not None:
                    for event in healed:
                        if not event.kind.startswith(NOT_ACTIONS):
                            self.history.add_action(event.message)
        self.events.add(snapshot.events)
        return Step(snapshot, history, self.events.recent())

    async def step_async(self) -> Step:
        """One step in a daemon thread (so a step that never returns cannot hold the process at exit)."""
        async with self._lock:
            self.busy_since = time.monotonic()
            try:
                return await in_daemon_thread(self.step, name="pixel-step")
            finally:
                self.busy_since = None

    async def run(
        self,
        deliver: Callable[[Step, bool], Awaitable[None] | None],
        *,
        interval: float | Callable[[], float],
        count: int | None = None,
        control: Control | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Step every `interval` seconds until `count` steps were delivered (forever when None).

        `deliver(step, forced)` gets each result; `forced` is True when it was asked for with
        `Control.step_now`. A step that raises goes to `on_error` (raised when there is none) and the
        loop goes on. The next step starts `interval` after the previous one started, or at once if
        that one took longer: a slow source stretches the period, steps never overlap. `Control.stop`
        ends the loop once the step under way is delivered.
        """
        control = control or Control()
        done = 0
        while (count is None or done < count) and not control.stopped:
            started = time.monotonic()
            forced = control.take_step()
            try:
                result = await self.step_async()
            except Exception as error:
                if on_error is None:
                    raise
                on_error(error)
            else:
                delivered = deliver(result, forced)
                if asyncio.iscoroutine(delivered):
                    await delivered
                done += 1
            if count is not None and done >= count:
                return
            period = interval() if callable(interval) else interval
            await control.sleep_until(started + period)
