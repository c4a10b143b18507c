"""Liveness on probes that are real functions in real threads: answered, refused, silent (no engine needed)."""

from __future__ import annotations

import threading
import time

from pixel_tui.collect.liveness import Liveness
from pixel_tui.engine.client import describe_error, request_timeout, timed_out


class Engine:
    """What the probe asks: it answers, refuses at once, or says nothing until released."""

    def __init__(self) -> None:
        self.mode = "answers"
        self.released = threading.Event()
        self.asked = 0

    def probe(self) -> None:
        self.asked += 1
        if self.mode == "refuses":
            raise ConnectionRefusedError("Connection refused")
        if self.mode == "silent" and not self.released.wait(5):
            raise TimeoutError("timed out")


def liveness(engine: Engine, timeout: float = 0.3) -> Liveness:
    return Liveness(
        engine.probe, timeout=timeout, describe=lambda error: describe_error(error, "unix:///x.sock"), hung=timed_out
    )


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_request_timeout_is_three_quarters_of_the_interval_from_1_to_5_s_and_5_s_over_ssh():
    assert request_timeout(2.0, "unix:///x.sock") == 1.5
    assert request_timeout(0.5, "unix:///x.sock") == 1.0
    assert request_timeout(60.0, "tcp://10.0.0.1:2375") == 5.0
    assert request_timeout(1.0, "ssh://me@host") == 5.0


def test_a_probe_unanswered_past_the_timeout_is_down_at_the_next_check_without_waiting():
    engine = Engine()
    alive = liveness(engine)
    try:
        assert alive.check() is None  # starts the first probe
        wait_until(lambda: alive._running is not None and alive._running.done.is_set())
        engine.mode = "silent"
        assert alive.check() is None  # the answered probe; a new one starts and hangs
        time.sleep(alive.timeout + 0.05)
        started = time.monotonic()
        assert alive.check() == "no answer from /x.sock (timed out)"
        assert time.monotonic() - started < 0.05, "a silent engine is not waited on"
        asked = engine.asked
        assert alive.check() is not None and engine.asked == asked, "one probe at a time"
        engine.released.set()  # thawed: the probe in flight answers
        wait_until(lambda: alive.check() is None)
    finally:
        engine.released.set()
        alive.close()


def test_after_a_refusal_a_check_waits_for_its_probe_so_an_engine_back_is_seen_at_once():
    engine = Engine()
    engine.mode = "refuses"
    alive = liveness(engine)
    try:
        reason = alive.failed(ConnectionRefusedError("Connection refused"))
        assert reason == "connection refused by /x.sock (is dockerd running?)"
        assert alive.check() == reason
        engine.mode = "answers"
        wait_until(lambda: alive._running is None or alive._running.done.is_set())
        assert alive.check() is None, "the probe this check started was waited for: back in this collection"
    finally:
        alive.close()


def test_a_probe_begun_before_a_failure_does_not_bring_the_engine_back():
    gates = [threading.Event(), threading.Event()]
    calls = iter(gates)

    def probe() -> None:
        gate = next(calls)
        if not gate.wait(5):
            raise TimeoutError("timed out")

    alive = Liveness(probe, timeout=5.0, describe=lambda error: describe_error(error, "unix:///x.sock"), hung=timed_out)
    try:
        alive.check()  # the first probe is in flight
        reason = alive.failed(TimeoutError("timed out"))  # a collection's request timed out; a second probe starts
        gates[0].set()  # the first probe answers, but it was asked before the failure
        time.sleep(0.05)
        assert alive.check() == reason == "no answer from /x.sock (timed out)"
        gates[1].set()  # the probe asked after the failure answers
        wait_until(lambda: alive.check() is None)
    finally:
        for gate in gates:
            gate.set()
        alive.close()


def test_closed_it_starts_no_probe():
    engine = Engine()
    alive = liveness(engine)
    alive.close()
    alive.check()
    alive.check()
    assert engine.asked == 0 and alive.probes == 0
