"""`heal --every` and the console's autoheal beside a faithful model of the orchestrator (tests/syntropy).

The model spawns as Syntropy does (lock first, a `pending` task, a slow `compose run`, the entrypoint's
temp-file-and-rename writes, its EXIT trap), cleans up as it does (whole-ledger read-modify-write
every cycle), and has its incidents: a hung worker that ignores TERM and outlives its timeout, workers
that linger after writing `completed`, a log tailer named like a worker. Beside it pixel-tui must
never make things worse:

- never two workers running at once (the invariant monitor polls the engine every 0.2 s);
- never stop a worker whose task is live and within its timeout: only the hung worker is killed;
- never leave a task `pending` or `running` without a container after its own kill;
- never report an outcome the ledger and the engine do not show afterwards.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pixel_tui.collect import Collector
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Executor
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.settings import AutohealSettings
from pixel_tui.ui.app import build_app
from tests.remediation import bench
from tests.syntropy import (
    InvariantMonitor,
    Syntropy,
    SyntropyConfig,
    WorkerBehaviour,
    hung_worker,
    log_tailer,
    wait_settled,
    worker_name,
)
from tests.ui.helpers import dashboard

CHURN_S = 24.0
"""How long the orchestrator keeps spawning."""


class Cycles(threading.Thread):
    """The orchestrator's cycles: the hung worker first, then a spawn attempt every cycle; half the
    workers linger four seconds after writing `completed` (the completed-but-running case)."""

    def __init__(self, orchestrator: Syntropy, seconds: float) -> None:
        super().__init__(name="syntropy-cycles", daemon=True)
        self.orchestrator, self.seconds = orchestrator, seconds
        self.hung: str | None = None
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            self.hung = hung_worker(self.orchestrator, timeout_seconds=2).task_id
            deadline = time.monotonic() + self.seconds
            number = 0
            while time.monotonic() < deadline:
                linger = 4.0 if number % 2 else 0.0
                behaviour = WorkerBehaviour(body="echo working; sleep 1.5; echo '## Summary'; echo done", linger=linger)
                self.orchestrator.run_cycle(spawn={"task": f"task {number}", "behaviour": behaviour})
                number += 1
                time.sleep(0.7)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.errors.append(error)


def syntropy(engine: Any, tmp_path: Path) -> Syntropy:
    config = SyntropyConfig(root=tmp_path / "pixel", compose_delay_s=1.5, cooldown_s=1.0)
    return Syntropy(engine.url, config)


def config_for(orchestrator: Syntropy, tmp_path: Path) -> Path:
    """pixel-tui pointed at the model's ledger and lock; the hung worker is overdue 3 s after it starts."""
    config = tmp_path / "config.toml"
    config.write_text(
        "interval = 1.0\n"
        f'[workers]\nledger = "{orchestrator.files.ledger}"\nlock_file = "{orchestrator.files.lock}"\n'
        "kill_grace_s = 1.0\nlock_grace_s = 3.0\n"
        "[remediate]\nstop_grace_s = 2.0\n"
        "[autoheal]\nstartup_cycles = 1\n"
    )
    return config


def check_aftermath(orchestrator: Syntropy, engine: Any, hung: str | None, audit: list[dict[str, Any]]) -> None:
    """What must hold once the orchestrator stopped and pixel-tui had time to act."""
    assert hung is not None
    tasks = {task["id"]: task for task in orchestrator.files.tasks()}
    killed_by_us = {task_id for task_id, task in tasks.items() if "pixel-tui" in str(task.get("error") or "")}
    assert killed_by_us <= {hung}, f"a live task within its timeout was ended by pixel-tui: {killed_by_us - {hung}}"
    assert tasks[hung]["status"] in ("aborted", "completed", "failed")
    assert orchestrator.container(hung) is None, "the hung worker is still there"
    stopped = {record["target"]["name"] for record in audit if record["step"] in ("kill-worker", "remove-orphan")}
    assert stopped <= {worker_name(hung)}, f"pixel-tui stopped a worker that was not hung: {stopped}"
    names = {container.name for container in engine.client.containers.list(all=True)}
    for record in audit:
        if record["outcome"] != "ok":
            continue
        if record["step"] == "kill-worker":  # ok means: its container gone, its task finished
            assert record["target"]["name"] not in names
            task_id = record["context"]["target"]["task_id"]
            assert tasks[task_id]["status"] in ("aborted", "completed", "failed"), tasks[task_id]
        if record["step"] == "abort-ghost":
            assert tasks[record["target"]["id"]]["status"] in ("aborted", "completed", "failed")
    assert wait_settled(engine.url, orchestrator.files.ledger, timeout=15) == []


