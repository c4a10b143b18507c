"""Text from config, theme files or the host is shown as it is: never read as markup, never a crash."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets._toast import Toast

from pixel_tui.model import DockerState, LedgerState, LockState, Snapshot
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.workers import WorkerTable
from tests.scripted import FIRST_CYCLE, ScriptedSource, container_id, crisis_frames
from tests.ui.helpers import label_text, make_app, replay

HOSTILE = "[b]bold[/b] [/oops] [link=x]"
"""Text that is not valid markup: read as markup, it would raise (and end the console) or lose its brackets."""


async def shown_toasts(pilot: object) -> list[str]:
    """The text of every toast on screen, as the operator reads it (run_test(notifications=True))."""
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    return [toast.render().plain for toast in pilot.app.screen.query(Toast)]  # type: ignore[attr-defined]


async def test_the_unknown_binding_notice_keeps_its_brackets() -> None:
    app, _ = make_app(keys={"no.such.binding": "x"})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await replay(pilot, 1)
        toasts = await shown_toasts(pilot)
        assert any("unknown binding id in [keys], ignored: no.such.binding" in toast for toast in toasts), toasts


async def test_errors_from_the_host_are_shown_as_they_are() -> None:
    class Hostile(ScriptedSource):
        def detail(self, container: str) -> object:
            raise RuntimeError(f"engine said {HOSTILE}")

    frames = crisis_frames(FIRST_CYCLE, FIRST_CYCLE)
    app, _ = make_app(source=Hostile(frames))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await replay(pilot, 1)
        table = app.screen.query_one(ContainerTable)
        table.move_cursor(row=table.get_row_index(container_id("pixel-db")))
        await pilot.press("i")
        await pilot.pause(0.2)
        assert app.is_running
        toasts = await shown_toasts(pilot)
        assert any(f"cannot inspect pixel-db: engine said {HOSTILE}" in toast for toast in toasts), toasts


def _hostile_frames() -> tuple[Snapshot, ...]:
    first, second = crisis_frames(FIRST_CYCLE, FIRST_CYCLE + 1)
    lost = replace(
        second,
        docker=DockerState(False, "unix:///var/run/docker.sock", f"refused {HOSTILE}"),
        ledger=LedgerState("/srv/tasks.json", readable=False, error=f"not JSON {HOSTILE}"),
        lock=LockState("/srv/worker.lock", "[/oops]", 30.0, stale=True),
    )
    return first, lost


async def test_host_text_in_the_status_line_and_titles_is_not_markup() -> None:
    app, _ = make_app(_hostile_frames())
    async with app.run_test(size=(200, 40)) as pilot:
        await replay(pilot, 2)
        assert app.is_running
        assert label_text(app, "#engine").startswith(f"ENGINE UNREACHABLE: refused {HOSTILE}")
        title = app.screen.query_one(WorkerTable)._border_title
        assert title is not None
        assert f"ledger unreadable: not JSON {HOSTILE}" in title.plain and "lock [/oops] STALE" in title.plain


async def test_a_filter_with_brackets_is_shown_as_typed() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        await pilot.press("slash", "left_square_bracket", "slash", "right_square_bracket")
        await pilot.pause()
        assert screen.filter_text == "[/]" and app.is_running
        title = app.screen.query_one(ContainerTable)._border_title
        assert title is not None and "filter “[/]” 0/12" in title.plain
