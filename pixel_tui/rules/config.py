"""The `[rules]` section of the config: how proposals are mined and how long a rejection holds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RulesSettings:
    """Proposals from the operator's own actions (section `[rules]`, docs/rules.md "The ladder")."""

    min_support: int = 3
    """Manual actions of one pattern, within `window_days`, before it is proposed as a rule."""
    min_confidence: float = 0.6
    """The share of those actions after which the condition cleared (of those the history can judge)."""
    window_days: float = 14.0
    """Days of the audit log the proposals are mined from."""
    reject_cooldown_days: float = 30.0
    """Days a rejected proposal is not proposed again."""
