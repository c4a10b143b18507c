"""The events pane and view show the one event log the pipeline writes (bounded by `ui.events`), not a copy."""

from __future__ import annotations

from pixel_tui.ui.events import EventsPane, EventsScreen
from tests.ui.helpers import make_app, replay, until


async def test_the_pane_and_the_view_show_the_pipelines_event_log_bounded_by_ui_events() -> None:
    app, _ = make_app(events=3)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await replay(pilot)
        pane = screen.query_one(EventsPane)
        logged = app.pipeline.events.recent()
        assert len(logged) == 3 and pane.events == logged == app.context.events.recent()
        assert [event.at for event in logged] == sorted((event.at for event in logged), reverse=True)
        await pilot.press("v")  # the view of every kept event
        await until(pilot, lambda: isinstance(app.screen, EventsScreen))
        assert app.screen.events == logged
