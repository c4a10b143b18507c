"""`pixel-tui rules` as a person or a script runs it: list, show, test, propose, the ladder, exit codes, read-only."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

from pixel_tui.cli import load
from pixel_tui.paths import default_paths
from pixel_tui.rules import rules_file
from pixel_tui.rules.command import run_rules
from tests.rules_fixtures import FIXTURES, NOW


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, in the test's PIXEL_TUI_HOME (set by conftest)."""
    return subprocess.run([sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=60)


CONFIG = '[autoheal]\ndisable = ["builtin-kill-timed-out"]\n'
"""The built-in rule that kills every timed-out worker covers the kills' pattern: turned off, it is proposed."""


def recorded() -> None:
    """The recorded audit log and history in this test's home, and a config turning the built-in kill off."""
    paths = default_paths()
    paths.state_dir.mkdir(parents=True)
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(CONFIG)
    shutil.copy(FIXTURES / "audit.jsonl", paths.audit_log)
    result = run("history", "import", str(FIXTURES / "history.jsonl"))
    assert result.returncode == 0, result.stderr


def propose(*extra: str) -> tuple[int, str, str]:
    """`rules propose` in-process, on the fixtures' clock (the fixtures' actions are in the window of NOW)."""
    paths = default_paths()
    import argparse

    args = argparse.Namespace(config=None, read_only="--read-only" in extra or None)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_rules(paths, load(args, paths), paths.config_file, "propose", None, as_json="--json" in extra,
                     stdout=stdout, stderr=stderr, clock=lambda: NOW)  # fmt: skip
    return code, stdout.getvalue(), stderr.getvalue()


def test_propose_writes_the_proposals_beside_the_config_and_list_shows_them():
    recorded()
    code, out, err = propose()
    assert code == 0, err
    assert "proposed kill-timed-out-workers-swap: worker.kill\n  when  kind == 'worker' and timed_out and" in out
    assert "you killed timed-out workers 5 times in 2 days" in out
    path = rules_file.path_beside(default_paths().config_file)
    assert [rule.id for rule in rules_file.read(path).rules] == [
        "kill-timed-out-workers-swap", "cycle-swap-on-swap-critical"]  # fmt: skip
    assert default_paths().config_file.read_text() == CONFIG
    assert propose() == (0, "no new proposal (from the manual actions of the last 14 days, at least 3 of one "
                            "pattern)\n", "")  # fmt: skip
    listed = run("rules", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows["kill-timed-out-workers-swap"]["state"] == "proposed"
    assert rows["kill-timed-out-workers-swap"]["hits"] == 1  # the shadow line of the recorded log
    assert rows["cycle-swap-on-swap-critical"]["evidence"].startswith("you cycled swap 3 times")
    table = run("rules")
    assert table.stdout.splitlines()[0].split() == ["ID", "STATE", "DO", "HITS", "ACTED", "RECOVERED", "NOT", "LEFT",
                                                    "LAST"]  # fmt: skip


def test_the_ladder_from_the_command_line_and_its_refusals():
    recorded()
    assert propose()[0] == 0
    rule = "kill-timed-out-workers-swap"
    promoted = run("rules", "promote", rule)
    assert (promoted.returncode, promoted.stdout) == (0, f"rule {rule}: proposed -> shadow (it records what it would "
                                                         "do; promote again to enable)\n")  # fmt: skip
    assert "shadow -> enabled" in run("rules", "promote", rule).stdout
    again = run("rules", "promote", rule)
    assert (again.returncode, again.stderr) == (1, f"pixel-tui rules: refused: rule {rule} is enabled already\n")
    unknown = run("rules", "show", "nope")
    assert unknown.returncode == 1 and "no rule 'nope'" in unknown.stderr
    watching = run("--read-only", "rules", "disable", rule)
    assert watching.returncode == 1 and "read-only" in watching.stderr
    assert run("rules", "reject", rule).returncode == 1  # enabled: disable it first
    assert run("rules", "disable", rule).returncode == 0
    rejected = run("rules", "reject", rule)
    assert rejected.returncode == 0 and "not proposed again before" in rejected.stdout
    assert rule not in run("rules", "list").stdout
    assert propose()[1].startswith("no new proposal")  # the rejection's cooldown holds


def test_show_and_test_print_and_json():
    recorded()
    propose()
    shown = run("rules", "show", "kill-timed-out-workers-swap")
    assert shown.returncode == 0
    assert "  when    kind == 'worker' and timed_out and host.swap.level >= warning" in shown.stdout
    assert "you killed timed-out workers 5 times in 2 days" in shown.stdout
    assert json.loads(run("rules", "show", "kill-timed-out-workers-swap", "--json").stdout)["budget"] == "3/30m"
    tested = run("rules", "test", "kill-timed-out-workers-swap")
    assert tested.returncode == 0, tested.stderr
    assert "replayed over 120 history cycles" in tested.stdout and "cycle 20" in tested.stdout
    replay = json.loads(run("rules", "test", "kill-timed-out-workers-swap", "--json").stdout)
    assert [f["cycle"] for f in replay["firings"] if f["source"] == "history"] == [20, 44, 66, 88, 112]


def test_usage_errors():
    for args in (("rules", "show"), ("rules", "list", "x"), ("rules", "promote", "--json", "x"), ("rules", "nope")):
        result = run(*args)
        assert result.returncode == 3, args
        assert "usage:" in result.stderr
    assert run("rules", "--autoheal").returncode == 3


def test_a_pattern_a_built_in_rule_covers_is_not_proposed_and_list_shows_the_built_ins():
    recorded()
    default_paths().config_file.write_text("")
    code, out, _ = propose()
    assert (
        code == 0
        and out.startswith("proposed cycle-swap-on-swap-critical: host.cycle_swap\n")
        and "kill-timed-out" not in out
    )
    rows = {row["id"]: row for row in json.loads(run("rules", "list", "--json").stdout)}
    builtin = rows["builtin-kill-timed-out"]
    assert (builtin["state"], builtin["source"], builtin["actions"], builtin["recoveries"]) == (
        "enabled",
        "builtin",
        2,
        1,
    )
    default_paths().config_file.write_text(CONFIG)
    shown = json.loads(run("rules", "show", "builtin-kill-timed-out", "--json").stdout)
    assert shown["state"] == "off" and shown["notes"] == ["off: [autoheal] disable in the config names it"]


def test_each_new_proposal_is_a_notice_to_the_webhooks_sent_before_propose_exits():
    from tests.webhook import Receiver

    receiver = Receiver()
    try:
        recorded()
        paths = default_paths()
        paths.config_file.write_text(CONFIG + f'\n[notify]\nwebhooks = ["{receiver.url()}"]\n')
        code, _, err = propose()
        assert code == 0, err
        bodies = [json.loads(request.body) for request in receiver.received]
        assert sorted(body["kind"] for body in bodies) == ["proposal", "proposal"]
        told = {body["target"]: body["message"] for body in bodies}
        assert "you killed timed-out workers 5 times in 2 days" in told["kill-timed-out-workers-swap"]
        assert propose()[0] == 0 and len(receiver.received) == 2  # nothing new, nothing told
    finally:
        receiver.close()
