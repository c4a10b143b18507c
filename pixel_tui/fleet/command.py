"""`pixel-tui fleet`: the settings made into a Prometheus client, and the one-shot JSON reading."""

from __future__ import annotations

import sys

from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.fleet.hosts import as_json, read_fleet
from pixel_tui.fleet.prom import PromClient
from pixel_tui.safe import printable
from pixel_tui.settings import FleetSettings

SECRET_MAX_BYTES = 64 * 1024
EXIT_UNKNOWN = 3


class FleetSetupError(Exception):
    """The fleet cannot be read as configured (no URL, an unreadable token file); the message says why."""


def client_for(settings: FleetSettings) -> PromClient:
    """A client of the configured Prometheus, with its auth read from its files."""
    if not settings.prometheus:
        raise FleetSetupError("no Prometheus to read: give --prometheus URL or [fleet] prometheus in the config")
    token = _secret(settings.bearer_token_file, "bearer_token_file") if settings.bearer_token_file else None
    basic = None
    if settings.username:
        if not settings.password_file:
            raise FleetSetupError("fleet.username needs fleet.password_file")
        basic = (settings.username, _secret(settings.password_file, "password_file"))
    try:
        return PromClient(settings.prometheus, timeout_s=settings.timeout_s, bearer_token=token, basic_auth=basic)
    except ValueError as error:
        raise FleetSetupError(f"--prometheus: {error}") from None


def _secret(path: str, key: str) -> str:
    try:
        data, _ = read_regular(path, SECRET_MAX_BYTES)
    except (OSError, UnreadableFile) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise FleetSetupError(f"fleet.{key}: cannot read {path}: {reason}") from None
    return data.decode("utf-8", "replace").strip()


def fleet_json(settings: FleetSettings) -> int:
    """Print one reading of the fleet as JSON; exit 0, or 3 when Prometheus could not be read at all."""
    from pixel_tui.schema import dumps

    try:
        client = client_for(settings)
    except FleetSetupError as error:
        print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    fleet = read_fleet(client, settings.job)
    print(dumps(as_json(fleet)), flush=True)
    if fleet.problem:
        print(f"pixel-tui: {printable(fleet.problem)}", file=sys.stderr)
        return EXIT_UNKNOWN
    return 0
