"""A frozen engine (dockerd SIGSTOPped: its socket accepts, nothing answers) on a dedicated private engine.

Issue 14: such an engine read `docker=ok` for 30 s (a local engine with a healthy event stream is not
listed between reconciles, and a stream has no heartbeat), then every collection waited 5 s. Now every
request times out within the interval, a probe tells a silent engine, and while it stays silent no
collection waits on it. Each test freezes the engine of this module only (never the session's, which
other tests use) and thaws it in a `finally`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pixel_tui.collect import Collector
from pixel_tui.engine.client import request_timeout
from pixel_tui.model import Snapshot
from pixel_tui.settings import Settings
from tests.conftest import REQUIRE_DOCKER_ENV, _docker_required

pytestmark = pytest.mark.docker  # an engine of its own, not the `engine` fixture: marked here

INTERVAL_S = 2.0
"""The collection interval of these tests: its request timeout is 1.5 s."""
QUICK_S = 0.5
"""What a collection may take while the engine is known to be silent (it asks nothing, waits on nothing)."""
SLACK_S = 0.5
"""Scheduling on a 2-core machine shared with other test runs: added to the bounds measured in seconds."""


@pytest.fixture(scope="module")
def own() -> Iterator:
    """An engine for this module alone, with one running container; skipped (CI: failed) when none can run."""
    from tests.dockerd import EngineError, PrivateEngine, available

    reason = available()
    engine = PrivateEngine()
    if reason is None:
        try:
            engine.start()
        except EngineError as error:
            reason = f"the private Docker engine did not start: {error}"
    if reason is not None:
        if _docker_required():
            pytest.fail(f"{REQUIRE_DOCKER_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        engine.run("sleep 600", name="bystander")
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def frozen(own) -> Iterator[Callable[[], float]]:
    """`freeze()` SIGSTOPs the module's dockerd and returns when (monotonic); thawed after the test whatever happens."""

    def freeze() -> float:
        own.freeze_daemon()
        return time.monotonic()

    try:
        yield freeze
    finally:
        own.thaw_daemon()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.02)


def timed(collector: Collector) -> tuple[Snapshot, float]:
    started = time.monotonic()
    snapshot = collector.collect()
    return snapshot, time.monotonic() - started


def every_interval(
    collector: Collector, until: Callable[[Snapshot], bool], limit: int
) -> list[tuple[float, Snapshot, float]]:
    """Collect at a fixed rate as the pipeline does, until `until` holds: (start, snapshot, duration) each."""
    taken = []
    start = time.monotonic()
    for index in range(limit):
        time.sleep(max(0.0, start + index * INTERVAL_S - time.monotonic()))
        began = time.monotonic()
        snapshot, took = timed(collector)
        taken.append((began, snapshot, took))
        if until(snapshot):
            return taken
    raise AssertionError(
        f"not within {limit} collections: {[(s.docker.reachable, s.docker.error) for _, s, _ in taken]}"
    )


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet-stream", "listing-every-collection"])
def test_a_frozen_engine_is_unreachable_within_two_intervals_and_holds_no_collection_up(own, frozen, quiet):
    """Quiet: the local engine with a healthy stream is asked nothing but the probe; listing: every collection asks."""
    assert request_timeout(INTERVAL_S, own.url) == 1.5
    collector = Collector(Settings(docker_host=own.url, interval=INTERVAL_S))
    engine = collector._engine
    engine.quiet = quiet
    try:
        assert collector.collect().docker.reachable
        wait_until(lambda: engine._events is not None and engine._events.healthy, "the event stream connects")
        lists = engine.lists
        before, _ = timed(collector)
        assert before.docker.reachable and [c.name for c in before.containers] == ["bystander"]
        assert (engine.lists == lists) is quiet, "the quiet engine is not listed when nothing changed"
        # The freeze lands just after a collection, as it would in a running loop: the worst case.
        frozen_at = frozen()
        taken = every_interval(collector, lambda snapshot: not snapshot.docker.reachable, limit=4)
        began, lost, took = taken[-1]
        assert began + took - frozen_at <= 2 * INTERVAL_S + SLACK_S, "unreachable within two intervals"
        assert lost.docker.error == f"no answer from {own.socket_path} (timed out)", lost.docker.error
        assert [e.kind for e in lost.events if e.kind.startswith("engine")] == ["engine-lost"]
        assert lost.containers == () and lost.workers == ()
        # While it stays frozen, a collection asks nothing and waits on nothing.
        during = [timed(collector) for _ in range(3)]
        assert all(not snapshot.docker.reachable for snapshot, _ in during)
        assert max(took for _, took in during) < QUICK_S, [took for _, took in during]
        with pytest.raises(ConnectionError, match="engine unreachable: no answer from"):
            collector.detail(before.containers[0].id)  # the detail view says so at once, too
        own.thaw_daemon()
        thawed_at = time.monotonic()
        back = every_interval(collector, lambda snapshot: snapshot.docker.reachable, limit=4)
        began, again, took = back[-1]
        assert began + took - thawed_at <= 2 * INTERVAL_S + SLACK_S, "back by itself within two intervals"
        assert [e.kind for e in again.events if e.kind.startswith("engine")] == ["engine-back"]
        assert [c.name for c in again.containers] == ["bystander"]
    finally:
        collector.close()


