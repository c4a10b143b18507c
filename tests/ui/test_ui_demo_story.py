"""Pilot test of `pixel-tui demo` telling cycle 17 at high speed: a kill by hand makes a proposal, promoted twice
it is enabled, and the next stuck worker the world produces is killed by autoheal through that rule.

The demo as `run_demo` builds it (its seeded audit log and history, the real rules book over its rules.toml,
the learning autoheal), on the real clock at 40 times the speed: a cycle lasts 0.3 s.
"""

from __future__ import annotations

from textual.widgets import Static

from pixel_tui.demo.run import build_demo
from pixel_tui.demo.world import STUCK_WORKER, container_id
from pixel_tui.rules.learning import PROPOSED, SWITCHED_ON
from pixel_tui.settings import Settings
from pixel_tui.ui.app import PixelApp
from pixel_tui.ui.confirm import ConfirmScreen
from pixel_tui.ui.rule_table import RuleTable
from pixel_tui.ui.rules_screen import RulesScreen
from pixel_tui.ui.workers import WorkerTable
from pixel_tui.wiring import wire_console
from tests.ui.helpers import cell, dashboard, record_notifications, until

RULE = "kill-timed-out-workers-swap"


async def test_the_demo_learns_the_operators_kill_and_heals_the_next_stuck_worker(tmp_path):
    demo = build_demo(Settings(interval=0.1), tmp_path, speed=40.0, past=True)
    app = PixelApp(wire_console(demo.settings, demo.collector, executor=demo.executor, history=demo.history,
                                rules=demo.rules, autoheal=demo.autoheal))  # fmt: skip
    audit = demo.executor.backends.audit
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            messages = record_notifications(app)
            table = dashboard(app).query_one(WorkerTable)
            stuck = container_id(STUCK_WORKER)
            await until(pilot, lambda: stuck in {row.value for row in table.rows}, timeout=10)
            # The operator kills the stuck worker by hand: the fifth time, the first four are in the audit log.
            table.focus()
            table.move_cursor(row=table.get_row_index(stuck))
            await pilot.press("k")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: any("pixel-tui proposes a rule: " + RULE in m for m in messages), timeout=10)
            assert any(e.kind == PROPOSED and e.target == RULE for e in app.context.events.recent())
            # The rules screen lists it with its evidence; promoted twice, it is enabled.
            await pilot.press("R")
            screen = app.screen
            assert isinstance(screen, RulesScreen)
            await until(pilot, lambda: screen.loaded)
            rules = screen.query_one(RuleTable)
            await until(pilot, lambda: RULE in rules.row_keys)
            assert cell(rules, RULE, "state") == "proposed"
            assert cell(rules, RULE, "note").startswith("you killed timed-out work")
            rules.move_cursor(row=rules.get_row_index(RULE))
            await until(pilot, lambda: screen.selected is not None and screen.selected.rule.id == RULE)
            preview = str(screen.query_one("#rule-preview", Static).content)
            assert "you killed timed-out workers 5 times in 2 days, all of them with swap critical" in preview
            assert "kind == 'worker' and timed_out and host.swap.level >= critical" in preview
            await pilot.press("p", "y")
            await until(pilot, lambda: cell(rules, RULE, "state") == "shadow")
            await pilot.press("p", "y")
            await until(pilot, lambda: cell(rules, RULE, "state") == "enabled")
            await pilot.press("escape")
            # Autoheal turns on for it, and kills the next stuck worker the world produces, by that rule.
            await until(pilot, lambda: any(e.kind == SWITCHED_ON for e in app.context.events.recent()), timeout=10)

            def by_rule() -> list[dict]:
                return [r for r in audit.read()[0] if r.get("rule") == RULE and r.get("actor") == "autoheal"]

            await until(pilot, lambda: any(r.get("verdict") == "recovered" for r in by_rule()), timeout=20)
            (record, *_) = by_rule()
            assert record["step"] == "kill-worker" and record["outcome"] == "ok"
            assert record["target"]["name"] != STUCK_WORKER  # another one: the world's next stuck worker
            told = [e.message for e in app.context.events.recent()]
            assert any(f"(rule {RULE})" in m and m.startswith("autoheal: kill-worker") for m in told), told
            assert any(m.startswith("autoheal: ") and "recovered" in m and RULE in m for m in told), told
    finally:
        demo.autoheal.close()
        demo.history.close()
