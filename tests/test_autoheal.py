"""Autoheal over several collections on the real test engine: grace, once per change, budget, opt-out, read-only."""

from __future__ import annotations

import time
from dataclasses import replace

from pixel_tui.pipeline import Pipeline
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.settings import AutohealSettings
from tests.remediation import bench
from tests.test_remediate_engine import STUCK_TASK, stuck_ledger, timed_out_worker


def test_a_stuck_worker_is_killed_once_and_only_after_the_startup_grace(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=2))
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        for _ in range(2):
            pipeline.step()
            autoheal.wait(10)
            assert engine.client.containers.get(container.id).status == "running", "nothing during the grace"
        pipeline.step()  # hands the kill to the pool and returns: the collection never waits for it
        autoheal.wait(20)
        fourth = pipeline.step()  # tells what finished
        fifth = pipeline.step()
    finally:
        b.close()
    assert container.id not in {c.id for c in engine.client.containers.list(all=True)}
    assert [e.message for e in fourth.snapshot.events if e.kind == "action-ok"] == [
        f"autoheal: kill-worker pixel-worker-3f2a9c1d ({container.id[:12]}): done"
    ]
    assert not [e for e in fifth.snapshot.events if e.kind.startswith("action-")]
    (record,) = b.audit_lines()
    assert record["actor"] == "autoheal" and record["outcome"] == "ok" and record["reason"].startswith("autoheal:")
    # Issue 16: its rule, and its verdict (the worker gone at the next collection: recovered), told on its record.
    assert record["rule"] == "builtin-kill-timed-out" and record["verdict"] == "recovered"
    assert b.task(STUCK_TASK)["status"] == "aborted"
    assert autoheal.state.actions == 1 and not autoheal.state.given_up


def test_a_target_that_keeps_failing_is_given_up_after_its_budget(engine, tmp_path):
    engine.lacks("health_checks")
    sick = engine.run(
        "sleep 600",
        name="api",
        labels={"pixel.autoheal": "true"},
        healthcheck={"test": ["CMD", "false"], "interval": 300_000_000, "timeout": 200_000_000, "retries": 1},
    )
    b = bench(engine.url, tmp_path, stop_grace_s=0.0)
    policy = AutohealSettings(enabled=True, startup_cycles=0, unhealthy_grace_s=0.0, budget_actions=2)
    autoheal = Autoheal(b.executor, policy)
    pipeline = Pipeline(b.collector, healer=autoheal)
    events = []
    deadline = time.monotonic() + 60
    try:
        while "api" not in autoheal.state.given_up.values() and time.monotonic() < deadline:
            events += pipeline.step().snapshot.events
            time.sleep(0.3)
    finally:
        b.close()
    # Keyed by rule and target now: one target may be acted on by several rules, each under its own budget.
    assert autoheal.state.given_up == {f"builtin-restart-unhealthy@container:{sick.id}": "api"}, [
        e.message for e in events
    ]
    restarts = [e for e in events if e.kind == "action-ok"]
    assert len(restarts) == 2 and all("restart api" in e.message for e in restarts)
    (gave_up,) = [e for e in events if e.kind == "autoheal-gave-up"]
    assert gave_up.message.startswith("autoheal gave up on api: 2 actions in 30 minutes did not resolve it")
    records = b.audit_lines()
    assert [r["outcome"] for r in records] == ["ok", "ok", "refused"]
    assert records[-1]["error"].startswith("autoheal gave up on api")
    assert engine.client.containers.get(sick.id).status == "running"  # still there: a person's call now


