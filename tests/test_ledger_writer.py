"""The ledger writer on real files: the document comes back as it was found, refusals say why, a crash at
any step leaves a whole ledger, and a concurrent orchestrator's tasks are never lost.
"""

from __future__ import annotations

import copy
import ctypes
import errno
import json
import multiprocessing
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_tui.ledger import LedgerReader, LedgerWriter, RefusedChange, WriteResult, atomic
from pixel_tui.ledger.format import time_style_of
from pixel_tui.ledger.text import layout_of, locate_tasks
from pixel_tui.ledger.writer import STEPS

NOW = datetime(2026, 1, 3, 10, 0, 1, 234567, tzinfo=UTC)
RUNNING_ID = "3f2a9c1d-5b6e-4c2a-9d1e-0a1b2c3d4e5f"
DONE_ID = "77aa00bb-0000-4000-8000-000000000000"
REASON = "killed by pixel-tui: ran 3 h, timeout 46 min"

# The orchestrator's own document, as JSON.stringify(ledger, null, 2) + "\n" writes it.
ORCHESTRATOR_TEXT = """\
{
  "version": 1,
  "tasks": [
    {
      "id": "77aa00bb-0000-4000-8000-000000000000",
      "status": "completed",
      "createdAt": "2026-01-03T08:00:00.000Z",
      "completedAt": "2026-01-03T08:10:00.000Z",
      "exitCode": 0
    },
    {
      "id": "3f2a9c1d-5b6e-4c2a-9d1e-0a1b2c3d4e5f",
      "type": "code",
      "status": "running",
      "createdAt": "2026-01-03T09:21:07.123Z",
      "startedAt": "2026-01-03T09:21:07.456Z",
      "workerId": "0123456789ab",
      "payload": {
        "prompt": "répare le build",
        "tags": [],
        "nested": {
          "z": 1,
          "a": 2
        }
      },
      "zExtra": true
    }
  ],
  "meta": {
    "writer": "orchestrator"
  }
}
"""

