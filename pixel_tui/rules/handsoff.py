"""Hands-off: the targets a person acted on lately, which no rule touches (a container stopped by hand stays stopped).

Read from the audit log as it grows (each call reads only the lines appended since the last, as the exporter's
counters do), and from the executor's own outcomes in this process (told at once, even when the log's line
could not be written). A record counts when its actor is not autoheal and it did not stop at a refusal.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pixel_tui.remediate.model import AUTOHEAL, REFUSED, Outcome, Plan
from pixel_tui.values import parse_time_or_none

CHUNK = 1 << 20
"""At most this many bytes read per call: a first read of a huge log stays bounded (the rest comes next call)."""


def target_ids(target: Any) -> tuple[str, ...]:
    """The ids an audit record's `target` (or a step's Target) names: its id, or `host` for the host."""
    if isinstance(target, dict):
        kind, ident = target.get("kind"), target.get("id")
    else:
        kind, ident = getattr(target, "kind", None), getattr(target, "id", None)
    if kind == "host" or target is None:
        return ("host",)
    return (ident,) if isinstance(ident, str) and ident else ()


class HandsOff:
    """When a person last acted on each target, within the window."""

    def __init__(self, path: str | Path | None, window_s: float, *, wall: Callable[[], float] = time.time) -> None:
        self.path = None if path is None else Path(path)
        self.window_s = window_s
        self._wall = wall
        self._offset = 0
        self._inode: int | None = None
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def told(self, plan: Plan, outcome: Outcome, actor: str) -> None:
        """The executor's listener: a person's outcome in this process counts at once."""
        del plan
        if actor != AUTOHEAL and outcome.outcome != REFUSED:
            self.note(target_ids(outcome.step.target), self._wall())

    def note(self, ids: Iterable[str], at: float) -> None:
        """A person acted on `ids` at `at` (seconds since the epoch)."""
        with self._lock:
            for ident in ids:
                self._touched[ident] = max(at, self._touched.get(ident, 0.0))

    def since(self, ids: Iterable[str]) -> float | None:
        """Seconds since a person last acted on any of `ids`, when within the window; None otherwise."""
        now = self._wall()
        with self._lock:
            moments = [self._touched[ident] for ident in ids if ident in self._touched]
        if not moments:
            return None
        ago = now - max(moments)
        return ago if ago < self.window_s else None

    def refresh(self) -> None:
        """Read what the audit log gained since the last call; forget what fell out of the window."""
        if self.path is not None:
            self._read()
        cutoff = self._wall() - self.window_s
        with self._lock:
            self._touched = {ident: at for ident, at in self._touched.items() if at >= cutoff}

    def _read(self) -> None:
        assert self.path is not None
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            return  # none yet, or unreadable: the executor's own outcomes still count
        try:
            status = os.fstat(fd)
            if status.st_ino != self._inode or status.st_size < self._offset:
                self._inode, self._offset = status.st_ino, 0
            if self._offset == 0 and status.st_size > CHUNK:
                # A long log: only its tail can hold records within any window worth having.
                self._offset = status.st_size - CHUNK
                data = os.pread(fd, CHUNK, self._offset)
                start = data.find(b"\n") + 1
                self._offset += start
            data = os.pread(fd, min(CHUNK, status.st_size - self._offset), self._offset)
            end = data.rfind(b"\n")
            if end >= 0:
                for line in data[:end].split(b"\n"):
                    self._line(line)
                self._offset += end + 1
        finally:
            os.close(fd)

    def _line(self, line: bytes) -> None:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return
        if not isinstance(record, dict) or record.get("actor") in (None, AUTOHEAL):
            return
        if record.get("outcome") == REFUSED or record.get("phase") == "verdict":
            return
        moment = parse_time_or_none(record.get("time"))  # naive times are UTC, as everywhere in the log
        if moment is None:
            return
        at = moment.timestamp()
        self.note(target_ids(record.get("target")), at)
