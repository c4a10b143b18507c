"""A source whose first collection starts at once, while the console is still being imported and built.

At 1 000 containers the first collection is mostly waiting: dockerd answers 1 000 inspects (about half a
second on 2 cores) while the collector has little to do. Started before Textual is imported and the
screens are mounted, that wait overlaps work that would otherwise come before it, and the first frame
with data arrives sooner.
"""

from __future__ import annotations

import threading
from typing import Any

from pixel_tui.model import Snapshot
from pixel_tui.source import SnapshotSource


class Prefetched:
    """`source` with its first `collect()` already running in a daemon thread; the first call returns (or
    raises) what that one gave, every later call collects anew. Everything else is the source's own."""

    def __init__(self, source: SnapshotSource) -> None:
        self.source = source
        self._first: Snapshot | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._taken = False
        # A daemon thread: a first collection stuck on a frozen engine must not hold the process at exit.
        threading.Thread(target=self._collect_first, name="pixel-first-collection", daemon=True).start()

    def _collect_first(self) -> None:
        try:
            self._first = self.source.collect()
        except BaseException as error:  # noqa: BLE001 - handed to whoever asks for the first snapshot
            self._error = error
        finally:
            self._ready.set()

    def collect(self) -> Snapshot:
        """The prefetched snapshot the first time (waiting for it if need be), then a new collection."""
        if not self._taken:
            self._taken = True  # the pipeline runs one step at a time: no second caller races this one
            self._ready.wait()
            first, error, self._first, self._error = self._first, self._error, None, None
            if error is not None:
                raise error
            assert first is not None
            return first
        return self.source.collect()

    def close(self) -> None:
        """Close the source (a first collection still running ends on the closed engine)."""
        self.source.close()

    def __getattr__(self, name: str) -> Any:
        # detail, logs and whatever else the source offers: its own (only reached for names not set here).
        return getattr(self.source, name)
