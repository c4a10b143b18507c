"""Remediating from the console on the real test engine: the modal, the confirmation, the effect, the trail."""

from __future__ import annotations

import time

from textual.widgets import Input

from pixel_tui.ui.app import build_app
from pixel_tui.ui.confirm import ConfirmScreen, PlanScreen
from pixel_tui.ui.events import EventsPane
from pixel_tui.ui.workers import WorkerTable
from tests.remediation import bench
from tests.test_remediate_engine import STUCK_TASK, stuck_ledger, timed_out_worker
from tests.ui.helpers import dashboard, record_notifications, until


async def test_kill_a_timed_out_worker_from_the_console(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    app = build_app(b.executor.settings, b.collector, executor=b.executor)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = dashboard(app)
            table = screen.query_one(WorkerTable)
            await until(pilot, lambda: table.row_count >= 1, timeout=15)
            messages = record_notifications(app)
            table.focus()
            table.move_cursor(row=table.get_row_index(container.id))
            await pilot.press("k")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            dialog = app.screen
            text = " ".join(str(static.render()) for static in dialog.query("Static"))
            assert "pixel-worker-3f2a9c1d" in text and container.id[:12] in text and "timed out" in text
            confirmed = time.monotonic()
            await pilot.press("y")
            await until(pilot, lambda: container.id not in {row.value for row in table.rows}, timeout=30)
            took = time.monotonic() - confirmed
            events = screen.query_one(EventsPane)
            await until(pilot, lambda: any("kill-worker" in e.message for e in events.events), timeout=10)
            assert any("done" in message for message in messages), messages
    finally:
        b.close()
    print(f"confirm -> row gone: {took:.2f} s (stop grace 1 s)")
    assert container.id not in {c.id for c in engine.client.containers.list(all=True)}
    task = b.task(STUCK_TASK)
    assert task["status"] == "aborted" and task["error"].startswith("killed by pixel-tui: timed out")
    assert task["payload"] == {"prompt": "refactor", "attempt": 2}
    (record,) = b.audit_lines()
    assert record["action"] == "worker.kill" and record["outcome"] == "ok" and "@" in record["actor"]


async def test_a_bulk_action_shows_the_plan_and_needs_the_typed_word(engine, tmp_path):
    first = timed_out_worker(engine, name="pixel-worker-0000000a")
    second = engine.run("sleep 600", name="pixel-worker-0000000b", labels={"pixel.timeout": "1"})
    b = bench(engine.url, tmp_path, ahead_s=1.3)
    app = build_app(b.executor.settings, b.collector, executor=b.executor)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = dashboard(app)
            await until(pilot, lambda: len(screen.snapshot.timed_out if screen.snapshot else ()) == 2, timeout=15)
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, PlanScreen))
            steps = str(app.screen.query_one("#plan-steps").render())
            assert "1. stop and remove pixel-worker-0000000a" in steps and "2. stop and remove" in steps
            word = app.screen.query_one(Input)
            word.value = "yes"  # not the word: nothing runs
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PlanScreen)
            word.value = "reap"
            await pilot.press("enter")
            # Both steps done and recorded (a stopped container is out of the running list before it is removed).
            done = lambda: [r["outcome"] for r in b.audit_lines()] == ["ok", "ok"]  # noqa: E731 - intents read as interrupted
            await until(pilot, done, timeout=30)
            gone = {first.id, second.id} & {c.id for c in engine.client.containers.list(all=True)}
            assert not gone
    finally:
        b.close()
    assert [r["outcome"] for r in b.audit_lines()] == ["ok", "ok"]
    assert {r["target"]["id"] for r in b.audit_lines()} == {first.id, second.id}


async def test_autoheal_toggles_with_a_and_shows_in_the_status_line(engine, tmp_path):
    b = bench(engine.url, tmp_path)
    app = build_app(b.executor.settings, b.collector, executor=b.executor)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = dashboard(app)
            await until(pilot, lambda: screen.received >= 1, timeout=15)
            assert screen.autoheal_text == "autoheal off"
            await pilot.press("a")
            await pilot.pause()
            assert screen.autoheal_text == "autoheal on" and app.autoheal.enabled
            assert "autoheal on" in str(screen.query_one("#autoheal").render())
    finally:
        b.close()
    assert b.audit_lines() == []  # toggling is not a remediation
