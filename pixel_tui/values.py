"""Numbers and times read from untrusted places (labels, env, the ledger, the lock): finite and in range, or refused.

Each parser either returns a value that every view can format and every JSON document can hold, or
raises `BadValue` with a reason a person can act on; the caller reports it with its context (which
container, which task, which field) and falls back to the default.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MAX_SECONDS = 366 * 86400.0
"""The longest duration accepted (a timeout of more than a year is a typo, or an attack)."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""Times before this are not real task or container times (Docker's "never" is year 1; `12` is 1970)."""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times after this are not real either."""
_MILLISECONDS_FROM = 1e11
"""An epoch number above this counts milliseconds (1e11 s is the year 5138)."""


class BadValue(ValueError):
    """A value present but unusable; the message says why, without the context the caller adds."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def parse_seconds(value: Any) -> float | None:
    """A duration in seconds from a number or numeric text: None when absent, BadValue when not in (0, a year]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadValue(f"{_shown(value)} is not a number of seconds")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadValue(f"{_shown(value)} is not a number of seconds") from None
    else:
        raise BadValue(f"{_shown(value)} is not a number of seconds")
    if not math.isfinite(number) or not 0 < number <= MAX_SECONDS:
        raise BadValue(f"{_shown(value)} is not between 0 and {MAX_SECONDS:.0f} seconds")
    return number


def parse_time(value: Any) -> datetime | None:
    """A moment in UTC from ISO-8601 text (Z, +00:00, any fraction) or epoch seconds/milliseconds.

    None when absent; BadValue when present but not a time, or outside 2000-2200.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadValue(f"{_shown(value)} is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise BadValue(f"{_shown(value)} is not a time")
        seconds = value / 1000.0 if value > _MILLISECONDS_FROM else float(value)
        if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
            raise BadValue(f"{_shown(value)} is not a plausible epoch time (2000-2200)")
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str):
        raise BadValue(f"{_shown(value)} is not a time")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Docker writes nanoseconds (9 fraction digits), which fromisoformat refuses before 3.12.
        long_fraction = _parse_long_fraction(text)
        if long_fraction is None:
            raise BadValue(f"{_shown(value)} is not an ISO-8601 time") from None
        moment = long_fraction
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:30:00+05:00 is before year 1 in UTC
        raise BadValue(f"{_shown(value)} is out of range") from None
    if not EARLIEST <= moment < LATEST:
        raise BadValue(f"{_shown(value)} is not a plausible time (2000-2200)")
    return moment


def parse_time_or_none(value: Any) -> datetime | None:
    """`parse_time`, with an unusable value read as absent (Docker's 0001-01-01 means "never")."""
    try:
        return parse_time(value)
    except BadValue:
        return None


def _parse_long_fraction(text: str) -> datetime | None:
    head, dot, rest = text.partition(".")
    if not dot:
        return None
    digits = len(rest) - len(rest.lstrip("0123456789"))
    try:
        return datetime.fromisoformat(f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}")
    except ValueError:
        return None
