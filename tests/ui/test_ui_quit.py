"""Quitting the console with `q` while a kill waits out its stop grace, on the real test engine (issue 14, item 2).

The worker ignores SIGTERM, so the kill confirmed from the console is still stopping it when `q` comes:
the console says "finishing 1 action..." and quits once the kill is done, within the shutdown bound; a
second `q` stops waiting and records the kill as interrupted, with its parts done and not done.
"""

from __future__ import annotations

import time

from pixel_tui.ui.app import build_app
from pixel_tui.ui.confirm import ConfirmScreen
from pixel_tui.ui.status import StatusBar
from pixel_tui.ui.workers import WorkerTable
from tests.remediation import bench
from tests.test_remediate_engine import STUCK_TASK, stuck_ledger
from tests.test_shutdown import SLACK_S, container_ids, stuck_worker
from tests.ui.helpers import dashboard, record_notifications, until

GRACE_S = 3.0


async def kill_then_quit(app, container, *, twice: bool) -> tuple[list[str], str, float]:
    """Kill the worker from its row, press q (twice if asked) while the stop waits; notifications, the status
    line as quitting began, and the seconds from q to the end of the console."""
    async with app.run_test(size=(120, 40)) as pilot:
        screen = dashboard(app)
        table = screen.query_one(WorkerTable)
        await until(pilot, lambda: table.row_count >= 1, timeout=15)
        messages = record_notifications(app)
        table.focus()
        table.move_cursor(row=table.get_row_index(container.id))
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: app.executor.attempts.in_flight == 1, timeout=10)
        # And its stop begun: the intent is written right before it, after the checks (slower on podman).
        await until(pilot, lambda: any(r.get("phase") == "intent" for r in app.executor.backends.audit.read()[0]))
        await pilot.pause(0.2)
        pressed = time.monotonic()
        await pilot.press("q")
        await pilot.pause()
        status = str(screen.query_one(StatusBar).query_one("#acting").render())
        if twice:
            await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, timeout=GRACE_S + 10)
        took = time.monotonic() - pressed
    return messages, status, took


async def test_q_while_a_kill_runs_waits_for_it_within_the_bound(engine, tmp_path):
    container = stuck_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), stop_grace_s=GRACE_S)
    app = build_app(b.executor.settings, b.collector, executor=b.executor)
    try:
        messages, status, took = await kill_then_quit(app, container, twice=False)
    finally:
        b.close()
    print(f"q -> console ended: {took:.2f} s (stop grace {GRACE_S:g} s)")
    assert "finishing 1 action... (at most 8 s; q again: stop at once)" in status
    assert any(message.startswith("finishing 1 action...") for message in messages), messages
    assert took < GRACE_S + 5 + SLACK_S
    assert app.return_code == 0 and app.interrupted == []
    (record,) = b.audit_lines()
    assert record["step"] == "kill-worker" and record["outcome"] == "ok"
    assert container.id not in container_ids(engine) and b.task(STUCK_TASK)["status"] == "aborted"


async def test_q_twice_records_the_kill_interrupted_with_what_was_not_done(engine, tmp_path):
    container = stuck_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), stop_grace_s=GRACE_S)
    app = build_app(b.executor.settings, b.collector, executor=b.executor)
    try:
        _, _, took = await kill_then_quit(app, container, twice=True)
    finally:
        b.close()
    assert took < 1.0 + SLACK_S, f"a second q waited {took:.1f} s"
    assert app.return_code == 4
    name = f"pixel-worker-3f2a9c1d ({container.id[:12]})"
    (outcome,) = app.interrupted
    assert outcome.done == () and outcome.under_way == f"stop {name} (SIGTERM, SIGKILL after 3s)"
    assert outcome.not_done == (f"remove {name}", "mark task 3f2a9c1d aborted", f"check that {name} is gone")
    (record,) = b.audit_lines()
    assert record["outcome"] == "interrupted" and record["under_way"] == outcome.under_way
    assert record["not_done"] == list(outcome.not_done)
    # The record matches the real end state: the stop was asked for, nothing after it was done.
    assert container.id in container_ids(engine) and b.task(STUCK_TASK)["status"] == "running"
