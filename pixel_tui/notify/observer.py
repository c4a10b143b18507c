"""What is worth a notice, seen where it happens: the snapshots (the overall level reaching critical and clearing)
and the executor (autoheal's actions as they begin, their outcomes, its give-ups). Never a person's own action.

`Watched` wraps a snapshot source: every collection passes through it on its way to the pipeline, so the
console, `watch` and `heal --every` notify of levels without the pipeline knowing, and the notifier's failure
events ride along with the collection into the events pane. `NotifyObserver.listen(executor)` hooks the
executor. Read-only, levels are still told (telling changes nothing); there is no autoheal to tell of.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pixel_tui.format import duration
from pixel_tui.levels import HOST_METRICS, Thresholds
from pixel_tui.model import Level, Snapshot
from pixel_tui.notify import install, installed
from pixel_tui.notify.config import NotifySettings
from pixel_tui.notify.notice import ACTION, CLEARED, CRITICAL, GIVE_UP, OUTCOME
from pixel_tui.notify.notifier import Notifier
from pixel_tui.notify.sender import BACKOFF_MAX_S, BACKOFF_S
from pixel_tui.remediate.model import AUTOHEAL, OK, REFUSED, Outcome, Plan, Step
from pixel_tui.safe import printable
from pixel_tui.settings import Settings
from pixel_tui.source import SnapshotSource

if TYPE_CHECKING:
    from pixel_tui.remediate.executor import Executor

HOST = "host"
"""The target of the level notices."""


class NotifyObserver:
    """Turns snapshots and autoheal's outcomes into notices for `notifier`."""

    def __init__(self, notifier: Notifier, thresholds: Thresholds | None = None) -> None:
        self.notifier = notifier
        self.thresholds = thresholds or Thresholds()
        """The limits the levels were judged against (to say what critical is)."""
        self._critical_since: datetime | None = None

    def watch(self, source: SnapshotSource) -> Watched:
        """`source`, each of its snapshots seen by this observer first."""
        return Watched(source, self)

    def close(self, wait_s: float = 0.0) -> None:
        """Give the notices waiting at most `wait_s` seconds to go out, then take no more."""
        self.notifier.close(wait_s)
        if installed() is self.notifier:
            install(None)

    # -- levels ----------------------------------------------------------------------------------

    def snapshot(self, snapshot: Snapshot) -> None:
        """Tell the overall level reaching critical (a start on a critical host too) and coming back below it."""
        level = snapshot.levels.overall
        if level is Level.CRITICAL and self._critical_since is None:
            self._critical_since = snapshot.taken_at
            self.notifier.notify(CRITICAL, HOST, f"overall level critical: {self._critical_gauges(snapshot)}",
                                 level=Level.CRITICAL)  # fmt: skip
        elif level is not Level.CRITICAL and self._critical_since is not None:
            lasted = duration((snapshot.taken_at - self._critical_since).total_seconds())
            self._critical_since = None
            self.notifier.notify(CLEARED, HOST, f"overall level back to {level.value} after {lasted} at critical",
                                 level=Level.OK)  # fmt: skip

    def _critical_gauges(self, snapshot: Snapshot) -> str:
        """`swap 92.5 % (critical from 80 %), workers`: what is critical, with its figure and its threshold."""
        words = []
        for metric in HOST_METRICS:
            if snapshot.levels.of_metric(metric.key) is not Level.CRITICAL:
                continue
            unit = f" {metric.unit}" if metric.unit else ""
            value = metric.read(snapshot.host)
            figure = "?" if value is None else f"{value:.{metric.digits}f}{unit}"
            words.append(f"{metric.label.lower()} {figure} (critical from {metric.limits(self.thresholds)[2]:g}{unit})")
        if snapshot.levels.workers is Level.CRITICAL:
            words.append("workers")
        return ", ".join(words) or "critical"

    # -- autoheal --------------------------------------------------------------------------------

    def listen(self, executor: Executor) -> None:
        """Be told by `executor` of each step as it begins and of each outcome as it is recorded. A read-only
        executor has nothing to tell: autoheal is off, and `heal --read-only`'s refusals are its own report."""
        if not executor.read_only:
            executor.listen(self.told, begun=self.begun)

    def begun(self, plan: Plan, step: Step, actor: str) -> None:
        """A step begins (validated, its intent recorded): autoheal's are told; a person's are not (the notifier
        counts them)."""
        self.notifier.notify(ACTION, _target(step), f"autoheal: {step.what}: {step.why}", level=Level.CAREFUL,
                             actor=actor)  # fmt: skip

    def told(self, plan: Plan, outcome: Outcome, actor: str) -> None:
        """An outcome is recorded: autoheal's are told, a give-up as one; a person's are not (the notifier counts
        them)."""
        from pixel_tui.remediate.autoheal import GAVE_UP  # the policy's own words for a give-up

        target = _target(outcome.step)
        if actor == AUTOHEAL and outcome.outcome == REFUSED and (outcome.error or "").startswith(GAVE_UP):
            self.notifier.notify(GIVE_UP, target, outcome.error or GAVE_UP, level=Level.WARNING, actor=actor)
            return
        level = Level.OK if outcome.outcome == OK else Level.WARNING
        self.notifier.notify(OUTCOME, target, f"autoheal: {outcome.sentence()}", level=level, actor=actor)


class Watched:
    """`source` whose every snapshot the observer sees first, with the notifier's failure events added to it."""

    def __init__(self, source: SnapshotSource, observer: NotifyObserver) -> None:
        self.source = source
        self.observer = observer

    def collect(self) -> Snapshot:
        """The source's snapshot, seen by the observer, with the notices that failed since the last one."""
        snapshot = self.source.collect()
        self.observer.notifier.host = snapshot.host.hostname or self.observer.notifier.host
        self.observer.snapshot(snapshot)
        failures = self.observer.notifier.take_events()
        return replace(snapshot, events=snapshot.events + failures) if failures else snapshot

    def close(self) -> None:
        """Close the source."""
        self.source.close()

    def __getattr__(self, name: str) -> Any:
        # detail, logs and whatever else the source offers: its own (only reached for names not set here).
        return getattr(self.source, name)


def _target(step: Step) -> str:
    return step.target.name if step.target is not None else HOST


def observe(settings: Settings, *, headless: bool) -> NotifyObserver:
    """The observer a command wires (`watch` on its source, `listen` on its executor, `close` at the end), its
    notifier installed for `pixel_tui.notify.notify`. Without webhooks it tells nothing and starts no thread.
    Headless, a failed delivery is also a line on stderr."""
    notifier = Notifier(settings.notify, host=socket.gethostname(), on_failure=_on_stderr if headless else None)
    if notifier.enabled:
        install(notifier)
    return NotifyObserver(notifier, settings.thresholds)


def _on_stderr(text: str) -> None:
    print(f"pixel-tui: {printable(text)}", file=sys.stderr, flush=True)


def delivery_bound(settings: NotifySettings) -> float:
    """The longest one notice takes to every webhook: each attempt's timeout and the pauses between them."""
    pauses = sum(min(BACKOFF_S * 2**number, BACKOFF_MAX_S) for number in range(settings.retries))
    return len(settings.webhooks) * ((settings.retries + 1) * settings.timeout_s + pauses)
