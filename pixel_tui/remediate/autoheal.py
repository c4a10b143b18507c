"""Autoheal: the rules, run after each collection within guard rails (docs/rules.md, README).

What it does is data: the built-in rules (`pixel_tui/rules/builtin.toml`: today's policy, kill workers past
their timeout, abort ghosts, remove orphans, clear a lock stale past `workers.lock_grace_s`, restart
containers labelled `pixel.autoheal=true` unhealthy past a grace, cycle swap when critical and swapoff
fits), the config's `[[autoheal.rules]]` and `rules.toml`; it also re-applies an abort the orchestrator's
whole-ledger write undid.

Guard rails above every rule: nothing during the first collections after start; a target is acted on when
its condition appears (or when the last attempt on it did not succeed), not every collection; the rule's
budget per target, then it gives up on that target and says so in an event and in the audit log; a
host-wide cap per hour; a short-circuit when a rule matches too many targets at once; nothing on a target a
person acted on within `hands_off_s`; `pixel.autoheal=false` opts a container out; never in read-only.
Every attempt goes through the same executor as a person's: same validation, same audit, with the rule's id.
Shadow rules record what they would have done and never act; after an action the next collections give its
verdict (`rules.verdict`), and an operator's rule that fails or does not recover goes back to shadow.

The collection never waits for an action: `heal` hands each plan to a small pool of threads
(`remediate.parallel`) and returns at once; what finished is told with a later collection. A target
with an action in flight is not planned again until it is done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pixel_tui import trust
from pixel_tui.model import Event, Level, Snapshot, iso, utcnow
from pixel_tui.notify import notify
from pixel_tui.notify.notice import SHORT_CIRCUIT
from pixel_tui.remediate.audit import AuditUnavailable
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.flights import Flights
from pixel_tui.remediate.model import AUTOHEAL, FAILED, OK, REFUSED, Outcome, Plan, outcome_event
from pixel_tui.rules.engine import Evaluation, Match, RulesEngine
from pixel_tui.rules.handsoff import HandsOff
from pixel_tui.rules.model import RuleError, RuleState, RuleStatus
from pixel_tui.rules.sources import RuleSet, load_rules
from pixel_tui.rules.steps import audit_ids, rule_plan, shadow_record
from pixel_tui.rules.verdict import Verifier
from pixel_tui.settings import AutohealSettings

ACTOR = AUTOHEAL
"""The audit log's actor for what the rules do."""


GAVE_UP = "autoheal gave up on"
"""How the reason of autoheal's refusal starts when it gives up on a target (the audit log and its readers)."""

HOUR = 3600.0


@dataclass
class AutohealState:
    """What the status line shows of autoheal."""

    enabled: bool
    actions: int = 0
    """Attempts made since start."""
    given_up: dict[str, str] = field(default_factory=dict)
    """Targets it gave up on: `<rule>@<target>` key -> name."""


def trusted_reader() -> Callable[..., Callable[..., None] | None]:
    """As root, a rules.toml is believed only through steps no other user can write (as the config is)."""
    return lambda path: (lambda info: trust.check_read(path, info)) if trust.enforcing() else None


