"""The keymap's notices: unknown ids, keys given to two ids."""

from __future__ import annotations

from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.keys import KeyClash, keymap_clashes
from pixel_tui.ui.workers import WorkerTable
from tests.ui.helpers import make_app, replay
from tests.ui.test_ui_markup import shown_toasts


def test_clashes_are_keys_the_keymap_gives_to_two_ids() -> None:
    assert keymap_clashes({}, read_only=False) == []
    assert keymap_clashes({"history.metric": "h", "containers.filter": "f"}, read_only=False) == []
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
