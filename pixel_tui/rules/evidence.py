"""What the audit log and the cycle history say about the operator's own actions: the facts proposals are mined from.

A manual action is an audit record (read folded, `remediate.audit.AuditLog.read`) whose actor is not
`autoheal`, whose outcome is `ok` and whose step maps to an action a rule may take (`STEPS`); its facts
are the rule fields its `context` holds (docs/rules.md, "`when`"): the host's levels, and the target's
`timed_out`, `state`, `health`, `restarts`, `age_s`, `stale_s`. Labels and how long a health lasted are
not in the context, so no proposal is made on them.

Whether an action worked is read from the cycle history after it (`recovery`): what a cycle holds is the
host's figures (so their levels) and, per cycle, how many workers were timed out and how many phantoms
there were; not any one container's health.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.history.model import Cycle
from pixel_tui.levels import Level, Thresholds, figure_levels
from pixel_tui.remediate.catalogue import BY_ID
from pixel_tui.remediate.model import AUTOHEAL, OK
from pixel_tui.values import parse_time_or_none

STEPS: dict[str, tuple[str, str]] = {
    "kill-worker": ("worker.kill", "worker"),
    "abort-ghost": ("workers.resolve_phantoms", "ghost"),
    "remove-orphan": ("workers.resolve_phantoms", "orphan"),
    "clear-lock": ("workers.resolve_phantoms", "lock"),
    "restart": ("container.restart", "container"),
    "drop-caches": ("host.relieve_memory", "host"),
    "cycle-swap": ("host.cycle_swap", "host"),
    "remove-exited": ("host.prune", "host"),
    "prune-images": ("host.prune", "host"),
    "prune-build-cache": ("host.prune", "host"),
}
"""The audit log's step -> (the action a rule takes for it, the kind of target). A step not here (stop, start,
shell) has no rule: stopping by hand is a person's choice, and a shell is person-only."""
HOST_LEVELS = {"overall": "host.level", "swap": "host.swap.level", "memory": "host.memory.level",
               "load": "host.load.level"}  # fmt: skip
"""The audit context's host levels -> the rule field each is."""
RECOVERY_HORIZON = 6
"""Cycles after an action within which its condition must clear to count as recovered."""


