"""Notifications' settings (section `[notify]`), read with the rest by pixel_tui.settings, and what a webhook is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_WEBHOOKS = 16
"""The most webhooks one config may list (each notice is sent to every one of them)."""


@dataclass(frozen=True)
class NotifySettings:
    """Notifications (section `[notify]`): what autoheal did, gave up or was stopped from doing, new proposals,
    the overall level reaching critical and clearing, as a JSON POST to each webhook (docs/notify.md)."""

    webhooks: tuple[str, ...] = ()
    """http(s) URLs each notice is POSTed to as JSON; an ntfy topic URL works as it is. Empty: none is sent."""
    timeout_s: float = 5.0
    """Seconds one delivery attempt may take before it counts as failed."""
    retries: int = 2
    """Further attempts after a failed one (no answer, a timeout, 5xx, 408, 429), each after a longer pause."""
    cooldown_s: float = 300.0
    """Seconds after a notice during which another of the same kind on the same target is held back (and counted)."""


def webhook_problem(value: Any) -> str | None:
    """Why `value` is not a list of webhook URLs (http or https, with a host, nothing unprintable), or None."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"expected a list of http(s) URLs, got {value!r}"
    if len(value) > MAX_WEBHOOKS:
        return f"at most {MAX_WEBHOOKS} webhooks, got {len(value)}"
    for url in value:
        if not url.isprintable() or any(char.isspace() for char in url):
            return f"{url!r}: a URL has no spaces or control characters"
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError as error:
            return f"{url!r}: not a URL ({error})"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{url!r}: expected an http:// or https:// URL with a host"
    if len(set(value)) != len(value):
        return "a webhook is listed twice (each notice would be sent to it twice)"
    return None
