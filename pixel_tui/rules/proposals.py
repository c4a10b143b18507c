"""Proposals: rules mined from what the operator keeps doing by hand, with their evidence in words.

The manual actions of the audit log (`evidence.manual_actions`) within `[rules] window_days` are grouped by
the action a rule would take, the kind of target and the target's predicate (a timed-out worker, an
unhealthy or exited container, a ghost, an orphan, a stale lock). A group with at least `min_support`
actions becomes a rule; when most of them (`HOST_SHARE`) happened with one host level at warning or
worse, that level is a clause of the rule (`host.swap.level >= critical`). Whether each action worked is
read from the cycle history after it (`evidence.History.recovery`); the share that recovered, of those the
history can judge, must reach `min_confidence` (when it can judge none, the evidence says so and support
alone decides).

Never proposed: a rule that exists (same `do` and `when`, or the same id), one an enabled or shadow rule
covers (same `do`, its clauses a part of the proposal's), one rejected within its cooldown, a person-only
action, a host-wide action with no host level to wait for (it would run every collection), a worker or
container action with no predicate on the target (it would act on all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pixel_tui.levels import Level
from pixel_tui.model import iso
from pixel_tui.rules.config import RulesSettings
from pixel_tui.rules.evidence import HOST_LEVELS, History, HostClause, ManualAction
from pixel_tui.rules.model import Budget, Rule, RuleState
from pixel_tui.rules.rules_file import Rejected

HOST_SHARE = 0.75
"""The share of a group's actions that must share a host level for it to become a clause."""
PROPOSED = "proposed"
"""The `source` of a rule mined here and not written yet."""
_METRIC_WORDS = {"overall": "the host", "swap": "swap", "memory": "memory", "load": "load"}
_OWN_METRIC = {"host.cycle_swap": "swap", "host.relieve_memory": "memory"}
"""The host-wide actions whose own level comes first when a clause is chosen."""


@dataclass(frozen=True)
class Pattern:
    """What a group of manual actions has in common: the rule's action, its kind and its target clause."""

    do: str
    kind: str
    clause: str | None
    """The target's predicate in the grammar (`timed_out`, `health == 'unhealthy'`), None for the kind alone."""
    words: str
    """The targets in words: `timed-out workers`."""
    slug: str
    """The same, for an id: `timed-out-workers`."""


_VERBS = {"worker.kill": ("killed", "kill"), "container.restart": ("restarted", "restart"),
          "host.cycle_swap": ("cycled swap", "cycle-swap"), "host.relieve_memory": ("dropped the page cache",
          "relieve-memory"), "host.prune": ("pruned", "prune")}  # fmt: skip
_PHANTOM_VERBS = {"ghost": ("aborted", "abort"), "orphan": ("removed", "remove"), "lock": ("cleared", "clear")}


def pattern_of(action: ManualAction) -> Pattern | None:
    """The pattern an action belongs to; None when no safe rule could say what it acted on."""
    facts = action.facts
    if action.kind == "worker":
        return Pattern(action.do, "worker", "timed_out", "timed-out workers", "timed-out-workers") if facts.get(
            "timed_out") is True else None  # fmt: skip
    if action.kind == "container":
        if facts.get("health") == "unhealthy":
            return Pattern(action.do, "container", "health == 'unhealthy'", "unhealthy containers", "unhealthy")
        if facts.get("state") in ("exited", "dead"):
            state = str(facts["state"])
            return Pattern(action.do, "container", f"state == '{state}'", f"{state} containers", state)
        return None
    if action.kind in ("ghost", "orphan", "lock"):
        words = {"ghost": "ghost tasks", "orphan": "orphan workers", "lock": "stale locks"}[action.kind]
        return Pattern(action.do, action.kind, None, words, words.replace(" ", "-"))
    if action.do == "host.cycle_swap":  # it succeeded, so the memory had room for the swap: a rule asks the same
        return Pattern(action.do, "host", "swapoff_fits", "", "")
    return Pattern(action.do, "host", None, "", "")


def host_clause(do: str, actions: Sequence[ManualAction]) -> tuple[HostClause, int] | None:
    """The host level most of `actions` share at warning or worse, with how many share it; None when none does.

    The clause covering the most actions wins; on a tie the higher level (narrower), then the action's own
    metric (swap for cycling swap), then swap, memory, load and the overall level in that order."""
    order = [_OWN_METRIC[do]] if do in _OWN_METRIC else []
    order += [metric for metric in ("swap", "memory", "load", "overall") if metric not in order]
    best: tuple[int, int, int, HostClause] | None = None
    for place, metric in enumerate(order):
        for level in (Level.CRITICAL, Level.WARNING):
            clause = HostClause(metric, level)
            count = sum(1 for action in actions if clause.holds(action.facts))
            if count < HOST_SHARE * len(actions) or count == 0:
                continue
            key = (count, level.rank, -place, clause)
            if best is None or key[:3] > best[:3]:
                best = key
    return None if best is None else (best[3], best[0])


def when_text(pattern: Pattern, clause: HostClause | None) -> str:
    """The rule's condition in the grammar of docs/rules.md."""
    parts = [f"kind == '{pattern.kind}'"]
    if pattern.clause:
        parts.append(pattern.clause)
    if clause is not None:
        parts.append(clause.text)
    return " and ".join(parts)


def _span(actions: Sequence[ManualAction]) -> str:
    seconds = (actions[-1].time - actions[0].time).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"in {count} {unit}{'' if count == 1 else 's'}"
    return "within a minute"


