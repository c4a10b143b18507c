"""The demo's world through the real collector, executor, autoheal and history: the arc of the operator's report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pixel_tui.demo.run import build_demo
from pixel_tui.model import GHOST, ORPHAN, Level
from pixel_tui.pipeline import Pipeline
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.remediate.model import outcome_event
from pixel_tui.rules.learning import PROPOSED, SWITCHED_ON
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


def test_the_world_keeps_producing_stuck_workers(tmp_path):
    """Five cycles after the last stuck worker is gone another hangs past its timeout; swap is critical again from
    the next cycle until it is gone."""
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    clock.at(14)
    first = demo.collector.collect()
    plan = demo.executor.plan("worker.kill", first, first.timed_out[0].container_id)
    assert demo.executor.execute(plan, actor="tester")[0].ok
    seen = {}
    for cycle in range(14, 23):
        clock.at(cycle, 2.0)
        snapshot = demo.collector.collect()
        seen[cycle] = ([w.container for w in snapshot.timed_out], snapshot.levels.swap)
    assert all(not seen[cycle][0] for cycle in range(14, 19))
    (name,) = seen[19][0]
    assert name != "pixel-worker-3f2a9c1d" and name.startswith("pixel-worker-")
    assert seen[20] == ([name], Level.CRITICAL) and seen[21][1] is Level.CRITICAL


def test_the_demo_s_past_is_in_its_audit_log_and_history(tmp_path):
    """Four kills by hand under swap pressure, written by the executor, each with its cycle and the one after it."""
    demo = build_demo(Settings(), tmp_path, clock=Clock(), past=True)
    records, _ = demo.executor.backends.audit.read()
    assert [(r["actor"], r["action"], r["step"], r["outcome"]) for r in records] == [
        ("ops@pixel-vps-01", "worker.kill", "kill-worker", "ok")
    ] * 4
    assert all(r["context"]["host"]["levels"]["swap"] == "critical" for r in records), records[0]["context"]
    cycles = demo.history.recent(20)
    assert [c.cycle for c in cycles] == list(range(1, 14))
    assert [c.method for c in cycles[:8]] == ["Attempt", "Miracle"] * 4
    assert {s.rule.id: s.rule.state.value for s in demo.rules.statuses()}["builtin-kill-timed-out"] == "off"
    assert not [s for s in demo.rules.statuses() if s.rule.state.value == "proposed"]  # four: one short


def test_cycle_17_the_host_learns_the_operators_kill(tmp_path):
    """The fifth kill by hand makes the proposal; promoted twice, autoheal turns on and kills the next stuck worker
    by that rule, the verdict is recovered, and the history's methods read like the report."""
    clock = Clock()
    start = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    demo = build_demo(Settings(), tmp_path, clock=clock, wall=lambda: start + timedelta(seconds=clock()), past=True)
    pipeline = Pipeline(demo.collector, history=demo.history, healer=demo.autoheal)
    told = []

    def step(cycle: int, second: float) -> None:
        clock.at(cycle, second)
        told.extend(pipeline.step().snapshot.events)
        demo.autoheal.wait(10)

    step(14, 1.0)
    snapshot = demo.collector.collect()
    plan = demo.executor.plan("worker.kill", snapshot, snapshot.timed_out[0].container_id)
    pipeline.note([outcome_event(demo.executor.execute(plan, actor="ops@pixel-vps-01")[0], actor="ops@pixel-vps-01")])
    step(14, 3.0)
    (proposal,) = [e for e in told if e.kind == PROPOSED]
    (rule,) = [s.rule for s in demo.rules.statuses() if s.rule.state.value == "proposed"]
    assert (rule.when, rule.do) == ("kind == 'worker' and timed_out and host.swap.level >= critical", "worker.kill")
    assert proposal.message.startswith(
        "pixel-tui proposes a rule: kill-timed-out-workers-swap: you killed timed-out workers 5 times in 2 days, "
        "all of them with swap critical; 4 of 4 recovered within 1 cycle"
    )
    assert demo.rules.promote("kill-timed-out-workers-swap").endswith("promote again to enable)")
    assert "shadow -> enabled" in demo.rules.promote("kill-timed-out-workers-swap")
    assert not demo.autoheal.enabled
    step(14, 5.0)
    assert demo.autoheal.enabled and any(e.kind == SWITCHED_ON for e in told)
    for cycle in range(14, 24):
        for second in (7.0, 10.0) if cycle == 14 else (1.0, 5.0, 9.0):
            step(cycle, second)
    records, _ = demo.executor.backends.audit.read()
    (learned, *_) = [r for r in records if r.get("rule") == "kill-timed-out-workers-swap"]
    assert learned["actor"] == "autoheal" and learned["step"] == "kill-worker" and learned["outcome"] == "ok"
    assert learned["verdict"] == "recovered" and learned["target"]["name"] != "pixel-worker-3f2a9c1d"
    messages = [e.message for e in told]
    assert any(m.startswith("autoheal: kill-worker ") and m.endswith("(rule kill-timed-out-workers-swap)")
               for m in messages)  # fmt: skip
    assert any("recovered" in m and "rule kill-timed-out-workers-swap" in m for m in messages)
    methods = {c.cycle: c.method for c in demo.history.recent(40)}
    assert methods[14] == "Attempt" and methods[16] == "Miracle"
    assert "Learned" in [methods.get(number) for number in range(17, 24)], methods
    assert not any("proposes" in action for c in demo.history.recent(40) for action in c.actions)


