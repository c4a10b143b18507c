"""Watch mode: every changing action is absent from the footer, the palette and the keymap, and its key is inert."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from pixel_tui.remediate.catalogue import BY_ID, MUTATING_ACTIONS, READ_ONLY_REASON, is_mutating
from pixel_tui.remediate.host import MemoryFigures
from pixel_tui.ui.app import PixelApp
from pixel_tui.ui.confirm import ConfirmScreen, PlanScreen
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.keys import KNOWN_IDS, READ_ONLY_EXPLAINED, action_allowed, usable_keymap
from pixel_tui.ui.workers import WorkerTable
from tests.remediation import GiB, StandInHost
from tests.ui.helpers import dashboard, make_app, record_notifications, replay, until

CHANGING_KEYS = {BY_ID[action_id].key: action_id for action_id in MUTATING_ACTIONS}
EXPLAINED_KEYS = {binding.key for binding in READ_ONLY_EXPLAINED}
"""Changing keys that say why they do nothing in watch mode (the shell's)."""


def offered(app: PixelApp) -> dict[str, set[str]]:
    """Binding ids offered right now: in the footer, in the command palette, in the active keymap."""
    screen = app.screen
    footer = {key.action for key in screen.query(FooterKey)}
    palette = {command.help.rsplit("· ", 1)[-1] for command in app.get_system_commands(screen)}
    keymap = {active.binding.id for active in screen.active_bindings.values() if active.binding.id}
    footer_ids = {binding_id for binding_id in KNOWN_IDS for action in footer if f"'{binding_id}'" in action}
    return {"footer": footer_ids, "palette": palette, "keymap": keymap}


async def _each_focus(app: PixelApp, pilot: object) -> list[dict[str, set[str]]]:
    seen = []
    for table in (ContainerTable, WorkerTable):
        app.screen.query_one(table).focus()
        await pilot.pause()  # type: ignore[attr-defined]
        seen.append(offered(app))
    return seen


def test_the_changing_actions_are_the_remediations() -> None:
    expected = {
        "container.restart",
        "container.stop_start",
        "container.shell",
        "worker.kill",
        "workers.reap",
        "workers.resolve_phantoms",
        "host.prune",
        "host.relieve_memory",
        "host.cycle_swap",
        "host.optimize",
        "autoheal.toggle",
    }
    assert expected == MUTATING_ACTIONS
    assert not is_mutating("item.logs") and not is_mutating("item.inspect")
    assert is_mutating("no.such.action")  # unknown counts as changing
    assert MUTATING_ACTIONS <= KNOWN_IDS


async def test_console_mode_offers_every_changing_action_somewhere() -> None:
    app, _ = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await replay(pilot, 1)
        seen = await _each_focus(app, pilot)
        keymap = set().union(*(view["keymap"] for view in seen))
        palette = set().union(*(view["palette"] for view in seen))
        assert keymap >= MUTATING_ACTIONS
        assert palette >= MUTATING_ACTIONS
        footer = set().union(*(view["footer"] for view in seen))
        assert {"container.restart", "worker.kill", "workers.reap", "host.optimize"} <= footer


async def test_watch_mode_hides_every_changing_action() -> None:
    app, _ = make_app(read_only=True)
    async with app.run_test(size=(200, 40)) as pilot:
        await replay(pilot, 1)
        assert str(app.screen.query_one("#mode").content) == "READ-ONLY" and app.screen.query_one("#mode").display
        for view in await _each_focus(app, pilot):
            for where, ids in view.items():
                assert not ids & MUTATING_ACTIONS, f"changing actions offered in the {where}: {ids & MUTATING_ACTIONS}"
            still = {"item.logs", "dashboard.pause", "containers.sort", "containers.filter", "app.help"}
            assert still <= view["keymap"]


@pytest.mark.parametrize("key", sorted(set(CHANGING_KEYS) - EXPLAINED_KEYS))
async def test_watch_mode_changing_keys_do_nothing(key: str) -> None:
    app, _ = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot)
        messages = record_notifications(app)
        before = (screen.sort_by, screen.metric, screen.paused, screen.filter_text, len(app.screen_stack))
        for table in (ContainerTable, WorkerTable):
            app.screen.query_one(table).focus()
            await pilot.press(key)
            await pilot.pause()
        assert messages == []  # not even a refusal: the key never reached an action
        assert (screen.sort_by, screen.metric, screen.paused, screen.filter_text, len(app.screen_stack)) == before


