"""Stopping pixel-tui while actions run: SIGTERM, SIGINT and the console's `q` all stop it the same way.

1. No new action begins: `Executor.stop` (the steps of a plan not begun yet are recorded as interrupted,
   not started) and `Autoheal.close` (what it had queued is dropped: nothing of it was done).
2. The actions in flight get until the shutdown bound to finish, counted from the stop: `shutdown_wait_s`,
   the stop grace plus `remediate.shutdown_margin_s` (10 + 5 = 15 s by default). A second signal (or a
   second `q`) ends the wait at once.
3. Each one still running then is recorded as interrupted (`Executor.interrupt`): its outcome line says
   which parts were done, which was under way (asked for, not confirmed) and which were never begun. Its
   thread is a daemon left waiting for the engine: it begins nothing more, writes nothing, holds no exit.
4. Every outcome is printed and flushed before exit, and the exit code is `EXIT_INTERRUPTED` (4) when
   something was interrupted or not started.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

from pixel_tui.remediate.attempt import shutdown_wait_s
from pixel_tui.remediate.model import Outcome

if TYPE_CHECKING:
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.executor import Executor

EXIT_INTERRUPTED = 4
"""`act` and `heal`: a stop cut an action short (or kept a step of it from starting); the audit log says how far."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stop(BaseException):
    """SIGTERM or SIGINT, raised in the main thread where it waits (as KeyboardInterrupt is for SIGINT)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name
        """The signal's name: SIGTERM or SIGINT."""


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGINT raise Stop in the main thread; outside the main thread, nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_stop(signum: int, frame: object) -> None:
        raise Stop(signal.Signals(signum).name)

    previous = {number: signal.signal(number, raise_stop) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def finish(
    executor: Executor, why: str, *, since: float, say: TextIO, autoheal: Autoheal | None = None
) -> tuple[Outcome, ...]:
    """Steps 1 to 3 above, `since` being the monotonic time of the stop; the outcomes recorded as interrupted."""
    executor.stop(why)
    if autoheal is not None:
        autoheal.close()
    bound = shutdown_wait_s(executor.settings.remediate)
    flying = executor.attempts.in_flight
    if flying:
        say.write(f"pixel-tui: {why}: finishing {flying} action{'s' if flying != 1 else ''}, at most {bound:g} s "
                  "(send it again to stop at once)\n")  # fmt: skip
        say.flush()
        with contextlib.suppress(Stop):  # a second signal: stop waiting, record what is left
            executor.attempts.drain(since + bound - time.monotonic())
    with _ignored_signals():  # the records being written must not be cut short by a third signal
        return executor.interrupt(why)


def run_stoppable(executor: Executor, work: Callable[[], object], *, say: TextIO) -> str | None:
    """Run `work` (which executes plans) in a daemon thread until it ends, or until SIGTERM or SIGINT, then
    `finish`; the signal's name when one came, else None."""
    ended = threading.Event()

    def run() -> None:
        try:
            work()
        finally:
            ended.set()

    with stop_signals():
        try:
            threading.Thread(target=run, name="pixel-act", daemon=True).start()
            ended.wait()  # not Thread.join: a signal raised in join marks a running thread as ended (3.11)
        except Stop as stop:
            finish(executor, stop.name, since=time.monotonic(), say=say)
            return stop.name
    return None


@contextlib.contextmanager
def _ignored_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