ORCHESTRATOR_ABORTED = ORCHESTRATOR_TEXT.replace('"status": "running"', '"status": "aborted"').replace(
    '      "zExtra": true\n',
    f'      "zExtra": true,\n      "completedAt": "2026-01-03T10:00:01.234Z",\n      "error": "{REASON}"\n',
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_the_orchestrators_document_comes_back_byte_for_byte_but_for_the_abort(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    os.chmod(ledger, 0o640)
    result = LedgerWriter(ledger).abort_task(RUNNING_ID, REASON, now=NOW)
    assert result == WriteResult(True, (RUNNING_ID,), attempts=1, method="exchange")
    assert ledger.read_text(encoding="utf-8") == ORCHESTRATOR_ABORTED
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ledger.json.pixel-tui.lock", "ledger.json"]
    task = LedgerReader(ledger).read().tasks.with_id(RUNNING_ID)[0]  # the reader agrees
    assert (task.status, task.completed_at) == ("aborted", datetime(2026, 1, 3, 10, 0, 1, 234000, tzinfo=UTC))


def _running(casing: str, when: Any, **extra: Any) -> dict[str, Any]:
    started, worker = ("startedAt", "workerId") if casing == "camel" else ("started_at", "worker_id")
    return {"id": RUNNING_ID, "status": "running", started: when, worker: "0123456789ab", **extra}


LAYOUTS = {
    # name: (casing, dumps options, final newline, top-level list, a time as found, the completion time written)
    "js-indent-2": ("camel", {"indent": 2, "separators": (",", ": ")}, True, False, "2026-01-03T09:21:07.123Z",
                    "2026-01-03T10:00:01.234Z"),
    "python-indent-4-list-no-newline": ("snake", {"indent": 4}, False, True, "2026-01-03T09:21:07+00:00",
                                        "2026-01-03T10:00:01+00:00"),
    "js-compact": ("camel", {"separators": (",", ":")}, False, False, 1767428467123, 1767434401235),
    "python-compact-newline": ("snake", {}, True, True, "2026-01-03 09:21:07.123456", "2026-01-03 10:00:01.234567"),
    "tab-indent": ("camel", {"indent": "\t", "separators": (",", ": ")}, True, False, "2026-01-03T11:21:07+02:00",
                   "2026-01-03T12:00:01+02:00"),
    "ascii-escaped": ("snake", {"indent": 2, "ensure_ascii": True}, True, False, 1767428467.5, 1767434401.234567),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_casing_layout_time_form_and_unknown_fields_are_kept(tmp_path: Path, name: str) -> None:
    casing, options, newline, bare, found_time, written_time = LAYOUTS[name]
    options = {"ensure_ascii": False, **options}
    done = {"id": DONE_ID, "status": "completed", "note": "fini — ok"}
    running = _running(casing, found_time, custom={"b": 1, "a": [1, 2]}, error=None, last="x")
    tasks = [done, running]
    document: Any = tasks if bare else {"version": 1, "tasks": tasks, "extra": "kept"}
    ledger = _write(tmp_path / "ledger.json", json.dumps(document, **options) + ("\n" if newline else ""))

    result = LedgerWriter(ledger).abort_task(RUNNING_ID, REASON, now=NOW)

    assert result.ok and result.changed == (RUNNING_ID,)
    expected = copy.deepcopy(document)
    aborted = (expected if bare else expected["tasks"])[1]
    aborted["status"] = "aborted"
    aborted["error"] = REASON  # in place: the key was there (null)
    aborted["completedAt" if casing == "camel" else "completed_at"] = written_time  # new: appended
    assert ledger.read_text(encoding="utf-8") == json.dumps(expected, **options) + ("\n" if newline else "")


def test_a_task_that_does_not_tell_its_casing_follows_the_document(tmp_path: Path) -> None:
    tasks = [
        {"id": DONE_ID, "status": "completed", "created_at": "2026-01-03T08:00:00Z", "completed_at": None},
        {"id": "t-2", "status": "running"},
    ]
    ledger = _write(tmp_path / "ledger.json", json.dumps(tasks, indent=2) + "\n")
    assert LedgerWriter(ledger).abort_task("t-2", REASON, now=NOW).ok
    written = json.loads(ledger.read_text())
    assert written[1] == {"id": "t-2", "status": "aborted", "completed_at": "2026-01-03T10:00:01Z", "error": REASON}


def test_an_existing_completion_field_is_set_in_place_and_crlf_is_kept(tmp_path: Path) -> None:
    text = (
        '{\r\n  "tasks": [\r\n    {\r\n      "id": "a",\r\n      "completedAt": null,\r\n'
        '      "status": "RUNNING"\r\n    }\r\n  ]\r\n}\r\n'
    )
    ledger = _write(tmp_path / "ledger.json", text)
    assert LedgerWriter(ledger).abort_task("a", "gone", now=NOW).ok
    assert ledger.read_bytes().decode() == (
        '{\r\n  "tasks": [\r\n    {\r\n      "id": "a",\r\n      "completedAt": "2026-01-03T10:00:01.234Z",\r\n'
        '      "status": "ABORTED",\r\n      "error": "gone"\r\n    }\r\n  ]\r\n}\r\n'
    )


def test_every_byte_outside_the_changed_task_is_kept_as_written(tmp_path: Path) -> None:
    head = '{"version":1.0, "n": 1e3,"tasks":[ {"id":"a","status":"completed", "big": 12345678901234567890} ,\n '
    tail = ' ],"tasks_note":"x" , "dup":1,"dup":2}\n'
    ledger = _write(tmp_path / "ledger.json", head + '{"id":"b","status":"running","z":[ ]}' + tail)
    assert LedgerWriter(ledger).abort_task("b", "gone", now=NOW).ok
    text = ledger.read_text()
    assert text.startswith(head) and text.endswith(tail)  # 1.0, 1e3, the spacing, the repeated key: untouched
    changed = json.loads(text[len(head) : -len(tail)])
    assert changed == {
        "id": "b",
        "status": "aborted",
        "z": [],
        "completedAt": "2026-01-03T10:00:01.234Z",
        "error": "gone",
    }


def test_a_change_that_adds_a_task_writes_the_whole_document_in_its_layout(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)

    def add(records: list[dict[str, Any]]) -> list[str]:
        records.append({"id": "new", "status": "pending"})
        return ["new"]

    assert LedgerWriter(ledger).update(add).changed == ("new",)
    expected = json.loads(ORCHESTRATOR_TEXT)
    expected["tasks"].append({"id": "new", "status": "pending"})
    assert ledger.read_text() == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
TASKS = st.lists(
    st.dictionaries(st.sampled_from(["status", "x", "tasks"]), JSON_VALUES).map(lambda d: {"id": "t", **d})
)


@settings(max_examples=200, deadline=None)
@given(
    tasks=TASKS,
    bare=st.booleans(),
    indent=st.sampled_from([None, 0, 2, 4, "\t"]),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]),
    padding=st.sampled_from(["", " ", "\n", "\r\n\t"]),
)
def test_the_task_locator_reads_what_json_reads(tasks, bare, indent, separators, padding) -> None:
    document = tasks if bare else {"a": 1, "tasks": tasks, "z": {"tasks": 1}}
    text = padding + json.dumps(document, indent=indent, separators=separators) + padding
    located = locate_tasks(text)
    assert located is not None
    assert located.document == json.loads(text) and located.tasks == tasks and located.depth == (1 if bare else 2)
    assert [json.loads(text[start:end]) for start, end in located.spans] == tasks
    assert locate_tasks(text[:-1] + "x") is None and locate_tasks('{"tasks": 3}') is None


def test_layout_and_time_forms_are_detected() -> None:
    assert layout_of('{"a": [1, 2]}').item_separator == ", "
    assert layout_of('{"a":[1,2]}').key_separator == ":"
    assert layout_of('{\n    "a": 1\n}').indent == 4
    assert layout_of('{"a": "x,\\":y"}').key_separator == ": "  # separators inside strings are not layout
    assert time_style_of("2026-01-03T09:21:07.123456789Z").render(NOW) == "2026-01-03T10:00:01.234567000Z"
    assert time_style_of("2026-01-03T09:21Z").render(NOW) == "2026-01-03T10:00Z"
    assert time_style_of(True) is None and time_style_of("soon") is None


# Refusals: in words, and the ledger untouched.


def _refused(ledger: Path, result: WriteResult, reason: str) -> None:
    assert (result.ok, result.changed, result.method) == (False, (), None)
    assert result.reason == reason
    assert not [p for p in ledger.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_task_that_is_not_running_any_more_is_refused_in_words(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT.replace('"status": "running"', '"status": "completed"'))
    before = (ledger.read_bytes(), ledger.stat().st_ino, ledger.stat().st_mtime_ns)
    writer = LedgerWriter(ledger)
    _refused(ledger, writer.abort_task(RUNNING_ID, REASON, now=NOW), "task 3f2a9c1d is completed now, not running")
    _refused(ledger, writer.abort_task("no-such-task", REASON), "task no-such-task is not in the ledger")
    assert (ledger.read_bytes(), ledger.stat().st_ino, ledger.stat().st_mtime_ns) == before
    pending = writer.abort_task(DONE_ID, REASON, expect_statuses=("pending", "running"))
    assert pending.reason == "task 77aa00bb is completed now, not pending or running"


def test_a_change_may_refuse_and_an_empty_change_writes_nothing(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    inode = ledger.stat().st_ino

    def refuse(records: list[dict[str, Any]]) -> list[str]:
        raise RefusedChange(f"{len(records)} tasks, none to change")

    assert LedgerWriter(ledger).update(refuse).reason == "2 tasks, none to change"
    assert LedgerWriter(ledger).update(lambda records: []) == WriteResult(True, attempts=1)
    assert ledger.stat().st_ino == inode


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", json.dumps([{"id": "a", "status": "running"}] * 2))
    result = LedgerWriter(ledger).abort_task("a", REASON)
    _refused(ledger, result, "task a is in the ledger 2 times; which one to change is unclear")


UNREADABLE = {
    "missing": (lambda p: None, "no ledger at {path}"),
    "directory": (lambda p: p.mkdir(), "not a regular file (a directory)"),
    "fifo": (lambda p: os.mkfifo(p), "not a regular file (a FIFO)"),
    "not-json": (
        lambda p: p.write_text("{not json"),
        "not JSON: Expecting property name enclosed in double quotes at line 1 column 2",
    ),
    "half-written": (lambda p: p.write_text('{"tasks": [{"id": "a"'), "truncated JSON (half-written?) at line 1"),
    "shape": (lambda p: p.write_text('{"jobs": []}'), 'unexpected shape: expected a list of tasks or {"tasks": [...]}'),
    "no-id": (lambda p: p.write_text('[{"status": "running"}]'), "task #1 has no id"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_ledger_that_cannot_be_read_is_refused_with_the_reason(tmp_path: Path, case: str) -> None:
    make, reason = UNREADABLE[case]
    path = tmp_path / "ledger.json"
    make(path)
    result = LedgerWriter(path).abort_task("a", REASON)
    expected = f"no ledger at {path}" if case == "missing" else f"cannot read the ledger: {reason}"
    _refused(path, result, expected)
    assert not result.failed


def test_a_ledger_past_the_cap_is_refused_and_so_is_a_write_that_would_grow_past_it(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    size = len(ORCHESTRATOR_TEXT.encode())
    small = LedgerWriter(ledger, max_bytes=size - 1).abort_task(RUNNING_ID, REASON)
    assert small.reason == f"cannot read the ledger: too large: {size} bytes, the limit is {size - 1}"
    tight = LedgerWriter(ledger, max_bytes=size).abort_task(RUNNING_ID, REASON)
    assert tight.reason == f"the ledger would grow past {size} bytes, more than pixel-tui reads back"
    assert ledger.read_text() == ORCHESTRATOR_TEXT


def test_a_directory_that_cannot_be_written_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    LedgerWriter(ledger).abort_task("none", REASON)  # creates the lock file while it can
    tmp_path.chmod(0o555)
    try:
        result = LedgerWriter(ledger).abort_task(RUNNING_ID, REASON)
    finally:
        tmp_path.chmod(0o755)
    assert (result.ok, result.failed) == (False, True)
    assert result.reason == "cannot write the ledger: Permission denied"


def test_a_symlinked_ledger_is_written_where_it_lives_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    real = _write(tmp_path / "data" / "ledger.json", ORCHESTRATOR_TEXT)
    link = tmp_path / "ledger.json"
    link.symlink_to(real)
    assert LedgerWriter(link).abort_task(RUNNING_ID, REASON, now=NOW).ok
    assert link.is_symlink() and real.read_text() == ORCHESTRATOR_ABORTED
    assert (tmp_path / "data" / ".ledger.json.pixel-tui.lock").exists()


def test_a_lock_held_too_long_by_another_pixel_tui_is_a_refusal(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    lock = tmp_path / ".ledger.json.pixel-tui.lock"
    with atomic.locked(lock, 1):
        result = LedgerWriter(ledger, lock_timeout_s=0.2).abort_task(RUNNING_ID, REASON)
    assert (result.ok, result.failed) == (False, False)
    assert result.reason == f"another pixel-tui has held the lock {lock} for 0.2 s; nothing was changed"
    assert LedgerWriter(ledger).abort_task(RUNNING_ID, REASON).ok  # released with its descriptor


# Another writer between the check and the rename, deterministically: the `checked` step.


def _orchestrator_adds(path: Path, task_id: str) -> None:
    """The orchestrator's way: read, add a task, write a temporary file, rename it over the ledger."""
    document = json.loads(path.read_text())
    document["tasks"].append({"id": task_id, "status": "running"})
    temp = path.with_name(path.name + ".orchestrator")
    temp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temp, path)


def test_a_rename_between_the_check_and_the_exchange_is_put_back_and_the_change_applied_to_it(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    calls: list[str] = []

    def interfere(step: str) -> None:
        if step == "checked" and not calls:
            calls.append(step)
            _orchestrator_adds(ledger, "added-meanwhile")

    result = LedgerWriter(ledger, _on_step=interfere).abort_task(RUNNING_ID, REASON, now=NOW)
    assert (result.ok, result.method, result.attempts, result.restored) == (True, "exchange", 2, 1)
    tasks = {task["id"]: task["status"] for task in json.loads(ledger.read_text())["tasks"]}
    assert tasks == {DONE_ID: "completed", RUNNING_ID: "aborted", "added-meanwhile": "running"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ledger.json.pixel-tui.lock", "ledger.json"]


def _no_exchange(*args: Any) -> int:
    ctypes.set_errno(errno.EINVAL)  # what renameat2 says on a filesystem without RENAME_EXCHANGE
    return -1


def test_without_the_exchange_the_writer_falls_back_to_replace_and_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "renameat2", lambda: _no_exchange)
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    result = LedgerWriter(ledger).abort_task(RUNNING_ID, REASON, now=NOW)
    assert (result.ok, result.method) == (True, "replace")
    assert ledger.read_text() == ORCHESTRATOR_ABORTED


def test_with_replace_a_rename_between_the_check_and_the_replace_is_lost_as_documented(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "renameat2", lambda: None)  # a C library without renameat2
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    interfere = lambda step: step == "checked" and _orchestrator_adds(ledger, "added-meanwhile")  # noqa: E731
    result = LedgerWriter(ledger, _on_step=interfere).abort_task(RUNNING_ID, REASON, now=NOW)
    assert (result.ok, result.method) == (True, "replace")
    assert "added-meanwhile" not in ledger.read_text()  # the window the exchange closes


def test_the_writer_starts_over_when_the_ledger_changes_and_gives_up_after_its_retries(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    count = iter(range(100))
    interfere = lambda step: step == "temp_synced" and _orchestrator_adds(ledger, f"n{next(count)}")  # noqa: E731
    result = LedgerWriter(ledger, retries=2, _on_step=interfere).abort_task(RUNNING_ID, REASON)
    assert (result.ok, result.attempts, result.restored) == (False, 3, 0)
    assert result.reason == "the ledger was replaced by another writer during each of 3 attempts; nothing was changed"
    assert [t["status"] for t in json.loads(ledger.read_text())["tasks"]][1] == "running"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ledger.json.pixel-tui.lock", "ledger.json"]


# A crash at each step leaves the old or the new whole ledger.

CRASHING_CHILD = """
import os, signal, sys
from datetime import datetime
from pixel_tui.ledger import LedgerWriter

def stop(step):
    if step == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

now = datetime.fromisoformat(sys.argv[3])
LedgerWriter(sys.argv[1], _on_step=stop).abort_task(sys.argv[4], sys.argv[5], now=now)
sys.exit(3)  # the step was never reached
"""


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_each_step_leaves_the_old_or_the_new_whole_ledger(tmp_path: Path, step: str) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, str(ledger), step, NOW.isoformat(), RUNNING_ID, REASON],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    installed = STEPS.index(step) >= STEPS.index("swapped")
    assert ledger.read_text(encoding="utf-8") == (ORCHESTRATOR_ABORTED if installed else ORCHESTRATOR_TEXT)
    strays = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(p.name.startswith(".ledger.json.pixel-tui.") for p in strays)
    # The next write goes through (the kernel dropped the dead writer's lock) and removes old strays.
    for stray in strays:
        os.utime(stray, (time.time() - 120, time.time() - 120))
    again = LedgerWriter(ledger).abort_task(RUNNING_ID, REASON, now=NOW, expect_statuses=("running", "aborted"))
    assert again.ok and ledger.read_text(encoding="utf-8") == ORCHESTRATOR_ABORTED
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_recent_stray_is_left_alone(tmp_path: Path) -> None:
    ledger = _write(tmp_path / "ledger.json", ORCHESTRATOR_TEXT)
    young = _write(tmp_path / ".ledger.json.pixel-tui.999.0000abcd.tmp", "{}")
    other = _write(tmp_path / ".other.json.pixel-tui.999.0000abcd.tmp", "{}")
    os.utime(other, (time.time() - 120, time.time() - 120))
    assert LedgerWriter(ledger).abort_task(RUNNING_ID, REASON).ok
    assert young.exists() and other.exists()


# Two pixel-tui writers at once.

ABORTING_CHILD = """
import sys
from pixel_tui.ledger import LedgerWriter
writer = LedgerWriter(sys.argv[1])
results = [writer.abort_task(task_id, "by " + sys.argv[2]) for task_id in sys.argv[3:]]
print(sum(result.ok for result in results))
"""


def test_two_pixel_tui_processes_abort_different_tasks_and_both_are_applied(tmp_path: Path) -> None:
    ids = [f"task-{n:02d}" for n in range(30)]
    ledger = _write(tmp_path / "ledger.json", json.dumps({"tasks": [{"id": i, "status": "running"} for i in ids]}))
    children = [
        subprocess.Popen([sys.executable, "-c", ABORTING_CHILD, str(ledger), name, *ids[start::2]],
                         stdout=subprocess.PIPE, text=True)
        for start, name in ((0, "even"), (1, "odd"))
    ]  # fmt: skip
    assert [int(child.communicate(timeout=120)[0]) for child in children] == [15, 15]
    tasks = json.loads(ledger.read_text())["tasks"]
    assert [(t["id"], t["status"], t["error"]) for t in tasks] == [
        (i, "aborted", "by even" if n % 2 == 0 else "by odd") for n, i in enumerate(ids)
    ]


def test_two_threads_abort_different_tasks_and_both_are_applied(tmp_path: Path) -> None:
    ledger = _write(
        tmp_path / "ledger.json", json.dumps([{"id": "a", "status": "running"}, {"id": "b", "status": "running"}])
    )
    start = threading.Barrier(2)
    results: dict[str, WriteResult] = {}

    def abort(task_id: str) -> None:
        start.wait()
        results[task_id] = LedgerWriter(ledger).abort_task(task_id, "by " + task_id)

    threads = [threading.Thread(target=abort, args=(task_id,)) for task_id in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(result.ok for result in results.values()) and len(results) == 2
    assert [t["status"] for t in json.loads(ledger.read_text())] == ["aborted", "aborted"]


# The orchestrator in another process, rewriting the ledger in a loop while pixel-tui aborts tasks.
#
# Each abort ends one of four ways: applied (aborted in the final ledger), retried out or refused
# (reported), or undone: reported done, then overwritten by the orchestrator's own read-modify-write
# that had read the ledger before the abort landed. No writer can prevent the last alone; in the
# exchange-observed run the orchestrator records every version it overwrote without having read it,
# and each undone abort must be among them. No task the orchestrator added may be lost.

ORCHESTRATOR_SECONDS = 4.0
PACED = (0.0005, 0.003)
"""The orchestrator's pause after each rename, in seconds: still hundreds of writes a second.

A real orchestrator spawns a container between two writes. Without any pause it re-reads within
microseconds of its own rename, inside the exchange's last window (pixel_tui/ledger/writer.py), and
may now and then lose one of its own tasks: `PIXEL_TUI_RACE_PAUSE=0,0` runs that case for its figures.
"""
PAUSE = tuple(float(s) for s in os.environ.get("PIXEL_TUI_RACE_PAUSE", "0.0005,0.003").split(","))


def _orchestrate(
    path: str, seconds: float, pause: tuple[float, float], exchange: bool, report: str, started: Any
) -> None:
    """The orchestrator's loop: read the ledger, add a running task, write a temp file, rename it over the ledger.

    With `exchange`, the rename is a RENAME_EXCHANGE followed at once by unlinking what came back: for
    everyone else it is the same rename, and this side learns what it displaced. When that is not what
    it read, its read-modify-write overwrote someone's write (the window no writer can close alone),
    and the aborts it undid are recorded.
    """
    rng = random.Random(14)
    temp = path + ".orchestrator.tmp"
    added: list[str] = []
    undone: set[str] = set()
    blind: int | None = 0 if exchange else None  # a plain rename cannot tell what it displaced
    started.set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(path, "rb") as source:  # open until the rename: the inode read cannot be reused meanwhile
            read = os.fstat(source.fileno())
            document = json.loads(source.read())
            task_id = f"orch-{len(added):05d}"
            document["tasks"].append({"id": task_id, "type": "code", "status": "running", "createdAt": "2026-01-03"})
            with open(temp, "w", encoding="utf-8") as sink:
                sink.write(json.dumps(document, indent=2) + "\n")
            if exchange:
                atomic.exchange(-100, temp, path)  # AT_FDCWD, absolute paths
                displaced = os.stat(temp)
                if (displaced.st_dev, displaced.st_ino) != (read.st_dev, read.st_ino):
                    blind = (blind or 0) + 1
                    with open(temp, encoding="utf-8") as sink:
                        theirs = json.load(sink)["tasks"]
                    mine = {t["id"] for t in document["tasks"] if t["status"] == "aborted"}
                    undone |= {t["id"] for t in theirs if t["status"] == "aborted"} - mine
                os.unlink(temp)
            else:
                os.replace(temp, path)
        added.append(task_id)
        time.sleep(rng.uniform(*pause))
    with open(report, "w", encoding="utf-8") as sink:
        json.dump({"added": added, "undone": sorted(undone), "blind": blind}, sink)


@pytest.mark.parametrize("rename", ["replace", "exchange-observed"])
def test_a_concurrent_orchestrator_loses_no_task_and_every_abort_is_applied_or_reported(tmp_path: Path, rename) -> None:
    ledger = _write(tmp_path / "ledger.json", json.dumps({"version": 1, "tasks": []}, indent=2) + "\n")
    report = tmp_path / "orchestrator.json"
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    orchestrator = context.Process(
        target=_orchestrate, args=(str(ledger), ORCHESTRATOR_SECONDS, PAUSE, rename != "replace", str(report), started)
    )
    orchestrator.start()
    assert started.wait(60)
    writer = LedgerWriter(ledger)
    results: dict[str, WriteResult] = {}
    reads = 0
    while orchestrator.is_alive():
        tasks = json.loads(ledger.read_text(encoding="utf-8"))["tasks"]  # always a whole document
        reads += 1
        running = [t["id"] for t in tasks if t["status"] == "running" and t["id"] not in results]
        if not running:
            time.sleep(0.001)
            continue
        results[running[0]] = writer.abort_task(running[0], "aborted by the test", now=NOW)
    orchestrator.join(60)
    assert orchestrator.exitcode == 0
    seen = json.loads(report.read_text())
    final = {t["id"]: t for t in json.loads(ledger.read_text(encoding="utf-8"))["tasks"]}

    lost = set(seen["added"]) - set(final)
    applied = {i for i, r in results.items() if r.ok and final.get(i, {}).get("status") == "aborted"}
    undone = {i for i, r in results.items() if r.ok and final.get(i, {}).get("status") != "aborted"}
    retried_out = {i for i, r in results.items() if not r.ok and "replaced by another writer" in (r.reason or "")}
    refused = {i for i, r in results.items() if not r.ok} - retried_out
    blind = seen["blind"]
    overwrote = "what it overwrote not observed" if blind is None else f"{blind} over a version it had not read"
    print(
        f"\n{rename}: orchestrator wrote {len(seen['added'])} times ({overwrote});"
        f" {len(results)} aborts: {len(applied)} applied, {len(retried_out)} retried out, {len(refused)} refused,"
        f" {len(undone)} undone by the orchestrator's read-modify-write; {len(lost)} orchestrator tasks lost;"
        f" {sum(r.restored for r in results.values())} foreign versions put back;"
        f" {sum(r.attempts for r in results.values())} attempts; {reads} whole reads"
    )
    assert not refused, {i: results[i].reason for i in refused}
    assert not lost
    assert len(applied) + len(retried_out) + len(undone) == len(results)
    if PAUSE == PACED:  # without pauses the orchestrator is nearly always between its read and its rename
        assert len(applied) >= 10 and len(seen["added"]) >= 100  # both sides made progress (2 shared cores)
    assert all(results[i].method == "exchange" for i in applied)
    if rename == "exchange-observed":
        # Every abort reported done and missing at the end was undone by the orchestrator writing over a
        # version it had not read, never by pixel-tui.
        assert undone <= set(seen["undone"])
