"""What the engine's sparse container list and an inspect say of a container, read field by field."""

from __future__ import annotations

import re
from typing import Any

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def list_name(item: dict[str, Any]) -> str:
    """A listed container's name, without the leading slash; its short id when it has none."""
    return (item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/")


def list_health(status: str) -> str | None:
    """Health as the list's Status text shows it: healthy, unhealthy, starting or None."""
    found = _HEALTH.search(status)
    if found is None:
        return None
    return "starting" if found.group(1) == "health: starting" else found.group(1)


def env_value(env: list[str], name: str) -> str | None:
    """The text of one variable of a container's environment (the worker rules judge it), None when unset."""
    prefix = name + "="
    for entry in env:
        if isinstance(entry, str) and entry.startswith(prefix):
            return entry[len(prefix) :]
    return None