def test_with_autoheal_from_the_start_the_built_in_kill_stays_on(tmp_path):
    """`pixel-tui demo --autoheal`: the built-in policy whole, as before; without it the kill is off (the story)."""
    on = build_demo(replace(Settings(), autoheal=AutohealSettings(enabled=True)), tmp_path / "on", clock=Clock())
    off = build_demo(Settings(), tmp_path / "off", clock=Clock())
    assert on.autoheal.enabled and not off.autoheal.enabled
    states = {"on": {s.rule.id: s.rule.state.value for s in on.rules.statuses()},
              "off": {s.rule.id: s.rule.state.value for s in off.rules.statuses()}}  # fmt: skip
    assert states["on"]["builtin-kill-timed-out"] == "enabled" and states["off"]["builtin-kill-timed-out"] == "off"


def test_a_log_grown_by_another_process_is_mined_within_the_mining_period_not_each_collection(tmp_path):
    """Mining reads the whole audit log and history: after a person's action in this console at once, otherwise
    (autoheal's own lines, `pixel-tui act` in another shell) once per MINE_EVERY_S."""
    from pixel_tui.remediate.executor import Executor
    from pixel_tui.rules.learning import MINE_EVERY_S

    clock = Clock()
    start = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    demo = build_demo(Settings(), tmp_path, clock=clock, wall=lambda: start + timedelta(seconds=clock()), past=True)
    pipeline = Pipeline(demo.collector, history=demo.history, healer=demo.autoheal)
    clock.at(14, 1.0)
    pipeline.step()
    elsewhere = Executor(demo.executor.settings, demo.executor.backends, read_only=False, clock=demo.executor._clock)
    snapshot = demo.collector.collect()
    plan = elsewhere.plan("worker.kill", snapshot, snapshot.timed_out[0].container_id)
    assert elsewhere.execute(plan, actor="ops@other-shell")[0].outcome == "ok"  # the fifth kill, not told here
    clock.at(14, 3.0)
    assert not [e for e in pipeline.step().snapshot.events if e.kind == PROPOSED]
    assert not [s for s in demo.rules.statuses() if s.rule.state.value == "proposed"]
    clock.now += MINE_EVERY_S
    proposed = [e for e in pipeline.step().snapshot.events if e.kind == PROPOSED]
    assert [e.target for e in proposed] == ["kill-timed-out-workers-swap"]
