"""The actions autoheal has in flight: a small pool of threads, one action per key at a time.

The collection never waits for an action: autoheal hands each plan here and returns at once; what finished is
told with a later collection (`finished`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from pixel_tui.model import Event, Level, utcnow
from pixel_tui.threads import DaemonPool


class Flights:
    """Actions by key, run on `parallel` daemon threads."""

    def __init__(self, parallel: int) -> None:
        # Daemon threads: an action still waiting for the engine when a stop recorded it interrupted holds no exit.
        self._pool = DaemonPool(parallel, name="pixel-heal")
        self._futures: dict[str, Future[tuple[Event, ...]]] = {}
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Actions handed to the pool and not finished yet."""
        with self._lock:
            return sum(1 for future in self._futures.values() if not future.done())

    def keys(self) -> set[str]:
        """The keys of the actions not told yet (running or finished)."""
        with self._lock:
            return set(self._futures)

    def running(self) -> set[str]:
        """The keys of the actions not finished yet."""
        with self._lock:
            return {key for key, future in self._futures.items() if not future.done()}

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the actions in flight, at most `timeout` seconds (what finished is told by the next `heal`)."""
        with self._lock:
            futures = list(self._futures.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for future in futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                future.exception(timeout=remaining)
            except TimeoutError:
                break

    def close(self) -> None:
        """Start no more actions: those queued and not begun are dropped; those in flight go on."""
        self._pool.shutdown()

    def busy(self, key: str) -> bool:
        """True while an action of `key` runs."""
        with self._lock:
            future = self._futures.get(key)
            return future is not None and not future.done()

    def start(self, key: str, call: Callable[[], tuple[Event, ...]]) -> None:
        """Hand `call` to the pool under `key`, unless an action of that key still runs."""
        with self._lock:
            running = self._futures.get(key)
            if running is not None and not running.done():
                return
            with contextlib.suppress(RuntimeError):  # closed: the process is stopping
                self._futures[key] = self._pool.submit(call)

    def finished(self) -> tuple[Event, ...]:
        """The events of the actions that finished since last asked (`heal` asks first thing)."""
        with self._lock:
            done = {key: future for key, future in self._futures.items() if future.done()}
            for key in done:
                del self._futures[key]
        events: list[Event] = []
        for key, future in done.items():
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:  # never expected: the executor reports, it does not raise
                events.append(Event(utcnow(), "action-failed", key, f"autoheal: {key}: {error}", Level.WARNING))
                continue
            events.extend(future.result())
        return tuple(events)
