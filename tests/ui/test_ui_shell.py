"""`e`, a shell in the selected container, driven through the pilot: what is offered, refused, audited and lent.

Pilot tests run headless, where the terminal cannot be lent: the docker CLI is a recording stand-in and the
app's `suspend` a recording one (the real session is in tests/ui/test_ui_terminal.py and tests/test_shell.py).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from pixel_tui.engine.contexts import Endpoint
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.engine_ops import LiveContainer
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.remediate.shell import NO_CLI, NO_SESSIONS, ShellSessions
from pixel_tui.settings import Settings
from pixel_tui.ui.app import PixelApp
from pixel_tui.ui.containers import ContainerTable
from pixel_tui.ui.workers import WorkerTable
from tests.remediation import StandInHost
from tests.scripted import container_id
from tests.ui.helpers import dashboard, make_app, record_notifications, replay, until

RUNNING = "pixel-grafana"
STOPPED = "pixel-backup"
ENGINE_URL = "ssh://ops@host.example"


@dataclass
class StandInEngine:
    """What the executor re-validates a shell against: each container's state now, by id (absent: gone)."""

    states: dict[str, str] = field(default_factory=dict)

    def inspect(self, cid: str) -> LiveContainer | None:
        state = self.states.get(cid)
        return None if state is None else LiveContainer(cid, "?", state, None, None, 0)

    def containers(self) -> list[LiveContainer]:
        return []


@dataclass
class StandInCli:
    """The docker CLI: records each argv and environment it is run with, ends with `status`."""

    status: int = 0
    runs: list[list[str]] = field(default_factory=list)
    env: list[Mapping[str, str]] = field(default_factory=list)
    shells: tuple[str, ...] = ("/bin/ash", "/bin/sh")
    probes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        self.runs.append(list(argv))
        self.env.append(env)
        return self.status

    def probe(self, cid: str, argv: Sequence[str]) -> bool:
        self.probes.append((cid, tuple(argv)))
        return argv[0] in self.shells


def shell_app(
    *, cli: StandInCli | None = None, installed: bool = True, audit_dir: Path | None = None, lend: bool = True
) -> tuple[PixelApp, StandInCli, list[str], StandInEngine]:
    """The console on the crisis arc with an executor whose engine is a stand-in and whose shells run `cli`.

    `lend`: the app's `suspend` records each lending (a headless test has no terminal to lend)."""
    cli = cli or StandInCli()
    engine = StandInEngine({container_id(RUNNING): "running", container_id(STOPPED): "exited"})
    audit = AuditLog((audit_dir or Path(tempfile.mkdtemp(prefix="pixel-ui-shell-"))) / "audit.jsonl")
    shells = ShellSessions(Endpoint(ENGINE_URL), cli.probe, runner=cli,
                           which=lambda name: "/usr/bin/docker" if installed else None)  # fmt: skip
    backends = Backends(engine, RealFiles(None, None, max_bytes=1 << 20), StandInHost(), audit, shell=shells)
    executor = Executor(Settings(), backends, read_only=False)
    app, _ = make_app(executor=executor)
    lent: list[str] = []
    if lend:

        @contextlib.contextmanager
        def suspend() -> Iterator[None]:
            lent.append("suspended")
            yield
            lent.append("resumed")

        app.suspend = suspend  # type: ignore[method-assign]
    return app, cli, lent, engine


def select(app: PixelApp, name: str) -> None:
    table = app.screen.query_one(ContainerTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(container_id(name)))


def audit_records(app: PixelApp) -> list[dict]:
    assert app.executor is not None
    records, problems = app.executor.backends.audit.read()
    assert not problems
    return records


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_e_opens_a_shell_in_the_running_container_and_the_console_comes_back(size):
    app, cli, lent, _ = shell_app(cli=StandInCli(status=3))
    async with app.run_test(size=size) as pilot:
        screen = await replay(pilot)
        select(app, RUNNING)
        await pilot.pause()
        row, received = screen.query_one(ContainerTable).cursor_row, screen.received
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        cid = container_id(RUNNING)
        assert cli.runs == [["/usr/bin/docker", "-H", ENGINE_URL, "exec", "-it", cid, "/bin/ash"]]
        assert lent == ["suspended", "resumed"]
        # bash is tried first; ash, the first that runs, is the one opened (found before the intent, and again)
        assert [argv[0] for _, argv in cli.probes] == ["/bin/bash", "/bin/ash"] * 2
        assert messages == [f"shell {RUNNING} ({cid[:12]}): done (/bin/ash ended with exit status 3)"]
        # Back where it was: the dashboard, the same row, and a collection asked for at once.
        assert app.screen is screen and app.focused is screen.query_one(ContainerTable)
        assert screen.query_one(ContainerTable).cursor_row == row
        await until(pilot, lambda: screen.received > received)
    intent, outcome = (line for line in _lines(app))
    assert intent["phase"] == "intent" and outcome["phase"] == "outcome" and intent["id"] == outcome["id"]
    assert intent["action"] == outcome["action"] == "container.shell" and outcome["step"] == "shell"
    assert outcome["target"] == {"kind": "container", "id": cid, "name": RUNNING}
    assert outcome["outcome"] == "ok" and outcome["note"] == "/bin/ash ended with exit status 3"
    assert "@" in outcome["actor"]


