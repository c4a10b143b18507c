"""Autoheal running rules, on the demo's simulated world through the real executor and audit log (issue 16).

Each guard rail is a test: a rule never acts in read-only, never beyond its budget or the host-wide cap, never
on a target a person acted on within the window; the short-circuit; recovered and not recovered; shadow rules.
Snapshots are fed to `heal` directly where a test needs a condition to come and go.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pixel_tui.demo.run import build_demo
from pixel_tui.export.audit_counts import AuditCounts
from pixel_tui.remediate.audit import print_audit
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.rules.grammar import parse_rules
from pixel_tui.rules.model import RuleState
from pixel_tui.rules.sources import RuleSet, builtin_rules
from pixel_tui.settings import AutohealSettings, Settings, load_settings

START = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
WEB = "kind == 'container' and name == 'pixel-web'"


class Clock:
    """The demo's clock and autoheal's, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _rules(*tables: dict) -> RuleSet:
    rules, errors = parse_rules(
        list(tables), source="/etc/pixel-tui/config.toml", lines=list(range(1, len(tables) + 1))
    )
    assert not errors, errors
    return RuleSet(tuple(rules))


def _setup(tmp_path, *tables: dict, read_only: bool = False, **policy):
    clock = Clock()
    demo = build_demo(Settings(read_only=read_only), tmp_path, clock=clock,
                      wall=lambda: START + timedelta(seconds=clock()))  # fmt: skip
    settings = AutohealSettings(enabled=True, startup_cycles=0, **policy)
    autoheal = Autoheal(demo.executor, settings, clock=clock, rules=_rules(*tables),
                        wall=lambda: (START + timedelta(seconds=clock())).timestamp())  # fmt: skip
    return demo, autoheal, clock


def _heal(autoheal, snapshot, clock, step_s: float = 10.0):
    events = list(autoheal.heal(snapshot))
    autoheal.wait(10)
    clock.now += step_s
    return events


def _without(snapshot, name):
    return replace(snapshot, containers=tuple(c for c in snapshot.containers if c.name != name))


def _audit(demo):
    records, problems = demo.executor.backends.audit.read()
    assert not problems
    return records


def _restarts(demo):
    return [r for r in _audit(demo) if r.get("step") == "restart" and r.get("outcome") == "ok"]


def test_a_rule_never_acts_in_read_only(tmp_path):
    rule = {"id": "restart-web", "when": WEB, "do": "container.restart", "state": "enabled"}
    shadow = {"id": "kill-shadow", "when": "timed_out", "do": "worker.kill", "state": "shadow"}
    demo, autoheal, clock = _setup(tmp_path, rule, shadow, read_only=True)
    snapshot = demo.collector.collect()
    for _ in range(3):
        _heal(autoheal, snapshot, clock)
        _heal(autoheal, _without(snapshot, "pixel-web"), clock)
    web = next(c for c in demo.collector.collect().containers if c.name == "pixel-web")
    assert web.restarts == 0 and demo.collector.collect().timed_out
    records = _audit(demo)
    assert records and {r["outcome"] for r in records} == {"refused"}  # a forced pass: refusals, and no shadow line
    assert all("read-only" in r["error"] for r in records)
    assert autoheal.toggle() is False


def test_a_rule_never_acts_beyond_its_budget_then_gives_up_and_says_so(tmp_path):
    rule = {"id": "restart-web", "when": WEB, "do": "container.restart", "budget": "2/1h"}
    demo, autoheal, clock = _setup(tmp_path, rule)
    snapshot = demo.collector.collect()
    events = []
    for _ in range(5):  # the condition comes and goes: each appearance is a new reason to act
        events += _heal(autoheal, snapshot, clock)
        events += _heal(autoheal, _without(snapshot, "pixel-web"), clock)
    assert len(_restarts(demo)) == 2
    gave_up = [e for e in events if e.kind == "autoheal-gave-up"]
    assert len(gave_up) == 1 and gave_up[0].message.startswith("autoheal gave up on pixel-web: 2 actions in 60 minutes")
    refused = [r for r in _audit(demo) if r.get("outcome") == "refused"]
    assert len(refused) == 1 and refused[0]["rule"] == "restart-web"
    (status,) = autoheal.statuses()
    assert status.actions == 2 and status.budget_left == 0


