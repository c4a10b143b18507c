"""Where rules come from: the built-in ones, the config's `[[autoheal.rules]]`, and `rules.toml` beside it.

Later wins by id: the package's built-in rules, then the config's, then `rules.toml` (written only by
pixel-tui: promoted proposals and state changes). `[autoheal] disable` turns rules off by id. Every rule
that cannot run is a RuleError with its file, line and reason; the others run (docs/rules.md, "Errors").
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from pixel_tui.autoheal_settings import rule_lines
from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.paths import default_paths
from pixel_tui.rules.grammar import parse_rules
from pixel_tui.rules.model import BUILTIN, Budget, Rule, RuleError, RuleState
from pixel_tui.settings import Settings

RULES_FILE = "rules.toml"
"""The file beside the config that pixel-tui writes rules to (the config itself is never rewritten)."""
RULES_MAX_BYTES = 4 << 20
"""A rules.toml larger than this is reported, not read."""

_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\.([a-z_]+)\}")


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, in order (built-in first), what is wrong with the others, and rejected proposals."""

    rules: tuple[Rule, ...] = ()
    errors: tuple[RuleError, ...] = ()
    rejected: dict[str, str] = field(default_factory=dict)
    """Rejected proposals from rules.toml: id -> until (ISO time); not proposed again before it."""
    path: Path | None = None
    """The rules.toml read (or that would be), beside the config."""

    def get(self, rule_id: str) -> Rule | None:
        """The rule of that id, or None."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)


def builtin_text(settings: Settings) -> str:
    """builtin.toml with each `${section.key}` replaced by the config's value of that key."""
    template = files("pixel_tui.rules").joinpath("builtin.toml").read_text(encoding="utf-8")

    def value(match: re.Match[str]) -> str:
        found = getattr(getattr(settings, match.group(1)), match.group(2))
        return f"{found:g}" if isinstance(found, float) else str(found)

    return _PLACEHOLDER.sub(value, template)


def builtin_rules(settings: Settings) -> tuple[list[Rule], list[RuleError]]:
    """The built-in rules, following the config: their budget is `[autoheal]` budget_actions in budget_window_s."""
    text = builtin_text(settings)
    tables = tomllib.loads(text)["autoheal"]["rules"]
    rules, errors = parse_rules(tables, source=BUILTIN, lines=rule_lines(text))
    budget = Budget(settings.autoheal.budget_actions, settings.autoheal.budget_window_s)
    return [replace(rule, budget=budget) for rule in rules], errors


def rules_path(settings: Settings, config: Path | None) -> Path:
    """rules.toml beside the config in use: `settings.source`, else `config`, else the default config's place
    (no config file yet: rules the console wrote still count)."""
    base = Path(settings.source) if settings.source else config or default_paths().config_file
    return base.parent / RULES_FILE


def read_rules_file(
    path: Path, *, verify: Callable[[os.stat_result], None] | None = None
) -> tuple[list[Rule], list[RuleError], dict[str, str]]:
    """The rules and rejections of a rules.toml (none when it does not exist); never raises for its content.

    `verify`, as for the config, is given the stat of what was read and may raise (pixel_tui.trust): a file
    another user could have written is never believed, and that is an error of the file, not a crash."""
    source = str(path)
    if not path.exists():
        return [], [], {}
    try:
        raw, info = read_regular(path, RULES_MAX_BYTES)
        if verify is not None:
            verify(info)
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnreadableFile, OSError) as error:
        return [], [RuleError(source, None, None, f"not read: {error}")], {}
    except UnicodeDecodeError as error:
        return [], [RuleError(source, None, None, f"not UTF-8 text ({error.reason})")], {}
    except tomllib.TOMLDecodeError as error:
        return [], [RuleError(source, None, None, f"not valid TOML: {error}")], {}
    text = raw.decode("utf-8")
    tables = document.get("autoheal", {}).get("rules", []) if isinstance(document.get("autoheal"), dict) else []
    rules, errors = parse_rules(tables, source=source, lines=_lines_if_whole(text, tables))
    rejected: dict[str, str] = {}
    for entry in document.get("rejected", []) if isinstance(document.get("rejected"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("until"), str):
            rejected[entry["id"]] = entry["until"]
        else:
            errors.append(RuleError(source, None, None, f"[[rejected]]: expected id and until, got {entry!r}"))
    return rules, errors, rejected


def _lines_if_whole(text: str, tables: Any) -> tuple[int, ...] | None:
    lines = rule_lines(text)
    return lines if isinstance(tables, list) and len(lines) == len(tables) else None


def load_rules(
    settings: Settings,
    *,
    config: Path | None = None,
    verify: Callable[[Path], Callable[[os.stat_result], None] | None] | None = None,
) -> RuleSet:
    """Every rule in force for `settings`: built-in, then the config's, then rules.toml's; later wins by id.

    `verify(path)` gives the stat check for a file read (the CLI's trust check as root), or None."""
    rules, errors = builtin_rules(settings)
    autoheal = settings.autoheal
    source = settings.source or "config"
    mine, bad = parse_rules(list(autoheal.rules), source=source, lines=autoheal.rule_lines or None)
    errors += bad
    path = rules_path(settings, config)
    written, bad, rejected = read_rules_file(path, verify=verify(path) if verify else None)
    errors += bad
    by_id: dict[str, Rule] = {}
    for rule in [*rules, *mine, *written]:
        by_id[rule.id] = rule  # a dict keeps the first position of a key: a replaced built-in keeps its place
    for rule_id in autoheal.disable:
        if rule_id in by_id:
            by_id[rule_id] = replace(by_id[rule_id], state=RuleState.OFF)
        else:
            errors.append(RuleError(source, None, rule_id, "[autoheal] disable names no rule"))
    return RuleSet(tuple(by_id.values()), tuple(errors), rejected, path)
