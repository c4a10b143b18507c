"""The bookkeeping a stop relies on, without an engine: parts done and not done, one outcome per attempt, daemon pools.

The engine-backed cases (a real stop waiting out its grace, the audit log, the exit codes) are in
tests/test_shutdown.py and tests/ui/test_ui_quit.py.
"""

from __future__ import annotations

import threading

import pytest

from pixel_tui.remediate.attempt import Attempt, Attempts, Flight, Interrupted, shutdown_wait_s
from pixel_tui.remediate.model import INTERRUPTED, Outcome, Plan, Step
from pixel_tui.settings import RemediateSettings
from pixel_tui.threads import DaemonPool

STEP = Step("kill-worker", None, "stop and remove w", "timed out")


def test_the_bound_is_the_stop_grace_plus_the_margin():
    assert shutdown_wait_s(RemediateSettings()) == 15.0
    assert shutdown_wait_s(RemediateSettings(stop_grace_s=3.0, shutdown_margin_s=0.5)) == 3.5


def test_an_interrupted_attempt_says_which_parts_were_done_under_way_and_not_begun():
    intents: list[tuple[str, ...]] = []
    attempt = Attempt(intents.append, STEP.what)
    attempt("stop w", "remove w", "mark task aborted")
    attempt("mark task aborted", "check w is gone")  # named again: recorded once, the new part added
    with attempt.part("stop w"):
        pass
    inside = threading.Event()
    release = threading.Event()

    def remove() -> None:
        with attempt.part("remove w"):
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=remove)
    thread.start()
    assert inside.wait(5)
    progress = attempt.interrupt()
    release.set()
    thread.join(5)
    assert intents == [("stop w", "remove w", "mark task aborted")]
    assert progress is not None and progress.intended
    assert (progress.done, progress.under_way) == (("stop w",), "remove w")
    assert progress.not_done == ("mark task aborted", "check w is gone")
    with pytest.raises(Interrupted), attempt.part("mark task aborted"):
        pass  # the stop closed it: nothing more begins
    assert not attempt.settle()  # and its thread writes no second outcome
    outcome = progress.outcome(STEP, "SIGTERM")
    assert outcome.outcome == INTERRUPTED and outcome.error == "pixel-tui was stopped (SIGTERM) before this finished"
    assert outcome.sentence().endswith(
        "done: stop w; under way: remove w (not confirmed); not done: mark task aborted, check w is gone"
    )


def test_an_attempt_that_finished_first_is_not_interrupted():
    attempt = Attempt(lambda parts: None, STEP.what)
    attempt("stop w")
    with attempt.part("stop w"):
        pass
    assert attempt.settle() and attempt.interrupt() is None


def test_an_attempt_stopped_while_it_checked_changed_nothing():
    attempt = Attempt(lambda parts: None, STEP.what)
    progress = attempt.interrupt()
    assert progress is not None and not progress.intended and progress.not_done == (STEP.what,)
    assert "while it checked the target: nothing was changed" in str(progress.outcome(STEP, "q").error)
    with pytest.raises(Interrupted):
        attempt("stop w")  # no intent is written after the stop


def test_drain_waits_for_the_attempts_in_flight_and_no_longer():
    attempts = Attempts()
    flight = Flight(Attempt(lambda parts: None, STEP.what), Plan("worker.kill", (STEP,), None, {}), STEP, "t", None,
                    "id")  # fmt: skip
    attempts.add(flight)
    assert attempts.in_flight == 1 and attempts.drain(0.05) is False
    threading.Timer(0.05, attempts.remove, (flight,)).start()
    assert attempts.drain(5) is True and attempts.in_flight == 0


def test_a_daemon_pool_runs_in_daemon_threads_and_drops_what_was_not_begun_when_shut_down():
    pool = DaemonPool(1, name="pixel-test")
    began, hold = threading.Event(), threading.Event()
    first = pool.submit(lambda: (threading.current_thread().daemon, began.set(), hold.wait(5))[0])
    queued = pool.submit(lambda: "never")
    assert began.wait(5)
    pool.shutdown()
    hold.set()
    assert first.result(5) is True
    assert queued.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_outcome_of_a_step_not_started():
    from pixel_tui.remediate.attempt import not_started

    outcome: Outcome = not_started(STEP, "SIGINT")
    assert outcome.sentence() == (
        "kill-worker host: interrupted: not started: pixel-tui was stopping (SIGINT); "
        "done: nothing; not done: stop and remove w"
    )
