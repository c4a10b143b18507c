"""Pilot tests of the rules screen (`R`): the rules with their figures, the four changes with confirmation, read-only.

The book is the in-memory one (pixel_tui/demo/rules_book.py): real ladder transitions on rules held in memory.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Label, Static

from pixel_tui.demo.rules_book import MemoryRulesBook
from pixel_tui.rules.model import Budget, Rule, RuleError, RuleState, RuleStatus
from pixel_tui.ui.app import PixelApp
from pixel_tui.ui.confirm import ConfirmScreen
from pixel_tui.ui.help import HelpScreen
from pixel_tui.ui.rule_table import RuleTable
from pixel_tui.ui.rules_screen import RuleScreen, RulesScreen
from tests.ui.helpers import cell, make_app, record_notifications, until

EVIDENCE = (
    "you killed timed-out workers 5 times in 2 days, 4 of them with swap critical; each recovered within 2 cycles"
)


def book(*, read_only: bool = False, errors: tuple[RuleError, ...] = ()) -> MemoryRulesBook:
    """A proposal, an enabled rule that acted, a shadow rule and an off one."""
    return MemoryRulesBook(
        [
            RuleStatus(
                Rule("restart-web", "kind == 'container' and health == 'unhealthy'", "container.restart",
                     budget=Budget(3, 1800)),
                hits=7, actions=5, recoveries=4, not_recovered=1, budget_left=1, last="restarted web-1, recovered",
            ),
            RuleStatus(
                Rule("kill-swap", "kind == 'worker' and timed_out and host.swap.level == critical", "worker.kill",
                     budget=Budget(2, 3600), state=RuleState.PROPOSED, evidence=EVIDENCE),
            ),
            RuleStatus(
                Rule("cycle-swap", "host.swap.level >= critical", "host.cycle_swap", state=RuleState.SHADOW),
                hits=2, last="would have cycled swap",
            ),
            RuleStatus(Rule("abort-ghosts", "kind == 'ghost'", "workers.resolve_phantoms", state=RuleState.OFF)),
        ],
        errors,
        read_only=read_only,
    )  # fmt: skip


async def open_rules(pilot: Pilot) -> RulesScreen:
    """Press R on the dashboard and wait until the book was read."""
    await pilot.press("R")
    screen = pilot.app.screen
    assert isinstance(screen, RulesScreen)
    await until(pilot, lambda: screen.loaded)
    await pilot.pause()
    return screen


async def select(pilot: Pilot, screen: RulesScreen, rule_id: str) -> None:
    table = screen.query_one(RuleTable)
    table.move_cursor(row=table.get_row_index(rule_id))
    await until(pilot, lambda: screen.selected is not None and screen.selected.rule.id == rule_id)


def state_of(rules: MemoryRulesBook, rule_id: str) -> RuleState:
    return next(status.rule.state for status in rules.statuses() if status.rule.id == rule_id)


async def test_the_screen_lists_every_rule_with_its_figures() -> None:
    rules = book()
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_rules(pilot)
        table = screen.query_one(RuleTable)
        # Proposals first, then what acts, what watches, what is off.
        assert table.row_keys == ["kill-swap", "restart-web", "cycle-swap", "abort-ghosts"]
        figures = [cell(table, "restart-web", column) for column in ("state", "do", "hits", "actions", "recovered")]
        assert figures == ["enabled", "container.restart", "7", "5", "4"]
        assert [cell(table, "restart-web", column) for column in ("failed", "budget", "left")] == ["1", "3/30m", "1"]
        assert cell(table, "kill-swap", "state") == "proposed"
        assert cell(table, "kill-swap", "left") == "2"  # acted on nothing: the whole budget
        assert cell(table, "kill-swap", "note").startswith("you killed timed-out workers")
        title = str(screen.query_one("#rules-title", Label).content)
        # The console's autoheal is off (as by default): no rule acts, and the title says so.
        assert title == "Rules · 4: 1 enabled, 1 shadow, 1 proposed, 1 off · autoheal off: no rule acts"
        # The selected rule's condition and evidence, whole, under the table.
        preview = str(screen.query_one("#rule-preview", Static).content)
        assert "kind == 'worker' and timed_out and host.swap.level == critical" in preview
        assert EVIDENCE in preview


async def test_promote_with_confirmation_moves_the_rule_up_the_ladder() -> None:
    rules = book()
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        messages = record_notifications(app)
        screen = await open_rules(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        assert state_of(rules, "kill-swap") is RuleState.PROPOSED  # nothing before the answer
        await pilot.press("y")
        table = screen.query_one(RuleTable)
        await until(pilot, lambda: cell(table, "kill-swap", "state") == "shadow")
        assert state_of(rules, "kill-swap") is RuleState.SHADOW
        assert any("kill-swap proposal accepted, in shadow" in message for message in messages)
        # Still the selected rule, now among the shadow ones; promoted again, it is enabled.
        assert screen.selected is not None and screen.selected.rule.id == "kill-swap"
        await pilot.press("p", "y")
        await until(pilot, lambda: cell(table, "kill-swap", "state") == "enabled")
        assert state_of(rules, "kill-swap") is RuleState.ENABLED


async def test_cancel_changes_nothing() -> None:
    rules = book()
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_rules(pilot)
        await select(pilot, screen, "restart-web")
        for change, answer in (("d", "n"), ("s", "escape"), ("p", "n")):
            await pilot.press(change)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(answer)
            await pilot.pause()
            assert app.screen is screen
        await pilot.pause(0.1)
        assert [(s.rule.id, s.rule.state) for s in rules.statuses()] == [
            ("restart-web", RuleState.ENABLED),
            ("kill-swap", RuleState.PROPOSED),
            ("cycle-swap", RuleState.SHADOW),
            ("abort-ghosts", RuleState.OFF),
        ]


async def test_reject_and_disable_and_a_refused_change() -> None:
    rules = book()
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        messages = record_notifications(app)
        screen = await open_rules(pilot)
        table = screen.query_one(RuleTable)
        await pilot.press("x", "y")
        await until(pilot, lambda: "kill-swap" not in table.row_keys)
        assert "kill-swap" in rules.rejected
        await select(pilot, screen, "cycle-swap")
        await pilot.press("d", "y")
        await until(pilot, lambda: cell(table, "cycle-swap", "state") == "off")
        # Disabling an off rule: the book refuses, the screen says why and changes nothing.
        await select(pilot, screen, "abort-ghosts")
        await pilot.press("d", "y")
        await until(pilot, lambda: any("abort-ghosts is already off" in message for message in messages))
        assert state_of(rules, "abort-ghosts") is RuleState.OFF


async def test_enter_shows_the_rule_whole_and_its_keys_change_it() -> None:
    rules = book()
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_rules(pilot)
        await select(pilot, screen, "restart-web")
        await pilot.press("enter")
        assert isinstance(app.screen, RuleScreen)
        text = str(app.screen.query_one("#detail-text", Static).content)
        for part in ("kind == 'container' and health == 'unhealthy'", "container.restart", "3/30m", "1 of 3"):
            assert part in text
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("enter", "s")  # shadow, from the rule's whole view
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: state_of(rules, "restart-web") is RuleState.SHADOW)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RulesScreen))


async def test_read_only_refuses_with_the_reason() -> None:
    rules = book()  # a book that would change: the screen must not ask it
    app, _ = make_app(rules=rules, read_only=True)
    async with app.run_test(size=(120, 35)) as pilot:
        messages = record_notifications(app)
        screen = await open_rules(pilot)
        for key in ("p", "s", "x", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen  # no confirmation
        assert sum("not offered, read-only" in message for message in messages) == 4
        assert [status.rule.state for status in rules.statuses()] == [
            RuleState.ENABLED, RuleState.PROPOSED, RuleState.SHADOW, RuleState.OFF,
        ]  # fmt: skip
        assert not any(active.binding.action.startswith("change_rule") for active in _enabled(app))
        await pilot.press("enter", "p")
        assert isinstance(app.screen, RuleScreen)
        assert state_of(rules, "kill-swap") is RuleState.PROPOSED


def _enabled(app: PixelApp) -> list:  # type: ignore[type-arg]
    return [active for active in app.screen.active_bindings.values() if active.enabled]


async def test_it_fits_80x24() -> None:
    rules = book(errors=(RuleError("/etc/pixel-tui/config.toml", 42, "restart-db", "unknown field 'healt'"),))
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_rules(pilot)
        table = screen.query_one(RuleTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # every column on screen
        assert table.row_count == 4 and table.scrollable_content_region.height >= 5
        assert "/etc/pixel-tui/config.toml:42: rule restart-db: unknown field 'healt'" in str(
            screen.query_one("#rules-note", Label).content
        )
        keys = [key.description for key in screen.query("FooterKey")]
        assert {"promote", "shadow", "reject", "disable"} <= set(keys)


async def test_without_a_book_the_screen_says_so() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_rules(pilot)
        assert "no rules in this console" in str(screen.query_one("#rules-note", Label).content)
        await pilot.press("p")
        assert app.screen is screen


async def test_the_keys_are_rebindable() -> None:
    rules = book()
    app, _ = make_app(rules=rules, keys={"rules.open": "ctrl+r", "rules.promote": "P"})
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("ctrl+r")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await until(pilot, lambda: screen.loaded)
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)


@pytest.mark.parametrize("read_only", [False, True])
async def test_help_on_the_rules_screen_lists_its_keys(read_only: bool) -> None:
    app, _ = make_app(rules=book(), read_only=read_only, keys={"rules.reject": "X"})
    async with app.run_test(size=(120, 35)) as pilot:
        await open_rules(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).content)
        assert "Rules screen" in text and "The rule whole" in text
        changes = ("A rung up", "Shadow: says what", "Reject a proposal", "Off: neither")
        # Read-only, the changes are not offered: the help leaves them out.
        assert all((change in text) is not read_only for change in changes)
        if not read_only:
            assert "X  Reject a proposal" in text
        await pilot.press("escape")
        assert isinstance(app.screen, RulesScreen)


async def test_the_title_says_whether_rules_act_now() -> None:
    app, _ = make_app(rules=book())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("a")  # autoheal on
        screen = await open_rules(pilot)
        title = str(screen.query_one("#rules-title", Label).content)
        assert title == "Rules · 4: 1 enabled, 1 shadow, 1 proposed, 1 off"
        await pilot.press("escape", "a")  # off again: the title follows at the next read
        screen = await open_rules(pilot)
        assert str(screen.query_one("#rules-title", Label).content).endswith("autoheal off: no rule acts")
    app, _ = make_app(rules=book(), read_only=True)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_rules(pilot)
        assert str(screen.query_one("#rules-title", Label).content).endswith("read-only: no rule acts")


async def test_the_real_book_s_refusal_is_shown_too(tmp_path) -> None:
    """The console's book (rules.toml) refuses with its own exception: the screen says why as for any book."""
    from pixel_tui.rules.book import FileRulesBook
    from pixel_tui.rules.sources import builtin_rules
    from pixel_tui.settings import Settings

    base, _ = builtin_rules(Settings())
    rules = FileRulesBook(tmp_path / "rules.toml", base=base, disabled=("builtin-cycle-swap",))
    app, _ = make_app(rules=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        messages = record_notifications(app)
        screen = await open_rules(pilot)
        await select(pilot, screen, "builtin-cycle-swap")
        await pilot.press("d", "y")
        await until(pilot, lambda: any("builtin-cycle-swap is off already" in message for message in messages))
