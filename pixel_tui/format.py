"""Human-readable figures and words shared by the headless output and the console: sizes, durations, percents,
a worker's flags."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixel_tui.model import Worker

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def size(value: int | float | None) -> str:
    """1536 -> '1.5KiB'; None -> '-'."""
    if value is None:
        return "-"
    number = float(value)
    for unit in _UNITS:
        if abs(number) < 1024 or unit == _UNITS[-1]:
            return f"{number:.0f}{unit}" if unit == "B" else f"{number:.1f}{unit}"
        number /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def duration(seconds: float | None) -> str:
    """Compact, two units at most: 42s, 3m05s, 2h07m, 3d04h; '-' when unknown."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s"
    return f"{sign}{secs}s"


def percent(value: float | None, digits: int = 1) -> str:
    """12.345 -> '12.3%'; None -> '-'."""
    return "-" if value is None else f"{value:.{digits}f}%"


NO_SWAP = "none"
"""The one wording of a host with no swap configured, in the console, `watch --plain` and `snapshot`."""


def swap_figure(total: int, percent: float, render: Callable[[float], str]) -> str:
    """Swap used as `render` writes a figure, or NO_SWAP when the host has none (never a 0 % of 0 B)."""
    return render(percent) if total else NO_SWAP


def number(value: float | None, digits: int = 1) -> str:
    """A bare figure for key=value output; '-' when unmeasured."""
    return "-" if value is None else f"{value:.{digits}f}"


def cells(text: str) -> int:
    """How many terminal cells `text` takes: wide (CJK, emoji) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def worker_flags(worker: Worker) -> tuple[str, ...]:
    """What is wrong with a worker, in the words `snapshot` and the console both print: 'TIMEOUT' when it
    outlived its timeout, 'PHANTOM ghost' or 'PHANTOM orphan' when the ledger and the containers disagree,
    'CONFLICT' when several tasks claim the container (never acted on)."""
    words = []
    if worker.timed_out:
        words.append("TIMEOUT")
    if worker.phantom:
        words.append(f"PHANTOM {worker.phantom}")
    if worker.conflict:
        words.append("CONFLICT")
    return tuple(words)