def test_the_host_wide_cap_holds_over_every_rule(tmp_path):
    web = {"id": "restart-web", "when": WEB, "do": "container.restart"}
    db = {"id": "restart-db", "when": "kind == 'container' and name == 'pixel-db'", "do": "container.restart"}
    kill = {"id": "kill", "when": "timed_out", "do": "worker.kill"}
    demo, autoheal, clock = _setup(tmp_path, web, db, kill, max_actions_per_hour=2)
    snapshot = demo.collector.collect()
    events = _heal(autoheal, snapshot, clock)
    events += _heal(autoheal, snapshot, clock)
    acted = [r for r in _audit(demo) if r.get("outcome") == "ok"]
    assert len(acted) == 2, acted
    capped = [e for e in events if e.kind == "autoheal-capped"]
    assert len(capped) == 1 and "max_actions_per_hour" in capped[0].message
    clock.now += 3600.0  # an hour later the cap has room again
    _heal(autoheal, snapshot, clock)
    assert len([r for r in _audit(demo) if r.get("outcome") == "ok"]) == 3


def test_nothing_acts_on_a_target_a_person_acted_on_within_the_window(tmp_path):
    rule = {"id": "restart-web", "when": WEB, "do": "container.restart"}
    demo, autoheal, clock = _setup(tmp_path, rule, hands_off_s=600.0)
    snapshot = demo.collector.collect()
    # A person stops pixel-web in this process (the executor tells hands-off at once)...
    web = next(c for c in snapshot.containers if c.name == "pixel-web")
    (outcome,) = demo.executor.execute(demo.executor.plan("container.restart", snapshot, web.id), actor="ops@host")
    assert outcome.ok
    events = _heal(autoheal, snapshot, clock, step_s=60.0)
    assert [e.kind for e in events if e.kind.startswith(("autoheal-hands", "action-"))] == ["autoheal-hands-off"]
    for _ in range(9):  # up to 9 minutes after the person's restart
        _heal(autoheal, snapshot, clock, step_s=60.0)
    assert len(_restarts(demo)) == 1, "only the person's restart within the 10 minutes"
    _heal(autoheal, snapshot, clock, step_s=60.0)  # 10 minutes: the window has passed, the rule acts
    assert [r["actor"] for r in _restarts(demo)] == ["ops@host", "autoheal"]


def test_hands_off_reads_a_persons_action_from_the_audit_log_another_process_wrote(tmp_path):
    kill = {"id": "kill", "when": "timed_out", "do": "worker.kill"}
    demo, autoheal, clock = _setup(tmp_path, kill, hands_off_s=600.0)
    snapshot = demo.collector.collect()
    (stuck,) = snapshot.timed_out
    line = {"time": (START - timedelta(seconds=30)).isoformat().replace("+00:00", "Z"), "actor": "ops@other",
            "action": "worker.kill", "step": "kill-worker", "outcome": "failed",
            "target": {"kind": "container", "id": stuck.container_id, "name": stuck.container}}  # fmt: skip
    with open(tmp_path / "audit.jsonl", "a") as log:
        log.write(json.dumps(line) + "\n")
    events = _heal(autoheal, snapshot, clock)
    assert [e.kind for e in events] == ["autoheal-hands-off"]
    assert demo.collector.collect().timed_out


def test_a_rule_matching_too_many_targets_at_once_acts_on_none(tmp_path):
    everything = {
        "id": "restart-running",
        "when": "kind == 'container' and state == 'running'",
        "do": "container.restart",
    }
    demo, autoheal, clock = _setup(tmp_path, everything, max_share=0.5, min_targets=3)
    snapshot = demo.collector.collect()
    events = _heal(autoheal, snapshot, clock)
    events += _heal(autoheal, snapshot, clock)
    (short,) = [e for e in events if e.kind == "autoheal-short-circuit"]  # told once while it lasts
    assert "acting on none" in short.message and "restart-running" in short.message
    assert not _audit(demo)


