"""The rules' grammar: `when` conditions, whole rule tables, and any text giving a rule or an error, never a crash."""

from __future__ import annotations

import random
import string

import pytest

from pixel_tui.levels import Level
from pixel_tui.rules.grammar import compile_rule, parse_budget, parse_rules
from pixel_tui.rules.model import Budget, Rule, RuleState, Scope
from pixel_tui.rules.when import FIELDS, KINDS, WhenError, parse_when

CONTAINER = {
    "kind": "container",
    "name": "web-1",
    "state": "running",
    "health": "unhealthy",
    "health_for_s": 150.0,
    "restarts": 2,
    "age_s": 3600.0,
    "host.swap": 92.5,
    "host.swap.level": "critical",
    "host.level": "critical",
    "label.tier": "web",
}


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ("kind == 'container' and health == 'unhealthy'", True),
        ("health_for_s > 2m", True),
        ("health_for_s > 3m", False),
        ("restarts >= 2 and restarts < 3", True),
        ("host.swap.level >= warning", True),
        ("host.swap.level < critical", False),
        ("host.level == critical", True),
        ('label.tier == "web" and not (state != "running")', True),
        ("label.other == ''", False),  # absent from these facts (not a target with labels): false
        ("timed_out", False),  # absent: false
        ("not timed_out", True),
        ("timed_out == false", False),  # absent: every comparison false, even with false
        ("kind == 'worker' or kind == 'container'", True),
        ("age_s >= 1h and age_s <= 1h", True),
        ("age_s == 3600", True),
        ("host.swap > 90 and host.swap < 92.6", True),
    ],
)
def test_a_condition_holds_or_not_on_a_targets_facts(when, holds):
    assert parse_when(when).holds(CONTAINER) is holds


@pytest.mark.parametrize(
    ("when", "column", "words"),
    [
        ("helth == 'unhealthy'", 1, "unknown field 'helth'"),
        ("kind == 'container' and", 24, "ends too soon"),
        ("kind = 'container'", 6, "single ="),
        ("kind == 'vm'", 9, "unknown kind"),
        ("(kind == 'container'", 21, "not closed"),
        ("restarts > 'three'", 12, "restarts is number"),
        ("health < 'x'", 8, "only == and != compare it"),
        ("host.swap.level > 80", 19, "level"),
        ("kind == 'container' health", 21, "expected and, or or the end"),
        ("name == 'x", 9, "not closed"),
        ("", 1, "empty"),
        ("restarts > 3 $", 14, "unexpected character"),
        ("and", 1, "a field expected"),
    ],
)
def test_a_bad_condition_names_its_column_and_what_is_wrong(when, column, words):
    with pytest.raises(WhenError) as caught:
        parse_when(when)
    assert caught.value.column == column, str(caught.value)
    assert words in str(caught.value)


def test_a_condition_names_the_kinds_it_asks_for():
    assert parse_when("kind == 'ghost' or kind == 'orphan'").kinds == {"ghost", "orphan"}
    assert parse_when("kind != 'ghost'").kinds == frozenset()


@pytest.mark.parametrize(
    ("text", "budget"),
    [("3/30m", Budget(3, 1800.0)), ("1/1m", Budget(1, 60.0)), ("1000/30d", Budget(1000, 30 * 86400.0)),
     (" 5 / 2h ", Budget(5, 7200.0))],
)  # fmt: skip
def test_budgets_read_in_their_ranges(text, budget):
    assert parse_budget(text) == budget


@pytest.mark.parametrize("text", ["0/30m", "1001/30m", "3/59s", "3/31d", "3", "3/30", "three/30m", 3])
def test_budgets_out_of_range_or_malformed_are_refused(text):
    with pytest.raises(ValueError, match="budget"):
        parse_budget(text)


GOOD = {
    "id": "restart-unhealthy-web",
    "when": "kind == 'container' and health == 'unhealthy' and label.tier == 'web'",
    "do": "container.restart",
    "grace_s": 120,
    "budget": "3/30m",
    "scope": {"labels": {"com.docker.compose.project": "pixel"}, "name": "web-*"},
    "state": "shadow",
}


def test_a_whole_rule_is_read_with_every_key():
    rules, errors = parse_rules([GOOD], source="/etc/pixel/config.toml", lines=[12])
    assert errors == []
    assert rules == [
        Rule(
            id="restart-unhealthy-web",
            when=GOOD["when"],
            do="container.restart",
            grace_s=120.0,
            budget=Budget(3, 1800.0),
            scope=Scope((("com.docker.compose.project", "pixel"),), "web-*"),
            state=RuleState.SHADOW,
            source="/etc/pixel/config.toml",
            line=12,
        )
    ]
    compiled = compile_rule(rules[0])
    assert compiled.kinds == {"container"}
    assert compiled.in_scope("web-2", {"com.docker.compose.project": "pixel"})
    assert not compiled.in_scope("db-1", {"com.docker.compose.project": "pixel"})
    assert not compiled.in_scope("web-2", {})


