"""The console against hostile text and a collection that never returns (Pilot, on scripted and stuck sources)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from textual.widgets import Static

from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.detail import DetailScreen
from tests.scripted import CRISIS_CYCLE, FIRST_CYCLE, ScriptedSource, crisis_details, crisis_frames
from tests.ui.helpers import dashboard, label_text, make_app, replay, until

EVIL = "\x1b]0;pwned\x07\x1b[41mEVIL\x9b2J\u202e"


class StuckSource(ScriptedSource):
    """A source whose collections never return (a hung NFS mount, an engine that accepts and never answers)."""

    def __init__(self) -> None:
        super().__init__(crisis_frames(FIRST_CYCLE, FIRST_CYCLE))
        self.release = threading.Event()

    def collect(self):  # noqa: ANN201 - as the base
        self.release.wait()
        return super().collect()


async def test_a_collection_that_never_returns_is_marked_stale_and_q_still_quits() -> None:
    source = StuckSource()
    app, _ = make_app(source=source, interval=1.0)
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            screen = dashboard(app)
            await until(pilot, lambda: screen.pipeline.busy_since is not None)
            screen._stale_timer.pause()  # the once-a-second check would undo the pretended 30 s on a slow machine
            screen.check_stale(now=time.monotonic() + 30)
            await pilot.pause()
            assert screen.stale is not None and "has not answered for" in screen.stale
            assert "STALE" in label_text(app, "#stale")
            await pilot.press("q")
        # Leaving run_test means the app exited although its collection thread still waits.
        assert app.return_code == 0
    finally:
        source.release.set()


async def test_notifications_show_brackets_and_escape_controls() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot, 1)
        app.notify(f"unknown binding id in [keys]: {EVIL}", title=f"keys {EVIL}")
        await pilot.pause()
        (note,) = [n for n in app._notifications if "unknown binding" in n.message]
        assert note.message == r"unknown binding id in [keys]: \x1b]0;pwned\x07\x1b[41mEVIL\x9b2J\u202e"
        assert "\x1b" not in note.title and r"\x1b" in note.title
        assert not note.markup


async def test_the_detail_view_shows_hostile_labels_env_and_command_escaped() -> None:
    frames = crisis_frames(FIRST_CYCLE, CRISIS_CYCLE)
    details = dict(crisis_details())
    cid, detail = next(iter(details.items()))
    details[cid] = replace(
        detail,
        labels={"pixel.task": EVIL, EVIL: "key"},
        env=(("NOTE", EVIL),),
        command=f"sh -c 'printf {EVIL}'",
    )
    app, _ = make_app(source=ScriptedSource(frames, details=details))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        table = app.screen.query_one(ContainerTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(cid))
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = str(app.screen.query_one("#detail-text", Static).content)
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
        assert text.count(r"\x1b]0;pwned\x07") >= 4  # label value, label key, env value, command