@pytest.mark.parametrize("key", sorted(set(CHANGING_KEYS) - {"a", "e"}))  # toggling and a shell ask nothing
async def test_console_mode_changing_keys_ask_first(key: str) -> None:
    app, _ = make_app()
    assert app.executor is not None
    app.executor.backends.host = StandInHost(
        figures=CAN_RUN.get(key, MemoryFigures(16 * GiB, 2 * GiB, 8 * GiB, 8 * GiB))
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        spec = BY_ID[CHANGING_KEYS[key]]
        table = WorkerTable if spec.scope == "worker" else ContainerTable
        app.screen.query_one(table).focus()
        await pilot.press(key)
        await pilot.pause()
        expected = PlanScreen if spec.scope in ("all", "host") else ConfirmScreen
        assert isinstance(app.screen, expected), f"{key}: {type(app.screen).__name__}"
        if key == "P":  # a prune says what it would free before it asks (here: no engine to measure)
            steps = str(app.screen.query_one("#plan-steps").render())
            assert "what it would free could not be measured" in steps, steps
        dialog = app.screen.query_one("#dialog").region  # centred over the console, not in its corner
        assert abs(dialog.x + dialog.width / 2 - 60) <= 1 and abs(dialog.y + dialog.height / 2 - 20) <= 1, dialog
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


async def test_watch_mode_e_opens_no_shell_and_says_why() -> None:
    app, _ = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot)
        messages = record_notifications(app)
        for table in (ContainerTable, WorkerTable):
            app.screen.query_one(table).focus()
            await pilot.press("e")
            await pilot.pause()
        assert messages == ["shell: not offered, " + READ_ONLY_REASON] * 2
        assert app.screen is app.screen_stack[0]
        records, _ = app.executor.backends.audit.read()
        assert records == []  # the key never reached the action: nothing was attempted


async def test_read_only_refuses_even_when_the_action_is_run_directly() -> None:
    app, _ = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        messages = record_notifications(app)
        dashboard(app)._remediate("host.optimize", None)
        await until(pilot, lambda: len(messages) >= 1)
        await pilot.pause(0.2)
        assert messages and all("refused: read-only" in message for message in messages)
        records, _ = app.executor.backends.audit.read()
        assert records and {record["outcome"] for record in records} == {"refused"}
        assert not isinstance(app.screen, (ConfirmScreen, PlanScreen))  # never asked: never possible


async def test_watch_mode_ignores_keymap_entries_for_changing_actions() -> None:
    app, _ = make_app(read_only=True, keys={"container.restart": "x", "history.metric": "j"})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay(pilot, 1)
        assert app.keymap == {"history.metric": "j"}
        await pilot.press("j")
        assert screen.metric == "memory"


def test_action_allowed_is_the_single_rule() -> None:
    for action_id in MUTATING_ACTIONS:
        assert not action_allowed(True, "remediate", (action_id,))
        assert action_allowed(False, "remediate", (action_id,))
    # The explanation of a hidden key is there in watch mode only (the key runs its action otherwise).
    assert action_allowed(True, "explain_read_only", ("container.shell",))
    assert not action_allowed(False, "explain_read_only", ("container.shell",))
    assert action_allowed(True, "remediate", ("item.logs",))
    assert action_allowed(True, "toggle_pause", ())
    keymap, unknown = usable_keymap({"worker.kill": "K", "item.logs": "L", "bogus": "b"}, read_only=True)
    assert keymap == {"item.logs": "L"} and unknown == ["bogus"]


