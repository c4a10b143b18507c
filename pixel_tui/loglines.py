"""A followed container log, without a screen: the stream's protocol, its lines, and the bounded buffer a view reads.

Lines arrive as Docker writes them with `timestamps=True` (`2026-12-06T08:48:12.123456789Z text`); the
timestamp is kept apart, so a view can show or hide it without asking the engine again. The text is the
container's to write: it is made safe once, on arrival (`safe.sgr_only`: colours kept, every other
control character shown as an escape), and what search and filter read is that text without its colours.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.cells import cell_len

from pixel_tui.safe import sgr_only

TAIL = 1000
"""Lines of the past a followed log starts with."""
KEEP = 10_000
"""Lines a followed log keeps at most: older ones are dropped (bounded memory, whatever the container writes)."""
LONGEST = 64 * 1024
"""Bytes after which a line that never ends is cut (a container writing without newlines stays bounded)."""

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


class LogStream(Protocol):
    """A container's log, followed: its lines as they are written, until the log ends or `close()` is called."""

    ended: str | None
    """Why the lines ended ("container exited (code 0)", "closed", "engine unreachable: ..."), once they have."""

    def __iter__(self) -> Iterator[str]:
        """The lines, each `timestamp text` without its newline. Blocking: read from a thread of its own."""
        ...

    def close(self) -> None:
        """Stop: the iteration ends soon after, from any thread; calling it twice is harmless."""
        ...


class LineSplitter:
    """Bytes as they arrive, in chunks cut anywhere, to whole lines (decoded, a bad byte replaced)."""

    def __init__(self, longest: int = LONGEST) -> None:
        self._partial = b""
        self._longest = longest

    def feed(self, chunk: bytes) -> list[str]:
        """The lines `chunk` completes."""
        data = self._partial + chunk
        *whole, self._partial = data.split(b"\n")
        if len(self._partial) > self._longest:
            whole.append(self._partial)
            self._partial = b""
        return [line.removesuffix(b"\r").decode("utf-8", "replace") for line in whole]

    def flush(self) -> list[str]:
        """The last line, if the log ended without a newline."""
        rest, self._partial = self._partial, b""
        return [rest.decode("utf-8", "replace")] if rest else []


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a log, made safe to show."""

    number: int
    """Its place in the whole log since the view opened (1, 2, ...): stays with the line when older ones go."""
    stamp: str
    """When Docker received it (RFC 3339, UTC), '' when the line came without one."""
    text: str
    """The line, safe for a terminal: SGR colour sequences kept, every other control character escaped."""
    plain: str
    """`text` without its colours: what search and filter read."""
    cells: int
    """Terminal cells `plain` takes."""

    @property
    def short_stamp(self) -> str:
        """The timestamp to the millisecond (`2026-12-06T08:48:12.123Z`)."""
        stamp = self.stamp
        if len(stamp) > 24 and stamp.endswith("Z"):
            return stamp[:23] + "Z"
        return stamp


def parse_line(number: int, raw: str) -> LogLine:
    """A raw `timestamp text` line as a LogLine; a line without a leading timestamp keeps it all as text."""
    stamp, _, text = raw.partition(" ")
    if not _STAMP.fullmatch(stamp):
        stamp, text = "", raw
    safe = sgr_only(text.replace("\n", " "))
    plain = _SGR.sub("", safe) if "\x1b" in safe else safe
    return LogLine(number, stamp, safe, plain, cell_len(plain))


class LogBuffer:
    """The last `keep` lines of a log, and those of them a filter lets through; read and changed on one thread."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self.lines: deque[LogLine] = deque()
        """Every line kept, oldest first."""
        self.received = 0
        """Lines received since the start, kept or not."""
        self.filter = ""
        """Only lines containing this text (case ignored) are shown; '' shows all."""
        self._shown: deque[LogLine] = deque()

    @property
    def shown(self) -> Sequence[LogLine]:
        """The lines a view shows: every line kept, or those the filter lets through."""
        return self._shown if self.filter else self.lines

    def add(self, new: Iterable[LogLine]) -> int:
        """Take new lines (numbered in order); returns how many of them are shown (the filter may hide some)."""
        folded = self.filter.casefold()
        shown = 0
        for line in new:
            self.received = line.number
            if len(self.lines) >= self.keep:
                oldest = self.lines.popleft()
                if self._shown and self._shown[0] is oldest:
                    self._shown.popleft()
            self.lines.append(line)
            if not folded or folded in line.plain.casefold():
                shown += 1
                if folded:
                    self._shown.append(line)
        return shown

    def set_filter(self, text: str) -> None:
        """Show only the lines containing `text` (case ignored), '' for all."""
        self.filter = text
        folded = text.casefold()
        self._shown = deque(line for line in self.lines if folded in line.plain.casefold()) if text else deque()

    def matches(self, query: str) -> list[int]:
        """Indices, in `shown`, of the lines containing `query` (case ignored)."""
        folded = query.casefold()
        if not folded:
            return []
        return [index for index, line in enumerate(self.shown) if folded in line.plain.casefold()]


class Inbox:
    """Lines on their way from the thread that reads a stream to the one that shows them, at most `keep`.

    `put` says when the reader should wake the view up: only for the first line since the view last took
    them, so a container writing thousands of lines a second costs the view one wake-up per batch.
    """

    def __init__(self, keep: int = KEEP) -> None:
        self._lines: deque[LogLine] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._waiting = False

    def put(self, line: LogLine) -> bool:
        """Add a line; True when the view has to be told (nothing was waiting for it yet)."""
        with self._lock:
            self._lines.append(line)
            wake, self._waiting = not self._waiting, True
        return wake

    def take(self) -> list[LogLine]:
        """Every line waiting, oldest first."""
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
            self._waiting = False
        return lines


def find_spans(plain: str, query: str) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of `query` in `plain`, case ignored, not overlapping."""
    if not query:
        return []
    folded, wanted = plain.casefold(), query.casefold()
    if len(folded) != len(plain):  # a few characters change length when folded: then match them exactly
        folded, wanted = plain, query
    spans = []
    start = folded.find(wanted)
    while start >= 0:
        spans.append((start, start + len(wanted)))
        start = folded.find(wanted, start + len(wanted))
    return spans


def save_lines(lines: Iterable[LogLine], folder: Path, name: str, moment: str) -> tuple[Path, int]:
    """Write `lines` (timestamp, then the text as shown: colours kept, other controls escaped) to a new file
    in `folder`, named from the container and `moment`; never overwrites: a second save gets `-2`, `-3`, ...

    Returns the path and the number of lines written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:80] or "container"
    body = [f"{line.stamp} {line.text}" if line.stamp else line.text for line in lines]
    for attempt in range(1, 1000):
        path = folder / f"{stem}-{moment}{'' if attempt == 1 else f'-{attempt}'}.log"
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write("".join(text + "\n" for text in body))
        except FileExistsError:
            continue
        return path, len(body)
    raise FileExistsError(f"{folder}: too many saved logs named {stem}-{moment}")