def table(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: a record's parts are read without trusting their type."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ManualAction:
    """One action a person took, as the audit log recorded it."""

    time: datetime
    do: str
    """The action a rule would take for it (`STEPS`)."""
    kind: str
    """The kind of target: worker, container, ghost, orphan, lock, host."""
    target: str
    """How a person knows the target (its name), `host` for host-wide steps."""
    key: str
    """One per occasion: the target's id and the snapshot acted on (host-wide steps: the snapshot, so a prune's three
    steps are one occasion)."""
    facts: Mapping[str, Any] = field(default_factory=dict)
    """The rule fields the record's context holds."""


def manual_actions(records: Sequence[Mapping[str, Any]]) -> list[ManualAction]:
    """The manual, successful, rule-able actions of the audit records, oldest first, one per occasion."""
    found: dict[tuple[str, str], ManualAction] = {}
    for record in records:
        action = record.get("action")
        spec = BY_ID.get(action) if isinstance(action, str) else None
        mapped = STEPS.get(str(record.get("step")))
        if record.get("actor") in (None, AUTOHEAL) or record.get("outcome") != OK or mapped is None:
            continue
        if spec is None or spec.person_only or record.get("phase") not in (None, "outcome"):
            continue
        moment = parse_time_or_none(record.get("time"))
        if moment is None:
            continue
        do, kind = mapped
        target = table(record.get("target"))
        name = str(target.get("name") or "host") if kind != "host" else "host"
        when = str(record.get("snapshot_at") or record.get("time"))
        key = when if kind == "host" else f"{target.get('id') or name}@{when}"
        context = table(record.get("context"))
        facts = facts_of(kind, context)
        found.setdefault((do, key), ManualAction(moment, do, kind, name, key, facts))
    return sorted(found.values(), key=lambda action: action.time)


def facts_of(kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """The rule fields an audit record's `context` holds for a target of `kind` (absent: it does not say)."""
    facts: dict[str, Any] = {"kind": kind}
    host = table(context.get("host"))
    levels = table(host.get("levels"))
    for name, fact in HOST_LEVELS.items():
        if levels.get(name) in {level.value for level in Level}:
            facts[fact] = levels[name]
    for name, fact in (
        ("swap_percent", "host.swap"),
        ("memory_percent", "host.memory"),
        ("load_per_core", "host.load"),
    ):
        if isinstance(host.get(name), int | float) and not isinstance(host.get(name), bool):
            facts[fact] = float(host[name])
    target = table(context.get("target"))
    if isinstance(target.get("timed_out"), bool) and kind == "worker":
        facts["timed_out"] = target["timed_out"]
    for name in ("state", "health"):
        if isinstance(target.get(name), str) and kind in ("worker", "container", "orphan"):
            facts[name] = target[name]
    for name in ("restarts", "age_s", "stale_s"):
        if isinstance(target.get(name), int | float) and not isinstance(target.get(name), bool):
            facts[name] = float(target[name])
    return facts


@dataclass(frozen=True)
class HostClause:
    """`host.<metric>.level >= <level>` (metric `overall` is `host.level`)."""

    metric: str
    level: Level

    @property
    def field(self) -> str:
        """The rule field."""
        return HOST_LEVELS[self.metric]

    @property
    def text(self) -> str:
        """The clause in the grammar."""
        return f"{self.field} >= {self.level.value}"

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """True when the facts' level of the metric is at least the clause's."""
        have = facts.get(self.field)
        return have in {level.value for level in Level} and Level(have).rank >= self.level.rank


def cycle_levels(cycle: Cycle, thresholds: Thresholds) -> dict[str, Level]:
    """The levels a history cycle's figures reach, by the audit context's names (`overall` is the cycle's level)."""
    levels = figure_levels({metric: cycle.figure(metric) for metric in ("swap", "memory", "load")}, thresholds)
    if cycle.level is not None:
        levels["overall"] = cycle.level
    return levels


class History:
    """The cycle history in time order, asked where an action falls and whether things cleared after it."""

    def __init__(self, cycles: Sequence[Cycle], thresholds: Thresholds) -> None:
        self.cycles = sorted(cycles, key=lambda cycle: cycle.started_at)
        self.thresholds = thresholds
        self._starts = [cycle.started_at for cycle in self.cycles]

    def index_at(self, moment: datetime) -> int | None:
        """The index of the cycle `moment` falls in (the last one started at or before it); None before the first."""
        index = bisect_right(self._starts, moment) - 1
        return None if index < 0 else index

    def recovery(self, action: ManualAction, clause: HostClause | None) -> int | None | bool:
        """Cycles after `action` until its condition cleared (1: the next cycle); False when it had not within
        RECOVERY_HORIZON cycles; None when the history cannot tell (nothing measures it, or too few cycles yet)."""
        index = self.index_at(action.time)
        if index is None:
            return None
        measure = self._measure(action, clause, self.cycles[index])
        if measure is None:
            return None
        after = self.cycles[index + 1 : index + 1 + RECOVERY_HORIZON]
        for number, cycle in enumerate(after, start=1):
            cleared = measure(cycle)
            if cleared:
                return number
        return False if len(after) == RECOVERY_HORIZON else None

    def _measure(self, action: ManualAction, clause: HostClause | None, at: Cycle) -> Any:
        """A function of a later cycle: True when it shows the condition cleared, None when it cannot say."""
        if clause is not None:
            level = cycle_levels(at, self.thresholds).get(clause.metric)
            if level is None or level.rank < clause.level.rank:
                return None  # the history does not show the condition where the action was: it cannot judge it

            def host_cleared(cycle: Cycle) -> bool | None:
                level = cycle_levels(cycle, self.thresholds).get(clause.metric)
                return None if level is None else level.rank < clause.level.rank

            return host_cleared
        count = {"worker": "timed_out", "ghost": "phantoms", "orphan": "phantoms"}.get(action.kind)
        if count is None or getattr(at, count) is None:
            return None
        before = getattr(at, count)

        def fewer(cycle: Cycle) -> bool | None:
            now = getattr(cycle, count)
            return None if now is None else now == 0 or now < before

        return fewer
