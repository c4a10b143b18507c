"""The seam between whatever produces snapshots (the real collector, a script, the demo) and the UI."""

from __future__ import annotations

from typing import Protocol

from pixel_tui.loglines import LogStream
from pixel_tui.model import ContainerDetail, Snapshot


class SnapshotSource(Protocol):
    """Produces one snapshot per call; the console and the headless commands only need this."""

    def collect(self) -> Snapshot:
        """Take one snapshot. Blocking: callers off the event loop run it in a thread."""
        ...

    def detail(self, container_id: str) -> ContainerDetail:
        """Inspect one container (raises LookupError when it is gone)."""
        ...

    def logs(self, container_id: str, tail: int = 200) -> str:
        """The last `tail` lines of a container's log (raises LookupError when it is gone)."""
        ...

    def follow_logs(self, container_id: str, tail: int) -> LogStream:
        """A container's log from its last `tail` lines on, followed, timestamps included (LookupError when it
        is gone). Blocking while it connects; the stream is read, and may be closed, from any thread."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...
