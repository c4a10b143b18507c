"""Confirmations: yes/no for one target, the whole plan and a typed word for bulk and destructive actions.

The dialogs only ask; what happens on "yes" lives in `pixel_tui.remediate` (the executor).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from pixel_tui.remediate.model import Plan
from pixel_tui.safe import printable


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no on one step: what, on which target (name and short id), and why (or on a question `what`, with
    `why`, that is no plan: a rule's change)."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no"),
    ]

    def __init__(self, title: str, plan: Plan | None = None, *, what: str = "", why: str = "") -> None:
        super().__init__()
        self.title_text = printable(title)
        self.plan = plan
        step = plan.steps[0] if plan is not None else None
        self.what = step.what if step is not None else what
        self.why = step.why if step is not None else why

    def compose(self) -> ComposeResult:
        """The question, then the two answers."""
        with Vertical(id="dialog", classes="confirm") as dialog:
            dialog.border_title = self.title_text
            yield Static(Content(printable(self.what[:1].upper() + self.what[1:]) + "?"), id="confirm-what")
            yield Static(Content.styled(printable(self.why), "dim"), id="confirm-why")
            with Horizontal(id="confirm-buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        """No is the safe default."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """A key answers."""
        self.dismiss(yes)


class PlanScreen(ModalScreen[bool]):
    """A bulk or destructive plan: every step in words, then the action's word typed to run it."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="plan.cancel")]

    def __init__(self, title: str, plan: Plan, word: str, preview: str | None = None) -> None:
        super().__init__()
        self.title_text = printable(title)
        self.plan = plan
        self.word = word
        self.preview = preview
        """What the plan would free (a prune), as the engine measured it before asking; None for other plans."""

    def compose(self) -> ComposeResult:
        """The plan, scrollable, and the line to type the word in."""
        lines = [Content(printable(line)) for line in self.plan.describe()]
        if self.preview:
            lines += [Content(""), Content.styled(printable(self.preview), "bold")]
        with Vertical(id="dialog", classes="plan") as dialog:
            dialog.border_title = self.title_text
            dialog.border_subtitle = "esc cancel"
            with VerticalScroll(id="plan-body"):
                yield Static(Content("\n").join(lines), id="plan-steps")
            yield Label(Content(f"Type {self.word} and press enter to run these {len(self.plan.steps)} steps:"))
            yield Input(placeholder=self.word, id="plan-word")

    def on_mount(self) -> None:
        """Ready to type."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The word runs it; anything else says what is expected."""
        if event.value.strip() == self.word:
            self.dismiss(True)
        else:
            self.notify(f"type {self.word} to run it, or esc to cancel", severity="warning")

    def action_cancel(self) -> None:
        """Nothing runs."""
        self.dismiss(False)
