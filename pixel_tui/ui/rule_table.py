"""The rules screen's table and words: one row per rule, the title's counts, a rule whole as sections.

Rule text (ids, conditions, evidence) comes from files the operator or pixel-tui wrote: passed through `printable`.
"""

from __future__ import annotations

from textual.reactive import reactive

from pixel_tui.rules.display import budget_text, budget_words, scope_text
from pixel_tui.rules.model import RuleError, RuleState, RuleStatus
from pixel_tui.safe import printable
from pixel_tui.ui.detail import Section
from pixel_tui.ui.table import KeyedTable, Row
from pixel_tui.ui.text import Cell, clip, clip_name

STATE_ORDER = {RuleState.PROPOSED: 0, RuleState.ENABLED: 1, RuleState.SHADOW: 2, RuleState.OFF: 3}
"""Rows by state: proposals first (they wait for a person), then what acts, what watches, what is off."""
STATE_ROLE = {
    RuleState.ENABLED: "ok",
    RuleState.SHADOW: "careful",
    RuleState.PROPOSED: "warning",
    RuleState.OFF: "muted",
}
"""The color role of each state."""


def budget_left(status: RuleStatus) -> int:
    """Actions left on the target nearest its budget (the whole budget when it acted on nothing in the window)."""
    return status.rule.budget.count if status.budget_left is None else status.budget_left


def note(status: RuleStatus) -> str:
    """What the last column says: a proposal's evidence, else the last thing it did or would have done."""
    rule = status.rule
    text = rule.evidence if rule.state is RuleState.PROPOSED else status.last
    return printable(text or rule.evidence or "-")


def cells(status: RuleStatus) -> tuple[Cell, ...]:
    """One rule as table cells."""
    rule = status.rule
    left = budget_left(status)
    return (
        Cell(printable(rule.id)),
        Cell(str(rule.state), STATE_ROLE[rule.state]),
        Cell(printable(rule.do)),
        Cell(str(status.hits), right=True),
        Cell(str(status.actions), right=True),
        Cell(str(status.recoveries), right=True),
        Cell(str(status.not_recovered), "warning" if status.not_recovered else "", right=True),
        Cell(budget_text(rule.budget), right=True),
        Cell(str(left), "critical" if left <= 0 else "", right=True),
        Cell(note(status), "" if rule.state is RuleState.PROPOSED else "muted"),
    )


def ordered(statuses: list[RuleStatus]) -> tuple[RuleStatus, ...]:
    """Proposals first, then enabled, shadow and off rules; the book's order within a state."""
    return tuple(sorted(statuses, key=lambda status: STATE_ORDER[status.rule.state]))


def title(statuses: tuple[RuleStatus, ...]) -> str:
    """`Rules · 7: 4 enabled, 1 shadow, 1 proposed, 1 off`."""
    if not statuses:
        return "Rules"
    counts = [
        f"{sum(status.rule.state is state for status in statuses)} {state}"
        for state in (RuleState.ENABLED, RuleState.SHADOW, RuleState.PROPOSED, RuleState.OFF)
        if any(status.rule.state is state for status in statuses)
    ]
    return f"Rules · {len(statuses)}: {', '.join(counts)}"


def errors_text(errors: list[RuleError]) -> str:
    """The rules that could not be read, one line each."""
    head = f"{len(errors)} rule{'' if len(errors) == 1 else 's'} not loaded:"
    return "\n".join([head, *(printable(str(error)) for error in errors)])


def sections(status: RuleStatus) -> list[Section]:
    """A rule whole: as written, then what it has done."""
    rule = status.rule
    where = rule.source if rule.line is None else f"{rule.source}:{rule.line}"
    written = [
        ("state", str(rule.state)),
        ("when", rule.when),
        ("do", rule.do),
        ("grace", f"{rule.grace_s:g}s: the condition holds this long before it acts"),
        ("budget", f"{budget_text(rule.budget)}: at most {budget_words(rule.budget)}"),
        ("scope", scope_text(rule.scope)),
        ("from", where),
    ]
    if rule.proposed_at:
        written.append(("proposed at", rule.proposed_at))
    if rule.evidence:
        written.append(("evidence", rule.evidence))
    done = [
        ("hits", f"{status.hits} collections its condition held"),
        ("actions", str(status.actions)),
        ("recovered", str(status.recoveries)),
        ("not recovered", str(status.not_recovered)),
        ("budget left", f"{budget_left(status)} of {rule.budget.count}"),
        ("last", status.last or "-"),
    ]
    done += [("note", text) for text in status.notes]
    printed = [(key, printable(value)) for key, value in written], [(key, printable(v)) for key, v in done]
    return [("Rule", printed[0]), ("What it did", printed[1])]


class RuleTable(KeyedTable):
    """One row per rule: id, state, action (DO), hits, actions (ACTS), recoveries (REC) and not (NOT), the budget
    and what is left of it (LEFT), the last deed or the evidence."""

    COLUMNS = (
        ("rule", "RULE", False),
        ("state", "STATE", False),
        ("do", "DO", False),
        ("hits", "HITS", True),
        ("actions", "ACTS", True),
        ("recovered", "REC", True),
        ("failed", "NOT", True),
        ("budget", "BUDGET", True),
        ("left", "LEFT", True),
        ("note", "NOTE", False),
    )
    # The free text gives up room first, then the action and the id, so 80 columns keep every figure whole.
    FIT = (("note", 10, clip), ("do", 11, clip), ("rule", 15, clip_name))

    statuses: reactive[tuple[RuleStatus, ...]] = reactive((), repaint=False)
    """The rules shown, in order."""

    def watch_statuses(self) -> None:
        """New figures: update the rows in place."""
        self.show_data()

    def show_data(self) -> None:
        """One row per rule, keyed by its id."""
        if not self.is_mounted:
            return
        rows: list[Row] = [(status.rule.id, cells(status)) for status in self.statuses]
        self.sync(rows)
