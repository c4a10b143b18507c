"""The dashboard's changing actions: plan from the snapshot on screen, confirm, execute off the UI thread, report.

The base of DashboardScreen (it uses the screen's context, snapshot, control and `acting`/`autoheal_text`
reactives); the effect itself lives in `pixel_tui.remediate`, the dialogs in `pixel_tui.ui.confirm`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import getters, work
from textual.notifications import SeverityLevel
from textual.screen import Screen

from pixel_tui.model import Event
from pixel_tui.remediate.audit import person
from pixel_tui.remediate.autoheal import AutohealState
from pixel_tui.remediate.catalogue import BY_ID, READ_ONLY_REASON
from pixel_tui.remediate.model import Outcome, Plan, outcome_event
from pixel_tui.remediate.model import Step as PlanStep
from pixel_tui.rules.learning import TOLD
from pixel_tui.threads import in_daemon_thread
from pixel_tui.ui.confirm import ConfirmScreen, PlanScreen
from pixel_tui.ui.keys import RemediationRequested
from pixel_tui.ui.shell import SHELL, shell_target

if TYPE_CHECKING:
    from pixel_tui.model import Snapshot, Worker
    from pixel_tui.pipeline import Control
    from pixel_tui.ui.app import PixelApp
    from pixel_tui.wiring import ConsoleContext


@dataclass(frozen=True)
class Selected:
    """What the cursor is on, which the detail, log and changing views act on: a container, a worker, or a ghost
    task (no container)."""

    name: str
    container_id: str | None
    worker: Worker | None = None


class Remediation(Screen[None]):
    """Keys that change things, for the dashboard."""

    if TYPE_CHECKING:  # the app that shows this screen (imported for the type only: it imports this module)
        app = getters.app(PixelApp)

    context: ConsoleContext
    acting: str | None
    autoheal_text: str | None
    control: Control
    _last_raw: Snapshot | None

    def selection(self) -> Selected | None:
        """The container or worker under the cursor (the dashboard knows its tables)."""
        raise NotImplementedError

    def action_remediate(self, action_id: str) -> None:
        """A host-wide or bulk action from the dashboard's own keys."""
        self._remediate(action_id, None)

    def action_explain_read_only(self, action_id: str) -> None:
        """Read-only: say why a changing key a person may expect to work does nothing."""
        self.notify(f"{BY_ID[action_id].label}: not offered, {READ_ONLY_REASON}", severity="warning", timeout=5)

    def on_remediation_requested(self, message: RemediationRequested) -> None:
        """A container or worker action from a table."""
        self._remediate(message.action_id, message.target)

    def _remediate(self, action_id: str, target: str | None) -> None:
        """Plan from the snapshot on screen, confirm, then execute off the UI thread."""
        spec = BY_ID[action_id]
        if action_id == "autoheal.toggle":
            self._toggle_autoheal()
            return
        executor = self.context.executor
        if executor is None:
            reason = "the console is read-only" if self.context.read_only else "this console has no remediation backend"
            self.notify(f"{spec.label}: refused, {reason}", severity="warning")
            return
        if self._last_raw is None:
            self.notify(f"{spec.label}: nothing collected yet", severity="warning")
            return
        if self.acting is not None:
            self.notify(f"{spec.label}: wait, {self.acting}", severity="warning")
            return
        if action_id == SHELL:
            target, why_not = shell_target(self.selection(), self._last_raw, executor.backends.shell)
            if why_not is not None and not executor.read_only:  # read-only: refused below, whatever the target
                self.notify(why_not, title=spec.label, severity="warning", timeout=8)
                return
        # Plans are made from the raw snapshot: ids and names exactly as the engine has them.
        plan = executor.plan(action_id, self._last_raw, target)
        if not plan.steps:
            self.notify(plan.nothing or "nothing to do", title=spec.label)
            return
        if executor.read_only or action_id == SHELL:
            # Read-only, reached only by running the action directly: refused and audited, not asked. A shell
            # changes nothing by itself: it opens at once (re-validated, audited), and the person types the rest.
            self._execute(plan)
            return
        known_to_fail = executor.precheck(plan)
        if known_to_fail is not None:  # say why at once, ask nothing (audited like any refusal)
            self._refuse(plan, *known_to_fail)
            return

        def then(confirmed: bool | None) -> None:
            if confirmed:
                self._execute(plan)
            else:
                self.notify("cancelled: nothing was changed", title=spec.label, timeout=3)

        on = plan.steps[0].target
        title = f"{spec.label}: {on.short if on else 'host'}" if not plan.bulk else f"{spec.label}: the plan"
        if plan.bulk and plan.prunes:
            self._ask_with_preview(PlanScreen(title, plan, spec.label.split()[0]), then)
        elif plan.bulk:
            self.app.push_screen(PlanScreen(title, plan, spec.label.split()[0]), then)
        else:
            self.app.push_screen(ConfirmScreen(title, plan), then)

    @work(group="remediate", exclusive=False, exit_on_error=False)
    async def _execute(self, plan: Plan) -> None:
        """Run a confirmed plan in a daemon thread; show progress, then every outcome, then collect at once.

        A daemon thread, not a thread worker: Textual's thread workers are joined when the console ends, so
        a stop still waiting out its grace would hold the quit past its bound (pixel_tui/ui/quitting.py)."""
        executor = self.context.executor
        assert executor is not None
        label = BY_ID[plan.action].label

        def progress(step: PlanStep, number: int, total: int) -> None:
            text = f"{label}: {step.what} ({number}/{total})" if total > 1 else f"{label}: {step.what}"
            self.app.call_from_thread(setattr, self, "acting", text)

        try:
            outcomes = await in_daemon_thread(lambda: executor.execute(plan, actor=person(), progress=progress),
                                              name="pixel-act")  # fmt: skip
        finally:
            if self.app.quitting is None:  # while quitting, the status line says what it waits for
                self.acting = None
        self._done(plan, outcomes)

    @work(group="remediate", exclusive=False, exit_on_error=False)
    async def _ask_with_preview(self, screen: PlanScreen, then: Callable[[bool | None], None]) -> None:
        """Measure what a prune would free (the engine's disk usage, off the UI thread), then ask."""
        executor = self.context.executor
        assert executor is not None
        self.acting = "measuring what a prune would free…"
        try:
            screen.preview = await in_daemon_thread(lambda: executor.preview(screen.plan), name="pixel-preview")
        finally:
            self.acting = None
        self.app.push_screen(screen, then)

    @work(group="remediate", exclusive=False, exit_on_error=False)
    async def _refuse(self, plan: Plan, step: PlanStep, reason: str) -> None:
        """Record a plan known to fail as refused (off the UI thread: the audit log is fsynced) and say why."""
        executor = self.context.executor
        assert executor is not None
        outcome = await in_daemon_thread(lambda: executor.refuse(plan, step, actor=person(), reason=reason),
                                         name="pixel-refuse")  # fmt: skip
        self._done(plan, (outcome,))

    def _done(self, plan: Plan, outcomes: tuple[Outcome, ...]) -> None:
        label = BY_ID[plan.action].label
        for outcome in outcomes:
            severity: SeverityLevel = (
                "information" if outcome.ok else "warning" if outcome.outcome == "refused" else "error"
            )
            self.notify(outcome.sentence(), title=label, severity=severity, timeout=8)
        self.context.pipeline.note(outcome_event(outcome, actor="person") for outcome in outcomes)
        self.control.step_now()  # show the result at once, not at the next interval

    def _toggle_autoheal(self) -> None:
        autoheal = self.context.autoheal
        if autoheal is None or self.context.read_only:
            self.notify("autoheal: not possible in this console (read-only or no backend)", severity="warning")
            return
        on = autoheal.toggle()
        self.autoheal_text = autoheal_words(autoheal.state)
        self.notify(f"autoheal {'on' if on else 'off'}", title="autoheal", timeout=3)


def tell_learning(app: Any, events: Iterable[Event]) -> None:
    """A new proposal, and autoheal turned on for a promoted rule, as notifications too: the events pane alone
    would let them scroll by."""
    for event in events:
        if event.kind in TOLD:
            app.notify(event.message, title=TOLD[event.kind], timeout=10, markup=False)


def autoheal_words(state: AutohealState) -> str:
    """The status line's autoheal part: "autoheal on · 3 actions · gave up: web-1"."""
    words = [f"autoheal {'on' if state.enabled else 'off'}"]
    if state.actions:
        words.append(f"{state.actions} action{'s' if state.actions != 1 else ''}")
    if state.given_up:
        words.append("gave up: " + ", ".join(sorted(state.given_up.values())))
    return " · ".join(words)
