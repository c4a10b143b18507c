"""Autoheal that learns while the console runs: proposals mined after a person's actions, promotions picked up.

`Autoheal` reads its rules once. A console that shows a rules book over `rules.toml` needs two more things
each collection, both off the UI thread (the pipeline's step): when the audit log grew (a person acted), mine
it with the cycle history for new proposals (`FileRulesBook.propose`) and tell each one in an event; when
`rules.toml` changed (a person promoted, shadowed or disabled a rule on the rules screen), read the rules
again, keeping each rule's counters, so a rule promoted to enabled acts from the next collection.

`switch_on` (the demo) turns autoheal on the first time a rule of `rules.toml` is enabled: the operator's
accepted proposal is what heals. An action of a rule the operator promoted names its rule in its event
("(rule kill-timed-out-workers-swap)"), which the history reads as learned (`history.methods`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pixel_tui.model import Event, Level, Snapshot, utcnow
from pixel_tui.remediate.autoheal import Autoheal, trusted_reader
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.model import AUTOHEAL
from pixel_tui.rules.book import FileRulesBook, Refused
from pixel_tui.rules.engine import Match, RulesEngine
from pixel_tui.rules.model import BUILTIN, Rule, RuleState
from pixel_tui.rules.sources import load_rules
from pixel_tui.settings import Settings

PROPOSED = "rule-proposed"
"""The kind of the event that tells a new proposal (the console also shows it as a notification)."""
SWITCHED_ON = "rule-autoheal-on"
"""The kind of the event that tells autoheal was turned on for an enabled rule of the operator's."""
TOLD = {PROPOSED: "new proposal", SWITCHED_ON: "autoheal"}
"""The kinds the console also shows as notifications, with their title."""
PROPOSAL_WORDS = "pixel-tui proposes a rule"
"""How a proposal's event begins."""
MINE_EVERY_S = 600.0
"""Seconds between two minings for a log that grew by autoheal's own lines or another process's: mining reads the
whole audit log and history, so it runs at once only after a person's action in this console."""


def learned(rule: Rule) -> bool:
    """True for a rule the operator took on: not built in, not from the config, from `rules.toml` (a proposal)."""
    return rule.source != BUILTIN and rule.proposed_at is not None


class LearningAutoheal(Autoheal):
    """Autoheal over `book`'s rules, re-read when `rules.toml` changes; proposals mined when the audit log grows."""

    def __init__(
        self,
        executor: Executor,
        settings: Settings,
        book: FileRulesBook,
        cycles: Callable[[], Sequence[Any]],
        *,
        config: Path,
        switch_on: bool = False,
        **options: Any,
    ) -> None:
        self.book = book
        self.cycles = cycles
        """The cycle history the proposals are judged against, oldest first."""
        self.config = config
        """The config `rules.toml` sits beside (never read nor written here: `settings` is what it says)."""
        self.switch_on = switch_on
        self._settings = settings
        self._rules_seen = self._stamp(book.path)
        self._audit_seen = self._stamp(executor.backends.audit.path)
        rules = load_rules(settings, config=config, verify=trusted_reader())  # root believes no one else's file
        super().__init__(executor, settings.autoheal, rules=rules, **options)
        self._person_acted = False
        self._mined_at = self._clock()
        executor.listen(self._note_person)

    def _note_person(self, plan: Any, outcome: Any, actor: str) -> None:
        """Told each outcome recorded in this process: a person's is worth mining at the next collection."""
        if actor != AUTOHEAL:
            self._person_acted = True

    def heal(self, snapshot: Snapshot) -> tuple[Event, ...]:
        """Mine if a person acted, re-read the rules if they changed, then run them as autoheal does."""
        events = self._mine() + self._reread()
        return tuple(events) + super().heal(snapshot)

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _mine(self) -> list[Event]:
        if self.executor.read_only:
            return []
        now = self._clock()
        if not self._person_acted and now - self._mined_at < MINE_EVERY_S:
            return []  # grown by autoheal's own lines or another process: mined within MINE_EVERY_S
        self._person_acted, self._mined_at = False, now
        stamp = self._stamp(self.executor.backends.audit.path)
        if stamp == self._audit_seen:
            return []
        self._audit_seen = stamp
        try:
            found = self.book.propose(self.cycles(), self._settings.thresholds)
        except (Refused, OSError) as error:
            return [Event(utcnow(), "rule-error", "rules.toml", f"proposals: {error}", Level.WARNING)]
        # The condition is on the rules screen: the event (and its notification) stays short enough for 80 columns.
        return [Event(utcnow(), PROPOSED, rule.id, f"{PROPOSAL_WORDS}: {rule.id}: {rule.evidence} (R: rules)",
                      Level.CAREFUL) for rule in found]  # fmt: skip

    def _reread(self) -> list[Event]:
        stamp = self._stamp(self.book.path)
        if stamp == self._rules_seen:
            return []
        self._rules_seen = stamp
        old = self.engine
        self.ruleset = load_rules(self._settings, config=self.config, verify=trusted_reader())
        config = dataclasses.replace(self.executor.settings, autoheal=self.settings)
        self.engine = RulesEngine(self.ruleset, config)
        for rule_id, counters in old.counters.items():  # what each rule did so far stays told
            if rule_id in self.engine.counters:
                self.engine.counters[rule_id] = counters
        with contextlib.suppress(AttributeError):
            self.engine._health = old._health  # how long each container has been unhealthy
        enabled = [rule.id for rule in self.ruleset.rules if learned(rule) and rule.state is RuleState.ENABLED]
        if not enabled or not self.switch_on or self.enabled or self.executor.read_only:
            return []
        self.state.enabled = True
        message = f"autoheal on: rule {enabled[0]} is enabled, the host now does what you did by hand"
        return [Event(utcnow(), SWITCHED_ON, enabled[0], message, Level.OK)]

    def _act(self, key: str, match: Match, plan: Any, at: float) -> tuple[Event, ...]:
        events = super()._act(key, match, plan, at)
        rule = match.rule.rule
        if not learned(rule):
            return events
        return tuple(dataclasses.replace(event, message=f"{event.message} (rule {rule.id})")
                     if event.kind.startswith("action-") else event for event in events)  # fmt: skip
