"""The range of every number in the config, by its dotted key: the settings check each value read against it,
and the README and config.example.toml state it (tests/test_config_ranges.py holds all three together)."""

from __future__ import annotations

_DAY = 86400.0
RANGES: dict[str, tuple[float, float]] = {
    "interval": (0.1, 3600.0),
    "reconcile_s": (1.0, _DAY),
    "workers.kill_grace_s": (0.0, _DAY),
    "workers.default_timeout_s": (1.0, 30 * _DAY),
    "workers.ghost_grace_s": (0.0, _DAY),
    "workers.spawn_window_s": (1.0, _DAY),
    "workers.orphan_grace_s": (0.0, _DAY),
    "workers.lock_grace_s": (0.0, _DAY),
    "workers.ledger_max_bytes": (1, 1 << 30),
    "history.cycle_s": (1.0, _DAY),
    "history.retention_days": (0.01, 36500.0),
    "history.retention_rows": (1, 100_000_000),
    "ui.cpu_smoothing": (1, 100),
    "ui.events": (1, 100_000),
    "remediate.stop_grace_s": (0.0, 3600.0),
    "remediate.swap_margin_percent": (0.0, 100.0),
    "remediate.swap_traffic_limit": (0.0, 1_000_000.0),
    "remediate.swap_sample_s": (0.1, 60.0),
    "remediate.parallel": (1, 64),
    "remediate.abort_watch_s": (0.0, _DAY),
    "remediate.shutdown_margin_s": (0.0, 600.0),
    "autoheal.startup_cycles": (0, 10_000),
    "autoheal.unhealthy_grace_s": (0.0, _DAY),
    "autoheal.budget_actions": (1, 1000),
    "autoheal.budget_window_s": (1.0, 30 * _DAY),
    "autoheal.max_actions_per_hour": (1, 10_000),
    "autoheal.max_share": (0.01, 1.0),
    "autoheal.min_targets": (1, 100_000),
    "autoheal.hands_off_s": (0.0, 7 * _DAY),
    "autoheal.verify_cycles": (1, 1000),
    "rules.min_support": (1, 10_000),
    "rules.min_confidence": (0.0, 1.0),
    "rules.window_days": (1.0, 366.0),
    "rules.reject_cooldown_days": (0.0, 3650.0),
    "fleet.timeout_s": (0.1, 300.0),
    "fleet.refresh_s": (0.5, 3600.0),
    "notify.timeout_s": (0.1, 300.0),
    "notify.retries": (0, 10),
    "notify.cooldown_s": (0.0, _DAY),
}
"""The range, (low, high) inclusive, of every number in the config by its dotted key; a number key missing
here is a bug (tests/test_settings.py holds that), so none is ever accepted at any size."""
THRESHOLD_RANGE = (0.0, 1000.0)
"""The range of each `[thresholds]` limit; a limit above 100 % is never reached, which turns that level off."""


def bound(value: float) -> str:
    """A range's end as written in messages and the README: `86400`, `2592000`, `0.1`."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
