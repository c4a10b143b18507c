"""Whether the engine answers, found out beside the collections: a frozen engine never holds one up.

Two gaps this closes. A local engine whose event stream is healthy is not asked anything between two
lists (README "How it collects"), and an event stream has no heartbeat: a dockerd that stops answering
(SIGSTOP, a deadlock, a host deep in swap) keeps its stream open and says nothing, so the console read
`docker=ok` until the next list. And once a request had timed out, every collection connected again and
waited out its own timeout while the engine stayed silent.

So a quiet collection starts a `_ping` in a thread of its own and reads the previous one's answer: a
ping unanswered after the request timeout makes the engine unreachable at the next collection, which
is within two intervals of the freeze when the timeout is shorter than the interval
(`engine.client.request_timeout`). While the engine is down no collection asks it anything: a probe
(connect, then ping) runs beside them, one at a time, and the first answer brings the engine back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class _Probe:
    """One probe in its thread: when it began, and how it ended."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.done = threading.Event()
        self.error: BaseException | None = None


class Liveness:
    """The engine's last known answer: None while it answers, else the reason it is taken for unreachable."""

    def __init__(
        self,
        probe: Callable[[], object],
        *,
        timeout: float,
        describe: Callable[[BaseException], str],
        hung: Callable[[BaseException], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`probe` asks the engine (raises when it does not answer); `describe` and `hung` read its failure."""
        self._probe = probe
        self.timeout = timeout
        """Seconds a probe may go unanswered before the engine is taken for unreachable."""
        self._describe = describe
        self._hung = hung
        self._clock = clock
        self._lock = threading.Lock()
        self._running: _Probe | None = None
        self._reason: str | None = None
        self._silent = False  # the engine is down because it did not answer (not because it refused)
        self._closed = False
        self.probes = 0
        """How many probes were started (the tests read it)."""

    @property
    def down(self) -> str | None:
        """Why the engine is taken for unreachable; None while it answers."""
        return self._reason

    def check(self) -> str | None:
        """The engine's state as the probes found it, a new probe started when none is running. Never blocks
        for long: while the engine is down after a refusal, waits for the probe (it answers either way, at
        once); while it is silent, does not wait at all."""
        with self._lock:
            self._harvest()
            probe = self._running
            if probe is not None and self._reason is None and self._clock() - probe.started > self.timeout:
                # Its own timeout should have ended it by now; not having heard is enough to say so.
                self._fail(TimeoutError("timed out"))
            if probe is None:
                probe = self._start()
            wait = 0.0 if self._reason is None or self._silent else self.timeout
        if wait and probe is not None and probe.done.wait(wait):
            with self._lock:
                self._harvest()
        return self._reason

    def failed(self, error: BaseException) -> str:
        """A request of a collection failed: down until a probe gets an answer. Returns the reason.

        A probe begun before the failure says nothing about after it: it is forgotten, a new one starts.
        """
        with self._lock:
            reason = self._fail(error)
            self._running = None
            self._start()
        return reason

    def close(self) -> None:
        """Start no more probes (one running ends within its request timeout)."""
        with self._lock:
            self._closed = True

    def _fail(self, error: BaseException) -> str:
        self._reason = self._describe(error)
        self._silent = self._hung(error)
        return self._reason

    def _harvest(self) -> None:
        """Take the finished probe's answer (with the lock held)."""
        probe = self._running
        if probe is None or not probe.done.is_set():
            return
        self._running = None
        if probe.error is None:
            self._reason, self._silent = None, False
        else:
            self._fail(probe.error)

    def _start(self) -> _Probe | None:
        """Start a probe in a daemon thread (with the lock held): a frozen engine must not hold up an exit."""
        if self._closed:
            return None
        probe = _Probe(self._clock())

        def run() -> None:
            try:
                self._probe()
            except Exception as error:  # noqa: BLE001 - any failure is the answer
                probe.error = error
            finally:
                probe.done.set()

        self._running = probe
        self.probes += 1
        thread = threading.Thread(target=run, name="pixel-docker-probe", daemon=True)
        thread.start()
        return probe
