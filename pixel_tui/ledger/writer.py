"""Writing the ledger that the orchestrator writes too, without losing its writes or leaving half a file.

The orchestrator rewrites the ledger with a temporary file and a rename, and takes no lock
(docs/domain.md, "The ledger and the lock"). `LedgerWriter.update` therefore:

1. takes an advisory lock (`flock` on `.<name>.pixel-tui.lock` next to the ledger), which keeps other
   pixel-tui processes and threads out, never the orchestrator;
2. reads the ledger (a regular file, capped in size) and keeps it open until the end of the attempt,
   so that its inode cannot be given to another file: (inode, size, mtime) then identify it exactly;
3. lets the change edit the task records in place (or refuse, saying why), then writes back only
   the records it changed, in the document's layout (indent, separators, escaping, line endings)
   and at their depth; every other byte stays as the orchestrator wrote it (unknown fields, key
   order, number forms, spacing). Fields it adds follow the task's casing (camelCase or
   snake_case) and, for times, the document's form. A change that adds or removes records gets the
   whole document written in its detected layout;
4. writes a temporary file `.<name>.pixel-tui.<pid>.<hex>.tmp` in the same directory (O_EXCL, the
   ledger's mode and, when allowed, owner) and fsyncs it;
5. checks that the path still holds what was read; if not, starts over from 2 (bounded, then refuses);
6. installs the file with `renameat2(RENAME_EXCHANGE)`: the path atomically gets the new ledger and
   the temporary name gets exactly the version it displaced. If that is what was read, it is
   unlinked. If not, the orchestrator renamed between 5 and 6: its version is put back at once by
   exchanging again (the check repeats until nothing slipped in between two exchanges) and the
   writer starts over from 2, so the change is applied to the orchestrator's version. Where the
   filesystem has no exchange (ENOSYS, EINVAL, EOPNOTSUPP), `os.replace` follows the check of 5, and
   the result says which `method` was used;
7. fsyncs the directory. At every instant the ledger path holds a whole ledger, old or new; a crash
   may leave a temporary file, removed by the next write once it is a minute old.

What no protocol without the orchestrator's cooperation closes:

- The orchestrator's own read-modify-write: if it read the ledger before step 6 and renames after
  it, its version lacks this change and silently undoes it (the result said ok). Only the
  orchestrator taking the same lock, or comparing before its own rename, prevents that; the next
  collection still shows the task running, so the operator sees it.
- With the exchange: between the exchange that finds a foreign version displaced and the one that
  puts it back (about 10 µs on ext4, longer if this process is descheduled in between), the path
  holds our version built on the older read. A reader then sees that older ledger plus our change;
  an orchestrator that reads exactly then writes back a version without its own previous write.
  It takes a foreign rename between our check and our exchange, then a foreign read within those
  microseconds: an orchestrator that re-reads right after its own rename, in a loop without pause,
  does hit it now and then (tests/test_ledger_writer.py measures it); one that pauses even a
  millisecond after renaming does not, unless this process is descheduled between the exchanges.
- With `os.replace` (no exchange): a rename by the orchestrator between the check and the replace
  (two system calls apart) is overwritten without a trace.
- A writer that opened the ledger by path before step 6 and writes into it in place afterwards
  writes into the displaced file, which is unlinked (the orchestrator does not write in place).
- A crash in the middle of putting a foreign version back leaves that version under a temporary
  name (still a whole ledger at the path).

All pixel-tui writers of one ledger must use the same lock file; the default does.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pixel_tui.files import UnreadableFile, held_regular
from pixel_tui.ledger import atomic
from pixel_tui.ledger.format import (
    ABORTED,
    COMPLETED_AT,
    ERROR,
    ID,
    RUNNING,
    STATUS,
    TERMINAL_STATUSES,
    LedgerError,
    casing_of,
    checked_tasks,
    decode_document,
    document_time_style,
    field_name,
    short_id,
)
from pixel_tui.ledger.text import Layout, LocatedDocument, layout_of, locate_tasks, splice

Change = Callable[[list[dict[str, Any]]], Iterable[str] | None]
"""Edits the task records in place and returns the ids it changed (nothing changed: no write)."""
Method = Literal["exchange", "replace"]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
STALE_TEMP_S = 60.0
STEPS = ("locked", "temp_written", "temp_synced", "checked", "swapped", "before_dir_sync")
"""The points a test may stop the writer at (`_on_step`) to show a crash there leaves a whole ledger."""


class RefusedChange(Exception):
    """A change that must not be made as the ledger stands; `reason` says why in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Failed(Exception):
    """The write cannot go on (a refusal unless `failed`); the message is for a person."""

    def __init__(self, reason: str, *, failed: bool = False, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failed = failed
        self.attempts = attempts


@dataclass(frozen=True)
class WriteResult:
    """What a ledger write did."""

    ok: bool
    changed: tuple[str, ...] = ()
    """The ids of the tasks changed (empty when refused, or when the change found nothing to do)."""
    reason: str | None = None
    """Why nothing was written, in words."""
    attempts: int = 0
    """Reads of the ledger it took (more than one when another writer replaced it meanwhile)."""
    method: Method | None = None
    """How the new ledger was put in place; None when nothing was written."""
    failed: bool = False
    """True when an operating-system error stopped the write (permission, disk full), not a refusal."""
    restored: int = 0
    """Times another writer's version, found displaced by ours, was put back before starting over."""


class LedgerWriter:
    """Changes tasks of the ledger at `path` under the protocol of this module's docstring."""

    def __init__(
        self,
        path: str | Path,
        *,
        lock_path: str | Path | None = None,
        retries: int = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lock_timeout_s: float = 10.0,
        _on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.lock_path = Path(lock_path).expanduser().absolute() if lock_path is not None else None
        self.retries = max(0, retries)
        self.max_bytes = max_bytes
        self.lock_timeout_s = lock_timeout_s
        self._on_step = _on_step
        self._exchange = atomic.renameat2() is not None

    def update(self, change: Change) -> WriteResult:
        """Read the ledger, apply `change` to its task records, write it back; the ledger's state never raises."""
        target = Path(os.path.realpath(self.path))  # a symlinked ledger is written where it lives
        if not target.parent.is_dir():
            return WriteResult(False, reason=f"no ledger at {target}")
        lock_path = self.lock_path or target.with_name(f".{target.name}.pixel-tui.lock")
        try:
            with atomic.locked(lock_path, self.lock_timeout_s):
                self._step("locked")
                dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    atomic.clean_stale(dir_fd, f".{target.name}.pixel-tui.", ".tmp", STALE_TEMP_S)
                    return self._attempts(change, target, dir_fd)
                finally:
                    os.close(dir_fd)
        except atomic.LockRefused as busy:
            return WriteResult(False, reason=f"{busy}; nothing was changed")
        except _Failed as stop:
            return WriteResult(False, reason=stop.reason, failed=stop.failed, attempts=stop.attempts)
        except atomic.PutBackFailed as error:
            return WriteResult(False, reason=error.strerror, failed=True)
        except OSError as error:
            return WriteResult(False, reason=f"cannot write the ledger: {error.strerror or error}", failed=True)

    def mark_task(
        self,
        task_id: str,
        status: str,
        *,
        expect_statuses: Sequence[str] = (RUNNING,),
        now: datetime | None = None,
        error: str | None = None,
    ) -> WriteResult:
        """Set one task's status (its completion time too when terminal, and `error` when given) if it is expected."""
        return self.update(mark_change(task_id, status, expect_statuses=expect_statuses, now=now, error=error))

    def abort_task(
        self, task_id: str, reason: str, *, expect_statuses: Sequence[str] = (RUNNING,), now: datetime | None = None
    ) -> WriteResult:
        """Mark a task `aborted`, completed now, with `reason` as its error: how the orchestrator records a worker
        that did not finish by itself. Refused, in words, when the task is missing or no longer in `expect_statuses`."""
        return self.mark_task(task_id, ABORTED, expect_statuses=expect_statuses, now=now, error=reason)

    def _attempts(self, change: Change, target: Path, dir_fd: int) -> WriteResult:
        restored = 0
        for attempt in range(1, self.retries + 2):
            # The file read stays open for the whole attempt: its inode cannot be handed to another
            # file meanwhile, so "the path still holds what was read" is an exact comparison.
            with contextlib.ExitStack() as held:
                try:
                    data, seen = held.enter_context(held_regular(target, self.max_bytes))
                    text, located = _parsed(data)
                except FileNotFoundError:
                    raise _Failed(f"no ledger at {target}", attempts=attempt) from None
                except (UnreadableFile, LedgerError) as error:
                    raise _Failed(f"cannot read the ledger: {error}", attempts=attempt) from None
                records = located.tasks
                before = list(records)
                try:
                    changed = tuple(change(records) or ())
                except RefusedChange as refusal:
                    return WriteResult(False, reason=refusal.reason, attempts=attempt, restored=restored)
                if not changed:
                    return WriteResult(True, attempts=attempt, restored=restored)
                content = _serialized(located, text, before, changed)
                if len(content) > self.max_bytes:
                    reason = f"the ledger would grow past {self.max_bytes} bytes, more than pixel-tui reads back"
                    raise _Failed(reason, attempts=attempt)
                temp, ours = self._write_temp(dir_fd, target.name, content, seen)
                installed, put_back = self._install(dir_fd, target.name, temp, ours, seen)
            restored += put_back
            if installed:
                self._step("before_dir_sync")
                os.fsync(dir_fd)
                method: Method = "exchange" if self._exchange else "replace"
                return WriteResult(True, changed, attempts=attempt, method=method, restored=restored)
        if restored:
            os.fsync(dir_fd)
        attempts = self.retries + 1
        return WriteResult(
            False,
            reason=f"the ledger was replaced by another writer during each of {attempts} attempts; nothing was changed",
            attempts=attempts,
            restored=restored,
        )

    def _write_temp(self, dir_fd: int, name: str, content: bytes, seen: os.stat_result) -> tuple[str, int]:
        """A new temporary file holding `content`, fsynced, with the ledger's mode; its name and inode."""
        temp = f".{name}.pixel-tui.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(temp, flags, 0o600, dir_fd=dir_fd)
        try:
            os.fchmod(fd, stat.S_IMODE(seen.st_mode))
            if (seen.st_uid, seen.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):  # only root may give the file to the ledger's owner
                    os.fchown(fd, seen.st_uid, seen.st_gid)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            self._step("temp_written")
            os.fsync(fd)
            inode = os.fstat(fd).st_ino
        except BaseException:
            os.close(fd)
            atomic.discard(dir_fd, temp)
            raise
        os.close(fd)
        self._step("temp_synced")
        return temp, inode

    def _install(self, dir_fd: int, name: str, temp: str, ours: int, seen: os.stat_result) -> tuple[bool, int]:
        """Put the temporary file at the ledger's name if the ledger is still what was read: (installed, put back)."""
        if not atomic.holds(dir_fd, name, seen):
            os.unlink(temp, dir_fd=dir_fd)
            return False, 0
        self._step("checked")
        if self._exchange:
            try:
                atomic.exchange(dir_fd, temp, name)
            except OSError as error:
                if error.errno not in atomic.NO_EXCHANGE:
                    atomic.discard(dir_fd, temp)
                    raise
                self._exchange = False  # this filesystem cannot; the check-then-replace below is all there is
                if not atomic.holds(dir_fd, name, seen):
                    os.unlink(temp, dir_fd=dir_fd)
                    return False, 0
            else:
                self._step("swapped")
                displaced = os.stat(temp, dir_fd=dir_fd, follow_symlinks=False)
                if atomic.signature(displaced) == atomic.signature(seen):
                    os.unlink(temp, dir_fd=dir_fd)
                    return True, 0
                atomic.put_back(dir_fd, name, temp, expected=ours, at_temp=displaced.st_ino)
                return False, 1
        try:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError:
            atomic.discard(dir_fd, temp)
            raise
        self._step("swapped")
        return True, 0

    def _step(self, name: str) -> None:
        if self._on_step is not None:
            self._on_step(name)


def mark_change(
    task_id: str,
    status: str,
    *,
    expect_statuses: Sequence[str] = (RUNNING,),
    now: datetime | None = None,
    error: str | None = None,
) -> Change:
    """A change setting one task's status, its completion time when the status is terminal, and its error.

    The task must be in the ledger once, in one of `expect_statuses`; otherwise the change is refused
    in words ("task 3f2a9c1d is completed now, not running"). Field names follow the task's casing
    (the document's when the task does not tell) and the time follows the document's form.
    """
    expected = {wanted.lower() for wanted in expect_statuses}
    shown = short_id(str(task_id))

    def change(records: list[dict[str, Any]]) -> tuple[str, ...]:
        matches = [record for record in records if str(record.get(ID)) == str(task_id)]
        if not matches:
            raise RefusedChange(f"task {shown} is not in the ledger")
        if len(matches) > 1:
            raise RefusedChange(f"task {shown} is in the ledger {len(matches)} times; which one to change is unclear")
        record = matches[0]
        found = record.get(STATUS)
        if not isinstance(found, str) or found.lower() not in expected:
            raise RefusedChange(f"task {shown} {_status_words(found)} now, not {' or '.join(expect_statuses)}")
        record[STATUS] = _cased_like(status, found)
        if status.lower() in TERMINAL_STATUSES:
            moment = now or datetime.now(UTC)
            completed = field_name(record, COMPLETED_AT, casing_of(record, records))
            record[completed] = document_time_style(record, reversed(records)).render(moment)
        if error is not None:
            record[ERROR] = error
        return (str(task_id),)

    return change


def _status_words(status: Any) -> str:
    if status is None:
        return "has no status"
    if isinstance(status, str):
        return f"is {status[:40]}"
    return f"has status {str(status)[:40]}"


def _cased_like(status: str, found: str) -> str:
    if found.isupper():
        return status.upper()
    return status.capitalize() if found[:1].isupper() else status


def _parsed(data: bytes) -> tuple[str, LocatedDocument]:
    """The ledger's text and document, with where its task records lie; LedgerError with the reader's reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        decode_document(data)  # raises with the reason the reader gives
        raise
    located = locate_tasks(text)
    if located is None:
        document, tasks = decode_document(data)  # raises with the reader's reason if it is unusable
        return text, LocatedDocument(document, tasks, [], 0)  # readable but not walked: written whole
    checked_tasks(located.tasks)
    return text, located


def _serialized(located: LocatedDocument, text: str, before: list[Any], changed: tuple[str, ...]) -> bytes:
    """The new ledger as UTF-8: only the changed records re-written in the document's layout, every other
    byte as it was; the whole document in its layout when the change did more than edit records in place."""
    layout = layout_of(text)
    for attempt in (layout, replace(layout, ensure_ascii=True)):  # a lone surrogate from a \\ud800 escape
        try:
            return _edited(located, text, before, changed, attempt).encode("utf-8")
        except UnicodeEncodeError:
            continue
    raise _Failed("the ledger holds text that cannot be written back as UTF-8")


def _edited(located: LocatedDocument, text: str, before: list[Any], changed: tuple[str, ...], layout: Layout) -> str:
    records = located.tasks
    in_place = (
        bool(located.spans)
        and len(records) == len(before)
        and all(a is b for a, b in zip(records, before, strict=True))
    )
    if not in_place:
        return layout.dump(located.document)
    wanted = set(changed)
    replacements = {
        position: layout.dump_record(record, located.depth)
        for position, record in enumerate(records)
        if str(record.get(ID)) in wanted
    }
    return splice(text, located.spans, replacements)