def test_an_opted_out_worker_and_a_read_only_console_are_left_alone(engine, tmp_path):
    opted_out = timed_out_worker(engine, name="pixel-worker-0000000e", **{"pixel.autoheal": "false"})
    b = bench(engine.url, tmp_path, ahead_s=1.3)
    try:
        autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
        healed = Pipeline(b.collector, healer=autoheal).step()
    finally:
        b.close()
    assert not [e for e in healed.snapshot.events if e.kind.startswith("action-")]
    assert engine.client.containers.get(opted_out.id).status == "running" and b.audit_lines() == []

    stuck = timed_out_worker(engine)
    (tmp_path / "ro").mkdir()
    ro = bench(engine.url, tmp_path / "ro", stuck_ledger(), read_only=True, ahead_s=1.3)
    try:
        autoheal = Autoheal(ro.executor, AutohealSettings(enabled=False, startup_cycles=0))
        assert autoheal.toggle() is False and not autoheal.enabled  # cannot be turned on read-only
        forced = Autoheal(ro.executor, replace(AutohealSettings(), enabled=True, startup_cycles=0))
        pipeline = Pipeline(ro.collector, healer=forced)
        pipeline.step()  # heal --read-only: plans and audits refusals
        forced.wait(10)
        step = pipeline.step()
    finally:
        ro.close()
    assert engine.client.containers.get(stuck.id).status == "running"
    refused = [e for e in step.snapshot.events if e.kind == "action-refused"]
    assert refused and all("read-only" in e.message for e in refused)
    assert {r["outcome"] for r in ro.audit_lines()} == {"refused"}


def test_what_it_remembers_of_targets_that_come_and_go_stays_bounded(engine, tmp_path):
    """Issue 14, flat over hours: each worker killed leaves nothing behind once the budget window has passed."""
    b = bench(engine.url, tmp_path, stop_grace_s=0.0)
    now = [1000.0]
    policy = AutohealSettings(enabled=True, startup_cycles=0, budget_window_s=60.0)
    autoheal = Autoheal(b.executor, policy, clock=lambda: now[0])
    pipeline = Pipeline(b.collector, healer=autoheal)
    try:
        for turn in range(4):
            worker = engine.run("sleep 600", name=f"pixel-worker-0000aa0{turn}", labels={"pixel.timeout": "1"})
            deadline = time.monotonic() + 30
            while worker.id in {c.id for c in engine.client.containers.list(all=True)}:
                assert time.monotonic() < deadline, f"round {turn}: the timed-out worker was never killed"
                pipeline.step()
                autoheal.wait(10)
                now[0] += 1.0
            pipeline.step()  # tells the kill
            assert autoheal.remembered == 1, "within the window its attempt is kept: the budget holds across a flap"
            now[0] += 61.0
            pipeline.step()
            assert autoheal.remembered == 0, f"round {turn}: a gone target is still remembered"
    finally:
        b.close()
    assert autoheal.state.actions == 4 and not autoheal.state.given_up


def test_an_operators_rule_restarts_a_container_on_the_real_engine_and_sees_it_recover(engine, tmp_path):
    """Issue 16: a rule of the config's, read with its line, acts through the real executor on the private engine;
    the restart clears its condition (a fresh start), so the next collection gives the verdict `recovered`."""
    from pixel_tui.rules.grammar import parse_rules
    from pixel_tui.rules.sources import RuleSet

    web = engine.run("sleep 600", name="web-rule", labels={"tier": "web"})
    calm = engine.run("sleep 600", name="db-rule", labels={"tier": "db"})
    table = {"id": "restart-old-web", "when": "kind == 'container' and label.tier == 'web' and age_s >= 2s",
             "do": "container.restart", "budget": "1/1h", "scope": {"name": "web-*"}}  # fmt: skip
    rules, errors = parse_rules([table], source="config.toml", lines=[7])
    assert not errors
    b = bench(engine.url, tmp_path, stop_grace_s=0.0)
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0), rules=RuleSet(tuple(rules)))
    pipeline = Pipeline(b.collector, healer=autoheal)
    started = engine.client.containers.get(web.id).attrs["State"]["StartedAt"]
    events = []
    deadline = time.monotonic() + 40
    try:
        while not any(e.kind == "autoheal-recovered" for e in events) and time.monotonic() < deadline:
            events += pipeline.step().snapshot.events
            autoheal.wait(10)
            time.sleep(0.3)
    finally:
        b.close()
    assert engine.client.containers.get(web.id).attrs["State"]["StartedAt"] != started
    (restart,) = [r for r in b.audit_lines() if r.get("step") == "restart"]
    assert restart["rule"] == "restart-old-web" and restart["outcome"] == "ok" and restart["verdict"] == "recovered"
    assert restart["target"]["name"] == "web-rule" and calm.name == "db-rule"
    (status,) = autoheal.statuses()
    assert (status.actions, status.recoveries, status.budget_left) == (1, 1, 0)
