"""The rules book: every rule with its state and its counters, and the ladder's moves, written to `rules.toml` only.

Rules come from the package and the config (`base`, read by the caller) and from `rules.toml`, which wins
for an id it holds: a state a person set stands over the file it came from. The counters are read from the
audit log: each autoheal line carries the `rule` that made it, a shadow rule's "would have acted" is a line
with outcome `shadow`, and a verdict (a line with phase `verdict`) is read folded into its attempt's record
(`AuditLog.read`), or on its own when its attempt is not in the log.

Only a person moves a rule up (`promote`): a proposal goes to shadow first, then to enabled. Every change
re-reads `rules.toml` and writes it whole (`rules_file.write`); read-only refuses every change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pixel_tui import format as fmt
from pixel_tui.model import Level, utcnow
from pixel_tui.notify import notify
from pixel_tui.notify.notice import PROPOSAL
from pixel_tui.remediate.catalogue import READ_ONLY_REASON
from pixel_tui.remediate.model import AUTOHEAL
from pixel_tui.rules import rules_file
from pixel_tui.rules.config import RulesSettings
from pixel_tui.rules.display import budget_text
from pixel_tui.rules.evidence import History, manual_actions, table
from pixel_tui.rules.model import BUILTIN, Rule, RuleError, RulesBook, RuleState, RuleStatus
from pixel_tui.rules.proposals import mine
from pixel_tui.rules.verdict import NOT_RECOVERED, RECOVERED
from pixel_tui.values import parse_time_or_none

SHADOW_OUTCOME = "shadow"
"""The `outcome` of a shadow rule's "would have acted" audit line."""
VERDICT = "verdict"
"""The `phase` of a verdict audit line."""


class Refused(ValueError):
    """A change the book will not make (unknown id, read-only, a move the ladder does not have); says why.

    A ValueError: the rules screen shows a book's ValueError as a refusal (it was lost there before)."""


