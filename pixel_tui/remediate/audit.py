"""The audit log: one JSON line per remediation attempt (refusals too), flushed and fsynced, in the state dir.

Fields of each line (the README documents them too): `time`, `actor` (user@host, or `autoheal`),
`action` (catalogue id), `target` (`{"id", "name"}` or null for host-wide actions), `reason` (why it
was asked for), `snapshot_at` (the snapshot the decision was made on), `outcome` (`ok`, `refused`,
`failed`), `error` (why not, null when ok), `duration_s`, and `context`: the host's levels and figures
of that snapshot and the target's state that made the action apply, so that which fixes an operator
repeats under which conditions can be learned from the log later.

An audit log that cannot be written refuses the action rather than letting it act unrecorded:
`AuditLog.check()` is asked before acting, and a failed write after acting is reported loudly.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.safe import printable
from pixel_tui.schema import dumps

AUDIT_MAX_BYTES = 256 * 1024 * 1024
"""The largest audit log `pixel-tui audit` reads back."""


class AuditUnavailable(OSError):
    """The audit log cannot be written; nothing may act until it can."""


def person() -> str:
    """user@host of whoever runs pixel-tui, the actor of what they ask for."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


class AuditLog:
    """Appends audit records to `path` (created with its directory, mode 0600), each flushed and fsynced."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def check(self) -> None:
        """Raise AuditUnavailable when a record could not be appended now (asked before acting)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise AuditUnavailable(f"audit log {self.path} cannot be written: {error.strerror or error}") from None
        os.close(fd)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, then flush and fsync; AuditUnavailable when that fails."""
        line = (json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(",", ":")) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(28, "short write (disk full?)")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise AuditUnavailable(f"audit log {self.path} cannot be written: {error.strerror or error}") from None

    def read(self, last: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """The last `last` records (all when None), oldest first, and the problems met (bad lines by number)."""
        try:
            data, _ = read_regular(self.path, AUDIT_MAX_BYTES)
        except FileNotFoundError:
            return [], []
        except UnreadableFile as error:
            return [], [f"{self.path}: {error}"]
        records: deque[dict[str, Any]] = deque(maxlen=last) if last else deque()
        problems = []
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                problems.append(f"line {number}: not JSON")
                continue
            if not isinstance(record, dict):
                problems.append(f"line {number}: not an object")
                continue
            records.append(record)
        return list(records), problems


def print_audit(log: AuditLog, *, last: int | None, as_json: bool, stdout: TextIO = sys.stdout,
                stderr: TextIO = sys.stderr) -> int:  # fmt: skip
    """`pixel-tui audit`: the last `last` records, oldest first, one line each (or a JSON list); exit 0."""
    records, problems = log.read(last)
    for problem in problems:
        stderr.write(f"pixel-tui audit: {printable(problem)}\n")
    if as_json:
        stdout.write(dumps(records) + "\n")
        return 0
    if not records:
        stdout.write(f"no remediation recorded yet in {printable(str(log.path))}\n")
        return 0
    for record in records:
        target = record.get("target")
        name = target.get("name") if isinstance(target, dict) else None
        words = [str(record.get(key, "?")) for key in ("time", "actor", "action", "step")]
        words += [str(name or "host"), str(record.get("outcome", "?"))]
        error = record.get("error")
        line = "  ".join(words) + (f"  {error}" if error and record.get("outcome") != "ok" else "")
        stdout.write(printable(line) + "\n")
    return 0