def test_a_connection_made_while_frozen_times_out_and_the_next_collection_does_not_wait(own, frozen):
    """A collector that starts on a frozen engine: the first collection waits one request timeout, no more."""
    collector = Collector(Settings(docker_host=own.url, interval=INTERVAL_S))
    try:
        frozen()
        first, first_took = timed(collector)
        second, second_took = timed(collector)
    finally:
        collector.close()
    assert not first.docker.reachable and not second.docker.reachable
    assert "(timed out)" in first.docker.error and second.docker.error == first.docker.error
    # Connecting asks the engine's version: the first request times out (a second would double this).
    assert first_took < request_timeout(INTERVAL_S, own.url) + SLACK_S, first_took
    assert second_took < QUICK_S, second_took


def _engine_sockets(own) -> int:
    """Sockets dockerd holds open (its clients' connections among them)."""
    fds = Path(f"/proc/{own.pid}/fd")
    return sum(os.readlink(fd).startswith("socket:") for fd in fds.iterdir() if fd.is_symlink())


def _line_within(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else ""


def test_heal_every_says_when_a_frozen_engine_goes_and_comes_back(own, frozen):
    every = INTERVAL_S
    clients = _engine_sockets(own)
    heal = subprocess.Popen(
        [sys.executable, "-m", "pixel_tui", "heal", "--every", f"{every:g}", "--docker-host", own.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Its first collection is done once it holds two connections: the API's and the event stream.
        wait_until(lambda: _engine_sockets(own) >= clients + 2 or heal.poll() is not None, "heal connects")
        assert heal.poll() is None, heal.communicate()
        frozen_at = frozen()
        lost = _line_within(heal.stdout, 2 * every + SLACK_S)
        lost_after = time.monotonic() - frozen_at
        own.thaw_daemon()
        thawed_at = time.monotonic()
        back = _line_within(heal.stdout, 2 * every + SLACK_S)
        back_after = time.monotonic() - thawed_at
        heal.send_signal(signal.SIGTERM)
        rest, errors = heal.communicate(timeout=20)
    finally:
        if heal.poll() is None:
            heal.kill()
            heal.wait()
    assert lost.endswith(f" engine unreachable: no answer from {own.socket_path} (timed out)\n"), (lost, lost_after)
    assert lost_after <= 2 * every + SLACK_S
    assert back.endswith(" engine reachable again\n"), (back, back_after)
    assert rest == "" and errors == "" and heal.returncode == 0, (rest, errors, heal.returncode)


@pytest.mark.parametrize("command", [["snapshot", "--json", "--sample", "0.1"], ["heal"]], ids=["snapshot", "heal"])
def test_snapshot_and_heal_on_a_frozen_engine_exit_3_with_the_reason_within_a_bound(own, frozen, command, tmp_path):
    """Within one request timeout (1.5 s at the default interval) of the same command with no engine at all.

    The bound is relative: the interpreter's start alone took 2 to 4 s on the loaded test machine. Before,
    the frozen engine added 10 s (a 5 s timeout in each of the two collections).
    """
    from tests.test_cli import CALM, MISSING

    config = tmp_path / "calm.toml"
    config.write_text(CALM)  # the engine alone decides the exit code, whatever load this machine has

    def run(url: str) -> tuple[subprocess.CompletedProcess[str], float]:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pixel_tui", *command, "--config", str(config), "--docker-host", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result, time.monotonic() - started

    absent, baseline = run(MISSING)
    assert absent.returncode == 3, (absent.stdout, absent.stderr)
    frozen()
    result, took = run(own.url)
    reason = f"no answer from {own.socket_path} (timed out)"
    assert result.returncode == 3, (result.stdout, result.stderr)
    if command[0] == "snapshot":
        doc = json.loads(result.stdout)
        assert doc["docker"]["reachable"] is False and doc["docker"]["error"] == reason
    else:
        assert f"the engine cannot be asked: {reason}" in result.stderr, result.stderr
    assert took - baseline < request_timeout(Settings().interval, own.url) + 1.5, (took, baseline)


def test_remediation_reads_on_a_frozen_engine_fail_within_their_timeout(own, frozen):
    """The inspect that validates an action: refused within its request timeout, in one line, not after 30 s."""
    from pixel_tui.remediate.engine_ops import DockerOps, EngineError

    ops = DockerOps(own.url, request_timeout=request_timeout(INTERVAL_S, own.url))
    try:
        (bystander,) = [c for c in ops.containers() if c.name == "bystander"]
        frozen()
        started = time.monotonic()
        with pytest.raises(EngineError, match=rf"^inspect {bystander.id[:12]}: no answer from .* \(timed out\)$"):
            ops.inspect(bystander.id)
        took = time.monotonic() - started
    finally:
        ops.close()
    assert took < request_timeout(INTERVAL_S, own.url) + SLACK_S, took