def test_a_short_circuit_is_a_notice_to_the_webhooks_once_while_it_lasts(tmp_path):
    from pixel_tui import notify as entry
    from pixel_tui.notify.observer import observe
    from pixel_tui.settings import parse_settings
    from tests.webhook import Receiver

    receiver = Receiver()
    observer = observe(parse_settings({"notify": {"webhooks": [receiver.url()]}}), headless=True)
    try:
        everything = {"id": "restart-running", "when": "kind == 'container' and state == 'running'",
                      "do": "container.restart"}  # fmt: skip
        demo, autoheal, clock = _setup(tmp_path, everything, max_share=0.5, min_targets=3)
        snapshot = demo.collector.collect()
        for _ in range(3):
            _heal(autoheal, snapshot, clock)
        (request,) = receiver.wait_for(1)
        assert request.json["kind"] == "short-circuit" and request.json["target"] == "restart-running"
        assert "acting on none" in request.json["message"]
    finally:
        observer.close(5.0)
        receiver.close()
    assert entry.installed() is None and len(receiver.received) == 1


def test_recovered_after_the_action_with_how_long_it_took(tmp_path):
    kill = {"id": "kill", "when": "kind == 'worker' and timed_out", "do": "worker.kill"}
    demo, autoheal, clock = _setup(tmp_path, kill)
    _heal(autoheal, demo.collector.collect(), clock)
    events = _heal(autoheal, demo.collector.collect(), clock)
    (recovered,) = [e for e in events if e.kind == "autoheal-recovered"]
    assert "recovered 10 s after rule kill acted" in recovered.message
    (action,) = [r for r in _audit(demo) if r.get("rule") == "kill"]  # the reader tells the verdict on its attempt
    assert (action["outcome"], action["verdict"], action["after_s"]) == ("ok", "recovered", 10.0)
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    (verdict,) = [line for line in lines if line.get("phase") == "verdict"]
    assert verdict == {**verdict, "id": action["id"], "rule": "kill", "verdict": "recovered", "after_s": 10.0}
    (status,) = autoheal.statuses()
    assert (status.actions, status.recoveries, status.not_recovered) == (1, 1, 0)
    out = io.StringIO()
    assert print_audit(demo.executor.backends.audit, last=None, as_json=False, stdout=out) == 0
    assert AuditCounts(tmp_path / "audit.jsonl").counts() == {("worker.kill", "autoheal", "ok"): 1}  # not the verdict
    (line,) = out.getvalue().splitlines()
    assert line.endswith("kill-worker  pixel-worker-3f2a9c1d  ok  rule kill  recovered after 10.0 s"), line


def test_not_recovered_counts_and_demotes_an_operators_rule_to_shadow(tmp_path):
    # Restarting pixel-web never makes the host's swap fall: the condition holds after the action.
    rule = {"id": "restart-web-swap", "when": f"{WEB} and host.swap.level == critical", "do": "container.restart"}
    demo, autoheal, clock = _setup(tmp_path, rule, verify_cycles=2)
    snapshot = demo.collector.collect()
    events = []
    for _ in range(3):  # acts; holds 1; holds 2 = verify_cycles
        events += _heal(autoheal, snapshot, clock)
    (verdict,) = [e for e in events if e.kind == "autoheal-not-recovered"]
    assert "not recovered" in verdict.message
    (demoted,) = [e for e in events if e.kind == "rule-demoted"]
    assert "restart-web-swap back to shadow (not recovered)" in demoted.message
    (status,) = autoheal.statuses()
    assert status.rule.state is RuleState.SHADOW and status.not_recovered == 1
    # As a shadow, its next appearance is recorded, never acted on.
    _heal(autoheal, _without(snapshot, "pixel-web"), clock)
    _heal(autoheal, snapshot, clock)
    records = _audit(demo)
    assert len(_restarts(demo)) == 1
    assert [r["verdict"] for r in records if "verdict" in r] == ["not recovered"]
    (shadow,) = [r for r in records if r.get("outcome") == "shadow"]
    assert shadow["rule"] == "restart-web-swap" and shadow["reason"].startswith("would have acted: restart pixel-web")


