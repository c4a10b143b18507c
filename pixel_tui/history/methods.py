"""How a cycle was handled, in the words of the operator's report: Crisis, Attempt, Miracle, Learned.

The report's table ("Cycle | Swap | Method | ...") reads #14 Crisis, #15 Attempt, #16 Miracle, #17 Learned.
An own cycle gets its method when it closes, from its level, its actions and the level of the cycle before:
- Learned: autoheal acted through a rule the operator promoted (its action names the rule, `(rule ID)`, and
  the rule is not a built-in one): the host did what the operator used to do by hand;
- Miracle: the level came down out of critical (the cycle before was critical, this one is below warning);
- Attempt: critical, and something was done;
- Crisis: critical, and nothing was done.
Any other cycle has no method (a calm cycle needs no word).
"""

from __future__ import annotations

import re

from pixel_tui.history.model import Cycle
from pixel_tui.levels import Level

CRISIS = "Crisis"
ATTEMPT = "Attempt"
MIRACLE = "Miracle"
LEARNED = "Learned"

_RULE = re.compile(r"^autoheal: .*\(rule (?P<id>[A-Za-z0-9_.-]+)\)$")
"""An autoheal action's line naming its rule (rules.learning tags the actions of promoted rules so)."""
BUILTIN_PREFIX = "builtin-"
"""The ids of the rules pixel-tui ships begin so."""


def learned_rule(action: str) -> str | None:
    """The id of the promoted rule an action line of autoheal names, None for any other line."""
    found = _RULE.match(action)
    if found is None or found["id"].startswith(BUILTIN_PREFIX):
        return None
    return found["id"]


def method_of(cycle: Cycle, previous: Level | None) -> str | None:
    """The cycle's method given the level of the cycle before it (None when there was none)."""
    if any(learned_rule(action) for action in cycle.actions):
        return LEARNED
    level = cycle.level
    if level is None:
        return None
    if previous is Level.CRITICAL and level.rank < Level.WARNING.rank:
        return MIRACLE
    if level is Level.CRITICAL:
        return ATTEMPT if cycle.actions else CRISIS
    return None
