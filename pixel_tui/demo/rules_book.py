"""An in-memory `RulesBook`: the demo's rules, and the one the rules screen's tests change.

It keeps the ladder's transitions (docs/rules.md, "The ladder") on rules held in memory: nothing is evaluated
and nothing is written. The real book, over `rules.toml` and the audit log, is `pixel_tui.rules`'s.
A change the ladder does not allow, or any change when read-only, raises ValueError with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pixel_tui.remediate.catalogue import READ_ONLY_REASON
from pixel_tui.rules.display import budget_words
from pixel_tui.rules.model import Budget, Rule, RuleError, RuleState, RuleStatus, Scope

REJECT_COOLDOWN = timedelta(days=7)
"""How long a rejected proposal is not proposed again (the default of `[rules] reject_cooldown_days`)."""


class MemoryRulesBook:
    """Rules and their figures in memory, changed as the ladder says; read-only refuses every change."""

    def __init__(
        self,
        statuses: Iterable[RuleStatus],
        errors: Iterable[RuleError] = (),
        *,
        read_only: bool = False,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._statuses = {status.rule.id: status for status in statuses}
        self._errors = list(errors)
        self.read_only = read_only
        self.wall = wall
        self.rejected: dict[str, datetime] = {}
        """Rejected proposals, by id: until when they are not proposed again."""

    def statuses(self) -> list[RuleStatus]:
        """Every rule with its figures, in the order they were given."""
        return list(self._statuses.values())

    def errors(self) -> list[RuleError]:
        """The rules that could not be read."""
        return list(self._errors)

    def promote(self, rule_id: str) -> str:
        """A rung up: proposed or off -> shadow, shadow -> enabled."""
        rule = self._rule(rule_id)
        if rule.state is RuleState.ENABLED:
            raise ValueError(f"{rule_id} is already enabled")
        if rule.state is RuleState.SHADOW:
            self._set(rule, RuleState.ENABLED)
            return f"{rule_id} enabled: it acts, at most {budget_words(rule.budget)}"
        self._set(rule, RuleState.SHADOW)
        first = "proposal accepted" if rule.state is RuleState.PROPOSED else "turned on"
        return f"{rule_id} {first}, in shadow: it says what it would do and never acts until promoted again"

    def shadow(self, rule_id: str) -> str:
        """Enabled, off or proposed -> shadow."""
        rule = self._rule(rule_id)
        if rule.state is RuleState.SHADOW:
            raise ValueError(f"{rule_id} is already in shadow")
        self._set(rule, RuleState.SHADOW)
        return f"{rule_id} in shadow: it says what it would do and never acts"

    def reject(self, rule_id: str) -> str:
        """A proposal is dropped and not proposed again for the cooldown; any other rule is disabled instead."""
        rule = self._rule(rule_id)
        if rule.state is not RuleState.PROPOSED:
            raise ValueError(f"{rule_id} is not a proposal (it is {rule.state}): disable it instead")
        until = self.wall() + REJECT_COOLDOWN
        del self._statuses[rule_id]
        self.rejected[rule_id] = until
        return f"{rule_id} rejected: not proposed again before {until:%Y-%m-%d}"

    def disable(self, rule_id: str) -> str:
        """Enabled or shadow -> off; a proposal is rejected, not disabled."""
        rule = self._rule(rule_id)
        if rule.state is RuleState.OFF:
            raise ValueError(f"{rule_id} is already off")
        if rule.state is RuleState.PROPOSED:
            raise ValueError(f"{rule_id} is a proposal: reject it, or promote it to shadow")
        self._set(rule, RuleState.OFF)
        return f"{rule_id} off: neither evaluated nor acting"

    def _rule(self, rule_id: str) -> Rule:
        if self.read_only:
            raise ValueError(READ_ONLY_REASON)
        status = self._statuses.get(rule_id)
        if status is None:
            raise ValueError(f"no rule {rule_id!r}")
        return status.rule

    def _set(self, rule: Rule, state: RuleState) -> None:
        status = self._statuses[rule.id]
        self._statuses[rule.id] = replace(status, rule=replace(rule, state=state))


PROPOSAL_EVIDENCE = (
    "you killed timed-out workers 5 times in 2 days, 4 of them with swap critical; each recovered within 2 cycles"
)
"""The demo's proposal, in the words of the operator's report."""


def demo_rules_book(
    *, read_only: bool = False, wall: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> MemoryRulesBook:
    """The built-in rules as the demo's host has run them, and one proposal mined from the operator's kills."""
    proposed_at = wall() - timedelta(minutes=12)
    statuses = [
        RuleStatus(
            Rule(
                "kill-timed-out-workers-swap",
                "kind == 'worker' and timed_out and host.swap.level == critical",
                "worker.kill",
                grace_s=60,
                budget=Budget(3, 3600),
                scope=Scope(labels=(("pixel.role", "worker"),)),
                state=RuleState.PROPOSED,
                source="rules.toml",
                proposed_at=proposed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                evidence=PROPOSAL_EVIDENCE,
            ),
            hits=0,
        ),
        RuleStatus(
            Rule("builtin-kill-timed-out-workers", "kind == 'worker' and timed_out", "worker.kill", grace_s=120),
            hits=6,
            actions=4,
            recoveries=3,
            not_recovered=1,
            budget_left=2,
            last="killed pixel-worker-3f2a9c1d (timed out 12m ago), recovered after 1 cycle",
        ),
        RuleStatus(
            Rule("builtin-abort-ghosts", "kind == 'ghost'", "workers.resolve_phantoms", grace_s=60),
            hits=3,
            actions=2,
            recoveries=2,
            last="aborted ghost task 7c1e0b2a, recovered after 1 cycle",
        ),
        RuleStatus(
            Rule("builtin-remove-orphans", "kind == 'orphan'", "workers.resolve_phantoms", grace_s=60),
            hits=1,
            actions=1,
            recoveries=1,
            last="removed orphan pixel-worker-91d0c4e7, recovered after 2 cycles",
        ),
        RuleStatus(
            Rule("builtin-clear-stale-lock", "kind == 'lock' and stale_s > 5m", "workers.resolve_phantoms"),
            hits=1,
            actions=1,
            recoveries=1,
            budget_left=2,
            last="cleared the stale orchestrator lock, recovered after 1 cycle",
        ),
        RuleStatus(
            Rule(
                "builtin-restart-unhealthy",
                "kind == 'container' and health == 'unhealthy' and health_for_s >= 2m",
                "container.restart",
                budget=Budget(3, 1800),
            ),
            last="nothing unhealthy so far",
        ),
        RuleStatus(
            Rule(
                "builtin-cycle-swap",
                "host.swap.level >= critical and swapoff_fits",
                "host.cycle_swap",
                grace_s=300,
                budget=Budget(1, 3600),
                state=RuleState.SHADOW,
            ),
            hits=2,
            last="would have cycled swap (swap 92.5 %, critical)",
        ),
    ]
    return MemoryRulesBook(statuses, read_only=read_only, wall=wall)