def test_a_shadow_rule_records_once_per_appearance_and_never_acts(tmp_path):
    kill = {"id": "kill-shadow", "when": "timed_out", "do": "worker.kill", "state": "shadow"}
    demo, autoheal, clock = _setup(tmp_path, kill)
    snapshot = demo.collector.collect()
    events = []
    for _ in range(3):
        events += _heal(autoheal, snapshot, clock)
    assert demo.collector.collect().timed_out
    (line,) = _audit(demo)
    assert line["outcome"] == "shadow" and line["actor"] == "autoheal" and line["rule"] == "kill-shadow"
    assert len([e for e in events if e.kind == "autoheal-shadow"]) == 1
    assert AuditCounts(tmp_path / "audit.jsonl").counts() == {}  # the exporter counts no shadow as an action
    (status,) = autoheal.statuses()
    assert status.hits == 3 and status.actions == 0 and status.last.startswith("autoheal: shadow rule kill-shadow")


def test_the_builtin_rules_plan_what_the_fixed_policy_planned(tmp_path):
    """Today's policy as rules: on the report's cycle 14 they call for the stuck worker's kill, the ghost's abort,
    the orphan's removal and a swap cycle (swap critical, memory allows it); not the live lock."""
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    rules, errors = builtin_rules(demo.settings)
    assert not errors and all(rule.source == "builtin" for rule in rules)
    autoheal = Autoheal(demo.executor, AutohealSettings(enabled=True), clock=clock, rules=RuleSet(tuple(rules)))
    plans = autoheal.plans(demo.collector.collect())
    assert sorted((plan.rule, plan.steps[0].op) for plan in plans) == [
        ("builtin-abort-ghost", "abort-ghost"),
        ("builtin-kill-timed-out", "kill-worker"),
        ("builtin-remove-orphan", "remove-orphan"),
    ]  # swap: the demo's memory (89 %) leaves no room to take swap back, as the fixed policy judged too


def test_rule_errors_are_told_at_start_and_the_other_rules_run(tmp_path):
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock)
    config = tmp_path / "config.toml"
    config.write_text(
        '[autoheal]\nenabled = true\ndisable = ["builtin-kill-timed-out"]\n\n'
        '[[autoheal.rules]]\nid = "bad"\nwhen = "helth == \'x\'"\ndo = "container.restart"\n\n'
        '[[autoheal.rules]]\nid = "kill"\nwhen = "timed_out"\ndo = "worker.kill"\n'
    )

    settings = replace(load_settings(config), workers=demo.settings.workers, docker_host=demo.settings.docker_host)
    demo.executor.settings = settings
    autoheal = Autoheal(demo.executor, replace(settings.autoheal, startup_cycles=0), clock=clock)
    (error,) = autoheal.rule_errors
    assert str(error) == f"{config}:5: rule bad: when: column 1: unknown field 'helth'"
    events = autoheal.heal(demo.collector.collect())
    autoheal.wait(10)
    assert [e.message for e in events if e.kind == "rule-error"] == [str(error)]
    assert "kill" in {status.rule.id for status in autoheal.statuses()}
    assert any(r.get("rule") == "kill" and r["outcome"] == "ok" for r in _audit(demo))


def test_one_action_per_target_at_a_time_whichever_rules_match_it(tmp_path):
    first = {"id": "restart-web", "when": WEB, "do": "container.restart"}
    second = {"id": "restart-nginx", "when": "kind == 'container' and name == 'pixel-web'", "do": "container.restart"}
    demo, autoheal, clock = _setup(tmp_path, first, second)
    _heal(autoheal, demo.collector.collect(), clock)
    assert [r["rule"] for r in _restarts(demo)] == ["restart-web"]


