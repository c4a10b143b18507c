"""Remediation counters for Prometheus, read from the audit log as it grows (never the whole log per scrape)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from pixel_tui.remediate.audit import INTERRUPTED
from pixel_tui.remediate.autoheal import GAVE_UP
from pixel_tui.remediate.catalogue import BY_ID
from pixel_tui.remediate.model import AUTOHEAL, FAILED, OK, REFUSED

OUTCOMES = (OK, FAILED, REFUSED, INTERRUPTED)
"""The outcomes counted by name; any other counts as "other" (a label's values stay a known, small set)."""
ACTOR_KINDS = ("person", "autoheal")
CHUNK = 1 << 20
"""At most this many bytes are read per call, so a first scrape of a huge log returns in bounded time."""

Key = tuple[str, str, str]
"""(action, actor kind, outcome)."""


class AuditCounts:
    """Outcomes by action, actor kind and outcome, counted since the audit log began.

    Reads from where it stopped the last time; a log that shrank or was replaced (another inode) is counted
    again from its start (Prometheus sees a counter reset, which `rate()` and `increase()` handle). An intent
    line is not counted: its outcome line is, when it comes (`interrupted` when pixel-tui wrote that one).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._inode: int | None = None
        self._counts: Counter[Key] = Counter()
        self.gave_up = 0
        """How many times autoheal gave up on a target (its refusals that say so)."""
        self.problem: str | None = None
        """Why the log could not be read at the last call, or None."""

    def counts(self) -> dict[Key, int]:
        """The counts now, having read what was appended since the last call."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            self.problem = None
            return dict(self._counts)
        except OSError as error:
            self.problem = f"{self.path}: {error.strerror or error}"
            return dict(self._counts)
        try:
            status = os.fstat(fd)
            if status.st_ino != self._inode or status.st_size < self._offset:
                self._inode, self._offset, self._counts, self.gave_up = status.st_ino, 0, Counter(), 0
            while self._offset < status.st_size:
                data = os.pread(fd, min(CHUNK, status.st_size - self._offset), self._offset)
                end = data.rfind(b"\n")
                if end < 0:  # a line still being written (or one longer than a chunk): read it next time
                    break
                for line in data[:end].split(b"\n"):
                    self._count(line)
                self._offset += end + 1
            self.problem = None
        finally:
            os.close(fd)
        return dict(self._counts)

    def _count(self, line: bytes) -> None:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return  # a torn line: `pixel-tui audit` reports it by number
        if (
            not isinstance(record, dict)
            or record.get("phase") in ("intent", "verdict")
            or record.get("outcome") == "shadow"
        ):
            return
        action = record.get("action")
        outcome = record.get("outcome")
        error = record.get("error")
        if isinstance(error, str) and error.startswith(GAVE_UP):
            self.gave_up += 1
        self._counts[(
            action if isinstance(action, str) and action in BY_ID else "other",
            "autoheal" if record.get("actor") == AUTOHEAL else "person",
            outcome if outcome in OUTCOMES else "other",
        )] += 1  # fmt: skip
