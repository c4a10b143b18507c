"""Proposals mined from the recorded audit log and history (tests/fixtures/rules, made by tests/rules_fixtures.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_tui.history.importer import import_file
from pixel_tui.history.model import Cycle
from pixel_tui.history.store import HistoryStore
from pixel_tui.levels import Thresholds
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.rules.config import RulesSettings
from pixel_tui.rules.evidence import History, manual_actions
from pixel_tui.rules.grammar import ACTION_KINDS, parse_rules
from pixel_tui.rules.model import Rule, RuleState
from pixel_tui.rules.proposals import mine
from pixel_tui.rules.rules_file import Rejected, rule_table
from tests import rules_fixtures
from tests.rules_fixtures import FIXTURES, NOW

KILL_WHEN = "kind == 'worker' and timed_out and host.swap.level >= warning"
KILL_EVIDENCE = (
    "you killed timed-out workers 5 times in 2 days, all of them with swap warning or worse (4 critical); "
    "each recovered within 2 cycles"
)


def records() -> list[dict]:
    found, problems = AuditLog(FIXTURES / "audit.jsonl").read()
    assert problems == []
    return found


def cycles(tmp_path: Path) -> list[Cycle]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    try:
        import_file(FIXTURES / "history.jsonl", store, Thresholds())
        return store.recent()
    finally:
        store.close()


def proposals(tmp_path: Path, **options) -> list[Rule]:
    settings = options.pop("settings", RulesSettings())
    history = options.pop("history", None)
    return mine(
        manual_actions(records()),
        History(cycles(tmp_path) if history is None else history, Thresholds()),
        settings=settings,
        existing=options.pop("existing", ()),
        rejected=options.pop("rejected", ()),
        now=options.pop("now", NOW),
    )


def test_the_fixtures_are_what_the_writers_make(tmp_path):
    rules_fixtures.write_audit(tmp_path / "audit.jsonl")
    rules_fixtures.write_history(tmp_path / "history.jsonl")
    assert (tmp_path / "audit.jsonl").read_bytes() == (FIXTURES / "audit.jsonl").read_bytes()
    assert (tmp_path / "history.jsonl").read_bytes() == (FIXTURES / "history.jsonl").read_bytes()


def test_manual_actions_are_the_persons_ok_rule_able_ones():
    actions = manual_actions(records())
    assert [action.do for action in actions].count("worker.kill") == 5  # not the refused one, not autoheal's
    assert [action.do for action in actions].count("container.restart") == 2
    assert [action.do for action in actions].count("host.cycle_swap") == 3
    assert len(actions) == 10  # no shell (person-only), no stop (no rule takes it)
    kill = next(action for action in actions if action.do == "worker.kill")
    assert kill.kind == "worker" and kill.target == "pixel-worker-00000000"
    assert kill.facts["timed_out"] is True and kill.facts["host.swap.level"] == "critical"


def test_the_operators_pattern_is_proposed_with_its_evidence(tmp_path):
    found = proposals(tmp_path)
    assert [rule.id for rule in found] == ["kill-timed-out-workers-swap", "cycle-swap-on-swap-critical"]
    kill, swap = found
    assert kill.when == KILL_WHEN and kill.do == "worker.kill" and kill.state is RuleState.PROPOSED
    assert kill.evidence == KILL_EVIDENCE
    assert kill.proposed_at == "2026-12-06T12:00:00Z"
    assert swap.when == "kind == 'host' and swapoff_fits and host.swap.level >= critical"
    assert (
        swap.evidence
        == "you cycled swap 3 times in 1 day, all of them with swap critical; each recovered within 1 cycle"
    )


def test_every_proposal_parses_through_the_grammar(tmp_path):
    found = proposals(tmp_path)
    rules, errors = parse_rules([rule_table(rule) for rule in found], source="rules.toml")
    assert errors == []
    assert [(rule.id, rule.when, rule.do, rule.state) for rule in rules] == [
        (rule.id, rule.when, rule.do, rule.state) for rule in found
    ]


def test_support_window_and_confidence_are_the_config_s(tmp_path):
    assert proposals(tmp_path, settings=RulesSettings(min_support=6)) == []
    assert proposals(tmp_path, settings=RulesSettings(window_days=1.0)) == []  # the last day: 2 kills, 1 swap cycle
    recent = proposals(tmp_path, settings=RulesSettings(window_days=1.5))  # 3 kills, 2 swap cycles
    assert [rule.do for rule in recent] == ["worker.kill"]
    stuck = [replace(cycle, swap_percent=95.0, timed_out=1) for cycle in cycles(tmp_path)]
    assert proposals(tmp_path, history=stuck) == []  # nothing ever recovered: no confidence
    assert [rule.id for rule in proposals(tmp_path, history=stuck, settings=RulesSettings(min_confidence=0.0))] == [
        "kill-timed-out-workers-swap",
        "cycle-swap-on-swap-critical",
    ]


def test_without_history_support_alone_decides_and_the_evidence_says_so(tmp_path):
    kill = proposals(tmp_path, history=[])[0]
    assert kill.evidence.endswith(
        "; the history cannot tell whether it helped (it does not measure this after an action)"
    )


def test_an_existing_a_covering_or_a_rejected_rule_is_not_proposed_again(tmp_path):
    kill = proposals(tmp_path)[0]
    assert "kill-timed-out-workers-swap" not in [r.id for r in proposals(tmp_path, existing=[replace(kill, id="x")])]
    builtin = Rule("builtin-kill-timed-out", "kind == 'worker' and timed_out", "worker.kill")
    assert [r.do for r in proposals(tmp_path, existing=[builtin])] == ["host.cycle_swap"]
    off = replace(builtin, state=RuleState.OFF)
    assert [r.do for r in proposals(tmp_path, existing=[off])] == ["worker.kill", "host.cycle_swap"]
    until = NOW + timedelta(days=1)
    assert [r.do for r in proposals(tmp_path, rejected=[Rejected(kill.id, until)])] == ["host.cycle_swap"]
    expired = [Rejected(kill.id, NOW - timedelta(seconds=1))]
    assert [r.do for r in proposals(tmp_path, rejected=expired)] == ["worker.kill", "host.cycle_swap"]


@pytest.mark.parametrize("support", [1, 2, 3])
def test_no_proposal_names_a_person_only_or_ineligible_action(tmp_path, support):
    found = proposals(tmp_path, settings=RulesSettings(min_support=support, min_confidence=0.0))
    assert found and all(rule.do in ACTION_KINDS for rule in found)
    assert "container.shell" not in {rule.do for rule in found}
    if support <= 2:  # two restarts of an unhealthy container are support enough now
        restart = next(rule for rule in found if rule.do == "container.restart")
        assert restart.when == "kind == 'container' and health == 'unhealthy' and host.swap.level >= warning"
        assert "the history cannot tell" in (restart.evidence or "")


levels = st.sampled_from(["ok", "careful", "warning", "critical"])
contexts = st.fixed_dictionaries(
    {
        "host": st.fixed_dictionaries(
            {"levels": st.fixed_dictionaries({"overall": levels, "swap": levels, "memory": levels, "load": levels})}
        ),
        "target": st.fixed_dictionaries(
            {},
            optional={
                "timed_out": st.booleans(),
                "health": st.sampled_from(["healthy", "unhealthy", "starting", "none"]),
                "state": st.sampled_from(["running", "exited", "dead", "created"]),
            },
        ),
    }
)
manual = st.builds(
    lambda step, action, context, minutes, name: {
        "time": (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "actor": "ops@host-1",
        "action": action,
        "step": step,
        "target": {"kind": "container", "id": name * 8, "name": name},
        "outcome": "ok",
        "snapshot_at": (NOW - timedelta(minutes=minutes, seconds=5)).isoformat().replace("+00:00", "Z"),
        "context": context,
    },
    st.sampled_from(
        [
            "kill-worker",
            "abort-ghost",
            "remove-orphan",
            "clear-lock",
            "restart",
            "drop-caches",
            "cycle-swap",
            "prune-images",
            "stop",
            "shell",
        ]
    ),  # fmt: skip
    st.sampled_from(
        [
            "worker.kill",
            "workers.resolve_phantoms",
            "container.restart",
            "host.prune",
            "host.cycle_swap",
            "host.relieve_memory",
            "container.shell",
            "container.stop_start",
        ]
    ),  # fmt: skip
    contexts,
    st.integers(0, 20000),
    st.sampled_from(["a1", "b2", "c3"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(manual, max_size=25))
def test_any_audit_log_gives_proposals_that_parse_and_name_eligible_actions(found_records):
    lenient = RulesSettings(min_support=1, min_confidence=0.0)
    found = mine(manual_actions(found_records), History([], Thresholds()), settings=lenient, existing=(), rejected=(),
                 now=NOW)  # fmt: skip
    rules, errors = parse_rules([rule_table(rule) for rule in found], source="rules.toml")
    assert errors == []
    assert len(rules) == len(found) == len({rule.id for rule in found})
    assert all(rule.do in ACTION_KINDS and rule.state is RuleState.PROPOSED for rule in found)
