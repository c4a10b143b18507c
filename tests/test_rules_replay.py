"""The dry-run tester over the recorded history and audit log: where a rule would have fired, what it cannot tell."""

from __future__ import annotations

from pixel_tui.levels import Thresholds
from pixel_tui.rules.model import Rule
from pixel_tui.rules.replay import as_json, judge, names, render, replay
from pixel_tui.rules.when import parse_when
from tests.test_rules_proposals import cycles, records

KILL = Rule("kill-timed-out-workers-swap", "kind == 'worker' and timed_out and host.swap.level >= warning",
            "worker.kill")  # fmt: skip


def test_it_fires_where_the_operator_acted_once_per_appearance(tmp_path):
    result = replay(KILL, cycles(tmp_path), records(), Thresholds())
    history = [firing for firing in result.firings if firing.source == "history"]
    assert [firing.cycle for firing in history] == [20, 44, 66, 88, 112]  # the hour before each of the 5 kills
    assert all(firing.certain and firing.cycles == 2 for firing in history)
    assert history[0].why == "1 timed out, host.swap.level critical"
    assert history[2].why == "1 timed out, host.swap.level warning"
    audit = [firing for firing in result.firings if firing.source == "audit"]
    assert [firing.target for firing in audit] == [
        "pixel-worker-00000000", "pixel-worker-00000001", "pixel-worker-00000002", "pixel-worker-refused",
        "pixel-worker-00000003", "pixel-worker-00000004", "pixel-worker-auto0", "pixel-worker-auto1",
        "pixel-worker-shadowed"]  # fmt: skip
    assert audit[0].why == "timed_out, host.swap.level critical (ops@host-1 ran kill-worker: ok)"
    assert audit[-1].why.endswith("(autoheal would have run kill-worker (shadow))")
    assert result.unknown == {} and result.cycles == 120


def test_what_the_history_cannot_tell_is_said_never_read_as_false(tmp_path):
    rule = Rule("restart-unhealthy", "kind == 'container' and not health == 'healthy'", "container.restart")
    result = replay(rule, cycles(tmp_path), records(), Thresholds())
    assert result.unknown == {"history": ["health"]}
    history = [firing for firing in result.firings if firing.source == "history"]
    assert len(history) == 1 and not history[0].certain and history[0].cycles == 120  # "may fire", all along
    audit = [firing for firing in result.firings if firing.source == "audit"]
    assert [(firing.target, firing.certain) for firing in audit] == [("web-1", True), ("web-1", True)]  # restarts
    text = render(result)
    assert "cannot tell from the per-cycle history: health" in text
    assert "may fire" in text and "not replayed: grace, budget and the guard rails" in text
    assert as_json(result)["cannot_evaluate"] == {"history": ["health"]}


def test_a_rule_that_never_held_says_so(tmp_path):
    rule = Rule("swap-never", "kind == 'host' and host.memory.level >= critical", "host.relieve_memory")
    result = replay(rule, cycles(tmp_path), records(), Thresholds())
    assert result.firings == [] and "it would not have fired" in render(result)


def test_three_valued_judgement():
    condition = parse_when("not (health == 'healthy' or host.swap.level >= critical)")
    assert names(condition.root) == ["health", "host.swap.level"]
    assert judge(condition.root, {"host.swap.level": "critical"}, {"health"}) is False  # `or` held by what is known
    assert judge(condition.root, {"host.swap.level": "ok"}, {"health"}) is None
    assert judge(condition.root, {"host.swap.level": "ok", "health": "unhealthy"}, set()) is True
