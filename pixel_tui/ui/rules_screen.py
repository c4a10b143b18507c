"""The rules screen (`R`): every autoheal rule with its state and figures; promote, shadow, reject, disable.

It reads a `RulesBook` (pixel_tui/rules/model.py) off the UI thread: when it opens, every collection interval,
and after a change. A change is asked of the book after a confirmation, also off the UI thread; the book says
what it did, or refuses with a ValueError whose message says why (an OSError when its file cannot be
written). Read-only, the change keys say why nothing changes and the book is never asked. Rule text (ids,
conditions, evidence, the book's answers) comes from files the operator or pixel-tui wrote: shown as plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static

from pixel_tui.remediate.catalogue import READ_ONLY_REASON
from pixel_tui.rules.model import RuleError, RulesBook, RuleStatus
from pixel_tui.safe import printable
from pixel_tui.threads import in_daemon_thread
from pixel_tui.ui.confirm import ConfirmScreen
from pixel_tui.ui.detail import CLOSE, render_sections
from pixel_tui.ui.footer import KeyFooter
from pixel_tui.ui.keys import (
    DASHBOARD_BINDINGS,
    RULE_BINDINGS,
    RULES_HELP,
    RULES_READ_ONLY_EXPLAINED,
    action_allowed,
)
from pixel_tui.ui.rule_table import RuleTable, errors_text, ordered, sections, title

CHANGES: dict[str, tuple[str, str]] = {
    "promote": ("Promote rule", "A rung up the ladder: a proposal or an off rule goes to shadow, a shadow rule is "
                "enabled and acts under its budget and the guard rails."),
    "shadow": ("Shadow rule", "In shadow it is evaluated every collection and says what it would have done; "
               "it never acts."),
    "reject": ("Reject proposal", "The proposal is dropped and not proposed again for the cooldown."),
    "disable": ("Disable rule", "Off: neither evaluated nor acting, until promoted again."),
}  # fmt: skip
"""Each change's dialog title and what it means."""

_HELP = [binding for binding in DASHBOARD_BINDINGS if binding.id == "app.help"]
"""`?`, as on the dashboard (esc and q go back here)."""


class RuleScreen(ModalScreen[str | None]):
    """A rule whole; a change key closes it asking the rules screen for that change (its result)."""

    BINDINGS: ClassVar[list[BindingType]] = [CLOSE, *RULE_BINDINGS[1:], *RULES_READ_ONLY_EXPLAINED]

    def __init__(self, status: RuleStatus, *, read_only: bool) -> None:
        super().__init__()
        self.status = status
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        """A framed, scrollable body."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = Content(printable(self.status.rule.id))
            dialog.border_subtitle = (
                "esc close" if self.read_only else "p promote · s shadow · x reject · d disable · esc close"
            )
            with VerticalScroll(id="detail-body"):
                yield Static(render_sections(sections(self.status)), id="detail-text")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: the changes are hidden, their keys explain."""
        return action_allowed(self.read_only, action, parameters)

    def action_change_rule(self, change: str) -> None:
        """Close, asking for the change."""
        self.dismiss(change)

    def action_explain_read_only(self, change: str) -> None:
        """Read-only: say why."""
        self.notify(f"{change}: not offered, {READ_ONLY_REASON}", severity="warning", timeout=5)


