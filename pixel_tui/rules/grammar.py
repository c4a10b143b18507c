"""Rules from `[[autoheal.rules]]` tables: each table checked whole, a rule or an error naming its line.

`parse_rules` never raises: whatever a table holds, it gives a `Rule` or a `RuleError` (docs/rules.md,
"Errors"), so one bad rule is reported at start and the others run. The `when` text is parsed by
`rules.when`; `compile_rule` gives the parsed condition the engine evaluates.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pixel_tui.remediate.catalogue import BY_ID
from pixel_tui.rules.model import Budget, Rule, RuleError, RuleState, Scope
from pixel_tui.rules.when import Condition, WhenError, parse_when

__all__ = ["ACTION_KINDS", "Compiled", "WhenError", "compile_rule", "parse_budget", "parse_rules", "parse_when"]

ACTION_KINDS: dict[str, frozenset[str]] = {
    "worker.kill": frozenset({"worker"}),
    "container.restart": frozenset({"container"}),
    "workers.resolve_phantoms": frozenset({"ghost", "orphan", "lock"}),
    "host.cycle_swap": frozenset({"host"}),
    "host.relieve_memory": frozenset({"host"}),
    "host.prune": frozenset({"host"}),
}
"""The actions a rule may name (docs/rules.md, "Actions"), and the kinds of target each acts on."""

ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
KEYS = frozenset({"id", "when", "do", "grace_s", "budget", "scope", "state", "proposed_at", "evidence"})
GRACE_RANGE = (0.0, 86400.0)
BUDGET_COUNT = (1, 1000)
BUDGET_WINDOW_S = (60.0, 30 * 86400.0)
_BUDGET = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{1,9}(?:\.\d+)?)\s*([smhd])\s*")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class _Bad(ValueError):
    """One reason a table is not a rule."""


def parse_budget(text: Any) -> Budget:
    """ "3/30m" -> Budget(3, 1800); raises ValueError saying what is wrong (the ranges of docs/rules.md)."""
    if not isinstance(text, str):
        raise ValueError(f'budget: expected text such as "3/30m", got {text!r}')
    match = _BUDGET.fullmatch(text)
    if match is None:
        raise ValueError(f'budget: expected COUNT/WINDOW such as "3/30m" (window in s, m, h or d), got {text!r}')
    count, window = int(match.group(1)), float(match.group(2)) * _UNITS[match.group(3)]
    if not BUDGET_COUNT[0] <= count <= BUDGET_COUNT[1]:
        raise ValueError(f"budget: count must be from {BUDGET_COUNT[0]} to {BUDGET_COUNT[1]}, got {count}")
    if not BUDGET_WINDOW_S[0] <= window <= BUDGET_WINDOW_S[1]:
        raise ValueError(f"budget: window must be from 1m to 30d, got {match.group(2)}{match.group(3)}")
    return Budget(count, window)


def _grace(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _Bad(f"grace_s: expected a number of seconds, got {value!r}")
    if not GRACE_RANGE[0] <= value <= GRACE_RANGE[1]:
        raise _Bad(f"grace_s: must be from 0 to 86400, got {value!r}")
    return float(value)


def _scope(value: Any) -> Scope:
    if not isinstance(value, Mapping):
        raise _Bad('scope: expected a table such as { labels = { tier = "web" }, name = "web-*" }')
    extra = set(value) - {"labels", "name"}
    if extra:
        raise _Bad(f"scope: unknown key {sorted(extra)[0]!r} (labels, name)")
    labels = value.get("labels", {})
    if not isinstance(labels, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise _Bad("scope.labels: expected a table of label = 'value' (text)")
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise _Bad(f"scope.name: expected a name pattern such as 'web-*', got {name!r}")
    return Scope(tuple(sorted(labels.items())), name)


def _state(value: Any) -> RuleState:
    try:
        return RuleState(value)
    except ValueError:
        raise _Bad(f"state: expected one of {', '.join(state.value for state in RuleState)}, got {value!r}") from None


def _action(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"do: expected an action id, got {value!r}")
    spec = BY_ID.get(value)
    if spec is None:
        raise _Bad(f"do: unknown action {value!r}")
    if value not in ACTION_KINDS or spec.person_only:
        raise _Bad(f"do: {value} is not eligible for autoheal (eligible: {', '.join(ACTION_KINDS)})")
    return value


def _text(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{key}: expected text, got {value!r}")
    return value


def _rule(table: Mapping[str, Any], source: str, line: int | None) -> Rule:
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not ID.fullmatch(rule_id):
        raise _Bad(f"id: expected [a-z0-9][a-z0-9_-]{{0,63}}, got {rule_id!r}")
    extra = sorted(str(key) for key in set(table) - KEYS)
    if extra:
        raise _Bad(f"unknown key {extra[0]!r}")
    for key in ("when", "do"):
        if key not in table:
            raise _Bad(f"{key} is missing")
    do = _action(table["do"])
    when = table["when"]
    if not isinstance(when, str):
        raise _Bad(f"when: expected text, got {when!r}")
    try:
        condition = parse_when(when)
    except WhenError as error:
        raise _Bad(str(error)) from None
    _fits(condition, do)
    try:
        budget = parse_budget(table["budget"]) if "budget" in table else Rule.budget
    except ValueError as error:
        raise _Bad(str(error)) from None
    return Rule(
        id=rule_id,
        when=when,
        do=do,
        grace_s=_grace(table.get("grace_s", 0.0)),
        budget=budget,
        scope=_scope(table["scope"]) if "scope" in table else Scope(),
        state=_state(table.get("state", RuleState.ENABLED.value)),
        source=source,
        line=line,
        proposed_at=_text("proposed_at", table.get("proposed_at")),
        evidence=_text("evidence", table.get("evidence")),
    )


def _fits(condition: Condition, do: str) -> None:
    if condition.kinds and not condition.kinds & ACTION_KINDS[do]:
        kinds = " or ".join(sorted(condition.kinds))
        raise _Bad(f"when names kind {kinds}, which {do} does not act on ({', '.join(sorted(ACTION_KINDS[do]))})")


def parse_rules(
    tables: Any, *, source: str, lines: Sequence[int | None] | None = None
) -> tuple[list[Rule], list[RuleError]]:
    """Rules from a list of `[[autoheal.rules]]` tables read from `source`; `lines[i]` is table i's line.

    Never raises: a table that is not a whole, valid rule is a RuleError with its line and the reason; a
    second rule with an id already read from the same source is an error too (the first one stands)."""
    rules: list[Rule] = []
    errors: list[RuleError] = []
    if not isinstance(tables, list | tuple):
        return [], [RuleError(source, None, None, "autoheal.rules: expected [[autoheal.rules]] tables")]
    seen: set[str] = set()
    for index, table in enumerate(tables):
        line = lines[index] if lines is not None and index < len(lines) else None
        rule_id = table.get("id") if isinstance(table, Mapping) else None
        named = rule_id if isinstance(rule_id, str) and ID.fullmatch(rule_id) else None
        try:
            if not isinstance(table, Mapping):
                raise _Bad("expected a table")
            rule = _rule(table, source, line)
            if rule.id in seen:
                raise _Bad("a rule with this id is already defined in this file")
        except _Bad as error:
            errors.append(RuleError(source, line, named, str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - never expected; a bad rule must not stop the others
            errors.append(RuleError(source, line, named, f"cannot be read: {type(error).__name__}: {error}"))
            continue
        seen.add(rule.id)
        rules.append(rule)
    return rules, errors


@dataclass(frozen=True)
class Compiled:
    """A rule with its parsed condition and the kinds of target it evaluates against."""

    rule: Rule
    condition: Condition
    kinds: frozenset[str]

    def in_scope(self, name: str | None, labels: Mapping[str, str]) -> bool:
        """True when a target of `name` and `labels` is within the rule's scope."""
        scope = self.rule.scope
        if any(labels.get(key) != value for key, value in scope.labels):
            return False
        return scope.name is None or fnmatch.fnmatchcase(name or "", scope.name)


def compile_rule(rule: Rule) -> Compiled:
    """The rule's condition parsed; its kinds those its `when` names that its `do` acts on, else its `do`'s."""
    condition = parse_when(rule.when)
    fits = ACTION_KINDS.get(rule.do, frozenset())
    kinds = condition.kinds & fits if condition.kinds else fits
    return Compiled(rule, condition, kinds)