class Autoheal:
    """The rules, run by the pipeline after each collection (implements pipeline.Healer)."""

    def __init__(
        self,
        executor: Executor,
        settings: AutohealSettings,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        rules: RuleSet | None = None,
        wall: Callable[[], float] = time.time,
        on_demote: Callable[[str], object] | None = None,
    ) -> None:
        self.executor = executor
        self._on_demote = on_demote
        """Keeps a demotion (rules.toml through the rules book), so a restart does not enable the rule again."""
        self.settings = settings
        self.state = AutohealState(enabled=settings.enabled if enabled is None else enabled)
        self._clock = clock
        self._seen = 0
        self._previous: set[str] = set()
        self._last: dict[str, str] = {}
        self._attempts: dict[str, list[float]] = {}
        self._hour: list[float] = []
        self._who: dict[str, str] = {}
        """The target each action's key acts on (its container, task or lock), while it may be in flight."""
        self._told: dict[str, set[str]] = {"short": set(), "shadow": set(), "hands-off": set(), "cap": set()}
        config = dataclasses.replace(executor.settings, autoheal=settings)
        self.ruleset = rules if rules is not None else load_rules(config, verify=trusted_reader())
        self.engine = RulesEngine(self.ruleset, config)
        """The rules compiled, their place on the ladder and their counters."""
        self.verifier = Verifier(settings.verify_cycles)
        self.hands_off = HandsOff(executor.backends.audit.path, settings.hands_off_s, wall=wall)
        executor.listen(self.hands_off.told)
        # Daemon threads: an action still waiting for the engine when a stop recorded it interrupted holds no exit.
        self._flights = Flights(executor.settings.remediate.parallel)

    @property
    def enabled(self) -> bool:
        """True when it runs each collection. Read-only, its every attempt is refused (and audited)."""
        return self.state.enabled

    def toggle(self) -> bool:
        """Turn it on or off; returns the new state. Read-only, it cannot be turned on."""
        self.state.enabled = not self.state.enabled and not self.executor.read_only
        return self.state.enabled

    @property
    def rule_errors(self) -> list[RuleError]:
        """The rules that cannot run, with their file, line and reason (told at start; the others run)."""
        return list(self.engine.errors)

    def statuses(self) -> list[RuleStatus]:
        """Every rule with its state and counters, and the budget left on the target nearest its budget."""
        now = self._clock()

        def left(rule_id: str) -> int | None:
            compiled = self.engine.compiled[rule_id]
            window, count = compiled.rule.budget.window_s, compiled.rule.budget.count
            used = [len([m for m in moments if now - m < window])
                    for key, moments in list(self._attempts.items()) if key.startswith(f"{rule_id}@")]  # fmt: skip
            used = [n for n in used if n]
            return max(0, count - max(used)) if used else None

        return self.engine.statuses(left)

    def plans(self, snapshot: Snapshot) -> list[Plan]:
        """What the enabled rules call for in `snapshot` (`heal` once, `--dry-run`): one plan per target, within the
        short-circuit and hands-off, not the budgets (a pass of its own); a rule with a grace counts it from the
        collections this autoheal saw (none yet: not before its grace)."""
        found = []
        matches = self.engine.holding(snapshot)
        shorted = {short.rule_id for short in self.engine.short_circuits(matches, snapshot)}
        self.hands_off.refresh()
        taken: set[str] = set()
        for match in matches:
            rule = match.rule.rule
            held_off = self.hands_off.since(audit_ids(match.target)) is not None
            if rule.id in shorted or match.target.key in taken or held_off:
                continue
            if self.engine.states[rule.id] is RuleState.ENABLED and self.engine.held(match.key) >= rule.grace_s:
                taken.add(match.target.key)
                plan = self._plan(match, snapshot)
                if plan is not None:
                    found.append(plan)
        return found

    def _plan(self, match: Match, snapshot: Snapshot) -> Plan | None:
        rule = match.rule.rule
        return rule_plan(rule.id, rule.do, match.target, snapshot, self.executor.rules.is_worker)

    @property
    def remembered(self) -> int:
        """Targets it keeps state for: live conditions, actions in flight, and targets tried within the budget
        window (bounded on a host where containers and tasks come and go, however long it runs)."""
        return len(set(self._last) | set(self._attempts) | set(self.state.given_up))

    @property
    def in_flight(self) -> int:
        """Actions handed to the pool and not finished yet."""
        return self._flights.in_flight

    def heal(self, snapshot: Snapshot) -> tuple[Event, ...]:
        """One pass over a snapshot: hand what the rules call for to the pool; the events of what finished."""
        self._seen += 1
        events = list(self.finished())
        if self._seen == 1:
            events += [Event(utcnow(), "rule-error", error.rule_id or "?", str(error), Level.WARNING)
                       for error in self.engine.errors]  # fmt: skip
        now = self._clock()
        if self.executor.workers.watch.current(snapshot.taken_at):
            self._flights.start("recheck-aborts", self._recheck)
        if not self.enabled and not len(self.verifier) and not self._flights.running():
            self.engine.idle(snapshot, now)  # off, nothing to verify: no rule need be evaluated
            self._previous = set()
            return tuple(events)
        evaluation = self.engine.evaluate(snapshot, now)
        events += self._verdicts(evaluation, now)
        acting = {match.key: match for match in evaluation.acting}
        if not self.enabled or self._seen <= self.settings.startup_cycles:
            self._previous = set(acting)
            return tuple(events)
        events += self._short_circuits(evaluation)
        if not self.executor.read_only:  # read-only: nothing is recorded (a forced pass has its refusals audited)
            events += self._shadows(evaluation, snapshot)
        self.hands_off.refresh()
        held_off: set[str] = set()
        # One action per target at a time, whichever rules and kinds match it (a worker's kill, its container's
        # restart, its removal as an orphan): the first in order.
        taken = {self._who.get(key) for key in self._flights.running()}
        for key, match in acting.items():
            who = audit_ids(match.target)[0]
            if key in self.state.given_up or self._flights.busy(key) or who in taken:
                continue
            # Act when the condition is new, never tried, or the last try did not succeed: not every collection.
            if key in self._previous and self._last.get(key) == OK:
                continue
            plan = self._plan(match, snapshot)
            if plan is None:
                continue
            ago = self.hands_off.since(audit_ids(match.target))
            if ago is not None:
                held_off.add(key)
                if key not in self._told["hands-off"]:
                    events.append(self._hands_off(match, ago))
                continue
            budget = match.rule.rule.budget
            recent = [moment for moment in self._attempts.get(key, []) if now - moment < budget.window_s]
            if len(recent) >= budget.count:
                events.append(self._give_up(key, match, plan, len(recent), budget.window_s))
                continue
            self._hour = [moment for moment in self._hour if now - moment < HOUR]
            if len(self._hour) >= self.settings.max_actions_per_hour:
                if not self._told["cap"]:
                    message = (f"autoheal: {len(self._hour)} actions within the hour, the host-wide cap "
                               f"(max_actions_per_hour): no more until the hour has passed")  # fmt: skip
                    events.append(Event(utcnow(), "autoheal-capped", "host", message, Level.WARNING))
                self._told["cap"] = {"cap"}
                continue
            self._told["cap"] = set()
            self._attempts[key] = [*recent, now]
            self._hour.append(now)
            self.engine.counters[match.rule.rule.id].actions += 1
            taken.add(who)
            self._who[key] = who
            self._flights.start(key, functools.partial(self._act, key, match, plan, now))
        self._told["hands-off"] = held_off
        self._previous = set(acting)
        self._forget(set(acting), now)
        return tuple(events)

    def _hands_off(self, match: Match, ago: float) -> Event:
        message = (
            f"autoheal: rule {match.rule.rule.id} leaves {match.target.name} alone: a person acted on it "
            f"{ago / 60:.0f} min ago (hands_off_s {self.settings.hands_off_s:g})"
        )
        return Event(utcnow(), "autoheal-hands-off", match.target.name, message, Level.OK)

    def _give_up(self, key: str, match: Match, plan: Plan, count: int, window: float) -> Event:
        name = match.target.name
        self.state.given_up[key] = name
        reason = f"{GAVE_UP} {name}: {count} actions in {window / 60:g} minutes did not resolve it; it needs a person"
        self.executor.refuse(plan, plan.steps[0], actor=ACTOR, reason=reason)
        self.engine.counters[match.rule.rule.id].last = reason
        return Event(utcnow(), "autoheal-gave-up", name, reason, Level.WARNING)

    def _short_circuits(self, evaluation: Evaluation) -> list[Event]:
        events = []
        for short in evaluation.short:
            if short.rule_id not in self._told["short"]:
                events.append(Event(utcnow(), "autoheal-short-circuit", short.rule_id, short.sentence(), Level.WARNING))
                notify(SHORT_CIRCUIT, short.rule_id, short.sentence())
                self.engine.counters[short.rule_id].last = short.sentence()
        self._told["short"] = {short.rule_id for short in evaluation.short}
        return events

    def _shadows(self, evaluation: Evaluation, snapshot: Snapshot) -> list[Event]:
        """Record once per appearance what each shadow rule would have done; it never acts."""
        events = []
        for match in evaluation.shadow:
            plan = self._plan(match, snapshot) if match.key not in self._told["shadow"] else None
            if plan is None:
                continue
            record, why = shadow_record(plan, iso(utcnow()) or "")
            with contextlib.suppress(AuditUnavailable, OSError):
                self.executor.backends.audit.append(record)
            message = f"autoheal: shadow rule {match.rule.rule.id} {why}"
            self.engine.counters[match.rule.rule.id].last = message
            events.append(Event(utcnow(), "autoheal-shadow", match.target.name, message, Level.OK))
        self._told["shadow"] = {match.key for match in evaluation.shadow}
        return events

    def _verdicts(self, evaluation: Evaluation, now: float) -> list[Event]:
        events = []
        for verdict in self.verifier.observe(evaluation.holding, now):
            with contextlib.suppress(AuditUnavailable, OSError):
                self.executor.backends.audit.append(verdict.record(iso(utcnow()) or ""))
            counters = self.engine.counters.get(verdict.rule_id)
            if counters is not None:
                counters.last = verdict.sentence()
                if verdict.recovered:
                    counters.recoveries += 1
                else:
                    counters.not_recovered += 1
            kind = "autoheal-recovered" if verdict.recovered else "autoheal-not-recovered"
            level = Level.OK if verdict.recovered else Level.WARNING
            events.append(Event(utcnow(), kind, verdict.name, verdict.sentence(), level))
            if not verdict.recovered:
                events += self._demote(verdict.rule_id, "not recovered")
        return events

    def _demote(self, rule_id: str, why: str) -> list[Event]:
        if not self.engine.demote(rule_id):
            return []
        message = (
            f"autoheal: rule {rule_id} back to shadow ({why}): it records what it would do until a person promotes it"
        )
        events = [Event(utcnow(), "rule-demoted", rule_id, message, Level.WARNING)]
        if self._on_demote is not None:
            try:
                self._on_demote(rule_id)
            except Exception as error:  # noqa: BLE001 - kept in memory all the same; the operator is told why not on disk
                events.append(Event(utcnow(), "rule-demoted", rule_id,
                                    f"autoheal: rule {rule_id}'s demotion is not kept across a restart: {error}",
                                    Level.WARNING))  # fmt: skip
        return events

    def _forget(self, present: set[str], now: float) -> None:
        """Drop what is kept of targets whose condition is gone, once it can no longer matter.

        Keys name containers and tasks that come and go (on a churning host, hundreds an hour): without
        this the process grows with every target it ever saw. A condition that comes back within the
        budget window still finds its attempts (the budget holds across a flap); `_last` only matters
        while the condition stays, and an action in flight writes it when it ends, so it goes with it.
        """
        flying = self._flights.keys()
        keep = present | flying
        # In place: an action in flight writes `_last` from the pool meanwhile (its key is kept).
        for key in [key for key in list(self._last) if key not in keep]:
            self._last.pop(key, None)
        self._who = {key: who for key, who in self._who.items() if key in flying}
        for key, moments in list(self._attempts.items()):
            if key not in keep and all(now - moment >= self._window(key) for moment in moments):
                del self._attempts[key]
        # A target given up on stays given up (and said so) while its condition lasts or may return.
        for key in [key for key in self.state.given_up if key not in keep and key not in self._attempts]:
            del self.state.given_up[key]

    def _window(self, key: str) -> float:
        """The budget window of the rule of `key` (`<rule>@<target>`)."""
        compiled = self.engine.compiled.get(key.partition("@")[0])
        return compiled.rule.budget.window_s if compiled is not None else self.settings.budget_window_s

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the actions in flight, at most `timeout` seconds (what finished is told by the next `heal`)."""
        self._flights.wait(timeout)

    def close(self) -> None:
        """Start no more actions: those queued and not begun are dropped (nothing of them was done; the next run
        plans them again); those in flight go on (a stop waits for them: pixel_tui/remediate/shutdown.py)."""
        self._flights.close()

    def finished(self) -> tuple[Event, ...]:
        """The events of the actions that finished since last asked (`heal` asks first thing)."""
        return self._flights.finished()

    def _act(self, key: str, match: Match, plan: Plan, at: float) -> tuple[Event, ...]:
        rule_id = match.rule.rule.id
        outcomes = self.executor.execute(plan, actor=ACTOR, reason=f"autoheal: rule {rule_id}: {plan.steps[0].why}")
        if not outcomes:
            return ()
        outcome: Outcome = outcomes[0]
        self._last[key] = outcome.outcome
        self.state.actions += 1
        self.engine.counters[rule_id].last = outcome.sentence()
        events = [outcome_event(item, actor=ACTOR) for item in outcomes]
        if outcome.ok:
            target = outcome.step.target.as_json() if outcome.step.target else None
            self.verifier.start(
                key,
                rule_id,
                match.target.name,
                record_id=outcome.record_id,
                action=plan.action,
                step=outcome.step.op,
                target=target,
                at=at,
            )
        elif outcome.outcome in (FAILED, REFUSED) and not self.executor.read_only:
            events += self._demote(rule_id, outcome.outcome)
        return tuple(events)

    def _recheck(self) -> tuple[Event, ...]:
        return self.executor.recheck_aborts(reapply=self.enabled, actor=ACTOR, budget=self.settings.budget_actions)
