"""The orchestrator's files as Syntropy writes them: the task ledger, the worker lock, the audit log.

Every format detail here is read from Syntropy's source (see /work/shared/ORCHESTRATOR.md):
- the ledger `{"version": 1, "tasks": [...]}` is written whole, `JSON.stringify(ledger, null, 2)` into
  `task-ledger.json.tmp` and renamed over the ledger, with no lock of any kind; the worker's own writes
  (`jq ... > task-ledger.json.tmp && mv`) use the same temporary name and end with a newline;
- a ledger that cannot be read or parsed is read as an empty one (`readTaskLedger` catches and logs),
  so the next write by the orchestrator replaces it;
- the lock `worker-lock.json` is created with `wx` (O_EXCL), then rewritten in place (no rename) once
  the real task id is known;
- the audit log is JSON lines appended one at a time and cut to its last 500 lines after each append.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEDGER_NAME = "task-ledger.json"
LOCK_NAME = "worker-lock.json"
AUDIT_NAME = "audit.json"
MAX_AUDIT_ENTRIES = 500

_TMP_TURN = threading.Lock()

Task = dict[str, Any]
Ledger = dict[str, Any]


def js_iso(when: datetime | None = None) -> str:
    """`new Date().toISOString()`: UTC, milliseconds, `Z` (the orchestrator's timestamps)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def date_iseconds(when: datetime | None = None) -> str:
    """`date -Iseconds` in a UTC container: no fractions, `+00:00` (the worker's timestamps)."""
    return (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(text: object) -> datetime | None:
    """`new Date(text)` for the ISO-8601 forms found in the ledger; None where JavaScript gets NaN."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stringify(document: object) -> str:
    """`JSON.stringify(document, null, 2)`: two-space indent, non-ASCII kept, no trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class DataFiles:
    """The paths of one Syntropy installation: `<root>/data/...`, `<root>/logs`, `<root>/audit/audit.json`.

    `ctl` is the model's own directory (no counterpart on a real host): the worker containers and their
    host-side agents hand each other the ledger writes there (tests/syntropy/worker.py)."""

    root: Path

    @property
    def data(self) -> Path:
        """`PIXEL_ROOT/data`, mounted into every worker at /pixel/data."""
        return self.root / "data"

    @property
    def logs(self) -> Path:
        """`PIXEL_ROOT/logs`, mounted into every worker at /pixel/logs."""
        return self.root / "logs"

    @property
    def ctl(self) -> Path:
        """The model's hand-over directory between a worker container and its agent."""
        return self.root / "worker-ctl"

    @property
    def ledger(self) -> Path:
        """`data/task-ledger.json`."""
        return self.data / LEDGER_NAME

    @property
    def lock(self) -> Path:
        """`data/worker-lock.json`."""
        return self.data / LOCK_NAME

    @property
    def audit(self) -> Path:
        """`AUDIT_LOG_PATH` as inside Syntropy's container (`/app/audit/audit.json`)."""
        return self.root / "audit" / AUDIT_NAME

    def output(self, task_id: str) -> Path:
        """`data/worker-output-<task id>.txt`, the worker's captured output."""
        return self.data / f"worker-output-{task_id}.txt"

    def make(self) -> DataFiles:
        """Create the directories (the ledger itself appears with the first task)."""
        for directory in (self.data, self.logs, self.ctl, self.audit.parent):
            directory.mkdir(parents=True, exist_ok=True)
        return self

    # -- the ledger -------------------------------------------------------------------------------
    def read_ledger(self) -> Ledger:
        """`readTaskLedger`: the parsed file, or `{"version": 1, "tasks": []}` when missing or unreadable."""
        try:
            return json.loads(self.ledger.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return {"version": 1, "tasks": []}

    def write_ledger(self, ledger: Ledger) -> None:
        """`writeTaskLedger`: the whole ledger into `task-ledger.json.tmp`, renamed over the ledger."""
        self._replace(self.ledger, stringify(ledger))

    def write_ledger_as_jq(self, ledger: Ledger) -> None:
        """The worker's `jq ... > task-ledger.json.tmp && mv`: the same, with jq's trailing newline."""
        self._replace(self.ledger, stringify(ledger) + "\n")

    @staticmethod
    def _replace(path: Path, text: str) -> None:
        """Write `<path>.tmp` and rename it over `path` (the temporary name both writers share).

        Deliberately unlike the real host, this model's own writers (orchestrator and worker agents,
        threads of one process) take turns for the write-and-rename itself. On a host, jq and Node
        writing `task-ledger.json.tmp` at the same moment can tear it or lose the rename; that window is
        microseconds there, but a thread switch here widens it to milliseconds and made every test of
        the model flaky. Only the write-and-rename is serialised: a read-modify-write still spans it,
        so every lost update of ORCHESTRATOR.md is reproduced as it happens for real."""
        tmp = path.with_name(path.name + ".tmp")
        with _TMP_TURN:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)

    def tasks(self) -> list[Task]:
        """The ledger's tasks as on disk now (empty when there is no readable ledger)."""
        tasks = self.read_ledger().get("tasks", [])
        return tasks if isinstance(tasks, list) else []

    def task(self, task_id: str) -> Task | None:
        """One task as on disk now."""
        return next((task for task in self.tasks() if task.get("id") == task_id), None)

    # -- the lock ---------------------------------------------------------------------------------
    def create_lock(self, task_id: str) -> bool:
        """`fs.open(lock, 'wx')` then the JSON body: False when the file already exists."""
        try:
            fd = os.open(self.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(stringify({"taskId": task_id, "createdAt": js_iso()}))
        return True

    def rewrite_lock(self, task_id: str) -> None:
        """`fs.writeFile(lock, ...)` after the task exists: truncated and written in place, no rename."""
        self.lock.write_text(stringify({"taskId": task_id, "createdAt": js_iso()}), encoding="utf-8")

    def read_lock(self) -> dict[str, Any] | None:
        """The lock's content, or None when there is no lock (or it cannot be parsed)."""
        try:
            content = json.loads(self.lock.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return content if isinstance(content, dict) else None

    def remove_lock(self) -> None:
        """`fs.remove(lock)`: no error when it is already gone."""
        with contextlib.suppress(FileNotFoundError):
            self.lock.unlink()

    # -- the audit log ----------------------------------------------------------------------------
    def log_audit(self, entry_type: str, **fields: Any) -> dict[str, Any]:
        """`logAudit`: append `{"timestamp", "type", ...}` as one line, then keep the last 500 lines.

        Fields whose value is None are left out, as `JSON.stringify` leaves out `undefined`."""
        entry = {"timestamp": js_iso(), "type": entry_type, **{k: v for k, v in fields.items() if v is not None}}
        with self.audit.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        lines = self.audit.read_text(encoding="utf-8").strip().split("\n")
        if len(lines) > MAX_AUDIT_ENTRIES:
            self.audit.write_text("\n".join(lines[-MAX_AUDIT_ENTRIES:]) + "\n", encoding="utf-8")
        return entry

    def audit_entries(self) -> list[dict[str, Any]]:
        """Every audit line as parsed (an empty list when there is no audit log yet)."""
        try:
            text = self.audit.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
