"""Quitting the console while actions run: `q` (or ctrl+q, SIGTERM, SIGINT) stops it as `heal` and `act` stop.

No new action begins (`Executor.stop`, `Autoheal.close`); the status line and a notification say
"finishing N action(s)..." while those in flight get until the shutdown bound (the stop grace plus
`remediate.shutdown_margin_s`) to finish; each one still running then is recorded as interrupted, with
the parts done and not done (pixel_tui/remediate/shutdown.py). A second `q` or signal stops waiting at once.
What was interrupted is printed once the terminal is back (`run_console`), and the exit code is 4.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import TYPE_CHECKING, Any

from pixel_tui.remediate.attempt import shutdown_wait_s
from pixel_tui.remediate.model import INTERRUPTED, Outcome, Plan
from pixel_tui.remediate.shutdown import EXIT_INTERRUPTED
from pixel_tui.threads import in_daemon_thread

if TYPE_CHECKING:
    from pixel_tui.remediate.executor import Executor
    from pixel_tui.wiring import ConsoleContext


class Quitting:
    """The app's quit: finish or record what is in flight first. A mixin of PixelApp (it uses exit, notify, screen)."""

    context: ConsoleContext
    screen: Any
    exit: Any
    notify: Any
    run_worker: Any

    def listen_for_interruptions(self) -> None:
        """Keep the outcomes recorded as interrupted, to be printed after the console ends."""
        self.interrupted: list[Outcome] = []
        """The steps a stop cut short or kept from starting, for `run_console` to print."""
        self.quitting: str | None = None
        """Why the console is quitting (q, SIGTERM, SIGINT) once it is; None while it runs."""
        self._again = asyncio.Event()
        if self.context.executor is not None:
            self.context.executor.listen(self._told)

    def _told(self, plan: Plan, outcome: Outcome, actor: str) -> None:
        if outcome.outcome == INTERRUPTED:
            self.interrupted.append(outcome)

    def handle_stop_signals(self) -> None:
        """SIGTERM and SIGINT quit as `q` does (the console run for real; tests leave the signals alone)."""
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, self.quit_for, number.name)

    async def action_quit(self) -> None:
        """Quit; actions in flight finish first, within the shutdown bound (q again: at once)."""
        self.quit_for("q")

    def quit_for(self, why: str) -> None:
        """Quit because of `why` (q, SIGTERM, SIGINT); a second call stops waiting for the actions in flight."""
        if self.quitting is not None:
            self._again.set()
            return
        self.quitting = why
        executor = self.context.executor
        if executor is None:
            self.exit(return_code=0)
            return
        executor.stop(why)
        if self.context.autoheal is not None:
            self.context.autoheal.close()
        flying = executor.attempts.in_flight
        if not flying:
            self._exit_after(executor.interrupt(why))
            return
        bound = shutdown_wait_s(executor.settings.remediate)
        text = f"finishing {flying} action{'s' if flying != 1 else ''}... (at most {bound:g} s; q again: stop at once)"
        self.notify(text, title="quitting", severity="warning", timeout=bound + 5)
        if hasattr(self.screen, "acting"):
            self.screen.acting = text
        self.run_worker(self._finish(executor, why, time.monotonic() + bound), name="quitting", group="quitting")

    async def _finish(self, executor: Executor, why: str, deadline: float) -> None:
        drained = asyncio.ensure_future(in_daemon_thread(lambda: executor.attempts.drain(deadline - time.monotonic())))
        again = asyncio.ensure_future(self._again.wait())
        await asyncio.wait([drained, again], return_when=asyncio.FIRST_COMPLETED)
        again.cancel()
        self._exit_after(executor.interrupt(why))

    def _exit_after(self, interrupted: tuple[Outcome, ...]) -> None:
        self.exit(return_code=EXIT_INTERRUPTED if self.interrupted or interrupted else 0)
