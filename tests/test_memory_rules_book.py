"""The in-memory RulesBook (the demo's, and the rules screen tests'): the ladder's transitions and refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pixel_tui.demo.rules_book import MemoryRulesBook, demo_rules_book
from pixel_tui.rules.display import budget_text, scope_text, window_text
from pixel_tui.rules.model import Budget, Rule, RulesBook, RuleState, RuleStatus, Scope

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def one(state: RuleState, *, read_only: bool = False) -> MemoryRulesBook:
    return MemoryRulesBook([RuleStatus(Rule("r", "kind == 'ghost'", "workers.resolve_phantoms", state=state))],
                           read_only=read_only, wall=lambda: NOW)  # fmt: skip


def test_the_ladder_one_rung_at_a_time() -> None:
    rules: RulesBook = one(RuleState.PROPOSED)
    assert "in shadow" in rules.promote("r")
    assert rules.statuses()[0].rule.state is RuleState.SHADOW
    assert "enabled" in rules.promote("r")
    assert rules.statuses()[0].rule.state is RuleState.ENABLED
    with pytest.raises(ValueError, match="already enabled"):
        rules.promote("r")
    rules.shadow("r")
    assert rules.statuses()[0].rule.state is RuleState.SHADOW
    rules.disable("r")
    assert rules.statuses()[0].rule.state is RuleState.OFF
    with pytest.raises(ValueError, match="already off"):
        rules.disable("r")
    rules.promote("r")  # back on, in shadow first
    assert rules.statuses()[0].rule.state is RuleState.SHADOW


def test_only_a_proposal_is_rejected_and_it_stays_away_for_the_cooldown() -> None:
    rules = one(RuleState.ENABLED)
    with pytest.raises(ValueError, match="not a proposal"):
        rules.reject("r")
    proposal = one(RuleState.PROPOSED)
    with pytest.raises(ValueError, match="reject it"):
        proposal.disable("r")
    assert "not proposed again before 2026-12-13" in proposal.reject("r")
    assert proposal.statuses() == [] and proposal.rejected == {"r": datetime(2026, 12, 13, 12, 0, tzinfo=UTC)}
    with pytest.raises(ValueError, match="no rule 'r'"):
        proposal.promote("r")


def test_read_only_refuses_every_change() -> None:
    rules = one(RuleState.PROPOSED, read_only=True)
    for change in (rules.promote, rules.shadow, rules.reject, rules.disable):
        with pytest.raises(ValueError, match="read-only"):
            change("r")
    assert rules.statuses()[0].rule.state is RuleState.PROPOSED


def test_the_demo_book_has_the_builtins_and_one_proposal_with_evidence() -> None:
    statuses = demo_rules_book(wall=lambda: NOW).statuses()
    proposals = [status.rule for status in statuses if status.rule.state is RuleState.PROPOSED]
    assert len(proposals) == 1 and proposals[0].evidence is not None
    assert "5 times in 2 days, 4 of them with swap critical" in proposals[0].evidence
    assert sum(status.rule.id.startswith("builtin-") for status in statuses) == 6


def test_budgets_and_scopes_read_as_written() -> None:
    assert [window_text(s) for s in (1800, 3600, 172800, 90)] == ["30m", "1h", "2d", "90s"]
    assert budget_text(Budget(3, 1800)) == "3/30m"
    assert scope_text(Scope()) == "every target of its kind"
    assert scope_text(Scope((("tier", "web"),), "web-*")) == "labels tier=web; name web-*"
