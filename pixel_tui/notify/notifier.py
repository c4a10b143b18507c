"""The notifier: notices in, one daemon thread posting them to every webhook; nobody who tells one ever waits.

`notify` decides at once and returns: a person's own action is never told; a notice of the same kind on the same
target within `cooldown_s` of the last one is held back (counted, and said with the next one that passes); one
identical to a notice still waiting is not queued twice; a full queue drops it (counted, and said once). The
thread posts each notice to each webhook (pixel_tui.notify.sender: a timeout, bounded retries); a delivery that
fails is an event (`take_events`, which the console's events pane shows) and, headless, a line on stderr
(`on_failure`). Nothing here raises into the collection, the executor or the rules engine.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pixel_tui.model import Event, Level, utcnow
from pixel_tui.notify.config import NotifySettings
from pixel_tui.notify.notice import Notice
from pixel_tui.notify.sender import WebhookSender, where
from pixel_tui.remediate.model import AUTOHEAL

QUEUE_SIZE = 100
"""Notices waiting to be sent, at most; one more is dropped (and counted)."""
REMEMBERED = 1000
"""Kinds and targets whose cooldown is kept; past this, those whose cooldown is over are forgotten (targets come
and go: a host that spawns workers all day would otherwise grow this without end)."""


@dataclass
class NotifyCounts:
    """What became of the notices told so far."""

    queued: int = 0
    sent: int = 0
    """Deliveries a webhook took (one notice to two webhooks counts two)."""
    failed: int = 0
    """Deliveries that failed after their last attempt."""
    held: int = 0
    """Notices held back by the cooldown."""
    duplicates: int = 0
    """Notices identical to one still waiting, not queued again."""
    dropped: int = 0
    """Notices dropped because the queue was full."""
    persons: int = 0
    """Notices of a person's own action, never sent."""


class Notifier:
    """Queues notices and posts them from one daemon thread (started with the first notice)."""

    def __init__(
        self,
        settings: NotifySettings,
        *,
        host: str,
        sender: WebhookSender | None = None,
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.settings = settings
        self.host = host
        self.sender = sender or WebhookSender(timeout_s=settings.timeout_s, retries=settings.retries)
        self.on_failure = on_failure
        """Told each failure in words, from the sending thread (headless: a line on stderr)."""
        self.counts = NotifyCounts()
        self._clock = clock
        self._now = now
        self._queue: queue.Queue[Notice | None] = queue.Queue(maxsize=max(queue_size, 1))
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._waiting: set[tuple[str, str, str]] = set()
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self._events: list[Event] = []
        self._overflow_told = False
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def enabled(self) -> bool:
        """True when there is a webhook to send to."""
        return bool(self.settings.webhooks)

    def notify(
        self, kind: str, target: str, text: str, *, level: Level = Level.WARNING, actor: str | None = None
    ) -> bool:
        """Queue a notice; returns at once, True when it was queued (see the module's docstring for when not)."""
        if not self.enabled or self._closed:
            return False
        with self._lock:
            if actor is not None and actor != AUTOHEAL:  # what a person did by hand they know already
                self.counts.persons += 1
                return False
            key = (kind, target)
            moment = self._clock()
            last = self._last.get(key)
            if last is not None and moment - last < self.settings.cooldown_s:
                self._held[key] = self._held.get(key, 0) + 1
                self.counts.held += 1
                return False
            if (kind, target, text) in self._waiting:
                self.counts.duplicates += 1
                return False
            if len(self._last) >= REMEMBERED:
                self._forget(moment)
            notice = Notice(kind, target, text, level, self._now(), self.host, held=self._held.pop(key, 0))
            try:
                self._queue.put_nowait(notice)
            except queue.Full:
                self.counts.dropped += 1
                self._held[key] = notice.held  # still owed to the next one that passes
                tell, self._overflow_told = not self._overflow_told, True
            else:
                self._last[key] = moment
                self._waiting.add((kind, target, text))
                self.counts.queued += 1
                self._start()
                return True
        if tell:
            self._fail(f"{self._queue.maxsize} notifications wait already (the webhooks are slow or down); new "
                       "ones are dropped and counted until they catch up")  # fmt: skip
        return False

    def _forget(self, moment: float) -> None:
        """Drop the cooldowns that are over (and what they held back: its notice will not come)."""
        for key in [key for key, last in self._last.items() if moment - last >= self.settings.cooldown_s]:
            del self._last[key]
        for key in [key for key in self._held if key not in self._last]:
            del self._held[key]

    @property
    def remembered(self) -> int:
        """Kinds and targets whose cooldown is kept (bounded: see REMEMBERED)."""
        with self._lock:
            return len(self._last) + len(self._held)

    def take_events(self) -> tuple[Event, ...]:
        """The failure events since last asked (the console adds them to the next collection's events)."""
        with self._lock:
            events, self._events = tuple(self._events), []
        return events

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued notice was delivered or failed, at most `timeout` s; True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._waiting or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 0.0) -> None:
        """Take no more notices; give those waiting at most `timeout` s to go out (the thread is a daemon: a
        webhook that never answers holds no exit)."""
        self._closed = True
        if timeout > 0:
            self.wait(timeout)
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    # -- the sending thread ----------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pixel-notify", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is None:
                return
            with self._lock:
                self._busy += 1
            try:
                for url in self.settings.webhooks:
                    self._deliver(url, notice)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._waiting.discard((notice.kind, notice.target, notice.text))
                    if self._queue.empty():
                        self._overflow_told = False
                    self._idle.notify_all()

    def _deliver(self, url: str, notice: Notice) -> None:
        try:
            error = self.sender.send(url, notice)
        except Exception as crash:  # noqa: BLE001 - never expected: the sender reports, it does not raise
            error = f"{where(url)}: {type(crash).__name__}: {crash}"
        with self._lock:
            if error is None:
                self.counts.sent += 1
                return
            self.counts.failed += 1
        self._fail(f"the {notice.kind} notice on {notice.target} was not delivered: {error}")

    def _fail(self, text: str) -> None:
        event = Event(self._now(), "notify-failed", "notify", f"notify: {text}", Level.WARNING)
        with self._lock:
            self._events.append(event)
            del self._events[:-QUEUE_SIZE]  # nobody reading (a headless loop): keep only the latest
        if self.on_failure is not None:
            with contextlib.suppress(Exception):  # a closed stderr stops nothing
                self.on_failure(event.message)