async def test_read_only_wins_over_autoheal_turned_on_in_the_config(engine, tmp_path):
    """`read_only = true` beside `[autoheal] enabled = true`: autoheal is off, said once, and nothing is
    written to the audit log, though a timed-out worker is there for it to act on."""
    from pixel_tui.settings import load_settings, with_overrides
    from pixel_tui.ui.app import build_app
    from tests.remediation import bench

    b = bench(engine.url, tmp_path, read_only=True)
    worker = engine.run("sleep 600", name="pixel-worker-0c0c0c0c", labels={"pixel.timeout": "1"})
    config = tmp_path / "config.toml"
    config.write_text("read_only = true\ninterval = 0.2\n[autoheal]\nenabled = true\nstartup_cycles = 0\n")
    settings = with_overrides(load_settings(config), docker_host=engine.url)
    assert settings.read_only and not settings.autoheal.enabled
    app = build_app(settings, b.collector, executor=b.executor)
    said = record_notifications(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = dashboard(app)
            await until(pilot, lambda: len(screen.snapshot.timed_out if screen.snapshot else ()) == 1, timeout=15)
            received = screen.received
            await until(pilot, lambda: screen.received >= received + 3, timeout=15)  # cycles autoheal would act in
            assert app.autoheal is None and screen.autoheal_text is None
            assert not screen.query_one("#autoheal").display or not str(screen.query_one("#autoheal").render())
    finally:
        b.close()
    notices = [message for message in said if "autoheal is off" in message]
    assert notices == [f"read-only: autoheal is off ([autoheal] enabled = true in {config} does not apply)"]
    assert b.audit_lines() == []
    worker.reload()
    assert worker.status == "running"


def test_watch_plain_says_once_that_read_only_turns_autoheal_off(tmp_path):
    import subprocess
    import sys

    from tests.test_cli import CALM

    config = tmp_path / "config.toml"
    config.write_text(CALM + "[autoheal]\nenabled = true\n")
    result = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "--config", str(config), "watch", "--plain", "--count", "3",
         "--interval", "0.2", "--docker-host", "unix:///nonexistent/pixel-test.sock"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr  # three lines that could not see the engine
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr.count("autoheal is off") == 1, result.stderr


CAN_RUN = {
    "m": MemoryFigures(total=16 * GiB, available=2 * GiB, swap_total=8 * GiB, swap_free=8 * GiB),  # memory at 87 %
    "w": MemoryFigures(total=16 * GiB, available=6 * GiB, swap_total=8 * GiB, swap_free=7 * GiB),  # room for 1 GiB
}
"""Hosts where dropping the page cache (m) and cycling swap (w) may run: so they ask first."""


@pytest.mark.parametrize(
    ("key", "figures", "said"),
    [
        ("w", MemoryFigures(16 * GiB, 2 * GiB, 8 * GiB, 8 * GiB), "no swap is in use: nothing to cycle"),
        (
            "w",
            MemoryFigures(16 * GiB, 2 * GiB, 8 * GiB, 2 * GiB),
            "available memory 2.0GiB does not exceed swap used 6.0GiB",
        ),
        ("m", MemoryFigures(16 * GiB, 12 * GiB, 8 * GiB, 8 * GiB), "memory is at 25.0 % (ok)"),
    ],
)
async def test_a_plan_known_to_fail_says_why_at_once_and_asks_nothing(key: str, figures, said: str) -> None:
    app, _ = make_app()
    assert app.executor is not None
    host = app.executor.backends.host = StandInHost(figures=figures)
    messages = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        await pilot.press(key)
        await until(pilot, lambda: any("refused" in m for m in messages))
        assert not isinstance(app.screen, (ConfirmScreen, PlanScreen))
    assert any(said in message for message in messages), messages
    (record,) = [r for r in app.executor.backends.audit.read()[0]]
    assert record["outcome"] == "refused" and said in record["error"] and record["actor"] != "autoheal"
    assert host.calls == []  # nothing sampled, nothing dropped or cycled
