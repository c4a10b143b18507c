"""rules.toml and the rules book: the TOML writer's round trip, the atomic private write, the ladder, the counters."""

from __future__ import annotations

import math
import os
import stat
import tomllib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_tui.remediate.audit import AuditLog
from pixel_tui.rules import rules_file
from pixel_tui.rules.book import FileRulesBook, Refused
from pixel_tui.rules.config import RulesSettings
from pixel_tui.rules.model import BUILTIN, Budget, Rule, RuleState, Scope
from pixel_tui.rules.toml_writer import document
from tests.rules_fixtures import FIXTURES, NOW

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
scalars = st.one_of(texts, st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False))  # fmt: skip
values = st.one_of(scalars, st.dictionaries(texts, st.one_of(scalars, st.dictionaries(texts, scalars, max_size=3)),
                                            max_size=4))  # fmt: skip
tables = st.dictionaries(texts, values, max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(tables, max_size=4), st.lists(tables, max_size=3))
def test_what_the_writer_writes_tomllib_reads_back_the_same(rules, rejected):
    text = document([("autoheal.rules", rules), ("rejected", rejected)], "a header\nof two lines")
    read = tomllib.loads(text)
    assert read.get("autoheal", {}).get("rules", []) == rules
    assert read.get("rejected", []) == rejected


def test_the_writer_refuses_what_would_read_differently():
    for bad in (math.nan, math.inf, [1, 2], None.__class__):
        with pytest.raises((TypeError, ValueError)):
            document([("rejected", [{"x": bad}])])


def proposal(rule_id: str = "kill-timed-out-workers-swap", state: RuleState = RuleState.PROPOSED) -> Rule:
    return Rule(rule_id, "kind == 'worker' and timed_out and host.swap.level >= warning", "worker.kill",
                budget=Budget(2, 3600.0), scope=Scope((("tier", "batch"),), "pixel-*"), state=state,
                proposed_at="2026-12-06T12:00:00Z", evidence='you killed "them" 5 times\nin 2 days')  # fmt: skip


