"""Stopping pixel-tui while an action runs (issue 14, item 2), as systemd and a person stop it, on the private engine.

The worker ignores SIGTERM (`trap '' TERM`), so its stop always waits out the whole grace: the signal
reaches `heal --every` or `act` while the stop is under way. The process must end within the shutdown
bound (the stop grace plus `remediate.shutdown_margin_s`), with the audit log holding the intent and an
outcome for the action that match what the engine and the ledger really hold afterwards.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from pixel_tui.model import utcnow
from pixel_tui.paths import default_paths
from pixel_tui.values import parse_time
from tests.test_cli import CALM
from tests.test_heal_without_harm import TERM_IGNORED, WORKER
from tests.test_remediate_engine import STUCK_TASK, ago, stuck_ledger

SLACK_S = 2.0
"""What the bound may be passed by: the interpreter's exit and this machine's load (2 shared cores)."""


def stuck_worker(engine):
    """A worker past its 1 s timeout (by the engine's own clock) whose main process ignores SIGTERM."""
    container = engine.run(TERM_IGNORED, name=WORKER, labels={"pixel.timeout": "1"})
    started = parse_time(container.attrs["State"]["StartedAt"])
    assert started is not None
    while utcnow() - started < timedelta(seconds=1.05):
        time.sleep(0.05)
    return container


def configure(engine, tmp_path: Path, *, grace: float, margin: float) -> tuple[tuple[str, ...], Path]:
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"version": 1, "tasks": stuck_ledger()}))
    config = tmp_path / "config.toml"
    config.write_text(f'{CALM}\n[remediate]\nstop_grace_s = {grace}\nshutdown_margin_s = {margin}\n'
                      f'[autoheal]\nstartup_cycles = 0\nmax_share = 1.0\n[workers]\nledger = "{ledger}"\n')  # fmt: skip
    # max_share 1: eight ghosts at once would trip the rules' short-circuit (issue 16); these tests are about stops.
    return ("--config", str(config), "--docker-host", engine.url), ledger