class FileRulesBook(RulesBook):
    """The RulesBook of `rules.model` over `rules.toml` (`path`) and the audit log's records (the demo's is
    `demo.rules_book.MemoryRulesBook`, on the screen branch)."""

    def __init__(
        self,
        path: Path,
        *,
        base: Sequence[Rule] = (),
        base_errors: Sequence[RuleError] = (),
        disabled: Sequence[str] = (),
        audit: Callable[[], list[dict[str, Any]]] = list,
        read_only: bool = False,
        settings: RulesSettings | None = None,
        config: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.path = path
        self.base = list(base)
        self.base_errors = list(base_errors)
        self.disabled = frozenset(disabled)
        """`[autoheal] disable`: these ids are off whatever rules.toml says, as autoheal reads them."""
        self.audit = audit
        """The audit log's records, read folded (`AuditLog.read()[0]`), asked each time counters are made."""
        self.read_only = read_only
        self.settings = settings or RulesSettings()
        self.config = config
        """The operator's config file: never written."""
        self.clock = clock

    # --- reading -------------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        """Every rule: the base ones (each replaced by the file's rule of its id), then the file's others."""
        written = {rule.id: rule for rule in rules_file.read(self.path).rules}
        merged = [written.pop(rule.id, rule) for rule in self.base] + list(written.values())
        return [replace(rule, state=RuleState.OFF) if rule.id in self.disabled else rule for rule in merged]

    def rule(self, rule_id: str) -> Rule:
        """The rule of `rule_id`; Refused when there is none."""
        for rule in self.rules():
            if rule.id == rule_id:
                return rule
        raise Refused(f"no rule {rule_id!r} (`pixel-tui rules list` shows them)")

    def errors(self) -> list[RuleError]:
        """The rules that cannot run, and why: the base's and the file's."""
        return self.base_errors + rules_file.read(self.path).errors

    def statuses(self) -> list[RuleStatus]:
        """One status per rule, its counters from the audit log."""
        records = self.audit()
        by_rule: dict[str, list[Mapping[str, Any]]] = {}
        for record in records:
            if isinstance(record.get("rule"), str):
                by_rule.setdefault(record["rule"], []).append(record)
        errors = self.errors()
        return [self._status(rule, by_rule.get(rule.id, []), errors) for rule in self.rules()]

    def _status(self, rule: Rule, records: list[Mapping[str, Any]], errors: list[RuleError]) -> RuleStatus:
        hits = actions = recoveries = not_recovered = 0
        last: str | None = None
        since = self.clock() - timedelta(seconds=rule.budget.window_s)
        per_target: Counter[str] = Counter()
        for record in records:
            target = table(record.get("target"))
            name = str(target.get("name") or "host")
            when = parse_time_or_none(record.get("time"))
            at = f" at {when:%Y-%m-%d %H:%M}" if when else ""
            verdict = record.get("verdict")
            if record.get("phase") != VERDICT and record.get("outcome") == SHADOW_OUTCOME:
                hits += 1
                last = f"would have acted on {name}{at}"
            elif record.get("phase") != VERDICT and record.get("actor") == AUTOHEAL:
                hits += 1
                actions += 1
                last = f"{record.get('step') or record.get('action')} {name}: {record.get('outcome')}{at}"
                if when is not None and when >= since:
                    per_target[str(target.get("id") or name)] += 1
            if verdict in (RECOVERED, NOT_RECOVERED):  # folded into its attempt's record, or a line of its own
                recoveries += verdict == RECOVERED
                not_recovered += verdict == NOT_RECOVERED
                after = record.get("after_s")
                took = f" after {fmt.duration(after)}" if isinstance(after, int | float) else ""
                told = f"{verdict}{took}"
                last = f"{name} {told}{at}" if record.get("phase") == VERDICT or last is None else f"{last}, {told}"
        budget_left = max(rule.budget.count - max(per_target.values()), 0) if per_target else None
        notes = tuple(str(error) for error in errors if error.rule_id == rule.id)
        if rule.id in self.disabled:
            notes += ("off: [autoheal] disable in the config names it",)
        return RuleStatus(rule, hits, actions, recoveries, not_recovered, budget_left, last, notes)

    # --- the ladder ----------------------------------------------------------------------------------------

    def promote(self, rule_id: str) -> str:
        """Proposed or off -> shadow; shadow -> enabled. Only a person calls this."""
        self._check()
        rule = self.rule(rule_id)
        if rule.state is RuleState.ENABLED:
            raise Refused(f"rule {rule_id} is enabled already")
        goal = RuleState.ENABLED if rule.state is RuleState.SHADOW else RuleState.SHADOW
        self._set(rule, goal)
        if goal is RuleState.SHADOW:
            return (
                f"rule {rule_id}: {rule.state.value} -> shadow (it records what it would do; promote again to enable)"
            )
        return f"rule {rule_id}: shadow -> enabled (it acts, under its budget {budget_text(rule.budget)})"

    def shadow(self, rule_id: str) -> str:
        """Any state -> shadow: evaluated, never acting."""
        self._check()
        rule = self.rule(rule_id)
        if rule.state is RuleState.SHADOW:
            raise Refused(f"rule {rule_id} is in shadow already")
        self._set(rule, RuleState.SHADOW)
        return f"rule {rule_id}: {rule.state.value} -> shadow (it records what it would do, never acts)"

    def disable(self, rule_id: str) -> str:
        """Any state -> off."""
        self._check()
        rule = self.rule(rule_id)
        if rule.state is RuleState.OFF:
            raise Refused(f"rule {rule_id} is off already")
        self._set(rule, RuleState.OFF)
        return f"rule {rule_id}: {rule.state.value} -> off"

    def reject(self, rule_id: str) -> str:
        """A proposal (a mined rule not enabled) removed, and not proposed again for the cooldown."""
        self._check()
        rule = self.rule(rule_id)
        if rule.proposed_at is None or rule.source != str(self.path):
            raise Refused(f"rule {rule_id} is not a proposal: `disable` turns it off")
        if rule.state is RuleState.ENABLED:
            raise Refused(f"rule {rule_id} is enabled: `disable` it, or `shadow` it first")
        now = self.clock()
        until = now + timedelta(days=self.settings.reject_cooldown_days)
        held = self._held()
        kept = [entry for entry in held.rejected if entry.id != rule_id and entry.until > now]
        rest = [other for other in held.rules if other.id != rule_id]
        rules_file.write(self.path, rest, [*kept, rules_file.Rejected(rule_id, until)], config=self.config)
        return f"rule {rule_id}: rejected; not proposed again before {until:%Y-%m-%d %H:%M} UTC"

    def propose(self, cycles: Sequence[Any], thresholds: Any) -> list[Rule]:
        """Mine the audit log and `cycles` (the history) for new proposals and write them, state proposed."""
        self._check()
        held = self._held()
        found = mine(
            manual_actions(self.audit()),
            History(cycles, thresholds),
            settings=self.settings,
            existing=self.rules(),
            rejected=held.rejected,
            now=self.clock(),
        )
        if found:
            written = [replace(rule, source=str(self.path)) for rule in found]
            rules_file.write(self.path, held.rules + written, held.rejected, config=self.config)
            for rule in written:  # a new proposal is worth a notice (docs/notify.md); nothing without webhooks
                notify(PROPOSAL, rule.id, f"pixel-tui proposes rule {rule.id} ({rule.do} when {rule.when}): "
                       f"{rule.evidence or 'from your own actions'}", level=Level.OK)  # fmt: skip
            return written
        return []

    def _check(self) -> None:
        if self.read_only:
            raise Refused(READ_ONLY_REASON)

    def _held(self) -> rules_file.RulesFile:
        """`rules.toml` as it is now, to be rewritten whole; Refused when part of it cannot be read, since
        rewriting it would drop that part."""
        held = rules_file.read(self.path)
        if held.errors:
            raise Refused(f"{self.path} has rules that cannot be read ({held.errors[0]}): mend or remove them first")
        return held

    def _set(self, rule: Rule, state: RuleState) -> None:
        """Write `rule` with `state` into rules.toml (a base rule is copied there whole)."""
        self._check()
        held = self._held()
        changed = replace(rule, state=state, source=str(self.path))
        rules = [changed if other.id == rule.id else other for other in held.rules]
        if all(other.id != rule.id for other in held.rules):
            rules.append(changed)
        rules_file.write(self.path, rules, held.rejected, config=self.config)


__all__ = ["BUILTIN", "FileRulesBook", "Refused"]