def test_heal_every_beside_the_orchestrator_never_makes_things_worse(engine, tmp_path):
    orchestrator = syntropy(engine, tmp_path)
    tailer = log_tailer(orchestrator, with_dead_lock=False)
    config = config_for(orchestrator, tmp_path)
    heal = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pixel_tui",
            "heal",
            "--every",
            "1",
            "--config",
            str(config),
            "--docker-host",
            engine.url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cycles = Cycles(orchestrator, CHURN_S)
    try:
        with InvariantMonitor(engine.url, orchestrator.files.ledger) as monitor:
            cycles.start()
            cycles.join(CHURN_S + 60)
            time.sleep(4)  # the last lingering worker exits, heal's last collections run
        heal.send_signal(signal.SIGTERM)
        out, err = heal.communicate(timeout=40)
    finally:
        if heal.poll() is None:
            heal.kill()
        orchestrator.close()
    assert not cycles.errors, cycles.errors
    assert heal.returncode == 0 and err == "", (heal.returncode, err)
    monitor.assert_clean()
    assert monitor.max_running == 1  # workers did run, one at a time
    (log,) = (tmp_path / "pixel-tui-home").rglob("audit.jsonl")
    audit, problems = AuditLog(log).read()  # each attempt's intent and outcome, folded
    assert problems == []
    assert any(r["step"] == "kill-worker" and r["outcome"] == "ok" for r in audit), out
    check_aftermath(orchestrator, engine, cycles.hung, audit)
    assert engine.client.containers.get(tailer.id).status == "running"
    spawned = [t for t in orchestrator.files.tasks() if t["id"] != cycles.hung]
    assert sum(t["status"] == "completed" for t in spawned) >= 2  # the orchestrator did get on with its work


def test_the_consoles_autoheal_beside_the_orchestrator_never_makes_things_worse(engine, tmp_path):
    orchestrator = syntropy(engine, tmp_path)
    (tmp_path / "console").mkdir()
    b = bench(engine.url, tmp_path / "console", None, stop_grace_s=2.0, kill_grace_s=1.0, lock_grace_s=3.0)
    files = orchestrator.files
    settings = replace(
        b.executor.settings,
        interval=1.0,
        workers=replace(b.executor.settings.workers, ledger=str(files.ledger), lock_file=str(files.lock)),
        autoheal=AutohealSettings(enabled=True, startup_cycles=1),
    )
    backends = replace(b.executor.backends, files=RealFiles(str(files.ledger), str(files.lock), max_bytes=1 << 20))
    collector = Collector(settings)
    app = build_app(settings, collector, executor=Executor(settings, backends, read_only=False))
    cycles = Cycles(orchestrator, CHURN_S)
    stale_seen: list[float] = []

    async def watch() -> None:
        async with app.run_test(size=(120, 35)) as pilot:
            screen = dashboard(app)
            cycles.start()
            started = time.monotonic()
            while cycles.is_alive() or time.monotonic() - started < CHURN_S + 4:
                await pilot.pause(0.25)
                if screen.stale:
                    stale_seen.append(round(time.monotonic() - started, 1))
                if not cycles.is_alive() and time.monotonic() - started > CHURN_S + 4:
                    break
            app.autoheal.wait(10)

    try:
        with InvariantMonitor(engine.url, orchestrator.files.ledger) as monitor:
            asyncio.run(watch())
    finally:
        collector.close()
        b.close()
        orchestrator.close()
    assert not cycles.errors, cycles.errors
    monitor.assert_clean()
    assert stale_seen == [], f"the console went stale while autoheal acted, at {stale_seen} s"
    check_aftermath(orchestrator, engine, cycles.hung, b.audit_lines())
