"""What a rule is, what is wrong with one, and what the rules screen and `pixel-tui rules` show of it.

The grammar and its fields are in docs/rules.md; parsing is `rules.grammar`, evaluation `rules.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class RuleState(StrEnum):
    """Where a rule stands on the ladder (docs/rules.md, "The ladder")."""

    PROPOSED = "proposed"
    """Mined from the operator's own actions; not evaluated until a person moves it on."""
    SHADOW = "shadow"
    """Evaluated each collection; records what it would have done, never acts."""
    ENABLED = "enabled"
    """Acts, under its budget and the guard rails."""
    OFF = "off"
    """Neither evaluated nor acting."""


BUILTIN = "builtin"
"""The `source` of a rule shipped in the package."""


@dataclass(frozen=True)
class Budget:
    """At most `count` actions on one target within `window_s` seconds ("3/30m")."""

    count: int
    window_s: float


@dataclass(frozen=True)
class Scope:
    """Which targets a rule may touch at all: every label given must match, and the name its glob."""

    labels: tuple[tuple[str, str], ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class Rule:
    """One rule, as written (docs/rules.md, "A rule")."""

    id: str
    when: str
    """The condition, in the grammar's text (parsed by `rules.grammar`)."""
    do: str
    """A catalogue action id eligible for autoheal."""
    grace_s: float = 0.0
    budget: Budget = Budget(3, 1800.0)
    scope: Scope = Scope()
    state: RuleState = RuleState.ENABLED
    source: str = BUILTIN
    """Where it was read: `builtin`, or a file's path."""
    line: int | None = None
    """The line of its table in `source`, when read from a file."""
    proposed_at: str | None = None
    evidence: str | None = None
    """Why it was proposed, in words ("you killed timed-out workers 5 times in 2 days...")."""


@dataclass(frozen=True)
class RuleError:
    """A rule that cannot run, and why; reported at start, the other rules run."""

    source: str
    line: int | None
    rule_id: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: rule {self.rule_id or '?'}: {self.reason}"


@dataclass(frozen=True)
class RuleStatus:
    """One row of the rules screen and of `pixel-tui rules list`."""

    rule: Rule
    hits: int = 0
    """Collections in which its condition held on some target (shadow rules count too)."""
    actions: int = 0
    recoveries: int = 0
    not_recovered: int = 0
    budget_left: int | None = None
    """Actions left on the target nearest its budget; None when it has acted on nothing in the window."""
    last: str | None = None
    """The last thing it did or would have done, in words."""
    notes: tuple[str, ...] = field(default_factory=tuple)


class RulesBook(Protocol):
    """What the rules screen and `pixel-tui rules` read and change; changes go to `rules.toml` only."""

    def statuses(self) -> list[RuleStatus]: ...

    def errors(self) -> list[RuleError]: ...

    def promote(self, rule_id: str) -> str:
        """Proposed or shadow -> enabled (shadow first for a proposal); returns what was done, in words."""
        ...

    def shadow(self, rule_id: str) -> str: ...

    def reject(self, rule_id: str) -> str:
        """A proposal rejected: gone, not proposed again for the cooldown."""
        ...

    def disable(self, rule_id: str) -> str: ...
