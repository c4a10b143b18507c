"""Did it work: after an action, the next collections tell whether its rule's condition cleared on the target.

Cleared: `recovered`, after how long. Still holding after `[autoheal] verify_cycles` collections: `not
recovered`. Either is an audit line `{"id": <the attempt's id>, "phase": "verdict", "rule", "verdict",
"after_s"}` and an event (docs/rules.md, "Did it work").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

RECOVERED = "recovered"
NOT_RECOVERED = "not recovered"


@dataclass
class _Watch:
    rule_id: str
    name: str
    record_id: str | None
    action: str
    step: str
    target: dict[str, str | None] | None
    acted_at: float
    collections: int = 0


@dataclass(frozen=True)
class Verdict:
    """What became of one action's condition."""

    key: str
    rule_id: str
    name: str
    record_id: str | None
    action: str
    step: str
    target: dict[str, str | None] | None
    verdict: str
    after_s: float

    @property
    def recovered(self) -> bool:
        """True when the condition cleared."""
        return self.verdict == RECOVERED

    def record(self, time: str) -> dict[str, object]:
        """The audit log's verdict line."""
        return {
            "time": time,
            "actor": "autoheal",
            "id": self.record_id,
            "phase": "verdict",
            "rule": self.rule_id,
            "action": self.action,
            "step": self.step,
            "target": self.target,
            "verdict": self.verdict,
            "after_s": round(self.after_s, 1),
        }

    def sentence(self) -> str:
        """One line for the events pane."""
        if self.recovered:
            return f"autoheal: {self.name} recovered {self.after_s:.0f} s after rule {self.rule_id} acted"
        return f"autoheal: {self.name} not recovered {self.after_s:.0f} s after rule {self.rule_id} acted"


class Verifier:
    """The actions being watched; `start` is called from the pool's threads, `observe` once per collection."""

    def __init__(self, verify_cycles: int) -> None:
        self.verify_cycles = verify_cycles
        self._watches: dict[str, _Watch] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._watches)

    def start(
        self,
        key: str,
        rule_id: str,
        name: str,
        *,
        record_id: str | None,
        action: str,
        step: str,
        target: dict[str, str | None] | None,
        at: float,
    ) -> None:
        """Watch the condition of `key` from the next collection on (a new action on it replaces the watch)."""
        with self._lock:
            self._watches[key] = _Watch(rule_id, name, record_id, action, step, target, at)

    def observe(self, holding: set[str], now: float) -> list[Verdict]:
        """One collection: the verdicts it settles, given the keys whose condition holds now."""
        settled: list[Verdict] = []
        with self._lock:
            for key, watch in list(self._watches.items()):
                if key in holding:
                    watch.collections += 1
                    if watch.collections < self.verify_cycles:
                        continue
                    verdict = NOT_RECOVERED
                else:
                    verdict = RECOVERED
                del self._watches[key]
                after = max(0.0, now - watch.acted_at)
                settled.append(Verdict(key, watch.rule_id, watch.name, watch.record_id, watch.action, watch.step,
                                       watch.target, verdict, after))  # fmt: skip
        return settled
