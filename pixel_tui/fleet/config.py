"""The fleet view's settings (section `[fleet]`), read with the rest by pixel_tui.settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FleetSettings:
    """The fleet view (section `[fleet]`): many hosts' `pixel-tui export`, read back from Prometheus."""

    prometheus: str | None = None
    """Prometheus' base URL, e.g. http://prometheus:9090 (`--prometheus` does the same)."""
    job: str = "pixel-tui"
    """The scrape job of the hosts' `pixel-tui export` endpoints."""
    timeout_s: float = 5.0
    """Seconds a query may take before it is shown as timed out."""
    refresh_s: float = 5.0
    """Seconds between two readings of the fleet."""
    bearer_token_file: str | None = None
    """A file holding a bearer token sent to Prometheus."""
    username: str | None = None
    """Basic auth user (with `password_file`)."""
    password_file: str | None = None
    """A file holding the basic auth password."""
