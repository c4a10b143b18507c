"""The `[autoheal]` section of the config: its keys, and the rules' tables kept as read with their lines.

Apart from settings.py, which it joins, because the rules brought lists and tables that its scalar reader does
not take; a bad rule never stops the config: pixel_tui.rules reports it with its line and runs the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AutohealSettings:
    """The autoheal policy (section `[autoheal]`)."""

    enabled: bool = False
    """Start with autoheal on (`--autoheal` does the same; the console's `a` toggles it)."""
    startup_cycles: int = 2
    """Collections after start during which autoheal watches but never acts."""
    unhealthy_grace_s: float = 120.0
    """Seconds a container labelled pixel.autoheal=true must stay unhealthy before it is restarted."""
    budget_actions: int = 3
    """Actions on one target within `budget_window_s`; after that autoheal gives up on it."""
    budget_window_s: float = 1800.0
    """The window of the per-target budget, in seconds."""
    label: str = "pixel.autoheal"
    """Label that opts a container out (`false`) or into unhealthy restarts (`true`)."""
    max_actions_per_hour: int = 20
    """Actions of all rules together within any hour; past it, autoheal waits (a host-wide cap)."""
    max_share: float = 0.5
    """A rule matching more than this share of the targets of its kind at once acts on none (a short-circuit)."""
    min_targets: int = 3
    """The short-circuit applies when at least this many targets of the kind exist."""
    hands_off_s: float = 1800.0
    """Nothing acts on a target a person acted on within this many seconds (the audit log)."""
    verify_cycles: int = 3
    """Collections after an action within which its condition must clear: else `not recovered`."""
    disable: tuple[str, ...] = ()
    """Built-in rules turned off, by id."""
    rules: tuple[Any, ...] = ()
    """The `[[autoheal.rules]]` tables as read (pixel_tui.rules checks them: a bad one is reported, the rest run)."""
    rule_lines: tuple[int | None, ...] = ()
    """The line of each `[[autoheal.rules]]` table in the config file (not a key)."""


def autoheal_lists(table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`[autoheal]`'s lists apart from its scalars: `disable` (ids) and the rules' tables, kept as read (a bad
    rule is reported by pixel_tui.rules and the others run; it never stops the config)."""
    rest = {key: value for key, value in table.items() if key not in ("disable", "rules", "rule_lines")}
    values: dict[str, Any] = {}
    if "rule_lines" in table:
        raise ValueError("unknown key autoheal.rule_lines")
    if "disable" in table:
        ids = table["disable"]
        if not isinstance(ids, list) or not all(isinstance(rule_id, str) for rule_id in ids):
            raise ValueError(f"autoheal.disable: expected a list of rule ids, got {ids!r}")
        values["disable"] = tuple(ids)
    if "rules" in table:
        rules = table["rules"]
        values["rules"] = tuple(rules) if isinstance(rules, list) else (rules,)
    return rest, values


def rule_lines(text: str) -> tuple[int, ...]:
    """The line (1-based) of each `[[autoheal.rules]]` header in a config's text, in order (tomllib gives none)."""
    return tuple(number for number, line in enumerate(text.splitlines(), 1) if _RULES_HEADER.match(line))


_RULES_HEADER = re.compile(r"""\s*\[\[\s*(autoheal|"autoheal"|'autoheal')\s*\.\s*(rules|"rules"|'rules')\s*\]\]""")