def test_rules_toml_is_written_private_whole_and_read_back(tmp_path):
    path = tmp_path / "config" / "rules.toml"
    until = NOW + timedelta(days=30)
    rules_file.write(path, [proposal()], [rules_file.Rejected("other", until)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["rules.toml"]  # no temporary file left
    held = rules_file.read(path)
    assert held.errors == []
    rule = held.rules[0]
    assert (rule.id, rule.when, rule.budget, rule.scope, rule.state, rule.evidence, rule.line) == (
        "kill-timed-out-workers-swap", proposal().when, Budget(2, 3600.0), Scope((("tier", "batch"),), "pixel-*"),
        RuleState.PROPOSED, 'you killed "them" 5 times\nin 2 days', 4)  # fmt: skip
    assert held.rejected == [rules_file.Rejected("other", until)]


def test_rules_toml_is_never_the_config_nor_a_symlink(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("interval = 2\n")
    with pytest.raises(OSError, match="never rewrites"):
        rules_file.write(config, [proposal()], [], config=config)
    assert config.read_text() == "interval = 2\n"
    link = tmp_path / "rules.toml"
    link.symlink_to(config)
    with pytest.raises(OSError, match="symbolic link"):
        rules_file.write(link, [proposal()], [], config=config)
    assert config.read_text() == "interval = 2\n"


def book(tmp_path, **options) -> FileRulesBook:
    audit = AuditLog(FIXTURES / "audit.jsonl")
    builtin = Rule("builtin-kill-timed-out", "kind == 'worker' and timed_out", "worker.kill")
    return FileRulesBook(tmp_path / "rules.toml", base=[builtin], audit=lambda: audit.read()[0],
                     config=tmp_path / "config.toml", clock=lambda: NOW, **options)  # fmt: skip


def states(rules_book: FileRulesBook) -> dict[str, str]:
    return {rule.id: rule.state.value for rule in rules_book.rules()}


def test_the_ladder_only_a_person_moves_a_proposal_up_through_shadow(tmp_path):
    rules_book = book(tmp_path)
    rules_file.write(rules_book.path, [proposal()], [])
    assert "proposed -> shadow" in rules_book.promote("kill-timed-out-workers-swap")
    assert states(rules_book)["kill-timed-out-workers-swap"] == "shadow"
    assert "shadow -> enabled" in rules_book.promote("kill-timed-out-workers-swap")
    with pytest.raises(Refused, match="enabled already"):
        rules_book.promote("kill-timed-out-workers-swap")
    assert "enabled -> shadow" in rules_book.shadow("kill-timed-out-workers-swap")
    assert "shadow -> off" in rules_book.disable("kill-timed-out-workers-swap")
    assert "off -> shadow" in rules_book.promote("kill-timed-out-workers-swap")
    with pytest.raises(Refused, match="no rule 'nope'"):
        rules_book.shadow("nope")


def test_a_base_rule_changed_is_copied_whole_into_rules_toml_and_the_config_is_untouched(tmp_path):
    rules_book = book(tmp_path)
    rules_book.disable("builtin-kill-timed-out")
    written = rules_file.read(rules_book.path).rules
    assert [(rule.id, rule.when, rule.state) for rule in written] == [
        ("builtin-kill-timed-out", "kind == 'worker' and timed_out", RuleState.OFF)
    ]
    assert states(rules_book) == {"builtin-kill-timed-out": "off"}
    assert not (tmp_path / "config.toml").exists()
    with pytest.raises(Refused, match="not a proposal"):
        rules_book.reject("builtin-kill-timed-out")


def test_a_rejected_proposal_is_gone_and_not_proposed_again_for_the_cooldown(tmp_path):
    rules_book = book(tmp_path, settings=RulesSettings(reject_cooldown_days=7))
    rules_file.write(rules_book.path, [proposal()], [])
    assert "not proposed again before 2026-12-13 12:00 UTC" in rules_book.reject("kill-timed-out-workers-swap")
    held = rules_file.read(rules_book.path)
    assert held.rules == [] and held.rejected == [rules_file.Rejected("kill-timed-out-workers-swap",
                                                                      NOW + timedelta(days=7))]  # fmt: skip
    enabled = proposal("kept", RuleState.ENABLED)
    rules_file.write(rules_book.path, [enabled], held.rejected)
    with pytest.raises(Refused, match="enabled"):
        rules_book.reject("kept")


def test_read_only_refuses_every_change_and_writes_nothing(tmp_path):
    rules_book = book(tmp_path, read_only=True)
    for move in (rules_book.promote, rules_book.shadow, rules_book.disable, rules_book.reject):
        with pytest.raises(Refused, match="read-only"):
            move("builtin-kill-timed-out")
    with pytest.raises(Refused, match="read-only"):
        rules_book.propose([], None)
    assert not rules_book.path.exists()


def test_a_rules_toml_with_an_unreadable_rule_is_not_rewritten_over_it(tmp_path):
    rules_book = book(tmp_path)
    rules_book.path.write_text('[[autoheal.rules]]\nid = "mine"\nwhen = "kind == "\ndo = "worker.kill"\n')
    assert [str(error) for error in rules_book.errors()][0].startswith(f"{rules_book.path}:1: rule mine: when:")
    with pytest.raises(Refused, match="mend or remove"):
        rules_book.disable("builtin-kill-timed-out")
    assert "kind == " in rules_book.path.read_text()


def test_the_counters_come_from_the_audit_log(tmp_path):
    rules_book = book(tmp_path)
    rules_file.write(rules_book.path, [proposal(state=RuleState.SHADOW)], [])
    by_id = {status.rule.id: status for status in rules_book.statuses()}
    auto = by_id["builtin-kill-timed-out"]
    assert (auto.hits, auto.actions, auto.recoveries, auto.not_recovered) == (2, 2, 1, 1)
    assert auto.last == "kill-worker pixel-worker-auto1: failed at 2026-12-06 11:05, not recovered after 3m00s"
    assert auto.budget_left is None  # nothing in the last 30 minutes before NOW
    shadow = by_id["kill-timed-out-workers-swap"]
    assert (shadow.hits, shadow.actions) == (1, 0)
    assert shadow.last == "would have acted on pixel-worker-shadowed at 2026-12-06 11:30"
    later = FileRulesBook(rules_book.path, base=rules_book.base, audit=rules_book.audit,
                      clock=lambda: NOW.replace(hour=11, minute=20))  # fmt: skip
    assert {s.rule.id: s.budget_left for s in later.statuses()}["builtin-kill-timed-out"] == 2


def test_propose_writes_new_proposals_once(tmp_path):
    from tests.test_rules_proposals import cycles

    history = cycles(tmp_path)
    rules_book = book(tmp_path)
    rules_book.base = []  # no built-in covering the kills
    found = rules_book.propose(history, rules_book_thresholds())
    assert [rule.id for rule in found] == ["kill-timed-out-workers-swap", "cycle-swap-on-swap-critical"]
    assert states(rules_book) == {"kill-timed-out-workers-swap": "proposed", "cycle-swap-on-swap-critical": "proposed"}
    assert rules_book.propose(history, rules_book_thresholds()) == []
    assert BUILTIN not in {rule.source for rule in rules_file.read(rules_book.path).rules}


def rules_book_thresholds():
    from pixel_tui.levels import Thresholds

    return Thresholds()


@pytest.mark.skipif(os.geteuid() != 0, reason="the ownership checks refuse as root only (pixel_tui.trust)")
def test_as_root_a_rules_toml_another_user_could_write_is_neither_read_nor_written(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    rules_file.write(shared / "rules.toml", [proposal()], [])
    shared.chmod(0o777)  # anyone could have put it there, or could swap it
    held = rules_file.read(shared / "rules.toml")
    assert held.rules == [] and "writable by every user" in str(held.errors[0])
    with pytest.raises(OSError, match="writable by every user"):
        rules_file.write(shared / "rules.toml", [], [])
    shared.chmod(0o700)
    assert [rule.id for rule in rules_file.read(shared / "rules.toml").rules] == ["kill-timed-out-workers-swap"]
