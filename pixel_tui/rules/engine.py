"""The rules evaluated over a snapshot: which targets each rule holds on, past its grace, within the guard rails
that look at one snapshot (scope, `pixel.autoheal=false`, the short-circuit), and each rule's counters.

What acts, and the guard rails over time (budgets, the host-wide cap, hands-off, in flight), is autoheal's
(pixel_tui/remediate/autoheal.py); whether an action worked is `rules.verdict`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pixel_tui.model import Snapshot
from pixel_tui.rules.facts import Facts, HealthClock, targets
from pixel_tui.rules.grammar import Compiled, compile_rule
from pixel_tui.rules.model import BUILTIN, RuleError, RuleState, RuleStatus
from pixel_tui.rules.sources import RuleSet
from pixel_tui.rules.when import WhenError
from pixel_tui.settings import Settings


@dataclass(frozen=True)
class Match:
    """A rule whose condition holds on a target."""

    rule: Compiled
    target: Facts
    held_s: float = 0.0
    """How long it has held, as pixel-tui saw it."""

    @property
    def key(self) -> str:
        """`<rule id>@<target key>`: what budgets, the once-per-appearance rule and verdicts count by."""
        return f"{self.rule.rule.id}@{self.target.key}"


@dataclass(frozen=True)
class ShortCircuit:
    """A rule that matched too many targets of its kind at once: it acts on none (something systemic)."""

    rule_id: str
    matched: int
    total: int
    kinds: str

    def sentence(self) -> str:
        """One line for the events pane and the notification."""
        return (
            f"rule {self.rule_id} matches {self.matched} of {self.total} {self.kinds} targets at once: "
            f"acting on none (something systemic; a person should look)"
        )


@dataclass
class Evaluation:
    """One collection's evaluation."""

    acting: list[Match] = field(default_factory=list)
    """Enabled rules past their grace, within scope and the short-circuit."""
    shadow: list[Match] = field(default_factory=list)
    """Shadow rules past their grace: what they would have done."""
    holding: set[str] = field(default_factory=set)
    """The keys of every rule and target on which the condition holds now, grace or not (for verdicts)."""
    short: list[ShortCircuit] = field(default_factory=list)


@dataclass
class Counters:
    """A rule's runtime counts since start (the rules screen's columns)."""

    hits: int = 0
    actions: int = 0
    recoveries: int = 0
    not_recovered: int = 0
    last: str | None = None


