"""`HistoryRecorder`: what the cycle pipeline calls each collection to keep the history, and never fails on it.

The console and `watch --plain` feed it every snapshot; it aggregates them (`CycleAggregator`) and
writes each closed cycle to the store. When the store cannot be written (locked, read-only, full
disk) the closed cycles wait in memory, up to `PENDING_LIMIT`, and are written, in order and with
their numbers then allocated, once the store works again; meanwhile `status` says
`history unavailable: <why>` for the status line. Nothing here raises into the collection loop.
Each closed cycle gets its method in the operator's words (`history.methods`: Crisis, Attempt, Miracle, Learned).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pixel_tui.history.aggregate import CycleAggregator, boot_clock
from pixel_tui.history.methods import method_of
from pixel_tui.history.model import Cycle
from pixel_tui.history.store import HistoryStore, HistoryUnavailable
from pixel_tui.model import Level, Snapshot
from pixel_tui.settings import HistorySettings

PENDING_LIMIT = 1440
"""Closed cycles kept in memory while the store is unavailable (a day of 60 s cycles); older ones are lost."""
SESSION_LIMIT = 720
"""This session's cycles kept for `recent` when the store cannot be read."""


class HistoryRecorder:
    """Samples in, cycles out to the store; `status` while the store is unavailable.

    Thread-safe: `record` runs in the collection worker, `add_action` wherever an action completes.
    """

    def __init__(
        self,
        path: str | Path,
        settings: HistorySettings | None = None,
        *,
        clock: Callable[[], float] = boot_clock,
        store: HistoryStore | None = None,
    ) -> None:
        settings = settings or HistorySettings()
        self.store = store or HistoryStore.for_settings(path, settings)
        """Where closed cycles go."""
        self._aggregator = CycleAggregator(settings.cycle_s, clock)
        self._pending: deque[Cycle] = deque()
        self._session: deque[Cycle] = deque(maxlen=SESSION_LIMIT)
        self._lost = 0
        self._closed = 0
        self._notices: list[str] = []
        self._status: str | None = None
        self._lock = threading.Lock()
        self._previous_level: Level | None = None
        """The level of the cycle closed before (read from the store for the first: `_previous_read`)."""
        self._previous_read = False

    def record(self, snapshot: Snapshot) -> Cycle | None:
        """Aggregate one snapshot; the cycle it closed (numbered once written, else `cycle` None), or None."""
        closed = self._aggregator.add(snapshot)
        return None if closed is None else self._write(self._method(closed))

    def add_action(self, text: str) -> None:
        """Note an action taken now, e.g. `worker.kill pixel-worker-3f2a9c1d ok`, in the open cycle."""
        self._aggregator.add_action(text)

    def flush(self) -> Cycle | None:
        """Close and write the open cycle at its last sample (the console is quitting)."""
        closed = self._aggregator.flush()
        return None if closed is None else self._write(self._method(closed))

    @property
    def status(self) -> str | None:
        """`history unavailable: <why>` while closed cycles cannot be written; None when all is well."""
        with self._lock:
            if self._status is None:
                return None
            waiting = len(self._pending)
            lost = f", {self._lost} lost" if self._lost else ""
            return f"{self._status} ({waiting} cycle{'' if waiting == 1 else 's'} waiting{lost})"

    @property
    def closed(self) -> int:
        """Cycles this recorder closed so far, written or waiting: a reader of `recent` compares it to read again
        only when it changed (the console's sparkline does, on every collection). Read without the lock, which a
        write holds for up to the store's busy timeout: the UI thread asks, and an int is read whole."""
        return self._closed

    @property
    def pending(self) -> int:
        """Closed cycles waiting in memory for the store."""
        with self._lock:
            return len(self._pending)

    def take_notices(self) -> list[str]:
        """One-time messages for the events pane (a corrupt store moved aside), each returned once."""
        with self._lock:
            notices = self.store.notices + self._notices
            self.store.notices, self._notices = [], []
            return notices

    def recent(self, count: int) -> list[Cycle]:
        """The latest `count` cycles, own and imported, oldest first; this session's alone when the store fails.

        Cycles still waiting for the store come last, without a number.
        """
        with self._lock:
            pending = list(self._pending)
            if self._status is None:
                try:
                    stored = self.store.recent(count)
                except HistoryUnavailable:
                    stored = [cycle for cycle in self._session if cycle.cycle is not None]
            else:
                stored = [cycle for cycle in self._session if cycle.cycle is not None]
        cycles = stored + pending
        return cycles[-count:] if count > 0 else []

    def close(self) -> None:
        """Write the open cycle and release the store."""
        self.flush()
        self.store.close()

    def _method(self, closed: Cycle) -> Cycle:
        """`closed` with its method in the report's words, read against the cycle before it."""
        if not self._previous_read:
            self._previous_read = True
            try:
                stored = self.store.recent(1)
            except HistoryUnavailable:
                stored = []
            self._previous_level = stored[-1].level if stored else None
        previous, self._previous_level = self._previous_level, closed.level
        return replace(closed, method=closed.method or method_of(closed, previous))

    def _write(self, closed: Cycle) -> Cycle:
        """Write what waits, oldest first, then `closed`; `closed` numbered if it was written."""
        with self._lock:
            self._closed += 1
            self._pending.append(closed)
            while len(self._pending) > PENDING_LIMIT:
                self._pending.popleft()
                self._lost += 1
            result = closed
            try:
                while self._pending:
                    head = self._pending[0]
                    try:
                        numbered = self.store.add_own(head)
                    except HistoryUnavailable:
                        raise
                    except Exception as error:  # a bug must not stop the collection, nor block every later cycle
                        self._pending.popleft()
                        self._lost += 1
                        raise HistoryUnavailable(f"internal error: {type(error).__name__}: {error}") from error
                    self._pending.popleft()
                    self._session.append(numbered)
                    if head is closed:
                        result = numbered
                if self._lost:
                    self._notices.append(f"history: {self._lost} cycles were lost while the store was unavailable")
                self._status = None
                self._lost = 0
            except HistoryUnavailable as error:
                self._status = str(error)
            return result