def test_a_rule_without_a_kind_takes_the_kinds_of_its_action():
    rules, errors = parse_rules([{"id": "x", "when": "host.swap.level == critical", "do": "workers.resolve_phantoms"}],
                                source="s")  # fmt: skip
    assert not errors
    assert compile_rule(rules[0]).kinds == {"ghost", "orphan", "lock"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"do": "container.shell"}, "not eligible"),
        ({"do": "autoheal.toggle"}, "not eligible"),
        ({"do": "workers.reap"}, "not eligible"),
        ({"do": "container.explode"}, "unknown action 'container.explode'"),
        ({"when": "helth == 'x'"}, "column 1: unknown field 'helth'"),
        ({"budget": "0/30m"}, "budget: count"),
        ({"budget": "3/40d"}, "budget: window"),
        ({"grace_s": 86401}, "grace_s: must be from 0 to 86400"),
        ({"grace_s": "2m"}, "grace_s: expected a number"),
        ({"state": "on"}, "state: expected one of"),
        ({"scope": {"names": "x"}}, "scope: unknown key 'names'"),
        ({"scope": {"labels": {"a": 1}}}, "scope.labels"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"when": "kind == 'worker'"}, "names kind worker, which container.restart does not act on"),
    ],
)
def test_a_bad_rule_is_an_error_with_its_line_and_reason_and_the_others_are_read(change, reason):
    other = {"id": "kill", "when": "timed_out", "do": "worker.kill"}
    rules, errors = parse_rules([{**GOOD, **change}, other], source="config.toml", lines=[4, 20])
    assert [rule.id for rule in rules] == ["kill"]
    assert len(errors) == 1 and errors[0].line == 4 and errors[0].rule_id == "restart-unhealthy-web"
    assert reason in errors[0].reason, errors[0].reason
    assert str(errors[0]).startswith("config.toml:4: rule restart-unhealthy-web: ")


def test_missing_keys_bad_ids_and_a_repeated_id_are_errors():
    tables = [{"when": "timed_out", "do": "worker.kill"}, {"id": "Bad Id", "when": "timed_out", "do": "worker.kill"},
              {"id": "a", "do": "worker.kill"}, {"id": "b", "when": "timed_out", "do": "worker.kill"},
              {"id": "b", "when": "timed_out", "do": "worker.kill"}, "not a table"]  # fmt: skip
    rules, errors = parse_rules(tables, source="f", lines=[1, 2, 3, 4, 5, 6])
    assert [rule.id for rule in rules] == ["b"]
    assert [(error.line, error.rule_id) for error in errors] == [(1, None), (2, None), (3, "a"), (5, "b"), (6, None)]
    assert "when is missing" in errors[2].reason and "already defined" in errors[3].reason


# -- property tests: any text is a rule or an error naming the line ---------------------------------------------

_ALPHABET = string.ascii_letters + string.digits + " \t'\"()=!<>._-/*:\n" + "éß€"
_WORDS = [*FIELDS, "label.tier", "label.", "and", "or", "not", "(", ")", "==", "!=", "<", "<=", ">", ">=", "=",
          "true", "false", *[level.value for level in Level], *[f"'{kind}'" for kind in KINDS], "'x", "3", "90s",
          "2m", "1.5h", "-1", "4d", "3x", "'web'", '"db"', "kind"]  # fmt: skip


def _random_when(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 12)))


def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        at = rng.randint(0, len(chars))
        if choice < 0.4 and chars:
            del chars[min(at, len(chars) - 1)]
        elif choice < 0.8:
            chars.insert(at, rng.choice(_ALPHABET))
        else:
            chars[at:at] = list(rng.choice(_WORDS))
    return "".join(chars)


def _random_value(rng: random.Random) -> object:
    return rng.choice([None, 0, -1, 10**30, 1.5, float("nan"), float("inf"), True, "", "x", "3/30m", [], {}, {"a": 1},
                       ["3/30m"], _random_when(rng)])  # fmt: skip


def _random_table(rng: random.Random) -> object:
    if rng.random() < 0.05:
        return _random_value(rng)
    table = dict(GOOD)
    for _ in range(rng.randint(0, 3)):
        key = rng.choice([*GOOD, "extra", "evidence", "proposed_at"])
        if rng.random() < 0.3:
            table.pop(key, None)
        elif isinstance(table.get(key), str) and rng.random() < 0.7:
            table[key] = _mutate(str(table[key]), rng)
        else:
            table[key] = _random_value(rng)
    if rng.random() < 0.5:
        table["when"] = _random_when(rng) if rng.random() < 0.5 else _mutate(GOOD["when"], rng)
    return table


def test_any_when_text_parses_or_raises_an_error_naming_a_column_never_anything_else():
    for seed in range(3000):
        rng = random.Random(seed)
        text = _random_when(rng) if seed % 2 else _mutate(GOOD["when"], rng)
        try:
            condition = parse_when(text)
        except WhenError as error:
            assert 1 <= error.column <= len(text) + 1, (seed, text, error)
            continue
        condition.holds(CONTAINER)
        condition.holds({})


def test_any_table_gives_a_rule_or_an_error_naming_its_line_never_an_exception():
    for seed in range(1500):
        rng = random.Random(seed)
        tables = [_random_table(rng) for _ in range(rng.randint(1, 4))]
        lines = [10 * (index + 1) for index in range(len(tables))]
        rules, errors = parse_rules(tables, source="config.toml", lines=lines)
        assert len(rules) + len(errors) == len(tables), (seed, tables)
        assert all(error.line in lines and error.reason for error in errors), (seed, errors)
        for rule in rules:
            compile_rule(rule).condition.holds(CONTAINER)


def test_deep_nesting_and_long_text_are_refused_not_recursed():
    with pytest.raises(WhenError, match="nested deeper"):
        parse_when("(" * 500 + "timed_out" + ")" * 500)
    with pytest.raises(WhenError, match="nested deeper"):
        parse_when("not " * 300 + "timed_out")
    with pytest.raises(WhenError, match="longer than"):
        parse_when("timed_out or " * 1000 + "timed_out")
