"""The demo's followed logs: each simulated container's past lines, then plausible new ones as time goes by."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from pixel_tui.demo.world import STUCK_WORKER, UNHEALTHY, SimContainer, World

PACE_S = 0.8
"""Seconds between two lines of a chatty demo container, on average."""

_GREEN, _YELLOW, _RED, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[39m"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def chatter(name: str, image: str, n: int, now: datetime) -> str | None:
    """The `n`th new line of a container of this name and image, None for one that stays silent."""
    if name == STUCK_WORKER:
        return None  # waiting for an answer on a prompt nobody sees
    if name == UNHEALTHY:
        return f'logger=cleanup t={now:%Y-%m-%dT%H:%M:%S}Z level=error msg="health check failed: database is locked"'
    if image.startswith("nginx"):
        code = 200 if n % 9 else 304
        return (
            f'10.0.3.{2 + n % 5} - - [{now:%d/%b/%Y:%H:%M:%S} +0000] "GET /api/tasks?page={n % 7} HTTP/1.1" '
            f'{code} {812 + 37 * (n % 11)} "-" "pixel-web/1.8"'
        )
    if image.startswith("postgres"):
        if n % 4 == 0:
            return "LOG:  checkpoint starting: time"
        return f"LOG:  checkpoint complete: wrote {40 + n % 23} buffers ({0.2 + n % 5 / 10:.1f}%)"
    if image.startswith("redis"):
        return f"1:M {now:%d %b %Y %H:%M:%S}.{now.microsecond // 1000:03d} * 100 changes in 300 seconds. Saving..."
    if image.startswith("prom/"):
        return f'ts={now:%Y-%m-%dT%H:%M:%S}Z caller=head.go:1283 level=info component=tsdb msg="Head GC completed"'
    if "worker" in image:
        return f"worker: heartbeat {n}" if n % 3 == 0 else None
    level = f"{_YELLOW}warn{_RESET}" if n % 10 == 0 else f"{_GREEN}info{_RESET}"
    route = ("GET /tasks", "POST /tasks/claim", "GET /health", "GET /workers")[n % 4]
    return f"{level}: {route} {200 if n % 10 else 429} {3 + n % 17}ms"


class DemoLogStream:
    """A simulated container's log, followed: its past lines, then a new one about every PACE_S seconds.

    Ends when the container stops or goes (as a real follow does), or at once on close().
    """

    def __init__(self, world: World, container: SimContainer, tail: int, pace_s: float = PACE_S) -> None:
        self.world = world
        self.container = container
        self.tail = tail
        self.pace_s = pace_s
        self.ended: str | None = None
        """Why the lines ended, once they have."""
        self._stop = threading.Event()
        self._wait: Callable[[float], bool] = self._stop.wait

    def __iter__(self) -> Iterator[str]:
        """The past lines (spread over the last minutes), then new ones until the container stops."""
        now = self.world.now()
        past = self.container.log[-self.tail :] if self.tail > 0 else ()
        for index, text in enumerate(past):
            yield f"{_stamp(now - timedelta(seconds=20 * (len(past) - index)))} {text}"
        seed = zlib.crc32(self.container.name.encode())
        n = 0
        while not self._wait(self.pace_s * (0.5 + (seed >> (n % 24) & 3) / 3)):
            current = self.world.container(self.container.id)
            if current is None or not current.running:
                self.ended = "container removed" if current is None else f"container {current.state}"
                return
            n += 1
            line = chatter(current.name, current.image, n, self.world.now())
            if line is not None:
                yield f"{_stamp(self.world.now())} {line}"
        self.ended = "closed"

    def close(self) -> None:
        """Stop at once."""
        self._stop.set()