def evidence_text(pattern: Pattern, actions: Sequence[ManualAction], clause: tuple[HostClause, int] | None,
                  outcomes: Sequence[int | None | bool]) -> str:  # fmt: skip
    """The proposal's evidence: "you killed timed-out workers 5 times in 2 days, 4 of them with swap critical;
    each recovered within 2 cycles"."""
    verb = _PHANTOM_VERBS[pattern.kind][0] if pattern.kind in _PHANTOM_VERBS else _VERBS[pattern.do][0]
    what = f"{verb} {pattern.words}".strip()
    text = f"you {what} {len(actions)} time{'' if len(actions) == 1 else 's'} {_span(actions)}"
    if clause is not None:
        host, count = clause
        worse = "" if host.level is Level.CRITICAL else " or worse"
        share = "all of them" if count == len(actions) else f"{count} of them"
        text += f", {share} with {_METRIC_WORDS[host.metric]} {host.level.value}{worse}"
        critical = sum(1 for action in actions if HostClause(host.metric, Level.CRITICAL).holds(action.facts))
        if worse and critical:
            text += f" ({critical} critical)"
    recovered = [outcome for outcome in outcomes if outcome is not None and outcome is not False]
    judged = [outcome for outcome in outcomes if outcome is not None]
    if not judged:
        return text + "; the history cannot tell whether it helped (it does not measure this after an action)"
    most = max(int(cycles) for cycles in recovered) if recovered else 0
    within = f"within {most} cycle{'' if most == 1 else 's'}"
    if len(recovered) == len(outcomes):
        return text + f"; each recovered {within}"
    if not recovered:
        return text + f"; none recovered within {len(judged)} judged (the history's next cycles)"
    unknown = len(outcomes) - len(judged)
    tail = f", {unknown} the history cannot judge" if unknown else ""
    return text + f"; {len(recovered)} of {len(judged)} recovered {within}{tail}"


def rule_id(pattern: Pattern, clause: HostClause | None) -> str:
    """An id that says what the rule does: `kill-timed-out-workers-swap`."""
    verb = _PHANTOM_VERBS[pattern.kind][1] if pattern.kind in _PHANTOM_VERBS else _VERBS[pattern.do][1]
    metric = "" if clause is None else clause.metric.replace("overall", "host")
    if pattern.kind == "host" and clause is not None:
        return f"{verb}-on-{metric}-{clause.level.value}"
    parts = [verb, pattern.slug, metric]
    return "-".join(part for part in parts if part)[:64]


def _normal(when: str) -> str:
    return " ".join(when.split())


def _clauses(when: str) -> frozenset[str] | None:
    """The clauses of a plain conjunction (`a and b`), None for anything else (or, not, parentheses)."""
    words = _normal(when)
    if any(f" {word} " in f" {words} " for word in ("or", "not")) or "(" in words:
        return None
    return frozenset(words.split(" and "))


def covered(when: str, do: str, existing: Sequence[Rule]) -> bool:
    """True when an enabled or shadow rule with the same `do` already acts on every target this `when` picks: its
    clauses are a part of this one's (`kind == 'worker' and timed_out` covers the same with a swap clause)."""
    mine = _clauses(when)
    for rule in existing:
        theirs = _clauses(rule.when)
        live = rule.state in (RuleState.ENABLED, RuleState.SHADOW)
        if live and rule.do == do and mine is not None and theirs is not None and theirs <= mine:
            return True
    return False


def mine(
    actions: Sequence[ManualAction],
    history: History,
    *,
    settings: RulesSettings,
    existing: Sequence[Rule],
    rejected: Sequence[Rejected],
    now: datetime,
) -> list[Rule]:
    """New proposals (state proposed) from the manual actions within the window, strongest support first."""
    since = now - timedelta(days=settings.window_days)
    groups: dict[Pattern, list[ManualAction]] = {}
    for action in actions:
        pattern = pattern_of(action) if since <= action.time <= now else None
        if pattern is not None:
            groups.setdefault(pattern, []).append(action)
    taken = {(rule.do, _normal(rule.when)) for rule in existing}
    ids = {rule.id for rule in existing}
    refused = {entry.id for entry in rejected if entry.until > now}
    proposals: list[Rule] = []
    for pattern, group in sorted(groups.items(), key=lambda item: -len(item[1])):
        if len(group) < settings.min_support:
            continue
        clause = host_clause(pattern.do, group)
        if pattern.kind == "host" and clause is None:
            continue
        host = None if clause is None else clause[0]
        outcomes = [history.recovery(action, host) for action in group]
        judged = [outcome for outcome in outcomes if outcome is not None]
        recovered = [outcome for outcome in judged if outcome is not False]
        if judged and len(recovered) / len(judged) < settings.min_confidence:
            continue
        when = when_text(pattern, host)
        identifier = rule_id(pattern, host)
        if (pattern.do, _normal(when)) in taken or identifier in ids or identifier in refused:
            continue
        if covered(when, pattern.do, existing):
            continue
        ids.add(identifier)
        proposals.append(
            Rule(
                id=identifier,
                when=when,
                do=pattern.do,
                grace_s=120.0 if pattern.kind == "container" else 0.0,
                budget=Budget(3, 1800.0),
                state=RuleState.PROPOSED,
                source=PROPOSED,
                proposed_at=iso(now.replace(microsecond=0)),
                evidence=evidence_text(pattern, group, clause, outcomes),
            )
        )
    return proposals


__all__ = ["HOST_LEVELS", "HOST_SHARE", "Pattern", "host_clause", "mine", "pattern_of"]
