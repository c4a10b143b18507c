"""Where rules come from: built-in, the config's `[[autoheal.rules]]` with their lines, rules.toml, disable."""

from __future__ import annotations

import os

import pytest

from pixel_tui.rules.model import BUILTIN, RuleState
from pixel_tui.rules.sources import load_rules, read_rules_file
from pixel_tui.settings import Settings, load_settings, rule_lines

CONFIG = """interval = 2.0

[autoheal]
enabled = true
disable = ["builtin-cycle-swap", "no-such-rule"]

[[autoheal.rules]]
id = "builtin-restart-unhealthy"
when = "kind == 'container' and health == 'unhealthy'"
do = "container.restart"
grace_s = 30

  [[ autoheal . "rules" ]]
id = "broken"
when = "health =="
do = "container.restart"

[[autoheal.rules]]
id = "prune-when-disk"
when = "host.disk.level >= warning"
do = "host.prune"
budget = "1/1d"
"""

RULES_TOML = """[[autoheal.rules]]
id = "prune-when-disk"
when = "host.disk.level == critical"
do = "host.prune"
state = "shadow"
proposed_at = "2026-12-01T10:00:00Z"
evidence = "you pruned 4 times in 2 days with the disk critical"

[[autoheal.rules]]
id = "x"
do = "container.shell"
when = "kind == 'container'"

[[rejected]]
id = "kill-timed-out-workers-swap"
until = "2026-12-13T10:00:00Z"
"""


def test_built_in_then_the_config_then_rules_toml_each_with_its_lines(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    (tmp_path / "rules.toml").write_text(RULES_TOML)
    rules = load_rules(load_settings(config))
    by_id = {rule.id: rule for rule in rules.rules}
    builtins = ["builtin-kill-timed-out", "builtin-abort-ghost", "builtin-remove-orphan", "builtin-clear-stale-lock",
                "builtin-restart-unhealthy", "builtin-cycle-swap"]  # fmt: skip
    assert list(by_id)[:6] == builtins
    replaced = by_id["builtin-restart-unhealthy"]
    assert (replaced.source, replaced.line, replaced.grace_s) == (str(config), 7, 30.0)
    assert by_id["builtin-cycle-swap"].state is RuleState.OFF and by_id["builtin-cycle-swap"].source == BUILTIN
    prune = by_id["prune-when-disk"]  # rules.toml wins over the config
    assert (prune.source, prune.line, prune.state) == (str(tmp_path / "rules.toml"), 1, RuleState.SHADOW)
    assert prune.evidence.startswith("you pruned 4 times")
    assert rules.rejected == {"kill-timed-out-workers-swap": "2026-12-13T10:00:00Z"}
    assert sorted(str(error) for error in rules.errors) == sorted([
        f"{config}:13: rule broken: when: column 10: a value expected after ==",
        f"{tmp_path / 'rules.toml'}:9: rule x: do: container.shell is not eligible for autoheal "
        "(eligible: worker.kill, container.restart, workers.resolve_phantoms, host.cycle_swap, host.relieve_memory, "
        "host.prune)",
        f"{config}: rule no-such-rule: [autoheal] disable names no rule",
    ])  # fmt: skip


def test_the_defaults_are_the_built_in_rules_and_they_follow_the_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[workers]\nlock_grace_s = 45.0\n[autoheal]\nlabel = "ops.heal"\nbudget_actions = 5\n')
    rules = load_rules(load_settings(config))
    assert not rules.errors and all(rule.source == BUILTIN for rule in rules.rules)
    by_id = {rule.id: rule for rule in rules.rules}
    assert by_id["builtin-clear-stale-lock"].when == "kind == 'lock' and stale_s >= 45"
    assert "label.ops.heal == 'true'" in by_id["builtin-restart-unhealthy"].when
    assert {rule.budget.count for rule in rules.rules} == {5}
    assert load_rules(Settings()).errors == ()


def test_a_rules_toml_that_is_not_toml_or_not_trusted_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[[autoheal.rules]\nid = 1")
    rules, errors, rejected = read_rules_file(path)
    assert rules == [] and rejected == {} and "not valid TOML" in errors[0].reason
    path.write_text(RULES_TOML)

    def untrusted(info: os.stat_result) -> None:
        raise PermissionError("another user can write it")

    rules, errors, _ = read_rules_file(path, verify=untrusted)
    assert rules == [] and "another user can write it" in errors[0].reason


@pytest.mark.parametrize(
    ("text", "lines"),
    [("[[autoheal.rules]]\n", (1,)), ("a = 1\n  [[ autoheal.rules ]]  # x\n[[autoheal.rulesx]]\n", (2,)),
     ("[autoheal]\nrules = []\n", ())],
)  # fmt: skip
def test_rule_lines_finds_each_table_header(text, lines):
    assert rule_lines(text) == lines


def test_statuses_list_every_rule_with_its_state_outside_a_running_autoheal(tmp_path):
    from pixel_tui.rules.engine import rule_statuses

    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    settings = load_settings(config)
    statuses = {status.rule.id: status for status in rule_statuses(load_rules(settings), settings)}
    assert statuses["builtin-cycle-swap"].rule.state is RuleState.OFF
    assert statuses["prune-when-disk"].hits == 0 and statuses["prune-when-disk"].budget_left is None
    assert "broken" not in statuses


def test_without_a_config_file_rules_toml_is_read_from_the_default_config_place(tmp_path, monkeypatch):
    monkeypatch.setenv("PIXEL_TUI_HOME", str(tmp_path))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "rules.toml").write_text(RULES_TOML)
    rules = load_rules(Settings())
    assert rules.path == tmp_path / "config" / "rules.toml" and rules.get("prune-when-disk") is not None
