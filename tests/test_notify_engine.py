"""Notifications of autoheal on the real test engine: its action and its outcome reach the webhook, a person's not."""

from __future__ import annotations

import json

from pixel_tui.notify.config import NotifySettings
from pixel_tui.notify.notifier import Notifier
from pixel_tui.notify.observer import NotifyObserver
from pixel_tui.notify.sender import where
from pixel_tui.pipeline import Pipeline
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.settings import AutohealSettings
from tests.remediation import bench, past_its_timeout
from tests.test_cli import CALM
from tests.test_remediate_cli import run
from tests.test_remediate_engine import stuck_ledger, timed_out_worker
from tests.webhook import Receiver, Silent


def test_an_autoheal_kill_is_told_as_an_action_then_its_outcome_and_a_person_s_restart_is_not(engine, tmp_path):
    container = timed_out_worker(engine)
    bystander = engine.run("sleep 600", name="pixel-web-1")
    receiver = Receiver()
    notifier = Notifier(NotifySettings(webhooks=(receiver.url(),), cooldown_s=0), host="test-host")
    observer = NotifyObserver(notifier)
    b = bench(engine.url, tmp_path, stuck_ledger(), ahead_s=1.3)
    observer.listen(b.executor)
    autoheal = Autoheal(b.executor, AutohealSettings(enabled=True, startup_cycles=0))
    pipeline = Pipeline(b.collector, healer=autoheal)  # levels are this machine's: told in tests/test_notify.py
    try:
        first = pipeline.step()  # hands the kill to autoheal's pool
        autoheal.wait(20)
        got = receiver.wait_for(2)
        plan = b.executor.plan("container.restart", first.snapshot, bystander.id)
        (mine,) = b.executor.execute(plan, actor="alice@ops-laptop")  # a person's key press
        assert notifier.wait(10)
    finally:
        notifier.close()
        autoheal.close()
        b.close()
        receiver.close()
    assert container.id not in {c.id for c in engine.client.containers.list(all=True)}
    assert mine.ok and len(receiver.received) == 2, [r.json for r in receiver.received]
    action, outcome = (r.json for r in got)
    short = f"pixel-worker-3f2a9c1d ({container.id[:12]})"
    assert (action["kind"], action["target"]) == ("action", "pixel-worker-3f2a9c1d")
    assert action["message"].startswith(f"autoheal: stop and remove {short}; mark task 3f2a9c1d aborted: timed out ")
    assert (outcome["kind"], outcome["target"], outcome["level"]) == ("outcome", "pixel-worker-3f2a9c1d", "ok")
    assert outcome["message"] == f"autoheal: kill-worker {short}: done"
    assert notifier.counts.persons == 2, "the person's restart: begun and its outcome, neither sent"


def test_heal_from_cron_sends_its_notices_before_it_exits_and_says_which_failed(engine, tmp_path):
    container = past_its_timeout(timed_out_worker(engine))
    receiver = Receiver()
    dead = Silent()
    dead_url = dead.url()
    dead.close()  # refused
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"version": 1, "tasks": stuck_ledger()}))
    config = tmp_path / "config.toml"
    config.write_text(
        f'{CALM}\n[remediate]\nstop_grace_s = 1.0\n[workers]\nledger = "{ledger}"\n'
        f'[notify]\nwebhooks = ["{receiver.url()}", "{dead_url}"]\nretries = 0\ntimeout_s = 2\n'
    )
    try:
        healed = run("heal", "--config", str(config), "--docker-host", engine.url)
    finally:
        receiver.close()
    assert healed.returncode == 0, healed.stderr
    assert [(r.json["kind"], r.json["target"]) for r in receiver.received] == [
        ("action", "pixel-worker-3f2a9c1d"),
        ("outcome", "pixel-worker-3f2a9c1d"),
    ], "the level of one snapshot is not told from cron"
    assert (
        receiver.received[1].json["message"]
        == f"autoheal: kill-worker pixel-worker-3f2a9c1d ({container.id[:12]}): done"
    )
    failed = [line for line in healed.stderr.splitlines() if line.startswith("pixel-tui: notify: ")]
    assert len(failed) == 2 and all(f"{where(dead_url)}: cannot connect" in line for line in failed), healed.stderr
    assert "never" not in healed.stderr, "a webhook's path is never said"