def audit_lines() -> list[dict]:
    """The audit log's lines as written (intent and outcome apart)."""
    path = default_paths().audit_log
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_intent(process: subprocess.Popen, step: str = "kill-worker", timeout: float = 40) -> dict:
    """Poll the audit log until the intent of `step` is written (the stop begins right after it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        intents = [line for line in audit_lines() if line.get("phase") == "intent" and line["step"] == step]
        if intents:
            return intents[0]
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    out, err = process.communicate()
    raise AssertionError(f"no intent of {step} in {timeout} s: {out} {err}")


def stop_and_time(process: subprocess.Popen, signum: int) -> tuple[float, str, str]:
    """Send `signum`; seconds until the process ended, and its output."""
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return time.monotonic() - sent, out, err


def task(ledger: Path) -> dict:
    return next(t for t in json.loads(ledger.read_text())["tasks"] if t["id"] == STUCK_TASK)


def container_ids(engine) -> set[str]:
    return {c.id for c in engine.client.containers.list(all=True)}


def pixel_tui(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pixel_tui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_sigterm_to_heal_every_during_a_stop_lets_it_finish_within_the_bound(engine, tmp_path):
    container = stuck_worker(engine)
    common, ledger = configure(engine, tmp_path, grace=3.0, margin=5.0)
    loop = pixel_tui("heal", "--every", "1", *common)
    intent = wait_for_intent(loop)
    took, out, err = stop_and_time(loop, signal.SIGTERM)
    print(f"SIGTERM -> exit: {took:.2f} s (stop grace 3 s, bound 8 s)")
    assert took < 3.0 + 5.0 + SLACK_S, took
    assert loop.returncode == 0, (out, err)
    assert "pixel-tui: SIGTERM: finishing 1 action, at most 8 s" in err
    assert out.splitlines()[-1].endswith(f"autoheal: kill-worker {WORKER} ({container.id[:12]}): done"), out
    lines = [line for line in audit_lines() if line.get("id") == intent["id"]]
    assert [line["phase"] for line in lines] == ["intent", "outcome"] and lines[1]["outcome"] == "ok"
    assert intent["parts"] == [f"stop {WORKER} ({container.id[:12]}) (SIGTERM, SIGKILL after 3s)",
                               f"remove {WORKER} ({container.id[:12]})", "mark task 3f2a9c1d aborted",
                               f"check that {WORKER} ({container.id[:12]}) is gone"]  # fmt: skip
    # The record matches the real end state: the container gone, its task aborted.
    assert container.id not in container_ids(engine)
    assert task(ledger)["status"] == "aborted"


def test_sigint_to_act_during_a_stop_lets_it_finish_within_the_bound(engine, tmp_path):
    container = stuck_worker(engine)
    common, ledger = configure(engine, tmp_path, grace=3.0, margin=5.0)
    act = pixel_tui("act", "worker.kill", WORKER, "--yes", *common)
    intent = wait_for_intent(act)
    took, out, err = stop_and_time(act, signal.SIGINT)
    print(f"SIGINT -> exit: {took:.2f} s (stop grace 3 s, bound 8 s)")
    assert took < 3.0 + 5.0 + SLACK_S, took
    assert act.returncode == 0, (out, err)
    assert "Traceback" not in err and "finishing 1 action" in err
    assert out.splitlines()[-1] == f"kill-worker {WORKER} ({container.id[:12]}): done"
    lines = [line for line in audit_lines() if line.get("id") == intent["id"]]
    assert [(line["phase"], line.get("outcome")) for line in lines] == [("intent", None), ("outcome", "ok")]
    assert container.id not in container_ids(engine) and task(ledger)["status"] == "aborted"


def test_a_bound_too_short_records_the_action_interrupted_with_its_parts(engine, tmp_path):
    """Another pixel-tui holds the ledger's lock: the abort waits for it past the bound (1 s grace + 2 s)."""
    container = stuck_worker(engine)
    common, ledger = configure(engine, tmp_path, grace=1.0, margin=2.0)
    held = os.open(ledger.with_name(f".{ledger.name}.pixel-tui.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        act = pixel_tui("act", "worker.kill", WORKER, "--yes", *common)
        intent = wait_for_intent(act)
        took, out, err = stop_and_time(act, signal.SIGINT)
    finally:
        os.close(held)
    print(f"SIGINT -> exit: {took:.2f} s (bound 3 s; the ledger's lock held)")
    assert took < 1.0 + 2.0 + SLACK_S, took
    assert act.returncode == 4, (out, err)
    name = f"{WORKER} ({container.id[:12]})"
    stop, remove = f"stop {name} (SIGTERM, SIGKILL after 1s)", f"remove {name}"
    assert out.splitlines()[-1] == (
        f"kill-worker {name}: interrupted: pixel-tui was stopped (SIGINT) before this finished; "
        f"done: {stop}, {remove}; under way: mark task 3f2a9c1d aborted (not confirmed); "
        f"not done: check that {name} is gone"
    )
    (outcome,) = [line for line in audit_lines() if line.get("id") == intent["id"] and line["phase"] == "outcome"]
    assert outcome["outcome"] == "interrupted"
    assert outcome["done"] == [stop, remove] and outcome["under_way"] == "mark task 3f2a9c1d aborted"
    assert outcome["not_done"] == [f"check that {name} is gone"]
    folded = json.loads(subprocess.run([sys.executable, "-m", "pixel_tui", "audit", "--json", *common],
                                       capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert [(record["outcome"], record["done"]) for record in folded] == [("interrupted", [stop, remove])]
    # The record matches the real end state: the container was removed, the task was never marked.
    assert container.id not in container_ids(engine)
    assert task(ledger)["status"] == "running"


def test_every_outcome_recorded_before_a_sigterm_is_printed(engine, tmp_path):
    """The lost line: a SIGTERM that abandoned a collection whose outcomes were already taken lost them."""
    ghosts = [{"id": f"{n:08x}-0000-4000-8000-00000000000{n}", "status": "running", "startedAt": ago(600)}
              for n in range(1, 9)]  # fmt: skip
    common, ledger = configure(engine, tmp_path, grace=1.0, margin=5.0)
    ledger.write_text(json.dumps({"version": 1, "tasks": ghosts}))
    loop = pixel_tui("heal", "--every", "1", *common)
    deadline = time.monotonic() + 40
    while not any(line.get("outcome") for line in audit_lines()) and time.monotonic() < deadline:
        time.sleep(0.01)
    took, out, err = stop_and_time(loop, signal.SIGTERM)
    assert took < 1.0 + 5.0 + SLACK_S, took
    recorded = [line for line in audit_lines() if line.get("phase") != "intent"]
    printed = [line for line in out.splitlines() if "abort-ghost" in line]
    assert recorded and len(printed) == len(recorded), (out, err, recorded)
    aborted = [t["id"] for t in json.loads(ledger.read_text())["tasks"] if t["status"] == "aborted"]
    assert len(aborted) == sum(1 for line in recorded if line["outcome"] == "ok")


def test_sigterm_to_a_one_shot_heal_during_a_stop_lets_it_finish_and_prints_the_json(engine, tmp_path):
    container = stuck_worker(engine)
    common, ledger = configure(engine, tmp_path, grace=3.0, margin=5.0)
    heal = pixel_tui("heal", "--json", *common)
    intent = wait_for_intent(heal)
    took, out, err = stop_and_time(heal, signal.SIGTERM)
    assert took < 3.0 + 5.0 + SLACK_S, took
    assert heal.returncode == 0, (out, err)
    (result,) = json.loads(out)
    assert (result["step"], result["outcome"], result["target"]["id"]) == ("kill-worker", "ok", container.id)
    lines = [line for line in audit_lines() if line.get("id") == intent["id"]]
    assert [line["phase"] for line in lines] == ["intent", "outcome"] and lines[1]["outcome"] == "ok"
    assert container.id not in container_ids(engine) and task(ledger)["status"] == "aborted"
