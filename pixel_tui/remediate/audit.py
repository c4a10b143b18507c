"""The audit log: one JSON line per remediation attempt (refusals too), flushed and fsynced, in the state dir.

Each line is one `AuditRecord` (pixel_tui/remediate/audit_record.py documents every field, and the README
too): who asked (`actor`, and the autoheal `rule`), what (`action`, `step`, `target`), why (`reason`), on
which snapshot (`snapshot_at`, and `context`: the host's levels and figures of that snapshot and the
target's state that made the action apply, so that which fixes an operator repeats under which
conditions can be learned from the log later), and what came of it (`outcome`, `error`, `note`,
`duration_s`).

Each attempt that gets as far as acting writes two lines with one `id`: its intent (`phase`
`intent`), durably, before anything changes, and its outcome (`phase` `outcome`) after. An intent
that cannot be written refuses the action: nothing acts unrecorded. Reading folds the two into one
record; an intent with no outcome (pixel-tui was stopped mid-action, or the disk filled up after it
acted) reads as outcome `interrupted`, so nothing half-done goes unsaid. Refusals before acting are
one line. Each line is written in one `write` in append mode; a line cut short by a full disk is
never glued to the next one (the next append starts on a new line) and is reported by its number.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import socket
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from pixel_tui import trust
from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.remediate.audit_record import AuditRecord
from pixel_tui.safe import printable
from pixel_tui.schema import dumps

AUDIT_MAX_BYTES = 256 * 1024 * 1024
"""The largest audit log `pixel-tui audit` reads back."""


INTERRUPTED = "interrupted"
"""The outcome read for an attempt whose intent was recorded and whose outcome never was."""
NO_OUTCOME = "no outcome was recorded: pixel-tui stopped while it acted, or the log could not be written after"


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
            os.close(self._open(os.O_WRONLY))
        except OSError as error:
            raise AuditUnavailable(self._cannot(error)) from None

    def append(self, record: AuditRecord | Mapping[str, Any]) -> None:
        """Write one record (or a line of another shape, such as a rule's verdict) as one line in one write, then
        fsync; AuditUnavailable when that fails.

        A line an earlier write left cut short (a full disk) is ended first, in the same write, so the
        new record is never glued to a fragment."""
        fields = record.as_json() if isinstance(record, AuditRecord) else dict(record)
        line = (json.dumps(fields, ensure_ascii=True, allow_nan=False, separators=(",", ":")) + "\n").encode()
        try:
            fd = self._open(os.O_RDWR)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(28, "short write (disk full?)")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise AuditUnavailable(self._cannot(error)) from None

    def _open(self, access: int) -> int:
        """The log opened for appending (created 0600 in a 0700 directory), never through a symlink; as root
        only a file in trusted directories that root owns and nobody else can write (pixel_tui.trust)."""
        trust.make_private_dirs(self.path.parent)
        if trust.enforcing():
            trust.check(self.path, own=True)
        flags = access | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
        fd = os.open(self.path, flags, 0o600)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            if trust.enforcing() and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
                raise trust.Untrusted(self.path, f"owned by uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _cannot(self, error: OSError) -> str:
        """Why the log cannot be written, naming it."""
        if isinstance(error, trust.Untrusted):
            return f"audit log {self.path} cannot be written: refused: {error}"
        if error.errno == errno.ELOOP:
            return f"audit log {self.path} cannot be written: it is a symbolic link, and pixel-tui never makes one"
        return f"audit log {self.path} cannot be written: {error.strerror or error}"

    def read(self, last: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """The last `last` records (all when None), oldest first, and the problems met (bad lines by number)."""
        try:
            data, _ = read_regular(self.path, AUDIT_MAX_BYTES, follow=False)
        except FileNotFoundError:
            return [], []
        except UnreadableFile as error:
            return [], [f"{self.path}: {error}"]
        records: list[dict[str, Any]] = []
        open_intents: dict[str, int] = {}
        outcomes: dict[str, int] = {}
        problems = []
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                cut = number == len(lines) or not raw.rstrip().endswith(b"}")
                problems.append(f"line {number}: {'cut short (a write that did not finish)' if cut else 'not JSON'}")
                continue
            if not isinstance(record, dict):
                problems.append(f"line {number}: not an object")
                continue
            key = record.get("id")
            if record.get("phase") == "intent" and isinstance(key, str):
                open_intents[key] = len(records)
                records.append({**record, "outcome": INTERRUPTED, "error": NO_OUTCOME})
                continue
            if record.get("phase") == "verdict" and isinstance(key, str) and key in outcomes:
                # Did it work (docs/rules.md): told on the attempt's own record, as its outcome is on its intent's.
                at = outcomes[key]
                records[at] = {**records[at], "verdict": record.get("verdict"), "after_s": record.get("after_s")}
                continue
            if isinstance(key, str) and key in open_intents:
                outcomes[key] = open_intents[key]
                records[open_intents.pop(key)] = record  # the outcome stands where its intent was
                continue
            records.append(record)
        return records[-last:] if last else records, problems

    def records(self, last: int | None = None) -> tuple[list[AuditRecord], list[str]]:
        """`read`, each record typed (an intent with no outcome reads as outcome `interrupted`)."""
        lines, problems = self.read(last)
        return [AuditRecord.from_json(line) for line in lines], problems


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
        if record.get("rule"):
            line += f"  rule {record['rule']}"
        if record.get("verdict"):
            line += f"  {record['verdict']} after {record.get('after_s', '?')} s"
        stdout.write(printable(line) + "\n")
    return 0