def _lines(app: PixelApp) -> list[dict]:
    import json

    assert app.executor is not None
    return [json.loads(line) for line in app.executor.backends.audit.path.read_text().splitlines()]


@pytest.mark.parametrize("size", [(160, 45), (120, 35)])
async def test_the_shell_key_is_offered_in_the_footer_palette_and_help(size):
    app, *_ = shell_app()
    async with app.run_test(size=size) as pilot:
        await replay(pilot, 1)
        footer = [key.action for key in app.screen.query(FooterKey) if key.region.width]
        if size == (160, 45):  # after the crisis's own keys: they come first where the footer is short
            assert footer.index("remediate('container.shell')") > footer.index("remediate('host.optimize')")
        palette = {command.help for command in app.get_system_commands(app.screen)}
        assert "key e · container.shell" in palette
        await pilot.press("question_mark")
        await pilot.pause()
        text = " ".join(str(static.render()) for static in app.screen.query("Static"))
        assert "  e  A shell in the selected running container" in text


async def test_a_stopped_container_opens_no_shell_and_says_why():
    app, cli, lent, _ = shell_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, STOPPED)
        messages = record_notifications(app)
        await pilot.press("e")
        await pilot.pause()
        assert messages == [f"{STOPPED} is exited: a shell opens only in a running container"]
    assert cli.runs == [] and lent == [] and audit_records(app) == []


async def test_a_ghost_task_opens_no_shell_and_says_why():
    app, cli, lent, _ = shell_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await replay(pilot)
        workers = screen.query_one(WorkerTable)
        ghost = next(worker for worker in screen.snapshot.workers if worker.phantom == "ghost")
        workers.focus()
        workers.move_cursor(row=workers.get_row_index(ghost.key))
        messages = record_notifications(app)
        await pilot.press("e")
        await pilot.pause()
        assert messages == [f"ghost task {ghost.task_id[:8]} has no container: there is nothing to open a shell in"]
    assert cli.runs == [] and lent == [] and audit_records(app) == []


async def test_a_worker_row_opens_its_container():
    app, cli, lent, engine = shell_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await replay(pilot)
        worker = next(w for w in screen.snapshot.workers if w.container_id and w.state == "running")
        engine.states[worker.container_id] = "running"
        workers = screen.query_one(WorkerTable)
        workers.focus()
        workers.move_cursor(row=workers.get_row_index(worker.key))
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        assert app.focused is workers and workers.cursor_row == workers.get_row_index(worker.key)
    assert cli.runs[0][-2:] == [worker.container_id, "/bin/ash"]


async def test_without_the_docker_cli_it_says_how_to_install_it():
    app, cli, lent, _ = shell_app(installed=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        messages = record_notifications(app)
        await pilot.press("e")
        await pilot.pause()
        assert messages == [NO_CLI] and "apt-get install docker.io" in NO_CLI
    assert cli.runs == [] and lent == [] and audit_records(app) == []


async def test_a_container_stopped_since_the_snapshot_is_refused_before_anything_is_lent():
    app, cli, lent, engine = shell_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        engine.states[container_id(RUNNING)] = "exited"  # stopped after the snapshot on screen
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        assert "refused" in messages[0] and "is exited now, not running" in messages[0]
    assert cli.runs == [] and lent == []
    (record,) = audit_records(app)
    assert record["outcome"] == "refused" and record["action"] == "container.shell" and "phase" not in record


async def test_a_container_without_a_shell_is_refused_with_the_shells_tried():
    app, cli, lent, _ = shell_app(cli=StandInCli(shells=()))
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        assert "refused: no shell in" in messages[0] and "/bin/bash, /bin/ash, /bin/sh" in messages[0]
    assert cli.runs == [] and lent == []
    assert [r["outcome"] for r in audit_records(app)] == ["refused"]


async def test_an_audit_log_that_cannot_be_written_refuses_and_never_suspends(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the log's directory should be")
    app, cli, lent, _ = shell_app(audit_dir=blocked)
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        assert "refused" in messages[0] and "nothing is done unrecorded" in messages[0]
    assert cli.runs == [] and lent == []


async def test_a_terminal_that_cannot_be_lent_is_said_so():
    app, cli, lent, _ = shell_app(lend=False)  # the headless driver cannot suspend: as under Textual Web
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        messages = record_notifications(app)
        await pilot.press("e")
        await until(pilot, lambda: messages)
        assert "refused: this terminal cannot be lent to a shell" in messages[0]
        assert app.screen is dashboard(app)
    assert cli.runs == []
    assert [r["outcome"] for r in audit_records(app)] == ["refused"]


async def test_a_console_without_a_shell_backend_says_why():
    app, _ = make_app()  # the stand-in executor has no engine, as the demo has no real one
    async with app.run_test(size=(120, 35)) as pilot:
        await replay(pilot)
        select(app, RUNNING)
        messages = record_notifications(app)
        await pilot.press("e")
        await pilot.pause()
        assert messages == [NO_SESSIONS]
