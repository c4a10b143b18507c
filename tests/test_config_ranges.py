"""Every number in the config has a range, checked when the file is read: a test over the settings schema,
so a number key added without one fails here."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pixel_tui.model import Thresholds
from pixel_tui.settings import RANGES, THRESHOLD_RANGE, ConfigError, Settings, bound, load_settings


def _number_keys() -> list[tuple[str, str]]:
    """(dotted key, type) of every int or float field of the settings, top level and in each section."""
    keys = []
    for top in dataclasses.fields(Settings):
        if top.type in ("int", "float"):
            keys.append((top.name, top.type))
        default = getattr(Settings(), top.name)
        if dataclasses.is_dataclass(default) and not isinstance(default, Thresholds):
            numbers = [f for f in dataclasses.fields(default) if f.type in ("int", "float")]
            keys += [(f"{top.name}.{f.name}", f.type) for f in numbers]
    return keys


NUMBER_KEYS = _number_keys()
THRESHOLD_KEYS = [f.name for f in dataclasses.fields(Thresholds)]


def _toml(dotted: str, literal: str) -> str:
    section, _, key = dotted.rpartition(".")
    return f"[{section}]\n{key} = {literal}\n" if section else f"{key} = {literal}\n"


def _load(tmp_path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


def test_the_schema_is_what_this_test_walks():
    assert len(NUMBER_KEYS) >= 20, NUMBER_KEYS
    assert {key for key, _ in NUMBER_KEYS} == set(RANGES), "every number key has a range, and no range is stale"


def _bad_literals(dotted: str, kind: str) -> list[str]:
    low, high = RANGES[dotted]
    bad = ["inf", "-inf", "nan", "true", "'5'", "[1]", "1e308", "-1e308", str(10**30), str(-(10**30))]
    bad += [repr(low - (1 if kind == "int" else 0.001 * max(1.0, abs(low)))), repr(high + 1)]
    if kind == "int":
        bad.append(repr(low + 0.5))
    return bad


@pytest.mark.parametrize(("dotted", "kind"), NUMBER_KEYS)
def test_every_number_out_of_range_is_refused_naming_its_key(tmp_path, dotted, kind):
    for literal in _bad_literals(dotted, kind):
        with pytest.raises(ConfigError, match=re.escape(f"config.toml: {dotted}: ")):
            _load(tmp_path, _toml(dotted, literal))


@pytest.mark.parametrize(("dotted", "kind"), NUMBER_KEYS)
def test_both_ends_of_every_range_are_accepted(tmp_path, dotted, kind):
    for end in RANGES[dotted]:
        literal = repr(int(end) if kind == "int" else float(end))
        settings = _load(tmp_path, _toml(dotted, literal))
        section, _, key = dotted.rpartition(".")
        value = getattr(getattr(settings, section) if section else settings, key)
        assert value == end and type(value).__name__ == kind


@pytest.mark.parametrize("gauge", THRESHOLD_KEYS)
@pytest.mark.parametrize(
    "literal", ["[1, 2, inf]", "[nan, 2, 3]", "[-1, 2, 3]", "[1, 2, 1001]", "[1, true, 3]", f"[1, 2, {10**30}]"]
)
def test_every_threshold_out_of_range_is_refused_naming_its_gauge(tmp_path, gauge, literal):
    with pytest.raises(ConfigError, match=re.escape(f"thresholds.{gauge}: expected three ascending numbers")):
        _load(tmp_path, f"[thresholds]\n{gauge} = {literal}\n")


def test_the_findings_values_are_refused(tmp_path):
    for text, message in (
        ("[workers]\nghost_grace_s = -5", "workers.ghost_grace_s: must be from 0 to 86400, got -5"),
        ("[remediate]\nstop_grace_s = 1e308", "remediate.stop_grace_s: must be from 0 to 3600, got 1e+308"),
        ("[ui]\nevents = 1e12", "ui.events: must be from 1 to 100000, got 1000000000000.0"),
        ("[ui]\nevents = 1000000000000", "ui.events: must be from 1 to 100000, got 1000000000000"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            _load(tmp_path, text)
    low, high = THRESHOLD_RANGE
    assert _load(tmp_path, f"[thresholds]\nswap = [{low}, {high}, {high}]").thresholds.swap == (low, high, high)


@pytest.mark.parametrize(("dotted", "kind"), NUMBER_KEYS)
def test_the_readme_and_the_example_config_state_every_range(dotted, kind):
    root = Path(__file__).resolve().parent.parent
    low, high = (bound(end) for end in RANGES[dotted])
    section, _, key = dotted.rpartition(".")
    default = getattr(getattr(Settings(), section) if section else Settings(), key)
    assert f"| `{dotted}` | {bound(default)} | {low} to {high} |" in (root / "README.md").read_text()
    example = (root / "pixel_tui" / "config.example.toml").read_text()
    assert re.search(rf"^{key} = \S+  # {re.escape(low)} to {re.escape(high)}$", example, re.MULTILINE), dotted