def test_a_demotion_is_kept_in_rules_toml_so_a_restart_does_not_enable_the_rule_again(tmp_path):
    from pixel_tui.rules.book import FileRulesBook
    from pixel_tui.rules.sources import read_rules_file

    rule = {"id": "restart-web-swap", "when": f"{WEB} and host.swap.level == critical", "do": "container.restart"}
    ruleset = _rules(rule)
    book = FileRulesBook(tmp_path / "rules.toml", base=ruleset.rules)
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock, wall=lambda: START + timedelta(seconds=clock()))
    settings = AutohealSettings(enabled=True, startup_cycles=0, verify_cycles=2)
    autoheal = Autoheal(demo.executor, settings, clock=clock, rules=ruleset, on_demote=book.shadow,
                        wall=lambda: (START + timedelta(seconds=clock())).timestamp())  # fmt: skip
    snapshot = demo.collector.collect()
    for _ in range(3):  # acts; holds 1; holds 2 = verify_cycles: not recovered, demoted
        _heal(autoheal, snapshot, clock)
    written, errors, _ = read_rules_file(tmp_path / "rules.toml")
    assert not errors
    (kept,) = written
    assert kept.id == "restart-web-swap" and kept.state is RuleState.SHADOW


def test_a_demotion_that_cannot_be_kept_is_told_and_holds_in_memory(tmp_path):
    def unwritable(rule_id: str) -> str:
        raise OSError(f"rules.toml: read-only file system ({rule_id})")

    rule = {"id": "restart-web-swap", "when": f"{WEB} and host.swap.level == critical", "do": "container.restart"}
    clock = Clock()
    demo = build_demo(Settings(), tmp_path, clock=clock, wall=lambda: START + timedelta(seconds=clock()))
    settings = AutohealSettings(enabled=True, startup_cycles=0, verify_cycles=2)
    autoheal = Autoheal(demo.executor, settings, clock=clock, rules=_rules(rule), on_demote=unwritable,
                        wall=lambda: (START + timedelta(seconds=clock())).timestamp())  # fmt: skip
    snapshot = demo.collector.collect()
    events = []
    for _ in range(3):
        events += _heal(autoheal, snapshot, clock)
    told = [e.message for e in events if e.kind == "rule-demoted"]
    assert len(told) == 2 and "not kept across a restart: rules.toml: read-only file system" in told[1]
    (status,) = autoheal.statuses()
    assert status.rule.state is RuleState.SHADOW


def test_off_it_evaluates_no_rule_and_a_grace_starts_again_once_it_is_on(tmp_path):
    rule = {"id": "restart-web", "when": WEB, "do": "container.restart", "grace_s": 30}
    demo, autoheal, clock = _setup(tmp_path, rule)
    assert autoheal.toggle() is False  # off
    snapshot = demo.collector.collect()
    for _ in range(6):  # a minute while off: nothing evaluated, so no rule counts a hit
        _heal(autoheal, snapshot, clock)
    assert autoheal.statuses()[0].hits == 0
    assert autoheal.toggle() is True
    _heal(autoheal, snapshot, clock)  # on: the condition's 30 s start now, not a minute ago
    _heal(autoheal, snapshot, clock)
    assert not _restarts(demo)
    for _ in range(3):
        _heal(autoheal, snapshot, clock)
    assert len(_restarts(demo)) == 1


def test_a_rule_never_restarts_a_worker_container_a_worker_is_killed_and_its_task_ended(tmp_path):
    restart = {"id": "restart-worker", "when": "kind == 'container' and name == 'pixel-worker-3f2a9c1d'",
               "do": "container.restart"}  # fmt: skip
    demo, autoheal, clock = _setup(tmp_path, restart)
    snapshot = demo.collector.collect()
    assert any(c.name == "pixel-worker-3f2a9c1d" and c.running for c in snapshot.containers)
    for _ in range(3):
        _heal(autoheal, snapshot, clock)
    assert not _restarts(demo) and not _audit(demo)
