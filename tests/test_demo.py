"""The demo's world through the real collector, executor, autoheal and history: the arc of the operator's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixel_tui.demo.run import build_demo
from pixel_tui.model import GHOST, ORPHAN, Level
from pixel_tui.pipeline import Pipeline
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.settings import AutohealSettings, Settings

CYCLE_S = 12.0


class Clock:
    """The demo's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def at(self, cycle: int, second: float = 1.0) -> None:
        self.now = (cycle - 14) * CYCLE_S + second


def test_the_world_is_seen_by_the_real_rules(tmp_path):
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    clock.at(14)
    snapshot = demo.collector.collect()
    assert snapshot.host.swap.percent == 92.5 and snapshot.levels.swap is Level.CRITICAL
    assert snapshot.levels.memory is Level.WARNING and round(snapshot.host.memory.percent) == 89
    (stuck,) = snapshot.timed_out
    assert stuck.container == "pixel-worker-3f2a9c1d" and stuck.timeout_s == 2760.0  # env 2700 + 60 s of grace
    assert {w.phantom for w in snapshot.phantoms} == {GHOST, ORPHAN}
    assert snapshot.lock is not None and not snapshot.lock.stale  # the stuck worker holds it
    assert "pixel-worker-logs-1" not in {w.container for w in snapshot.workers}
    assert snapshot.levels.workers is Level.WARNING


def test_healed_during_cycle_15_the_swap_falls_as_in_the_report(tmp_path):
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    pipeline = Pipeline(demo.collector, history=demo.history)
    swaps = []
    for cycle in range(14, 19):
        clock.at(cycle)
        step = pipeline.step()
        swaps.append(step.snapshot.host.swap.percent)
        if cycle == 15:
            for action in ("workers.reap", "workers.resolve_phantoms"):  # each planned on what is there now
                plan = demo.executor.plan(action, demo.collector.collect())
                outcomes = demo.executor.execute(plan, actor="tester")
                assert all(outcome.ok for outcome in outcomes), [o.sentence() for o in outcomes]
        clock.at(cycle, 7.0)
        pipeline.step()
    assert swaps == [92.5, 82.1, 2.9, 0.0, 0.0]
    clock.at(19)
    last = pipeline.step().snapshot
    assert round(last.host.memory.percent) == 53 and last.levels.overall is Level.OK
    cycles = {cycle.cycle: cycle for cycle in demo.history.recent(20)}
    assert [cycles[number].swap_percent for number in range(14, 19)] == [92.5, 82.1, 2.9, 0.0, 0.0]
    assert [cycles[number].swap_percent for number in range(9, 14)] == [41.0, 55.3, 68.9, 79.4, 88.0]  # the seed
    records, _ = demo.executor.backends.audit.read()
    assert {record["step"] for record in records} == {"kill-worker", "abort-ghost", "remove-orphan", "clear-lock"}


def test_left_alone_it_stays_critical(tmp_path):
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    levels = []
    for cycle in range(14, 22):
        clock.at(cycle)
        levels.append(demo.collector.collect().levels.swap)
    assert levels == [Level.CRITICAL] * 8


def test_with_autoheal_on_it_heals_by_itself_to_every_level_ok(tmp_path):
    """The report's end state: the stuck worker, the orphan and the ghost dealt with, then the lock the stuck
    worker left behind cleared once stale past its grace; every level ok."""
    clock = Clock()
    start = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    demo = build_demo(Settings(), tmp_path, clock=clock, wall=lambda: start + timedelta(seconds=clock()))
    autoheal = Autoheal(demo.executor, AutohealSettings(enabled=True, startup_cycles=2))
    pipeline = Pipeline(demo.collector, history=demo.history, healer=autoheal)
    swaps = {}
    lock_stale = []
    for cycle in range(14, 20):
        for second in (1.0, 5.0, 9.0):
            clock.at(cycle, second)
            snapshot = pipeline.step().snapshot
            swaps[cycle] = snapshot.host.swap.percent
            lock_stale.append(bool(snapshot.lock and snapshot.lock.stale))
            autoheal.wait(10)  # actions run beside the collection; here, time passes once they are done
    assert swaps[14] == 92.5 and swaps[15] == 82.1 and swaps[16] == 2.9 and swaps[17] == 0.0
    assert autoheal.state.actions >= 4 and not autoheal.state.given_up
    assert any(lock_stale) and not lock_stale[-1]
    last = pipeline.step().snapshot
    assert not any(worker.timed_out or worker.phantom for worker in last.workers)
    assert last.lock is not None and last.lock.task_id is None
    assert last.levels.overall is Level.OK, last.levels
    records, _ = demo.executor.backends.audit.read()
    cleared = next(record for record in records if record["step"] == "clear-lock")
    assert cleared["actor"] == "autoheal" and cleared["outcome"] == "ok"
    assert cleared["context"]["target"]["stale_s"] >= CYCLE_S  # not before its grace


def test_a_read_only_demo_changes_nothing(tmp_path):
    clock = Clock()
    demo = build_demo(Settings(read_only=True), tmp_path, clock=clock)
    clock.at(14)
    snapshot = demo.collector.collect()
    outcomes = demo.executor.execute(demo.executor.plan("workers.reap", snapshot), actor="tester")
    assert [outcome.outcome for outcome in outcomes] == ["refused"]
    assert demo.collector.collect().timed_out
