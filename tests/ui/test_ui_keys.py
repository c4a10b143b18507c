"""The keymap's notices (keys given to two ids), and esc on the palette's keys panel."""

from __future__ import annotations

from textual.widgets import HelpPanel, Input

from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.detail import DetailScreen
from pixel_tui.ui.help import HelpScreen
from pixel_tui.ui.keys import KeyClash, keymap_clashes
from pixel_tui.ui.workers import WorkerTable
from tests.ui.helpers import dashboard, make_app, record_notifications, replay, until
from tests.ui.test_ui_markup import shown_toasts


def test_clashes_are_keys_the_keymap_gives_to_two_ids() -> None:
    assert keymap_clashes({}, read_only=False) == []
    assert keymap_clashes({"history.metric": "j", "containers.filter": "f"}, read_only=False) == []
    # Two dashboard ids: both active, only one runs.
    assert keymap_clashes({"history.metric": "l"}, read_only=False) == [
        KeyClash("l", ("history.metric", "item.logs"), True)
    ]
    # A table's id against the other table's: one key that restarts or kills depending on the focus.
    assert keymap_clashes({"container.restart": "k"}, read_only=False) == [
        KeyClash("k", ("container.restart", "worker.kill"), False)
    ]
    # '?' and 'question_mark' are one key; an id moved away from a key frees it.
    assert keymap_clashes({"containers.sort": "?", "app.help": "f1"}, read_only=False) == []
    assert keymap_clashes({"containers.sort": "?"}, read_only=False) == [
        KeyClash("?", ("app.help", "containers.sort"), True)
    ]
    # Read-only: the changing actions' keys are inert, nothing to clash with.
    assert keymap_clashes({"history.metric": "k"}, read_only=True) == []


async def test_a_key_given_to_two_ids_is_reported_once() -> None:
    app, _ = make_app(keys={"container.restart": "k", "history.metric": "l"})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await replay(pilot, 1)
        for table in (WorkerTable, ContainerTable, WorkerTable):  # Textual reports clashes as the focus moves
            app.screen.query_one(table).focus()
            await pilot.press("down")
        notes = [str(note.message) for note in app._notifications if "is bound to" in str(note.message)]
        assert sorted(notes) == [
            "key 'k' is bound to container.restart and worker.kill in [keys]: "
            "what it does depends on the focused table",
            "key 'l' is bound to history.metric and item.logs in [keys]: only one of them runs",
        ]
        assert all(toast.count("[keys]") == 1 for toast in await shown_toasts(pilot) if "is bound to" in toast)


async def test_a_key_taken_from_textuals_own_bindings_is_reported_once() -> None:
    app, _ = make_app(keys={"container.restart": "enter"})
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        await pilot.press("down", "down", "up")
        notes = [str(note.message) for note in app._notifications if "is bound to" in str(note.message)]
        assert notes == ["key 'enter' is bound to container.restart in [keys]: it no longer does Select"]


async def test_esc_closes_the_keys_panel() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        app.action_show_help_panel()  # the palette's "Keys" command
        await pilot.pause()
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query(HelpPanel) and app.screen is dashboard(app)


async def test_esc_keeps_its_other_uses_while_the_keys_panel_is_open() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        app.action_show_help_panel()
        await pilot.press("slash", "d", "b")
        assert screen.filter_text == "db"
        await pilot.press("escape")  # the filter first
        assert screen.filter_text == "" and not app.screen.query_one("#filter", Input).display
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")  # then the modal on top
        assert app.screen is screen
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("escape")
        assert app.screen is screen and screen.query(HelpPanel)
        await pilot.press("escape")  # and last the panel
        await pilot.pause()
        assert not screen.query(HelpPanel)
        messages = record_notifications(app)
        await pilot.press("escape")  # nothing left to close: nothing happens
        assert messages == [] and app.is_running