class RulesScreen(Screen[None]):
    """The rules table, the selected rule's condition and evidence; esc or q goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [CLOSE, *_HELP, *RULE_BINDINGS, *RULES_READ_ONLY_EXPLAINED]
    HELP_GROUPS = RULES_HELP
    """What `?` lists here: this screen's keys."""

    statuses: reactive[tuple[RuleStatus, ...]] = reactive((), repaint=False)
    """Every rule with its figures, as the table shows them."""
    selected: reactive[RuleStatus | None] = reactive(None)
    """The rule under the cursor."""

    def __init__(
        self,
        book: RulesBook | None,
        *,
        refresh_s: float,
        read_only: bool,
        autoheal_on: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__()
        self.book = book
        """Where the rules are read and changed; None when this console has none."""
        self.refresh_s = refresh_s
        self.read_only = read_only
        self.autoheal_on = autoheal_on
        """Whether autoheal runs now (`a` toggles it): when it does not, no rule acts, and the title says so."""
        self.loaded = False
        """True once the book was read (tests wait on it)."""
        self.changing = False
        """A change is being asked of the book: one at a time."""

    def compose(self) -> ComposeResult:
        """Title, errors, table, the selected rule, footer."""
        yield Label("Rules", id="rules-title", markup=False)
        yield Label("", id="rules-note", markup=False)
        yield RuleTable(id="rule-table").data_bind(RulesScreen.statuses)
        yield Static("", id="rule-preview")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Read the book now and every `refresh_s`."""
        self.query_one(RuleTable).focus()
        if self.book is None:
            self._show_note("no rules in this console: it runs without autoheal rules")
            self.query_one(RuleTable).display = False
            self.loaded = True
            return
        self.reload()
        self.set_interval(self.refresh_s, self.reload)

    def watch_selected(self, status: RuleStatus | None) -> None:
        """The selected rule's condition, and its evidence or last deed, under the table."""
        preview = self.query_one("#rule-preview", Static)
        preview.display = status is not None
        if status is None:
            return
        rule = status.rule
        lines = [Content.assemble(("when ", "dim"), printable(rule.when))]
        if rule.evidence:
            lines.append(Content.assemble(("evidence ", "dim"), printable(rule.evidence)))
        if status.last:
            lines.append(Content.assemble(("last ", "dim"), printable(status.last)))
        preview.update(Content("\n").join(lines))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.selected = self._status(self.query_one(RuleTable).selected_key)

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_show_rule()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: the changes are hidden, their keys explain; no change without a book and a rule."""
        if not action_allowed(self.read_only, action, parameters):
            return False
        if action in ("change_rule", "show_rule"):
            return self.selected is not None
        return True

    def reload(self) -> None:
        """Read the book again, off the UI thread."""
        if self.book is not None:
            self._load(self.book)

    @work(group="rules-screen", exclusive=True, exit_on_error=False)
    async def _load(self, book: RulesBook) -> None:
        statuses, errors = await in_daemon_thread(partial(_read, book), name="pixel-rules")
        self.statuses = ordered(statuses)
        heading = title(self.statuses)
        if self.read_only:
            heading += " · read-only: no rule acts"
        elif not self.autoheal_on():
            heading += " · autoheal off: no rule acts"
        self.query_one("#rules-title", Label).update(Content(heading))
        if errors:
            self._show_note(errors_text(errors))
        elif not self.statuses:
            self._show_note("no rules: the built-in ones are all turned off and none is configured or proposed")
        else:
            self._show_note(None)
        table = self.query_one(RuleTable)
        table.show_data()
        self.selected = self._status(table.selected_key)
        self.loaded = True

    def action_show_rule(self) -> None:
        """The selected rule whole; a change key there asks for that change."""
        status = self.selected
        if status is not None:
            self.app.push_screen(
                RuleScreen(status, read_only=self.read_only), partial(self._after_whole, status.rule.id)
            )

    def _after_whole(self, rule_id: str, change: str | None) -> None:
        if change is not None:
            self._confirm(rule_id, change)

    def action_change_rule(self, change: str) -> None:
        """Promote, shadow, reject or disable the selected rule, after a confirmation."""
        if self.selected is not None:
            self._confirm(self.selected.rule.id, change)

    def action_explain_read_only(self, change: str) -> None:
        """Read-only: say why the key does nothing."""
        self.notify(f"{change}: not offered, {READ_ONLY_REASON}", severity="warning", timeout=5)

    def _confirm(self, rule_id: str, change: str) -> None:
        if self.read_only:  # the keys are hidden then; a hidden key is not a lock
            self.action_explain_read_only(change)
            return
        status = self._status(rule_id)
        if self.book is None or status is None:
            return
        heading, meaning = CHANGES[change]
        what = f"{change} {rule_id} (now {status.rule.state})"
        self.app.push_screen(
            ConfirmScreen(heading, what=what, why=meaning), partial(self._answered, self.book, rule_id, change)
        )

    def _answered(self, book: RulesBook, rule_id: str, change: str, yes: bool | None) -> None:
        if yes:
            self._change(book, rule_id, change)

    @work(group="rules-change", exclusive=False, exit_on_error=False)
    async def _change(self, book: RulesBook, rule_id: str, change: str) -> None:
        if self.changing:
            self.notify("a change is still being written; try again", severity="warning", timeout=3)
            return
        self.changing = True
        method: Callable[[str], str] = getattr(book, change)
        try:
            done = await in_daemon_thread(partial(method, rule_id), name="pixel-rules-change")
        except (ValueError, OSError) as refused:
            self.notify(f"{change} {rule_id}: {refused}", title="rule not changed", severity="warning", timeout=8)
        else:
            self.notify(done, title="rule changed", timeout=6)
        finally:
            self.changing = False
        self.reload()

    def _status(self, rule_id: str | None) -> RuleStatus | None:
        return next((status for status in self.statuses if status.rule.id == rule_id), None)

    def _show_note(self, text: str | None) -> None:
        label = self.query_one("#rules-note", Label)
        label.display = text is not None
        label.update(Content(text or ""))


def _read(book: RulesBook) -> tuple[list[RuleStatus], list[RuleError]]:
    return book.statuses(), book.errors()
