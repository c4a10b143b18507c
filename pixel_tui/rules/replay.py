"""The dry-run tester: a rule replayed over the stored history and the audit log, and where it would have fired.

Two sources, each honest about what it holds (docs/rules.md, "`when`"):
- the history: one record per cycle with the host's figures (so their levels), how many workers were timed
  out and how many phantoms there were. A `timed_out` clause holds in a cycle with a timed-out worker, a
  ghost or orphan kind in one with phantoms (the history does not say which kind); per-target fields
  (health, name, labels, restarts, age) are not in it, and a clause on them is "cannot tell".
- the audit log: every recorded action carries its target's state and the host's levels at that moment,
  so the rule is evaluated there on that very target.

The condition is evaluated in three values (holds, does not, cannot tell): `not` of "cannot tell" is still
"cannot tell", so a missing field never reads as false and turns a clause true. A run of consecutive
cycles in which it holds is one firing (a rule acts when its condition appears), reported at its first
cycle. Grace, budgets and the guard rails are not replayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pixel_tui.history.model import Cycle
from pixel_tui.levels import Thresholds
from pixel_tui.model import iso
from pixel_tui.remediate.model import AUTOHEAL
from pixel_tui.rules.evidence import STEPS, cycle_levels, facts_of, table
from pixel_tui.rules.grammar import compile_rule
from pixel_tui.rules.model import Rule
from pixel_tui.rules.when import All, Any_, Compare, Field, Node, Not
from pixel_tui.values import parse_time_or_none

_HOST_FIGURES = {"swap": "swap_percent", "memory": "memory_percent", "cpu": "cpu_percent", "disk": "disk_percent",
                 "load": "load_per_core"}  # fmt: skip


@dataclass(frozen=True)
class Firing:
    """One place the rule would have fired."""

    time: datetime
    source: str
    """`history` or `audit`."""
    cycle: int | None
    target: str
    why: str
    certain: bool
    """False when some clause could not be evaluated there and the rest did not rule it out."""
    cycles: int = 1
    """History: how many consecutive cycles the condition held."""

    def as_json(self) -> dict[str, Any]:
        """The firing in `rules test --json`."""
        return {"time": iso(self.time), "source": self.source, "cycle": self.cycle, "target": self.target,
                "why": self.why, "certain": self.certain, "cycles": self.cycles}  # fmt: skip


@dataclass
class Replay:
    """What the tester found."""

    rule: Rule
    firings: list[Firing] = field(default_factory=list)
    cycles: int = 0
    """History cycles replayed."""
    records: int = 0
    """Audit records replayed (those on a target of the rule's kinds)."""
    unknown: dict[str, list[str]] = field(default_factory=dict)
    """Source -> the fields the condition names that it cannot evaluate."""


def names(node: Node) -> list[str]:
    """The fields a condition names, in order, each once."""
    found: list[str] = []
    if isinstance(node, Field | Compare):
        found.append(node.name)
    elif isinstance(node, Not):
        found += names(node.inner)
    else:
        for part in node.parts:
            found += [name for name in names(part) if name not in found]
    return list(dict.fromkeys(found))


def judge(node: Node, facts: Mapping[str, Any], unknown: set[str]) -> bool | None:
    """True, False, or None (cannot tell: it rests on a field in `unknown`)."""
    if isinstance(node, Field | Compare):
        return None if node.name in unknown else node.holds(facts)
    if isinstance(node, Not):
        inner = judge(node.inner, facts, unknown)
        return None if inner is None else not inner
    results = [judge(part, facts, unknown) for part in node.parts]
    if isinstance(node, All):
        return False if False in results else None if None in results else True
    assert isinstance(node, Any_)
    return True if True in results else None if None in results else False


def cycle_facts(cycle: Cycle, kind: str, thresholds: Thresholds) -> tuple[dict[str, Any], set[str]]:
    """The fields a history cycle gives a target of `kind` (a stand-in for "some target"), and the fields it cannot
    give."""
    facts: dict[str, Any] = {"kind": kind}
    for metric, name in _HOST_FIGURES.items():
        value = getattr(cycle, name)
        if value is not None:
            facts[f"host.{metric}"] = value
    levels = cycle_levels(cycle, thresholds)
    for metric in ("swap", "memory", "load"):
        if metric in levels:
            facts[f"host.{metric}.level"] = levels[metric].value
    if cycle.level is not None:
        facts["host.level"] = cycle.level.value
    known = set(facts)
    if kind == "worker" and cycle.timed_out is not None:
        facts["timed_out"] = cycle.timed_out > 0
        known.add("timed_out")
    if kind in ("ghost", "orphan") and cycle.phantoms is not None and cycle.phantoms == 0:
        facts["kind"] = "none"  # no phantom of either kind in this cycle
    return facts, known


def _why(node: Node, facts: Mapping[str, Any], extra: Mapping[str, str]) -> str:
    parts = []
    for name in names(node):
        if name == "kind":
            continue
        if name in extra:
            parts.append(extra[name])
        elif name in facts:
            value = facts[name]
            if isinstance(value, bool):
                parts.append(name if value else f"not {name}")
            else:
                parts.append(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}")
    return ", ".join(parts) or "its condition held"


def replay(rule: Rule, cycles: Sequence[Cycle], records: Sequence[Mapping[str, Any]], thresholds: Thresholds) -> Replay:
    """Where `rule` would have fired over `cycles` (the history, in time order) and `records` (the audit log)."""
    compiled = compile_rule(rule)
    root = compiled.condition.root
    named = names(root)
    result = Replay(rule)
    history_unknown: set[str] = set()
    for kind in sorted(compiled.kinds):
        run: Firing | None = None
        for cycle in sorted(cycles, key=lambda each: each.started_at):
            facts, known = cycle_facts(cycle, kind, thresholds)
            unknown = {name for name in named if name not in known and name != "kind"}
            if kind in ("ghost", "orphan") and facts["kind"] == kind:
                unknown.add("kind")  # phantoms, of which kind the history does not say
            history_unknown |= unknown
            held = judge(root, facts, unknown)
            result.cycles += 1
            if held is False:
                run = None
                continue
            if run is not None and run.certain == (held is True):
                result.firings[-1] = run = Firing(run.time, run.source, run.cycle, run.target, run.why, run.certain,
                                                  run.cycles + 1)  # fmt: skip
                continue
            extra = {"timed_out": f"{cycle.timed_out} timed out"} if kind == "worker" and cycle.timed_out else {}
            subject = {"worker": "a timed-out worker" if cycle.timed_out else "a worker", "ghost": "a phantom",
                      "orphan": "a phantom", "host": "host"}.get(kind, f"a {kind}")  # fmt: skip
            run = Firing(cycle.started_at, "history", cycle.cycle, subject, _why(root, facts, extra), held is True)
            result.firings.append(run)
    if history_unknown:
        result.unknown["history"] = [name for name in named if name in history_unknown]
    result.cycles //= max(len(compiled.kinds), 1)
    audit_unknown: set[str] = set()
    for record in records:
        mapped = STEPS.get(str(record.get("step")))
        if mapped is None or mapped[1] not in compiled.kinds or record.get("phase") == "verdict":
            continue
        moment = parse_time_or_none(record.get("time"))
        if moment is None:
            continue
        context = table(record.get("context"))
        facts = facts_of(mapped[1], context)
        unknown = {name for name in named if name not in facts}
        audit_unknown |= unknown
        result.records += 1
        held = judge(root, facts, unknown)
        if held is False:
            continue
        target = table(record.get("target"))
        who = "autoheal" if record.get("actor") == AUTOHEAL else str(record.get("actor") or "someone")
        shadowed = record.get("outcome") == "shadow"
        how = f"{who} would have run {record.get('step')} (shadow)" if shadowed else (
            f"{who} ran {record.get('step')}: {record.get('outcome')}")  # fmt: skip
        why = f"{_why(root, facts, {})} ({how})"
        result.firings.append(Firing(moment, "audit", None, str(target.get("name") or "host"), why, held is True))
    if audit_unknown:
        result.unknown["audit"] = [name for name in named if name in audit_unknown]
    result.firings.sort(key=lambda firing: (firing.time, firing.source))
    return result


def render(result: Replay) -> str:
    """The replay for a person: one line per firing, then what could not be evaluated."""
    rule = result.rule
    lines = [f"rule {rule.id}: {rule.do} when {rule.when}",
             f"replayed over {result.cycles} history cycles and {result.records} audit records"]  # fmt: skip
    if not result.firings:
        lines.append("it would not have fired")
    for firing in result.firings:
        where = f"cycle {firing.cycle}" if firing.cycle is not None else "audit"
        span = f" (held {firing.cycles} cycles)" if firing.cycles > 1 else ""
        mark = "fires" if firing.certain else "may fire"
        lines.append(f"  {firing.time:%Y-%m-%d %H:%M}  {where:<10} {mark:<8}  {firing.target}: {firing.why}{span}")
    for source, fields in result.unknown.items():
        what = "the per-cycle history" if source == "history" else "the audit records' context"
        lines.append(f"cannot tell from {what}: {', '.join(fields)} (where it rests on them: `may fire`)")
    lines.append("not replayed: grace, budget and the guard rails (host cap, short-circuit, hands-off)")
    return "\n".join(lines)


def as_json(result: Replay) -> dict[str, Any]:
    """The replay in `rules test --json`."""
    return {"rule": result.rule.id, "when": result.rule.when, "do": result.rule.do, "cycles": result.cycles,
            "records": result.records, "firings": [firing.as_json() for firing in result.firings],
            "cannot_evaluate": result.unknown}  # fmt: skip
