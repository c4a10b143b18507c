"""`pixel-tui act`, `heal` and `audit` as a script or a cron job runs them, on the real test engine."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.remediation import past_its_timeout
from tests.test_cli import CALM
from tests.test_remediate_engine import STUCK_TASK, stuck_ledger, timed_out_worker


def run(*args: str, stdin: str | None = None, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixel_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def setup(engine, tmp_path, tasks=None):
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"version": 1, "tasks": tasks if tasks is not None else stuck_ledger()}))
    config = tmp_path / "config.toml"
    config.write_text(f'{CALM}\n[remediate]\nstop_grace_s = 1.0\n[workers]\nledger = "{ledger}"\n')
    return ("--config", str(config), "--docker-host", engine.url), ledger


def task(ledger, task_id=STUCK_TASK):
    return next(t for t in json.loads(ledger.read_text())["tasks"] if t["id"] == task_id)


def audit(*common):
    return json.loads(run("audit", "--json", *common).stdout)


def test_act_kills_a_worker_by_name_with_yes_and_audits_it(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    result = run("act", "worker.kill", "pixel-worker-3f2a9c1d", "--yes", *common)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"1. stop and remove pixel-worker-3f2a9c1d ({container.id[:12]})")
    assert result.stdout.splitlines()[-1] == f"kill-worker pixel-worker-3f2a9c1d ({container.id[:12]}): done"
    assert container.id not in {c.id for c in engine.client.containers.list(all=True)}
    assert task(ledger)["status"] == "aborted"
    (record,) = audit(*common)
    assert record["action"] == "worker.kill" and record["outcome"] == "ok" and record["target"]["id"] == container.id
    last = run("audit", "--last", "1", *common)
    assert "worker.kill  kill-worker  pixel-worker-3f2a9c1d  ok" in last.stdout


def test_act_without_a_terminal_or_yes_refuses_and_changes_nothing(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    result = run("act", "worker.kill", container.id[:8], *common, stdin="y\n")
    assert result.returncode == 1
    assert "not confirmed: standard input is not a terminal (pass --yes" in result.stderr
    assert engine.client.containers.get(container.id).status == "running" and task(ledger)["status"] == "running"


def test_act_dry_run_prints_the_plan_only(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    result = run("act", "workers.reap", "--dry-run", *common)
    assert result.returncode == 0 and result.stdout.startswith("1. stop and remove pixel-worker-3f2a9c1d")
    assert engine.client.containers.get(container.id).status == "running" and audit(*common) == []


def test_act_read_only_refuses_and_audits_the_refusal(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    result = run("--read-only", "act", "worker.kill", "pixel-worker-3f2a9c1d", "--yes", *common)
    assert result.returncode == 1
    assert "refused: read-only" in result.stdout
    assert engine.client.containers.get(container.id).status == "running"
    assert [r["outcome"] for r in audit(*common)] == ["refused"]


def test_act_usage_errors_name_what_is_wrong(engine, tmp_path):
    engine.run("sleep 600", name="pixel-worker-aaaaaaa1")
    engine.run("sleep 600", name="pixel-worker-aaaaaaa2")
    common, _ = setup(engine, tmp_path)
    cases = [
        (("act", "worker.frobnicate", "x"), "no changing action 'worker.frobnicate'"),
        (("act", "worker.kill", "nobody"), "no container or worker named 'nobody'"),
        (("act", "worker.kill"), "worker.kill needs a target"),
        (("act", "host.prune", "pixel-worker-aaaaaaa1"), "host.prune acts on the whole host: it takes no target"),
    ]
    for args, message in cases:
        result = run(*args, "--yes", *common)
        assert result.returncode == 3 and message in result.stderr, (args, result.stderr)


def test_heal_once_kills_the_stuck_worker_and_dry_run_does_not(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    dry = run("heal", "--dry-run", "--json", *common)
    assert dry.returncode == 0, dry.stderr
    (planned,) = json.loads(dry.stdout)
    assert planned["action"] == "worker.kill" and planned["outcome"] is None
    assert engine.client.containers.get(container.id).status == "running"
    healed = run("heal", "--json", *common)
    assert healed.returncode == 0, healed.stderr
    (done,) = json.loads(healed.stdout)
    assert done["outcome"] == "ok" and done["target"]["id"] == container.id and done["step"] == "kill-worker"
    assert task(ledger)["status"] == "aborted"
    (record,) = audit(*common)
    assert record["actor"] == "autoheal"
    again = run("heal", *common)
    assert again.returncode == 0 and again.stdout == "nothing to heal\n"


def test_heal_read_only_plans_and_audits_refusals_and_exits_1(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    common, _ = setup(engine, tmp_path)
    result = run("heal", "--read-only", *common)
    assert result.returncode == 1 and "refused: read-only" in result.stdout
    assert engine.client.containers.get(container.id).status == "running"
    assert [r["outcome"] for r in audit(*common)] == ["refused"]


def test_heal_every_logs_one_line_per_action_and_stops_quietly_on_sigterm(engine, tmp_path):
    import signal
    import time

    container = past_its_timeout(timed_out_worker(engine))
    common, ledger = setup(engine, tmp_path)
    loop = subprocess.Popen(
        [sys.executable, "-m", "pixel_tui", "heal", "--every", "1", *common],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import select

    ready, _, _ = select.select([loop.stdout], [], [], 40)  # the first action comes after the 2-collection grace
    if not ready:
        loop.kill()
        raise AssertionError(f"heal --every printed nothing in 40 s: {loop.communicate()[1]}")
    line = loop.stdout.readline()  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while container.id in {c.id for c in engine.client.containers.list(all=True)} and time.monotonic() < deadline:
        time.sleep(0.2)
    loop.send_signal(signal.SIGTERM)
    rest, errors = loop.communicate(timeout=20)
    assert loop.returncode == 0 and errors == ""
    assert line.endswith(f"autoheal: kill-worker pixel-worker-3f2a9c1d ({container.id[:12]}): done\n"), line
    assert rest == ""  # acted once, on a change of state, not every second
    assert task(ledger)["status"] == "aborted"


def next_line(process: subprocess.Popen[str], within_s: float) -> str:
    """The next line `process` prints on stdout, waited for at most `within_s` seconds."""
    import select

    ready, _, _ = select.select([process.stdout], [], [], within_s)
    if not ready:
        raise AssertionError(f"nothing printed in {within_s:g} s")
    return process.stdout.readline().rstrip("\n")  # type: ignore[union-attr]


def test_no_engine_is_never_nothing_to_do(tmp_path):
    """heal and act cannot see a worker without the engine: exit 3 and the reason, never "nothing to heal"."""
    from tests.test_cli import MISSING

    healed = run("heal", "--docker-host", MISSING)
    assert healed.returncode == 3 and "nothing to heal" not in healed.stdout
    assert "the engine cannot be asked: no Docker socket at /nonexistent/pixel-test.sock" in healed.stderr
    reaped = run("act", "workers.reap", "--yes", "--docker-host", MISSING)
    assert reaped.returncode == 3 and "the engine cannot be asked" in reaped.stderr


def test_killing_a_container_that_is_not_a_worker_is_a_refusal(engine, tmp_path):
    web = engine.run("sleep 600", name="web")
    common, _ = setup(engine, tmp_path)
    result = run("act", "worker.kill", "web", "--yes", *common)
    assert result.returncode == 1, result
    assert "refused: web is not a worker" in result.stderr
    assert engine.client.containers.get(web.id).status == "running"


def test_heal_every_says_when_the_engine_goes_and_comes_back(engine, tmp_path):
    import signal
    import time

    common, _ = setup(engine, tmp_path, tasks=[])
    loop = subprocess.Popen([sys.executable, "-m", "pixel_tui", "heal", "--every", "1", *common],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines = []
    try:
        time.sleep(2)  # a collection or two while the engine is up: nothing to say
        engine.stop_daemon()
        lines.append(next_line(loop, within_s=15))
        engine.start_daemon()
        lines.append(next_line(loop, within_s=15))
    finally:
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=30)
    lines += out.splitlines()
    told = [line.split(" ", 1)[1].split(":")[0] for line in lines]
    assert told == ["engine unreachable", "engine reachable again"], out + err
