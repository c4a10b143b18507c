"""Which never-inspected containers a crowded engine's first collection leaves to the following ones.

At 1 000 containers the console's first collection waited for 1 000 inspects (dockerd's half second on 2
cores, then 1 000 cgroups located and opened) before its first frame could show anything. Most of what an
inspect gives can wait a few seconds: a row shows its start, uptime, restarts, memory limit and figures as
unknown until it is read. What cannot wait is inspected at once: a worker (its env timeout and start decide
whether it is overdue) and a container that is not running (how it ended: exit code, OOM).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pixel_tui.collect.listing import list_name

Key = tuple[str, str | None]
"""A listed container's (state, health), as the engine's cache keys its inspect."""
Urgent = Callable[[str, Mapping[str, str]], bool]
"""(name, labels) -> True when the container's inspect cannot wait (a worker)."""


class InspectBacklog:
    """Holds back the inspects of running, non-urgent containers never read, `batch` of them per collection.

    With `batch` None nothing is held back (every command but the console: a snapshot must be whole). The
    first list after the engine is reached holds back all of them, but only when they are more than `batch`:
    a small host's first frame is whole at once, as before.
    """

    def __init__(self, batch: int | None, urgent: Urgent | None = None) -> None:
        self.batch = batch
        """How many held-back inspects each collection reads; None: hold none back."""
        self._urgent = urgent
        self._waiting: dict[str, Key] = {}
        self._listed = False

    @property
    def waiting(self) -> int:
        """How many never-inspected containers wait for a later collection."""
        return len(self._waiting)

    def reset(self) -> None:
        """The engine was lost: what was listed is forgotten, and the next list is a first one again."""
        self._waiting.clear()
        self._listed = False

    def split(
        self, wanted: dict[str, Key], items: Mapping[str, dict[str, Any]], known: Mapping[str, object]
    ) -> dict[str, Key]:
        """Of the inspects `wanted` after a list (container id -> key), those to read now; the others wait.

        `items` are the listed containers by id, `known` the ids already inspected once (a refresh of those is
        never held back: their rows already show what they had).
        """
        first, self._listed = not self._listed, True
        if self.batch is None:
            return wanted
        now: dict[str, Key] = {}
        later: dict[str, Key] = {}
        for cid, key in wanted.items():
            if cid in known or self._cannot_wait(items[cid]):
                now[cid] = key
            else:
                later[cid] = key
        self._waiting = later
        if not first or len(later) <= self.batch:
            now.update(self.take())
        return now

    def take(self) -> dict[str, Key]:
        """The next `batch` of the waiting inspects, in list order (all of them when `batch` is None)."""
        count = len(self._waiting) if self.batch is None else self.batch
        taken = dict(list(self._waiting.items())[:count])
        for cid in taken:
            del self._waiting[cid]
        return taken

    def _cannot_wait(self, item: dict[str, Any]) -> bool:
        if item.get("State") != "running":
            return True  # how it ended (exit code, OOM) is what an incident needs
        return self._urgent is not None and self._urgent(list_name(item), item.get("Labels") or {})