class RulesEngine:
    """The compiled rules of a RuleSet with their state on the ladder and their counters."""

    def __init__(self, ruleset: RuleSet, settings: Settings) -> None:
        self.ruleset = ruleset
        self.settings = settings
        self.errors: list[RuleError] = list(ruleset.errors)
        self.compiled: dict[str, Compiled] = {}
        for rule in ruleset.rules:
            try:
                self.compiled[rule.id] = compile_rule(rule)
            except WhenError as error:  # parsed once already: never expected
                self.errors.append(RuleError(rule.source, rule.line, rule.id, str(error)))
        self.states: dict[str, RuleState] = {rule_id: c.rule.state for rule_id, c in self.compiled.items()}
        self.counters: dict[str, Counters] = {rule_id: Counters() for rule_id in self.compiled}
        self._health = HealthClock()
        self._since: dict[str, float] = {}
        self._last_now = 0.0

    # -- evaluation --------------------------------------------------------------------------------------------

    def _opted_out(self, target: Facts) -> bool:
        return target.labels.get(self.settings.autoheal.label, "").strip().lower() == "false"

    def holding(
        self, snapshot: Snapshot, health_for: dict[str, float] | None = None, facts: list[Facts] | None = None
    ) -> list[Match]:
        """Every live rule (enabled or shadow) and target on which its condition holds, in scope, not opted out."""
        found: list[Match] = []
        if facts is None:
            facts = targets(snapshot, swap_margin_percent=self.settings.remediate.swap_margin_percent,
                            health_for=health_for)  # fmt: skip
        live = [
            c for rule_id, c in self.compiled.items() if self.states[rule_id] in (RuleState.ENABLED, RuleState.SHADOW)
        ]
        for target in facts:
            if self._opted_out(target):
                continue
            for compiled in live:
                fits = target.kind in compiled.kinds and compiled.in_scope(target.name, target.labels)
                if fits and compiled.condition.holds(target.fields):
                    found.append(Match(compiled, target))
        return found

    def evaluate(self, snapshot: Snapshot, now: float) -> Evaluation:
        """One collection: the matches past their grace, the short-circuits, the counters' hits."""
        self._last_now = now
        health_for = self._health.see(snapshot, now)
        facts = targets(snapshot, swap_margin_percent=self.settings.remediate.swap_margin_percent,
                        health_for=health_for)  # fmt: skip
        matches = self.holding(snapshot, health_for, facts)
        result = Evaluation(holding={match.key for match in matches})
        self._since = {key: self._since.get(key, now) for key in result.holding}
        result.short = self.short_circuits(matches, snapshot, facts)
        shorted = {short.rule_id for short in result.short}
        by_rule: dict[str, list[Match]] = {}
        for match in matches:
            by_rule.setdefault(match.rule.rule.id, []).append(replace(match, held_s=now - self._since[match.key]))
        for rule_id, found in by_rule.items():
            self.counters[rule_id].hits += 1
            compiled = self.compiled[rule_id]
            if rule_id in shorted:
                continue
            ready = [match for match in found if match.held_s >= compiled.rule.grace_s]
            if self.states[rule_id] is RuleState.SHADOW:
                result.shadow += ready
            else:
                result.acting += ready
        return result

    def held(self, key: str) -> float:
        """Seconds the condition of `key` has held as of the last evaluation (0 when it did not hold then)."""
        since = self._since.get(key)
        return 0.0 if since is None else self._last_now - since

    def idle(self, snapshot: Snapshot, now: float) -> None:
        """A collection while autoheal is off and has nothing to verify: no rule is evaluated (at 1 000 containers
        that is 20 ms a collection), health durations are still followed, and every grace starts again once it
        is on (a condition seen before it was off may not have held all along)."""
        self._last_now = now
        self._health.see(snapshot, now)
        self._since.clear()

    def short_circuits(
        self, matches: list[Match], snapshot: Snapshot, facts: list[Facts] | None = None
    ) -> list[ShortCircuit]:
        """The rules among `matches` that match too many targets of their kind at once: they act on none."""
        counts: dict[str, int] = {}
        for match in matches:
            counts[match.rule.rule.id] = counts.get(match.rule.rule.id, 0) + 1
        if not counts:
            return []
        totals: dict[str, int] = {}
        for target in targets(snapshot) if facts is None else facts:
            totals[target.kind] = totals.get(target.kind, 0) + 1
        found = [self._short_circuit(self.compiled[rule_id], count, totals) for rule_id, count in counts.items()]
        return [short for short in found if short is not None]

    def _short_circuit(self, compiled: Compiled, matched: int, totals: dict[str, int]) -> ShortCircuit | None:
        kinds = compiled.kinds - {"host"}  # one host: "all of it at once" is not a sign of anything systemic
        total = sum(totals.get(kind, 0) for kind in kinds)
        policy = self.settings.autoheal
        if not kinds or total < policy.min_targets or matched <= policy.max_share * total:
            return None
        return ShortCircuit(compiled.rule.id, matched, total, "/".join(sorted(kinds)))

    # -- the ladder --------------------------------------------------------------------------------------------

    def demote(self, rule_id: str) -> bool:
        """An enabled rule of the operator's back to shadow (a failure, a refusal, not recovered); True when it
        was. Built-in rules stay: they are the policy the operator turned autoheal on for."""
        compiled = self.compiled.get(rule_id)
        if compiled is None or compiled.rule.source == BUILTIN or self.states[rule_id] is not RuleState.ENABLED:
            return False
        self.states[rule_id] = RuleState.SHADOW
        return True

    def statuses(self, budget_left: Callable[[str], int | None]) -> list[RuleStatus]:
        """Every rule with its state now and its counters (the rules screen, `pixel-tui rules list`)."""
        rows = []
        for rule_id, compiled in self.compiled.items():
            counts = self.counters[rule_id]
            rows.append(
                RuleStatus(
                    rule=replace(compiled.rule, state=self.states[rule_id]),
                    hits=counts.hits,
                    actions=counts.actions,
                    recoveries=counts.recoveries,
                    not_recovered=counts.not_recovered,
                    budget_left=budget_left(rule_id),
                    last=counts.last,
                )
            )
        return rows


def rule_statuses(ruleset: RuleSet, settings: Settings) -> list[RuleStatus]:
    """Every rule of `ruleset` with no runtime counts (`pixel-tui rules list` outside a running autoheal); a running
    autoheal's own counts are `Autoheal.statuses()`."""
    return RulesEngine(ruleset, settings).statuses(lambda rule_id: None)
